"""A logpoint through a real debug adapter, Scopeline against debugpy:
``python bench/dap_tracepoints.py [--n N] [--rounds R] [--work M]``.

Measures with the interpreter that runs it (``sys.executable``: the adapters and the
debuggees run with it too), side by side in one run:

* (a) ``python prog.py``, untraced;
* (b) a ``scopeline`` debug session (``python -m scopeline.adapter``, DAP over stdio) with one
  logpoint on the loop line, which becomes a Scopeline tracepoint;
* (c) a plain debugpy session (``python -m debugpy --listen ... --wait-for-client prog.py``, a
  DAP client attached over TCP) with the same logpoint.

The program times two parts itself with ``perf_counter`` and prints them: an untraced hot part
(pure-Python calls and arithmetic, ~0.3-0.5 s, in 5 equal chunks; the traced function has
been entered once before it, with no hit) and the traced loop of N iterations. Each round
runs (a) right before (b) and (a) right before (c), the order of the two pairs alternating
from round to round; the table gives medians over the rounds of the per-pair figures.
Session start-up and shutdown are outside the timed parts. No thresholds: it prints.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from scopeline.adapter.client import DapClient

PROGRAM = '''\
import os
import sys
import time
from time import perf_counter


def mix(a, b):
    return (a * 31 + b) % 1000003


def hot(m):
    acc = 0
    for k in range(m):
        acc = mix(acc, k)
    return acc


def traced(n):
    total = 0
    for i in range(n):
        total += i
    return total


def main():
    n, m = int(sys.argv[1]), int(sys.argv[2])
    traced(0)  # the traced function entered once, no hit: its hooks are in place
    chunks = []
    for _ in range(5):  # 5 equal chunks: the fastest one is less exposed to a busy machine
        t0 = perf_counter()
        hot(m // 5)
        chunks.append(perf_counter() - t0)
    print(f"BENCH untraced {sum(chunks):.9f} {min(chunks) * 5:.9f}", flush=True)
    t0 = perf_counter()
    traced(n)
    t1 = perf_counter()
    print(f"BENCH loop {t1 - t0:.9f}", flush=True)
    if len(sys.argv) > 3:  # hold until the bench has the output (else a debugger may drop it)
        deadline = perf_counter() + 60
        while not os.path.exists(sys.argv[3]) and perf_counter() < deadline:
            time.sleep(0.02)


main()
'''
LOOP_LINE = [x.strip() for x in PROGRAM.splitlines()].index("total += i") + 1
MESSAGE = "TP i={i}"
TP_LINE = re.compile(r"^TP i=(\d+)$")
RESULT = re.compile(r"^BENCH (untraced|loop) ([0-9.]+)(?: ([0-9.]+))?$", re.M)
SESSION_TIMEOUT_S = 120
QUIET_S = 1.0


class Dap(DapClient):
    """The adapter package's DAP client, plus what the bench waits on."""

    def __init__(self, reader: Any, writer: Any) -> None:
        self.loop_line_seen = False  # the program's "BENCH loop" line came as output
        super().__init__(reader, writer)

    def initialize(self, adapter_id: str) -> None:
        self.request("initialize", {"adapterID": adapter_id, "clientID": "bench",
                                    "linesStartAt1": True, "columnsStartAt1": True,
                                    "pathFormat": "path"})

    def place_logpoint(self, prog: Path, who: str) -> None:
        placed = self.request("setBreakpoints", {
            "source": {"path": str(prog)},
            "breakpoints": [{"line": LOOP_LINE, "logMessage": MESSAGE}]})
        bp = placed["body"]["breakpoints"][0]
        if not bp.get("verified"):
            raise RuntimeError(f"{who} did not place the logpoint: {bp.get('message')}")

    def on_message(self, message: dict[str, Any]) -> None:
        if message.get("type") == "event" and "BENCH loop" in str(
                (message.get("body") or {}).get("output", "")):
            self.loop_line_seen = True

    def request(self, command: str, arguments: dict[str, Any] | None = None,
                timeout: float = 30) -> dict[str, Any]:
        response = super().request(command, arguments, timeout)
        if not response.get("success"):
            raise RuntimeError(f"{command} failed: {response.get('message')}")
        return response

    def wait_any(self, names: tuple[str, ...], timeout: float) -> dict[str, Any] | None:
        """The first event named one of ``names``; None if the stream closed first."""
        def found() -> dict[str, Any] | None:
            return next((e for e in self.events if e.get("event") in names), None)

        with self.cond:
            if not self.cond.wait_for(lambda: found() is not None or self.closed, timeout):
                raise RuntimeError(f"no {names} event in {timeout} s")
            return found()

    def wait_for(self, predicate: Any, timeout: float) -> None:
        with self.cond:
            if not self.cond.wait_for(lambda: self.closed or predicate(), timeout):
                raise RuntimeError(f"timed out after {timeout} s")

    def wait_quiet(self, quiet: float, timeout: float) -> None:
        """Until the stream closes, or no event came for ``quiet`` seconds."""
        deadline = time.monotonic() + timeout
        with self.cond:
            while not self.closed and time.monotonic() < deadline:
                before = len(self.events)
                self.cond.wait_for(lambda b=before: self.closed or len(self.events) > b, quiet)
                if len(self.events) == before:
                    return

    def late_messages(self) -> int:
        """Logpoint messages that came after the "terminated" event (a client such as VS Code
        may have closed the session's console by then)."""
        with self.cond:
            at = next((k for k, e in enumerate(self.events) if e.get("event") == "terminated"),
                      len(self.events))
            return sum(1 for e in self.events[at:] if e.get("event") == "output"
                       for line in str(e["body"].get("output", "")).splitlines()
                       if TP_LINE.match(line.strip()))

    def outputs(self) -> list[tuple[str, str]]:
        with self.cond:
            return [(e["body"].get("category", "console"), e["body"].get("output", ""))
                    for e in self.events if e.get("event") == "output"]


