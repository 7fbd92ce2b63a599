"""Tracepoints through a real DAP client, a real adapter process and a real debuggee."""

from __future__ import annotations

import os
import time

import pytest
from dap_client import DapClient
from scopeline.engine.store import Store

LOOP = """
import sys


def work(n):
    total = 0
    for i in range(n):
        total += i
    return total


def never_called():
    return 1


if __name__ == "__main__":
    print("result", work(int(sys.argv[1])))
"""
LOOP_LINE = 7  # total += i


def logpoint(line: int, message: str, **extra: str) -> dict[str, object]:
    return {"line": line, "logMessage": message, **extra}


def stored_hits(dap: DapClient) -> list:
    session_id = dap.wait_event("scopeline.events")["body"]["sessionId"]
    return [e for e in Store().events(session_id) if e.type == "line_execution"]


def run(dap: DapClient, path: str, breakpoints: list[dict], args: list[str]) -> dict:
    assert dap.start({"program": path, "args": args})["success"]
    response = dap.request("setBreakpoints", {"source": {"path": path},
                                              "breakpoints": breakpoints})
    assert response["success"], response
    assert dap.request("configurationDone")["success"]
    exited = dap.wait_event("exited", timeout=60)
    dap.wait_event("terminated")
    return {"breakpoints": response["body"]["breakpoints"],
            "exit_code": exited["body"]["exitCode"]}


def test_a_logpoint_in_a_loop_of_n_gives_n_messages_and_n_events(dap, program):
    n = 37
    path = program(LOOP)
    out = run(dap, path, [logpoint(LOOP_LINE, "i={i} total={total}")], [str(n)])
    bp = out["breakpoints"][0]
    assert bp["verified"] and bp["message"].startswith("⚡ runtime · prog.py:work")
    assert out["exit_code"] == 0
    expected = [f"i={i} total={sum(range(i))}" for i in range(n)]
    assert dap.output("console").splitlines() == expected  # exactly N, in order
    assert dap.output("stdout") == f"result {sum(range(n))}\n"  # the program's own output
    last = [e for e in dap.events if e["event"] == "scopeline.events"][-1]
    assert last["body"]["total"] == n
    hits = stored_hits(dap)
    assert [h.data["message"] for h in hits] == expected
    assert [h.line for h in hits] == [LOOP_LINE] * n
    assert hits[3].data["locals"] == {"n": str(n), "total": "3", "i": "3"}
    assert {h.function for h in hits} == {"work"}


def test_hit_condition_and_condition_choose_the_hits(dap, program):
    path = program(LOOP)
    out = run(dap, path, [logpoint(LOOP_LINE, "every fifth {i}", hitCondition="%5"),
                          logpoint(LOOP_LINE, "odd {i}", condition="i % 2 == 1")], ["20"])
    assert [b["verified"] for b in out["breakpoints"]] == [True, True]
    lines = dap.output("console").splitlines()
    assert [x for x in lines if x.startswith("every")] == [
        f"every fifth {i}" for i in (4, 9, 14, 19)]  # hits 5, 10, 15, 20
    assert [x for x in lines if x.startswith("odd")] == [f"odd {i}" for i in range(1, 20, 2)]


def test_a_trace_condition_captures_without_a_message_and_never_stops(dap, program):
    path = program(LOOP)
    out = run(dap, path, [{"line": LOOP_LINE, "condition": "#trace capture=total"}], ["6"])
    assert out["breakpoints"][0]["verified"]
    assert dap.count_events("stopped") == 0
    assert dap.output("console") == ""
    hits = stored_hits(dap)
    assert [h.data["locals"] for h in hits] == [{"total": str(sum(range(i)))} for i in range(6)]


@pytest.mark.parametrize("message, why", [
    ("{items.append(1)}", "calls .append()"),
    ("{open('/etc/passwd')}", "calls open()"),
    ("{(x := 1)}", "assigns"),
    ("{__import__('os')}", "calls __import__()"),
    ("{i.__class__}", "dunder"),
    ("{sorted([i], key=print)}", "passes key="),
    ("{i", "unclosed"),
])
def test_a_logpoint_with_side_effects_is_refused_and_the_program_still_runs(
        dap, program, message, why):
    path = program(LOOP)
    out = run(dap, path, [logpoint(LOOP_LINE, message), logpoint(LOOP_LINE, "ok {i}")], ["3"])
    refused, ok = out["breakpoints"]
    assert not refused["verified"] and why in refused["message"]
    assert refused["message"].startswith("tracepoint not placed")
    assert ok["verified"]
    assert dap.output("console").splitlines() == ["ok 0", "ok 1", "ok 2"]


def test_a_tracepoint_outside_any_function_says_why(dap, program):
    path = program(LOOP)
    out = run(dap, path, [logpoint(1, "here"), {"line": LOOP_LINE, "condition": "#trace mode=x"}],
              ["1"])
    outside, bad_mode = out["breakpoints"]
    assert not outside["verified"] and "not inside a function" in outside["message"]
    assert not bad_mode["verified"] and "mode='x'" in bad_mode["message"]


