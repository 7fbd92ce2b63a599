"""Ordinary debugging beside tracepoints, ending a session, and bad requests."""

from __future__ import annotations

import os

from dap_client import wait_until
from scopeline.engine.store import Store

PROGRAM = """
import sys


def work(n):
    total = 0
    for i in range(n):
        total += i
    return total


def stopper(x):
    y = x * 2
    return y


if __name__ == "__main__":
    print("result", work(int(sys.argv[1])))
    print("stopper", stopper(21))
"""
LOOP_LINE, STOP_LINE = 7, 13

FOREVER = """
import time


def tick(i):
    return i + 1


i = 0
while True:
    i = tick(i)
    time.sleep(0.01)
"""


def test_an_ordinary_breakpoint_stops_shows_variables_and_continues(dap, program):
    path = program(PROGRAM)
    assert dap.start({"program": path, "args": ["5"]})["success"]
    response = dap.request("setBreakpoints", {"source": {"path": path}, "breakpoints": [
        {"line": LOOP_LINE, "logMessage": "i={i}"}, {"line": STOP_LINE}]}, timeout=90)
    tracepoint, breakpoint = response["body"]["breakpoints"]
    assert tracepoint["verified"] and "runtime" in tracepoint["message"]
    # debugpy may verify it only once the code is loaded (a later "breakpoint" event)
    assert breakpoint["line"] == STOP_LINE and "could not" not in breakpoint.get("message", "")
    assert dap.request("configurationDone")["success"]
    stopped = dap.wait_event("stopped", timeout=60)
    assert stopped["body"]["reason"] == "breakpoint"
    thread = stopped["body"]["threadId"]
    frames = dap.request("stackTrace", {"threadId": thread})["body"]["stackFrames"]
    assert frames[0]["name"] == "stopper" and frames[0]["line"] == STOP_LINE
    # the user's frames only: the agent's launcher underneath is hidden from the stack
    assert [(f["name"], f["source"]["path"]) for f in frames] == [
        ("stopper", path), ("<module>", path)]
    scopes = dap.request("scopes", {"frameId": frames[0]["id"]})["body"]["scopes"]
    variables = dap.request("variables", {
        "variablesReference": scopes[0]["variablesReference"]})["body"]["variables"]
    assert {"x": "21"}.items() <= {v["name"]: v["value"] for v in variables}.items()
    value = dap.request("evaluate", {"expression": "x * 3", "frameId": frames[0]["id"],
                                     "context": "watch"})
    assert value["body"]["result"] == "63"
    assert dap.request("continue", {"threadId": thread})["success"]
    exited = dap.wait_event("exited", timeout=60)
    assert exited["body"]["exitCode"] == 0
    assert dap.output("stdout") == "result 10\nstopper 42\n"
    assert [x for x in dap.output("console").splitlines() if x.startswith("i=")] == [
        f"i={i}" for i in range(5)]


def test_without_ordinary_breakpoints_debugpy_never_enters_the_program(dap, program):
    path = program(PROGRAM)
    assert dap.start({"program": path, "args": ["3"]})["success"]
    dap.request("setBreakpoints", {"source": {"path": path}, "breakpoints": [
        {"line": LOOP_LINE, "logMessage": "i={i}"}]})
    dap.request("setExceptionBreakpoints", {"filters": []})
    dap.request("configurationDone")
    dap.wait_event("terminated", timeout=60)
    assert "debugpy brought into the program" not in dap.output("console")
    # asking for a stack while nothing is stopped is an error, not a hang
    assert "debugpy" not in dap.output("stderr")


def test_a_request_that_needs_a_stop_gets_a_clear_error(dap, program):
    path = program(FOREVER)
    assert dap.start({"program": path})["success"]
    dap.request("configurationDone")
    response = dap.request("stackTrace", {"threadId": 1})
    assert not response["success"] and response["message"].startswith("not_stopped")
    assert dap.request("terminate")["success"]
    dap.wait_event("terminated", timeout=30)