# -- the three configurations: each returns {"untraced": s, "loop": s, "messages": k, ...} ------

def parse_program_output(text: str) -> dict[str, float]:
    found: dict[str, float] = {}
    for kind, value, fastest in RESULT.findall(text):
        found[kind] = float(value)
        if fastest:
            found[f"{kind}_fastest"] = float(fastest)
    if set(found) != {"untraced", "untraced_fastest", "loop"}:
        raise RuntimeError(f"the program did not report its times: {text[-500:]!r}")
    return found


def split_outputs(outputs: list[tuple[str, str]], n: int) -> tuple[str, int, str]:
    """The program's stdout, how many logpoint messages arrived, and "" if they are exactly
    i=0..n-1 in order, else what is wrong. An output event whose every line is a logpoint
    line is a message, in whatever category (debugpy sends logpoint output as "stdout",
    Scopeline as "console")."""
    stdout, seen = [], []
    for category, text in outputs:
        lines = text.splitlines()
        matches = [TP_LINE.match(line.strip()) for line in lines]
        if lines and all(matches):
            seen.extend(int(m.group(1)) for m in matches if m)
        elif category == "stdout":
            stdout.append(text)
    return "".join(stdout), len(seen), check_sequence(seen, n)


def check_sequence(seen: list[int], n: int) -> str:
    if seen == list(range(n)):
        return ""
    problems = []
    missing = set(range(n)) - set(seen)
    if missing:
        problems.append(f"{len(missing)} missing (first i={min(missing)})")
    if len(set(seen)) != len(seen):
        problems.append(f"{len(seen) - len(set(seen))} duplicated")
    if sorted(seen) == seen:
        return "; ".join(problems)
    runs, start = [], 0  # the messages as runs of consecutive i
    for k in range(1, len(seen) + 1):
        if k == len(seen) or seen[k] != seen[k - 1] + 1:
            runs.append(f"{seen[start]}-{seen[k - 1]}")
            start = k
    shown = ", ".join(runs[:8]) + (f", ... ({len(runs)} runs)" if len(runs) > 8 else "")
    problems.append(f"out of order, arrived as i = {shown}")
    return "; ".join(problems)


def run_plain(prog: Path, n: int, work: int, env: dict[str, str]) -> dict[str, Any]:
    proc = subprocess.run([sys.executable, str(prog), str(n), str(work)], env=env,
                          capture_output=True, text=True, timeout=SESSION_TIMEOUT_S)
    if proc.returncode:
        raise RuntimeError(f"plain run exited {proc.returncode}: {proc.stderr[-500:]}")
    return {**parse_program_output(proc.stdout), "messages": 0, "wrong": ""}


def run_scopeline(prog: Path, n: int, work: int, env: dict[str, str]) -> dict[str, Any]:
    adapter = subprocess.Popen([sys.executable, "-m", "scopeline.adapter"], env=env,
                               stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                               stderr=subprocess.DEVNULL)
    t0 = time.perf_counter()
    try:
        dap = Dap(adapter.stdout, adapter.stdin)
        dap.initialize("scopeline")
        dap.request("launch", {"program": str(prog), "args": [str(n), str(work)]}, timeout=60)
        dap.wait_any(("initialized",), 30)
        dap.place_logpoint(prog, "scopeline")
        dap.request("configurationDone")
        dap.wait_any(("terminated",), SESSION_TIMEOUT_S)
        wall = time.perf_counter() - t0
        dap.wait_quiet(QUIET_S, 10)  # to see (and count) output that trails "terminated"
        outputs = dap.outputs()
        late = dap.late_messages()
        try:
            dap.request("disconnect", {"terminateDebuggee": True}, timeout=5)
        except (RuntimeError, OSError, ValueError):
            pass
    finally:
        stop(adapter)
    stdout, count, wrong = split_outputs(outputs, n)
    return {**parse_program_output(stdout), "messages": count, "wrong": wrong, "late": late,
            "session_s": wall}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def connect(port: int, proc: subprocess.Popen[Any], timeout: float = 30) -> socket.socket:
    deadline = time.monotonic() + timeout
    while True:
        try:
            return socket.create_connection(("127.0.0.1", port), timeout=5)
        except OSError:
            if proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"debugpy did not listen on {port}") from None
            time.sleep(0.05)