def test_an_uncaught_exception_still_delivers_every_hit_and_the_real_traceback(dap, program):
    path = program("""
        def work(n):
            for i in range(n):
                if i == 4:
                    raise ValueError(f"bad {i}")


        work(10)
    """)
    out = run(dap, path, [logpoint(3, "i={i}")], [])
    assert out["exit_code"] == 1
    assert dap.output("console").splitlines() == [f"i={i}" for i in range(5)]
    err = dap.output("stderr")
    assert f'File "{path}", line 4, in work' in err and "ValueError: bad 4" in err
    assert len(stored_hits(dap)) == 5


def test_tracepoints_from_the_launch_configuration(dap, program):
    path = program(LOOP)
    assert dap.start({"program": path, "args": ["4"], "tracepoints": [
        {"file": path, "line": LOOP_LINE, "message": "cfg {i}"}]})["success"]
    assert dap.request("configurationDone")["success"]
    dap.wait_event("terminated", timeout=60)
    assert dap.output("console").splitlines() == [f"cfg {i}" for i in range(4)]


def test_the_launch_environment_reaches_the_program(dap, program, tmp_path):
    path = program("""
        import os
        print(os.environ["GREETING"], os.getcwd())
    """)
    assert dap.start({"program": path, "cwd": str(tmp_path),
                      "env": {"GREETING": "hello"}})["success"]
    assert dap.request("configurationDone")["success"]
    dap.wait_event("terminated", timeout=60)
    assert dap.output("stdout") == f"hello {os.path.realpath(tmp_path)}\n"


CHILDREN = """
import multiprocessing
import subprocess
import sys


def work(tag, n):
    for i in range(n):
        pass
    return tag


if __name__ == "__main__":
    if sys.argv[1:] == ["child"]:
        work("subprocess", 2)
        sys.exit(0)
    work("parent", 1)
    ctx = multiprocessing.get_context("fork")
    process = ctx.Process(target=work, args=("forked", 3))
    process.start()
    process.join()
    subprocess.run([sys.executable, __file__, "child"], check=True)
    print("done")
"""


def test_tracepoints_follow_into_forked_and_subprocess_children(dap, program):
    path = program(CHILDREN)
    out = run(dap, path, [logpoint(8, "{tag} {i}")], [])
    assert out["exit_code"] == 0 and dap.output("stdout") == "done\n"
    messages = dap.output("console").splitlines()
    assert sorted(m for m in messages if not m.startswith("[scopeline]")) == sorted(
        ["parent 0", "forked 0", "forked 1", "forked 2", "subprocess 0", "subprocess 1"])
    assert sum("joined" in m for m in messages) == 2  # the fork and the subprocess
    hits = stored_hits(dap)
    assert len(hits) == 6 and len({h.thread_id for h in hits}) >= 1


def test_children_are_not_followed_when_sub_process_is_off(dap, program):
    path = program(CHILDREN)
    assert dap.start({"program": path, "subProcess": False})["success"]
    dap.request("setBreakpoints", {"source": {"path": path},
                                   "breakpoints": [logpoint(8, "{tag} {i}")]})
    dap.request("configurationDone")
    dap.wait_event("terminated", timeout=60)
    # the children ran (the program finished) but sent nothing: only the parent's hit
    assert dap.output("stdout") == "done\n"
    assert dap.output("console").splitlines() == ["parent 0"]


def test_a_compile_time_tracepoint_is_injected_and_keeps_line_numbers(dap, program):
    path = program("""
        def work(n):
            total = 0
            for i in range(n):
                total += i
            raise ValueError(f"total {total}")


        work(5)
    """)
    out = run(dap, path, [{"line": 4, "condition": '#trace mode=compile_time message="i={i}"'}],
              [])
    bp = out["breakpoints"][0]
    assert bp["verified"], bp
    assert bp["message"].startswith("🔬 compile_time · prog.py:work")
    assert "line probe injected" in bp["message"] and "instrumented module" in bp["message"]
    assert out["exit_code"] == 1
    assert dap.output("console").splitlines() == [f"i={i}" for i in range(5)]
    err = dap.output("stderr")  # the traceback names the original lines
    assert f'File "{path}", line 8, in <module>' in err
    assert f'File "{path}", line 5, in work' in err and "ValueError: total 10" in err
    hits = stored_hits(dap)
    assert len(hits) == 5 and {h.source for h in hits} == {"ast"}


def test_a_compile_time_tracepoint_set_while_running_swaps_the_code(dap, program, tmp_path):
    flag = tmp_path / "stop"
    path = program(f"""
        import os
        import time


        def tick(i):
            return i + 1


        i = 0
        while not os.path.exists({str(flag)!r}):
            i = tick(i)
            time.sleep(0.005)
    """)
    assert dap.start({"program": path})["success"]
    dap.request("configurationDone")
    response = dap.request("setBreakpoints", {"source": {"path": path}, "breakpoints": [
        {"line": 6, "condition": '#trace mode=compile_time message="tick {i}"'}]})
    bp = response["body"]["breakpoints"][0]
    assert bp["verified"] and "code swapped in the running program" in bp["message"], bp
    from dap_client import wait_until

    assert wait_until(lambda: dap.output("console").count("tick") >= 5)
    # removing it restores the user's code: once the batch in flight is in, no more hits
    dap.request("setBreakpoints", {"source": {"path": path}, "breakpoints": []})
    time.sleep(0.3)
    seen = dap.output("console").count("tick")
    time.sleep(0.3)  # ~60 more loop turns
    flag.write_text("")
    dap.wait_event("terminated", timeout=30)
    assert dap.output("console").count("tick") == seen


