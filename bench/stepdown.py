"""A hybrid session under an event flood steps down until its cost fits the budget.

``python bench/stepdown.py [--seconds S] [--budget PERCENT]``

One process, one hot function (``crunch``: a 200-iteration loop) called back to back in
chunks, alternating with chunks of its untraced twin (same code, another function), so each
traced chunk has an untraced one beside it: their ratio is the measured overhead, immune to
the machine getting busier or quieter. A hybrid session at line granularity (every line's
locals) starts with ``auto_escalate`` and runs for ``--seconds``.
The flusher's governor estimates the overhead once a second from the events captured and the
costs calibrated on this machine, and steps down (hybrid → runtime → sampled) while the
estimate is over ``hybrid.mode_switching.overhead_budget_percent``. The table prints the
measured ratio per mode phase, before and after, next to the budget; then untraced chunks
are measured again to show the baseline did not drift.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

SOURCE = '''
def crunch(n):
    acc = 0
    for i in range(n):
        if i % 3:
            acc += i * i
        else:
            acc -= i
    return acc


def twin(n):
    acc = 0
    for i in range(n):
        if i % 3:
            acc += i * i
        else:
            acc -= i
    return acc
'''
CHUNK = 200


def chunk_ns(crunch: object) -> float:
    t0 = time.perf_counter_ns()
    for _ in range(CHUNK):
        crunch(200)  # type: ignore[operator]
    return (time.perf_counter_ns() - t0) / CHUNK


def baseline(crunch: object, seconds: float) -> float:
    samples = []
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        samples.append(chunk_ns(crunch))
    return statistics.median(samples)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=8.0)
    parser.add_argument("--budget", type=int, default=None,
                        help="overhead_budget_percent (default: the configured one)")
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="scopeline-stepdown-"))
    (folder / "flood.py").write_text(SOURCE)
    sys.path.insert(0, str(folder))
    import flood  # noqa: PLC0415
    import scopeline
    from scopeline.engine import config
    from scopeline.engine.selection.costmodel import calibrate

    if args.budget is not None:
        config.update_config("hybrid.mode_switching.overhead_budget_percent", args.budget)
    budget = config.get_with_fallback("hybrid.mode_switching.overhead_budget_percent", 25)
    calibrate()  # measured before the clock starts (cached afterwards)
    base = baseline(flood.crunch, 2.0)
    phases: dict[str, list[float]] = {}
    order: list[str] = []
    with scopeline.trace("flood:crunch", mode="hybrid", granularity="line") as session:
        end = time.monotonic() + args.seconds
        while time.monotonic() < end:
            phase = session.mode if session.recorder.rate >= 1.0 else \
                f"{session.mode} sampled {session.recorder.rate:g}"
            if phase not in phases:
                phases[phase] = []
                order.append(phase)
            phases[phase].append(chunk_ns(flood.crunch) / chunk_ns(flood.twin))
    after_base = baseline(flood.crunch, 1.0)
    print(f"Python {sys.version.split()[0]}  untraced crunch(200): {base / 1000:.1f} µs/call "
          f"(again after: {after_base / 1000:.1f})  budget: {budget}% "
          f"(ratio ≤ {1 + budget / 100:.2f})")
    print(f"{'phase':32} {'chunks':>6} {'measured ratio (median)':>24} {'under budget':>13}")
    for phase in order:
        ratios = phases[phase]
        ratio = statistics.median(ratios)
        # the first chunk of a phase straddles the switch: the median of the rest
        steady = statistics.median(ratios[1:]) if len(ratios) > 2 else ratio
        print(f"{phase:32} {len(ratios):>6} {steady:>24.2f} "
              f"{'yes' if steady <= 1 + budget / 100 else 'no':>13}")
    print("session log:")
    for line in session.recorder.log:
        print("  " + line)
    final = statistics.median(phases[order[-1]][1:] or phases[order[-1]])
    return 0 if final <= 1 + budget / 100 else 1


if __name__ == "__main__":
    raise SystemExit(main())
