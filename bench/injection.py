"""Injected versus runtime capture, side by side: ``python bench/injection.py [--reps N]``.

(i) a line tracepoint capturing locals acc, i in a hot loop (workloads.loop, n=100,000):
    compile-time injection at that line vs runtime line events vs untraced;
(ii) function granularity on hot(a, b) called 200,000 times: injected vs runtime vs untraced.
Same method as bench/run.py: every measurement in a fresh interpreter (this file re-run with
``--worker CASE VARIANT``), baseline/variant runs interleaved with a rotating variant order,
medians of per-pair figures. Scopeline's safety limits are lifted in every traced variant so
each one captures every event (the 'captured' column shows it did).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import tempfile
from functools import partial
from pathlib import Path

BENCH = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH))  # the sibling modules, also when run from elsewhere

import peers  # noqa: E402
import workloads  # noqa: E402
from cases import Armed, Case, Variant  # noqa: E402
from report import Row, format_table, summarise  # noqa: E402
from run import backend, collect  # noqa: E402
from worker import measure  # noqa: E402

N_LOOP = 100_000
N_CALLS = 200_000


def _loop_arm(**options: object) -> Armed:
    stop = peers.start_scopeline(options.pop("target"), full_capture=True,
                                 count=("line_execution",), capture_locals=("acc", "i"),
                                 **options)
    return Armed(partial(workloads.loop, N_LOOP), stop)


def _loop_injected(n: int) -> Armed:
    line = workloads.tracepoint_line()
    # granularity="line" is needed: with trace_lines alone a compile-time session defaults to
    # function granularity and records no line events.
    return _loop_arm(target=workloads.loop, mode="compile_time", granularity="line",
                     trace_lines=(line,))


def _loop_runtime(n: int) -> Armed:
    return _loop_arm(target=f"{workloads.__file__}:{workloads.tracepoint_line()}",
                     mode="runtime")


def _calls_arm(mode: str) -> Armed:
    stop = peers.start_scopeline(workloads.hot, full_capture=True,
                                 count=("function_entry", "function_exit"), mode=mode,
                                 granularity="function")
    return Armed(partial(workloads.call_loop, workloads.hot, N_CALLS), stop)


def _untraced(run: partial[int]) -> Armed:
    return Armed(run, lambda: peers.Outcome(None))


LOOP = Case(
    "i", "(i) line tracepoint capturing locals acc, i in workloads.loop (n=100,000)", "iter",
    warm_up=partial(workloads.loop, 2_000),
    variants=[
        Variant("baseline", "untraced", "baseline", N_LOOP,
                lambda n: _untraced(partial(workloads.loop, n))),
        Variant("injected", "compile_time, trace_lines=(LINE,), limits lifted", "scopeline",
                N_LOOP, _loop_injected),
        Variant("runtime", "runtime 'workloads.py:LINE', limits lifted", "scopeline",
                N_LOOP, _loop_runtime),
    ])
CALLS = Case(
    "ii", "(ii) function granularity: hot(a, b) called 200,000 times", "call",
    warm_up=partial(workloads.call_loop, workloads.hot, 2_000),
    variants=[
        Variant("baseline", "untraced", "baseline", N_CALLS,
                lambda n: _untraced(partial(workloads.call_loop, workloads.hot, n))),
        Variant("injected", "compile_time, granularity=function, limits lifted", "scopeline",
                N_CALLS, lambda n: _calls_arm("compile_time")),
        Variant("runtime", "runtime, granularity=function, limits lifted", "scopeline",
                N_CALLS, lambda n: _calls_arm("runtime")),
    ])
CASES: dict[str, Case] = {"i": LOOP, "ii": CALLS}


def verdict(rows: list[Row], unit: str) -> str:
    by_key = {r.key: r for r in rows}
    inj, rt = by_key["injected"], by_key["runtime"]
    if inj.added is None or rt.added is None or inj.ratio is None or rt.ratio is None:
        return "injected/runtime: n/a (a variant failed, see notes)"
    return (f"injected/runtime: added cost {inj.added:.3f} / {rt.added:.3f} µs per {unit} = "
            f"{inj.added / rt.added:.2f}; total time {inj.ratio:.2f}x / {rt.ratio:.2f}x "
            f"untraced = {inj.ratio / rt.ratio:.2f}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reps", type=int, default=5, help="rounds per case (default 5)")
    parser.add_argument("--worker", nargs=2, metavar=("CASE", "VARIANT"), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.worker:
        import cases

        cases.CASES.update(CASES)  # worker.measure looks the case up there
        print(json.dumps(measure(*args.worker)))
        return 0

    print(f"Scopeline injected vs runtime capture — Python {platform.python_version()} "
          f"({sys.executable})")
    print(f"Scopeline runtime backend: {backend()}; {args.reps} rounds, fresh process per "
          f"measurement; load average {os.getloadavg()[0]:.2f}")
    print("'ratio' = time per unit / untraced; '+µs/unit' = added cost per iteration / call; "
          "'stop ms' = stop_trace (excluded from 'ratio').")
    with tempfile.TemporaryDirectory(prefix="scopeline-injection-") as tmp:
        for case in CASES.values():
            rows = summarise(case, collect(case, args.reps, Path(tmp),
                                           worker=[sys.executable, __file__, "--worker"]))
            print()
            print(format_table(case, rows))
            print(verdict(rows, case.unit), flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