def test_the_agent_loads_nothing_but_the_standard_library_into_the_program(dap, program):
    path = program("""
        import sys


        def work(n):
            for i in range(n):
                pass


        work(2)
        heavy = {"libcst", "tinydb", "pygls", "lsprotocol", "rich", "watchfiles",
                 "platformdirs", "debugpy"}
        print(sorted(heavy & {m.split(".")[0] for m in sys.modules}))
    """)
    out = run(dap, path, [{"line": 6, "condition": "#trace mode=compile_time"},
                          logpoint(6, "{i}")], [])
    assert [b["verified"] for b in out["breakpoints"]] == [True, True]
    assert dap.output("stdout") == "[]\n"


@pytest.mark.parametrize("condition", [None, "#trace mode=compile_time"])
def test_a_tracepoint_in_a_module_imported_later_is_placed_at_its_import(
        dap, program, condition):
    helper = program("""
        def scale(x):
            y = x * 10
            return y
    """, name="helper.py")
    path = program("""
        import sys


        def main():
            from helper import scale
            print(sum(scale(i) for i in range(3)))


        main()
    """)
    bp: dict = {"line": 2, "logMessage": "x={x}"}
    if condition:
        bp["condition"] = condition
    assert dap.start({"program": path})["success"]
    response = dap.request("setBreakpoints", {"source": {"path": helper}, "breakpoints": [bp]})
    placed = response["body"]["breakpoints"][0]
    assert placed["verified"] and "placed when the program imports it" in placed["message"]
    assert ("compile-time" in placed["message"]) == bool(condition)
    dap.request("configurationDone")
    dap.wait_event("terminated", timeout=60)
    assert dap.output("stdout") == "30\n"
    assert dap.output("console").splitlines() == ["x=0", "x=1", "x=2"]


def test_a_program_on_another_interpreter_without_scopeline_gets_the_agent(dap, program):
    import subprocess
    import sys

    bare = os.path.join(sys.base_prefix, "bin", "python3")  # the venv's base: none of ours
    check = subprocess.run([bare, "-c", "import scopeline"], capture_output=True)
    if check.returncode == 0:
        pytest.skip("the base interpreter has scopeline installed")
    path = program(LOOP)
    assert dap.start({"program": path, "args": ["3"], "python": bare})["success"]
    placed = dap.request("setBreakpoints", {"source": {"path": path}, "breakpoints": [
        logpoint(LOOP_LINE, "i={i}")]})["body"]["breakpoints"][0]
    assert placed["verified"] and "Backend:" not in placed["message"]
    dap.request("configurationDone")
    dap.wait_event("terminated", timeout=60)
    assert dap.output("console").splitlines() == ["i=0", "i=1", "i=2"]
    assert dap.output("stdout") == "result 3\n"


def test_a_tracepoint_in_a_file_that_does_not_parse_says_so(dap, program):
    path = program(LOOP)
    broken = program("def work(n):\n    for i in range(n)\n        pass\n", name="broken.py")
    assert dap.start({"program": path, "args": ["2"]})["success"]
    response = dap.request("setBreakpoints", {"source": {"path": broken}, "breakpoints": [
        logpoint(2, "{i}")]})
    placed = response["body"]["breakpoints"][0]
    assert not placed["verified"] and "does not parse" in placed["message"], placed
    dap.request("configurationDone")
    dap.wait_event("terminated", timeout=60)
    assert dap.output("stdout") == "result 1\n"  # the program ran regardless


def test_launch_tracepoints_share_a_file_and_survive_the_editor_setting_its_breakpoints(
        dap, program):
    path = program(LOOP)
    init = dap.request("initialize", {"adapterID": "scopeline"})
    # VS Code sends every filter marked default with each session: none may need debugpy
    assert not any(f["default"] for f in init["body"]["exceptionBreakpointFilters"])
    launched = dap.request("launch", {"program": path, "args": ["3"], "tracepoints": [
        {"file": path, "line": LOOP_LINE, "message": "i={i}"},
        {"file": path, "line": 8, "message": "total={total}"}]}, timeout=60)
    assert launched["success"]
    dap.wait_event("initialized")
    # the editor sets this file's (other) breakpoints: a logpoint of its own
    placed = dap.request("setBreakpoints", {"source": {"path": path}, "breakpoints": [
        logpoint(5, "start")]})["body"]["breakpoints"]
    assert len(placed) == 1 and placed[0]["verified"]
    dap.request("setExceptionBreakpoints", {"filters": []})
    dap.request("configurationDone")
    dap.wait_event("terminated", timeout=60)
    assert dap.output("console").splitlines() == ["start", "i=0", "i=1", "i=2", "total=3"]
    assert "debugpy" not in dap.output("console")