def test_terminate_flushes_and_ends_the_program(dap, program):
    path = program(FOREVER)
    assert dap.start({"program": path})["success"]
    pid = dap.wait_event("process")["body"]["systemProcessId"]
    dap.request("setBreakpoints", {"source": {"path": path}, "breakpoints": [
        {"line": 5, "logMessage": "tick {i}"}]})
    dap.request("configurationDone")
    assert wait_until(lambda: dap.output("console").count("tick") >= 5)
    assert dap.request("terminate")["success"]
    dap.wait_event("terminated", timeout=30)
    assert wait_until(lambda: not _alive(pid), timeout=10)
    hits = dap.output("console").count("tick")
    session = dap.wait_event("scopeline.events")["body"]["sessionId"]
    assert wait_until(lambda: Store().find(session)["status"] == "stopped", timeout=10)
    stored = [e for e in Store().events(session) if e.type == "line_execution"]
    assert len(stored) == hits  # every hit the editor saw is stored, none lost at SIGTERM


def test_disconnect_ends_the_program_and_the_adapter(dap, program):
    path = program(FOREVER)
    assert dap.start({"program": path})["success"]
    pid = dap.wait_event("process")["body"]["systemProcessId"]
    dap.request("configurationDone")
    assert dap.request("disconnect", {"terminateDebuggee": True})["success"]
    assert wait_until(lambda: not _alive(pid), timeout=10)
    assert wait_until(lambda: dap.proc.poll() is not None, timeout=10)


def test_malformed_and_unknown_requests_get_errors_and_the_adapter_stays_up(dap, program):
    path = program(FOREVER)
    assert dap.start({"program": path})["success"]
    body = b'{"seq": 90, "type": "request", "command": '  # cut short: not JSON
    dap.send_raw(b"Content-Length: %d\r\n\r\n" % len(body) + body)
    assert wait_until(lambda: any(not r["success"] and "malformed" in r["message"]
                                  for r in dap.all_responses))
    body = b'[1, 2, 3]'
    dap.send_raw(b"Content-Length: %d\r\n\r\n" % len(body) + body)
    assert wait_until(lambda: sum("malformed" in r.get("message", "")
                                  for r in dap.all_responses) == 2)
    unknown = dap.request("frobnicate", {"x": 1})
    assert not unknown["success"] and "unknown request 'frobnicate'" in unknown["message"]
    bad = dap.request("setBreakpoints", {"breakpoints": [{"line": 3}]})
    assert not bad["success"] and "source.path" in bad["message"]
    assert dap.request("threads")["success"]  # still serving
    dap.request("terminate")
    dap.wait_event("terminated", timeout=30)


def test_a_program_that_does_not_exist_fails_the_launch_clearly(dap, tmp_path):
    response = dap.start({"program": str(tmp_path / "missing.py")})
    assert not response["success"]
    assert "did not connect" in response["message"] or "no such script" in response["message"]
    assert "no such script" in dap.output("stderr")


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # a zombie (exited, not reaped yet) counts as gone
    try:
        with open(f"/proc/{pid}/stat") as fh:
            return fh.read().split()[2] != "Z"
    except FileNotFoundError:
        return False


TOGGLE = """
import os
import sys
import time


def tick(i):
    return i + 1


i = 0
flag = sys.argv[1]
while not os.path.exists(flag):
    i = tick(i)
    time.sleep(0.001)
if sys.version_info >= (3, 12):
    print("debugger events", sys.monitoring.get_events(sys.monitoring.DEBUGGER_ID))
else:
    print("tracer", sys.gettrace())
"""


