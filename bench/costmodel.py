"""The cost model, checked: ``python bench/costmodel.py [--reps N] [--json FILE]``.

Prints this interpreter's calibration (measured now, ``calibrate(force=True)``), then for a few
real workloads the overhead the model predicts next to the overhead measured with real
sessions (``scopeline.trace``):

(a) hot(a, b) called 20,000 times, function granularity;
(b) a line tracepoint capturing acc, i in workloads.loop (n=20,000);
(c) workloads.loop (n=5,000) at line granularity, capturing acc, i at every line.

Each in runtime, compile_time and (when this build has it) hybrid mode. Measured: untraced run
and traced run back to back (the session started before and flushed inside the timed region,
so the flusher's work counts, as the model counts it), order alternating, median of --reps
pairs, in the process's CPU time (the calibration's unit: on a busy machine wall time also
holds the neighbours' turns), with the wall-clock figure beside it. Safety limits are lifted
so every event is captured (the 'captured' column shows it).

Predicted: ``estimate_performance_impact`` with the workload's profile from
``analyze_target_complexity``, given the measured call rate and the line counts the workload
is known to run, so the check is of the calibrated figures, not of the static guesses.
"""

from __future__ import annotations

import argparse
import gc
import json
import statistics
import sys
import time
import types
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

BENCH = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH))

import scopeline  # noqa: E402
import workloads  # noqa: E402
from peers import FULL_CAPTURE  # noqa: E402
from scopeline.engine.errors import ScopelineError  # noqa: E402
from scopeline.engine.selection import costmodel  # noqa: E402
from scopeline.engine.selection.analysis import analyze_target_complexity  # noqa: E402

N_CALLS = 20_000
N_POINT = 20_000
N_LINES = 5_000


@dataclass
class Workload:
    key: str
    title: str
    run: Callable[[], Any]
    calls: int  # calls of the traced function per run
    target: Callable[[str], Any]  # mode -> the target trace() gets
    options: Callable[[str], dict[str, Any]]  # mode -> trace options
    profile: Callable[[float], Any]  # untraced seconds per run -> the profile to price
    count: str  # the event type whose count shows capture was complete
    expected: int


def profile_of(fn: Callable[..., Any], **extra: Any) -> Any:
    found = analyze_target_complexity(fn).functions
    base = next(p for p in found if p.qualname == fn.__qualname__).to_dict()
    return types.SimpleNamespace(**{**base, **extra})


def _workloads() -> list[Workload]:
    line = workloads.tracepoint_line()
    point_target = f"{workloads.__file__}:{line}"
    locals_ = ("acc", "i")
    return [
        Workload("a", f"(a) hot(a, b) x {N_CALLS:,}, function granularity",
                 lambda: workloads.call_loop(workloads.hot, N_CALLS), N_CALLS,
                 lambda mode: workloads.hot, lambda mode: {"granularity": "function"},
                 lambda s: profile_of(workloads.hot, calls_per_second=N_CALLS / s),
                 "function_entry", N_CALLS),
        Workload("b", f"(b) line tracepoint capturing acc, i in loop(n={N_POINT:,})",
                 lambda: workloads.loop(N_POINT), 1,
                 lambda mode: point_target if mode == "runtime" else workloads.loop,
                 lambda mode: {"capture_locals": locals_} if mode == "runtime" else {
                     "granularity": "line", "trace_lines": (line,),
                     "capture_locals": locals_},
                 lambda s: profile_of(workloads.loop, calls_per_second=1 / s,
                                      lines_per_call=2 * N_POINT + 3,
                                      hits_per_line={line: N_POINT}),
                 "line_execution", N_POINT),
        Workload("c", f"(c) loop(n={N_LINES:,}) at line granularity, acc, i at every line",
                 lambda: workloads.loop(N_LINES), 1, lambda mode: workloads.loop,
                 lambda mode: {"granularity": "line", "capture_locals": locals_},
                 lambda s: profile_of(workloads.loop, calls_per_second=1 / s,
                                      lines_per_call=2 * N_LINES + 3,
                                      statements_per_call=N_LINES + 3),
                 "line_execution", 0),
    ]


def _timed(fn: Callable[[], Any]) -> tuple[float, float]:
    """(wall seconds, CPU seconds of the whole process: the flusher thread's work counts)."""
    gc.collect()
    c0, t0 = time.process_time(), time.perf_counter()
    fn()
    return time.perf_counter() - t0, time.process_time() - c0