def run_debugpy(prog: Path, n: int, work: int, env: dict[str, str],
                hold: bool = True) -> dict[str, Any]:
    """``hold``: the program waits at its end (untimed) until its "BENCH loop" line has come
    back: debugpy drops the output still queued when the program exits. Without it, only
    the delivery is measured (the times may be lost with the rest)."""
    port = free_port()
    release = prog.parent / f"release-{port}"
    argv = [str(prog), str(n), str(work), *([str(release)] if hold else [])]
    proc = subprocess.Popen([sys.executable, "-m", "debugpy", "--listen", f"127.0.0.1:{port}",
                             "--wait-for-client", *argv], env=env, stdin=subprocess.DEVNULL,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    t0 = time.perf_counter()
    sock = None
    try:
        sock = connect(port, proc)
        sock.settimeout(None)
        dap = Dap(sock.makefile("rb"), sock.makefile("wb"))
        dap.initialize("debugpy")
        attach = dap.send("attach", {"justMyCode": False, "redirectOutput": True})
        dap.wait_any(("initialized",), 30)
        dap.place_logpoint(prog, "debugpy")
        dap.request("configurationDone")
        dap.response(attach)
        if hold:
            # The logpoint messages trail the loop by seconds, queued in order before the
            # program's last line: once that line is here, so are they.
            dap.wait_for(lambda: dap.loop_line_seen, SESSION_TIMEOUT_S)
            dap.wait_quiet(0.3, 10)
            release.touch()
        # Some output arrives after the "terminated" event: wait for the program's end,
        # then for the stream to close or to fall quiet.
        dap.wait_any(("terminated", "exited"), SESSION_TIMEOUT_S)
        proc.wait(SESSION_TIMEOUT_S)
        dap.wait_quiet(QUIET_S, SESSION_TIMEOUT_S)
        wall = time.perf_counter() - t0
        outputs = dap.outputs()
        late = dap.late_messages()
        try:
            dap.send("disconnect", {})
        except (OSError, ValueError):
            pass
    finally:
        if sock is not None:
            sock.close()
        stop(proc)
    stdout, count, wrong = split_outputs(outputs, n)
    times = parse_program_output(stdout) if hold else {}
    return {**times, "messages": count, "wrong": wrong, "late": late, "session_s": wall}


def stop(proc: subprocess.Popen[Any]) -> None:
    for stream in (proc.stdin, proc.stdout):
        try:
            if stream is not None:
                stream.close()
        except OSError:
            pass
    try:
        proc.wait(10)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(5)


RUNNERS = {"scopeline": run_scopeline, "debugpy": run_debugpy}


# -- the table -------------------------------------------------------------------------------

def med(values: list[float]) -> float:
    return statistics.median(values) if values else float("nan")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--n", type=int, default=20000, help="traced loop iterations")
    parser.add_argument("--rounds", type=int, default=7, help="rounds of back-to-back pairs")
    parser.add_argument("--work", type=int, default=2_500_000,
                        help="iterations of the untraced hot part (~0.3-0.5 s)")
    parser.add_argument("--json", action="store_true", help="also print the raw samples")
    opts = parser.parse_args()

    load = os.getloadavg()
    scratch = Path(tempfile.mkdtemp(prefix="scopeline-dap-bench-"))
    prog = scratch / "prog.py"
    prog.write_text(PROGRAM)
    env = {k: v for k, v in os.environ.items() if k != "SCOPELINE_ENV"}
    env.update(SCOPELINE_DATA_DIR=str(scratch / "data"), PYTHONHASHSEED="0",
               PYTHONUNBUFFERED="1")  # as the scopeline adapter launches its debuggee

    pairs: dict[str, list[tuple[dict[str, Any], dict[str, Any]]]] = {k: [] for k in RUNNERS}
    errors: list[str] = []
    started = time.perf_counter()
    for r in range(opts.rounds):
        order = list(RUNNERS) if r % 2 == 0 else list(RUNNERS)[::-1]
        for name in order:
            try:
                base = run_plain(prog, opts.n, opts.work, env)
                variant = RUNNERS[name](prog, opts.n, opts.work, env)
            except Exception as exc:  # report it, go on with the other runs
                errors.append(f"round {r + 1} {name}: {type(exc).__name__}: {exc}")
                continue
            pairs[name].append((base, variant))
        print(f"round {r + 1}/{opts.rounds} done ({time.perf_counter() - started:.0f} s)",
              file=sys.stderr, flush=True)

    try:
        unheld = run_debugpy(prog, opts.n, opts.work, env, hold=False)
        unheld_text = (f"{unheld['messages']} of {opts.n} logpoint messages delivered, "
                       f"program's timing lines {'delivered' if 'loop' in unheld else 'LOST'}")
    except Exception as exc:
        unheld_text = f"failed: {type(exc).__name__}: {exc}"

    print(f"\nDAP logpoint benchmark — Python {platform.python_version()} "
          f"({sys.executable}), N={opts.n}, hot part {opts.work} calls, "
          f"{opts.rounds} rounds")
    print(f"load average at start {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}, "
          f"at end {' '.join(f'{x:.2f}' for x in os.getloadavg())}; "
          f"total {time.perf_counter() - started:.0f} s")
    all_bases = [b for ps in pairs.values() for b, _ in ps]
    header = ("configuration", "untraced s", "untraced ratio", "ratio, fastest chunk",
              "loop s", "+µs/hit", "messages delivered", "session s")
    print(f"\n| {' | '.join(header)} |")
    print("|" + "---|" * len(header))
    print(f"| (a) plain python | {med([b['untraced'] for b in all_bases]):.3f} | — | — | "
          f"{med([b['loop'] for b in all_bases]):.4f} | — | — | — |")
    per_hit: dict[str, float] = {}
    for name, label in (("scopeline", "(b) scopeline adapter"), ("debugpy", "(c) debugpy")):
        ps = pairs[name]
        per_hit[name] = med([(v["loop"] - b["loop"]) / opts.n * 1e6 for b, v in ps])
        counts = sorted({v["messages"] for _, v in ps})
        ok = bool(ps) and all(v["messages"] == opts.n and not v["wrong"] for _, v in ps)
        cells = [label, f"{med([v['untraced'] for _, v in ps]):.3f}",
                 f"{med([v['untraced'] / b['untraced'] for b, v in ps]):.3f}",
                 f"{med([v['untraced_fastest'] / b['untraced_fastest'] for b, v in ps]):.3f}",
                 f"{med([v['loop'] for _, v in ps]):.4f}", f"{per_hit[name]:.2f}",
                 f"{'/'.join(map(str, counts)) or '—'} of {opts.n} "
                 f"{'OK' if ok else 'MISMATCH'}",
                 f"{med([v['session_s'] for _, v in ps]):.1f}"]
        print(f"| {' | '.join(cells)} |")
    if per_hit["debugpy"] > 0:
        print(f"\nadded cost per hit, Scopeline / debugpy: "
              f"{per_hit['scopeline'] / per_hit['debugpy']:.3f}")
    print("""
untraced ratio = median over rounds of (the untraced part in the session) / (the same in the
  plain run just before it); 'fastest chunk': the same with the fastest of its 5 equal chunks.
+µs/hit = median of ((loop in the session) - (loop in the plain run just before)) / N.
messages delivered = logpoint lines received as output events, checked to be i=0..N-1 in order.
session s = from starting the adapter (b) / debuggee (c) to the end of the session, with (c)
  holding the program open (untimed) until its output has arrived. Not part of the ratios.""")
    for label, name in (("(b)", "scopeline"), ("(c)", "debugpy")):
        ratios = [f"{v['untraced'] / b['untraced']:.3f}" for b, v in pairs[name]]
        hits = [f"{(v['loop'] - b['loop']) / opts.n * 1e6:.2f}" for b, v in pairs[name]]
        print(f"{label} per round: untraced ratio {', '.join(ratios)}; "
              f"+µs/hit {', '.join(hits)}")
    for label, name in (("(b)", "scopeline"), ("(c)", "debugpy")):
        for r, (_, v) in enumerate(pairs[name]):
            if v["wrong"]:
                print(f"{label} MISMATCH in pair {r + 1}: {v['messages']} messages, {v['wrong']}")
            if v["late"]:
                print(f"{label} pair {r + 1}: {v['late']} of the messages came after the "
                      "'terminated' event")
    print(f"(c) debugpy when the program exits right after the loop (not held, one run): "
          f"{unheld_text}")
    for error in errors:
        print(f"ERROR {error}")
    if opts.json:
        print(json.dumps(pairs, indent=1))
    shutil.rmtree(scratch, ignore_errors=True)


if __name__ == "__main__":
    main()