def test_the_last_breakpoint_removed_switches_debugpy_off_and_a_new_one_stops_again(
        dap, program, tmp_path):
    path = program(TOGGLE)
    flag = tmp_path / "stop-now"
    assert dap.start({"program": path, "args": [str(flag)]})["success"]
    dap.request("configurationDone")
    for round_ in range(2):  # debugpy in, out, in again, out again
        after = len(dap.events)
        bp = dap.request("setBreakpoints", {"source": {"path": path},
                                            "breakpoints": [{"line": 8}]}, timeout=90)
        assert "could not" not in bp["body"]["breakpoints"][0].get("message", ""), bp
        stopped = dap.wait_event("stopped", timeout=60, after=after)
        frames = dap.request("stackTrace", {"threadId": stopped["body"]["threadId"]})
        assert frames["body"]["stackFrames"][0]["name"] == "tick"
        assert dap.request("setBreakpoints", {"source": {"path": path},
                                              "breakpoints": []})["success"]
        # still stopped: debugpy is not taken out from under a paused program
        again = dap.request("stackTrace", {"threadId": stopped["body"]["threadId"]})
        assert again["success"] and again["body"]["stackFrames"][0]["name"] == "tick"
        assert dap.output("console").count("tracing switched off") == round_
        assert dap.request("continue", {"threadId": stopped["body"]["threadId"]})["success"]
        expected = round_ + 1
        assert wait_until(lambda n=expected: dap.output("console").count(
            "tracing switched off") == n), dap.output("console")
    flag.write_text("")
    dap.wait_event("terminated", timeout=30)
    assert dap.output("stdout") in ("tracer None\n", "debugger events 0\n")


def test_attach_to_a_program_running_debugpy_passes_debugging_through(dap, program, tmp_path):
    import socket
    import subprocess
    import sys

    path = program(PROGRAM)
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    out = tmp_path / "stdout.txt"
    debuggee = subprocess.Popen([sys.executable, "-m", "debugpy", "--listen",
                                 f"127.0.0.1:{port}", "--wait-for-client", path, "4"],
                                stdout=out.open("w"), stderr=subprocess.DEVNULL,
                                env={**os.environ, "PYDEVD_DISABLE_FILE_VALIDATION": "1"})
    try:
        assert dap.request("initialize", {"adapterID": "scopeline"})["success"]
        assert wait_until(lambda: _listening(port), timeout=30)
        attached = dap.request("attach", {"connect": {"host": "127.0.0.1", "port": port}},
                               timeout=60)
        assert attached["success"], attached["message"]
        dap.wait_event("initialized")
        response = dap.request("setBreakpoints", {"source": {"path": path}, "breakpoints": [
            {"line": STOP_LINE}, {"line": LOOP_LINE, "logMessage": "i={i}"}]})
        assert "no Scopeline agent" in response["body"]["breakpoints"][1]["message"]
        dap.request("configurationDone")
        stopped = dap.wait_event("stopped", timeout=60)
        frames = dap.request("stackTrace", {"threadId": stopped["body"]["threadId"]})
        assert frames["body"]["stackFrames"][0]["name"] == "stopper"
        dap.request("continue", {"threadId": stopped["body"]["threadId"]})
        assert debuggee.wait(60) == 0
        assert out.read_text() == "result 6\nstopper 42\n"
    finally:
        if debuggee.poll() is None:
            debuggee.kill()
            debuggee.wait()


def _listening(port: int) -> bool:
    """Is something listening on ``port``? Read from /proc: a probe connection would be
    taken by debugpy as its one client."""
    with open("/proc/net/tcp") as fh:
        return any(f":{port:04X} " in line and line.split()[3] == "0A" for line in fh)


ATTACHABLE = """
import os
import sys
import time


def tick(i):
    return i + 1


print("ready", flush=True)
i = 0
while not os.path.exists(sys.argv[1]):
    i = tick(i)
    time.sleep(0.005)
if sys.version_info >= (3, 12):  # is any hook of ours left?
    hooked = any(sys.monitoring.get_tool(t) for t in range(1, 6))
else:
    hooked = sys.gettrace() is not None or "scopeline" in repr(tick.__code__.co_consts)
    from scopeline.engine.runtime.codeswap import is_stand_in  # the agent's path is here
    hooked = hooked or is_stand_in(tick.__code__)
print("ended", i > 0, "hooked" if hooked else "clean", flush=True)
"""