def measure(w: Workload, mode: str, reps: int) -> dict[str, Any]:
    """Median added seconds per run over ``reps`` back-to-back pairs, and what was captured."""
    wall, cpu, base, captured = [], [], [], 0
    w.run()  # warm-up
    for r in range(reps):
        untraced = (0.0, 0.0)
        if r % 2:
            untraced = _timed(w.run)
        session = scopeline.trace(w.target(mode), mode=mode, **w.options(mode))
        try:
            # the flusher's work on this run's records counts: flushed inside the region
            traced = _timed(lambda s=session: (w.run(), s.flush()))
        finally:
            scopeline.stop_trace(session)
        if not r % 2:
            untraced = _timed(w.run)
        captured = session.stats()["captured"].get(w.count, 0)
        wall.append(traced[0] - untraced[0])
        cpu.append(traced[1] - untraced[1])
        base.append(untraced[1])
    return {"added_wall_s": statistics.median(wall), "added_s": statistics.median(cpu),
            "untraced_s": statistics.median(base), "captured": captured}


def check(w: Workload, mode: str, reps: int, cal: Any) -> dict[str, Any]:
    try:
        got = measure(w, mode, reps)
    except ScopelineError as exc:
        return {"workload": w.key, "mode": mode, "error": exc.one_line()}
    est = costmodel.estimate_performance_impact(
        w.target(mode), mode, w.options(mode), profile=w.profile(got["untraced_s"]),
        calibration=cal)
    predicted_s = est["added_us_per_call"] * w.calls / 1e6
    return {"workload": w.key, "mode": mode, "untraced_ms": got["untraced_s"] * 1000,
            "measured_added_ms": got["added_s"] * 1000, "predicted_added_ms": predicted_s * 1000,
            "measured_added_wall_ms": got["added_wall_s"] * 1000,
            "measured_pct": 100 * got["added_s"] / got["untraced_s"],
            "predicted_pct": est["cpu_overhead_percent"],
            "ratio": predicted_s / got["added_s"] if got["added_s"] > 0 else float("nan"),
            "captured": got["captured"], "basis": est["basis"]}


FIGURES = [("untraced_call_ns", "untraced call"), ("runtime_call_ns", "runtime call hooks"),
           ("runtime_skipped_call_ns", "runtime call, sampled out"),
           ("runtime_line_ns", "runtime line event, 1 local"),
           ("runtime_local_ns", "  + each further local"),
           ("runtime_skipped_line_ns", "runtime line event, sampled out"),
           ("runtime_unwanted_line_ns", "line run, not asked for"),
           ("runtime_line_setup_ns", "line capture switched on, per call"),
           ("injected_call_ns", "injected entry/exit probes"),
           ("injected_skipped_call_ns", "injected call probe, sampled out"),
           ("injected_line_ns", "injected line probe, 1 local"),
           ("injected_local_ns", "  + each further local"),
           ("injected_skipped_line_ns", "injected line probe, sampled out"),
           ("hybrid_call_ns", "hybrid call (runtime + injected)"),
           ("flush_record_ns", "flusher, per record"),
           ("rewrite_ns_per_source_line", "rewrite + compile, per source line")]


def print_calibration(cal: Any) -> None:
    print(f"calibration {cal.where()}, {cal.machine}: {cal.rounds} rounds, "
          f"{cal.duration_ms:.0f} ms, complete={cal.complete}"
          + (f", clamped {cal.clamped}" if cal.clamped else ""))
    for name, label in FIGURES:
        print(f"  {label:40s} {getattr(cal, name) / 1000:10.3f} µs")
    print(f"  {'record bytes: call / line / local':40s} {cal.call_record_bytes:.0f} / "
          f"{cal.line_record_bytes:.0f} / {cal.local_bytes:.0f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reps", type=int, default=5)
    parser.add_argument("--json", type=Path)
    parser.add_argument("--modes", default="runtime,compile_time,hybrid")
    args = parser.parse_args()
    cal = costmodel.calibrate(force=True)
    print_calibration(cal)
    for path, value in FULL_CAPTURE.items():
        scopeline.update_config(path, value)
    rows = []
    print(f"\n{'case':4s} {'mode':13s} {'untraced ms':>11s} {'measured +ms':>13s} "
          f"{'predicted +ms':>13s} {'pred/meas':>9s} {'meas %':>8s} {'pred %':>8s} "
          f"{'wall +ms':>9s} captured")
    for w in _workloads():
        for mode in args.modes.split(","):
            row = check(w, mode, args.reps, cal)
            rows.append(row)
            if "error" in row:
                print(f"{w.key:4s} {mode:13s} not measured: {row['error']}")
                continue
            print(f"{w.key:4s} {mode:13s} {row['untraced_ms']:11.2f} "
                  f"{row['measured_added_ms']:13.2f} {row['predicted_added_ms']:13.2f} "
                  f"{row['ratio']:9.2f} {row['measured_pct']:8.0f} {row['predicted_pct']:8.0f} "
                  f"{row['measured_added_wall_ms']:9.2f} {row['captured']:,}")
    print("\n" + "\n".join(f"{w.title}" for w in _workloads()))
    print("Times are CPU time of the process (the flusher thread included), the model's unit; "
          "'wall +ms' is the same added time by the wall clock, which a busy machine inflates.")
    if args.json:
        args.json.write_text(json.dumps({"calibration": cal.to_dict(), "rows": rows}, indent=1))


if __name__ == "__main__":
    main()