def test_attach_by_process_id_places_tracepoints_in_the_running_program(dap, program,
                                                                         tmp_path):
    import subprocess
    import sys

    path = program(ATTACHABLE)
    flag = tmp_path / "stop"
    out = tmp_path / "out.txt"
    running = subprocess.Popen([sys.executable, path, str(flag)], stdout=out.open("w"),
                               stderr=subprocess.STDOUT)
    try:
        assert wait_until(lambda: out.exists() and "ready" in out.read_text())
        assert dap.request("initialize", {"adapterID": "scopeline"})["success"]
        attached = dap.request("attach", {"processId": running.pid}, timeout=90)
        assert attached["success"], attached.get("message")
        dap.wait_event("initialized")
        placed = dap.request("setBreakpoints", {"source": {"path": path}, "breakpoints": [
            {"line": 7, "logMessage": "tick {i}"}]})["body"]["breakpoints"][0]
        assert placed["verified"], placed
        dap.request("configurationDone")
        assert wait_until(lambda: dap.output("console").count("tick ") >= 5)
        # detach: the program runs on, with our hooks gone (and says so at its end)
        assert dap.request("disconnect", {"terminateDebuggee": False})["success"]
        assert running.poll() is None
        flag.write_text("")
        assert running.wait(30) == 0
        assert out.read_text().endswith("ended True clean\n")
    finally:
        if running.poll() is None:
            running.kill()
            running.wait()


RAISER = """
def risky(x):
    if x > 1:
        raise KeyError(x)
    return x


def main():
    total = 0
    for x in range(3):
        try:
            total += risky(x)
        except KeyError:
            total -= 1
    print("total", total)


main()
"""


def test_an_exception_filter_stops_where_it_is_raised_and_stepping_works(dap, program):
    path = program(RAISER)
    assert dap.start({"program": path})["success"]
    dap.request("setBreakpoints", {"source": {"path": path}, "breakpoints": [{"line": 8}]})
    filters = dap.request("setExceptionBreakpoints", {"filters": ["raised"]}, timeout=90)
    assert filters["success"], filters
    dap.request("configurationDone")
    stopped = dap.wait_event("stopped", timeout=60)  # the breakpoint on `total = 0`
    thread = stopped["body"]["threadId"]
    assert stopped["body"]["reason"] == "breakpoint"
    after = len(dap.events)
    assert dap.request("next", {"threadId": thread})["success"]  # step over one line
    stepped = dap.wait_event("stopped", after=after)
    assert stepped["body"]["reason"] == "step"
    frame = dap.request("stackTrace", {"threadId": thread})["body"]["stackFrames"][0]
    assert frame["line"] == 9
    after = len(dap.events)
    dap.request("continue", {"threadId": thread})
    raised = dap.wait_event("stopped", after=after)
    assert raised["body"]["reason"] == "exception"
    info = dap.request("exceptionInfo", {"threadId": thread})
    assert "KeyError" in info["body"]["exceptionId"]
    frame = dap.request("stackTrace", {"threadId": thread})["body"]["stackFrames"][0]
    assert frame["name"] == "risky" and frame["line"] == 3
    dap.request("setExceptionBreakpoints", {"filters": []})
    dap.request("setBreakpoints", {"source": {"path": path}, "breakpoints": []})
    dap.request("continue", {"threadId": thread})
    dap.wait_event("terminated", timeout=60)
    assert dap.output("stdout") == "total 0\n"


def test_pause_brings_debugpy_in_and_stops_the_running_program(dap, program):
    path = program(FOREVER)
    assert dap.start({"program": path})["success"]
    dap.request("configurationDone")
    paused = dap.request("pause", {"threadId": 1}, timeout=90)
    assert paused["success"], paused.get("message")
    stopped = dap.wait_event("stopped", timeout=60)
    assert stopped["body"]["reason"] == "pause"
    frames = dap.request("stackTrace", {"threadId": stopped["body"]["threadId"]})
    assert frames["body"]["stackFrames"][0]["source"]["path"] in (path, os.path.realpath(path))
    dap.request("continue", {"threadId": stopped["body"]["threadId"]})
    assert dap.request("terminate")["success"]
    dap.wait_event("terminated", timeout=30)
