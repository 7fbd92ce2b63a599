"""Measuring a calibration: paired blocks on the sample functions, with the real hooks.

Each pair times a block of calls of an untraced ``*_base`` function and a block of an identical
copy carrying one kind of capture, back to back (which goes first alternates), so load that
drifts over a round touches both. Blocks are timed in this thread's CPU time. Rounds repeat
until ``BUDGET_S`` is spent (at least ``MIN_ROUNDS``); each figure is the median of its pairs'
differences. The garbage collector is left on: records are objects it tracks, and the traced
program runs with it. Capturing pairs share one recorder, as a session's functions share its
queue, which fills to ``QUEUE_DEPTH`` records and is then drained whole (untimed), as the
flusher does, so blocks run against the queue a session really has. Every record a block
should have made is counted, and ``Calibration.checks`` shows it was.
"""

from __future__ import annotations

import os
import platform
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from itertools import repeat
from statistics import median
from time import thread_time_ns
from typing import Any

from scopeline.engine.selection.calibration import Calibration

BUDGET_S = 0.55  # measuring rounds stop after this long (once MIN_ROUNDS are done)
MIN_ROUNDS, MAX_ROUNDS = 5, 80
CALLS_PER_BLOCK = 300
LOOP_N = 100  # iterations of a sample loop: 100 hot-line events a call
LOOPS_PER_BLOCK = 2
FLOOR_NS = 1.0  # an added cost is never below this: a traced path never costs nothing
# Records left waiting between drains: what a session holds between two flushes at the
# default limits (100,000 events/s, a flush every 200 ms). Records piling up cost the hooks
# more (fresh memory, page faults, longer garbage collections) than a queue emptied after
# every block, so the queue fills to this depth and is then drained whole, as a flush does.
QUEUE_DEPTH = 20_000
# CPU time of this thread, not wall time: while the neighbours' processes hold the CPU no
# time passes, so a busy machine does not pass their work off as capture cost. A garbage
# collection a block triggers is this thread's work, and counts.
clock = thread_time_ns


def _calls(fn: Callable[..., Any], reps: int) -> Callable[[], int]:
    def block() -> int:
        t0 = clock()
        for _ in repeat(None, reps):
            fn(1, 2)
        return clock() - t0

    return block


def _loops(fn: Callable[..., Any], n: int, reps: int) -> Callable[[], int]:
    def block() -> int:
        t0 = clock()
        for _ in repeat(None, reps):
            fn(n)
        return clock() - t0

    return block


def _empty(reps: int) -> Callable[[], int]:
    def block() -> int:
        t0 = clock()
        for _ in repeat(None, reps):
            pass
        return clock() - t0

    return block


@dataclass
class _Pair:
    """One paired measurement: a baseline block and a traced block of ``per`` calls each."""

    name: str
    base: Callable[[], int]
    traced: Callable[[], int]
    per: int
    recorder: Any = None
    expected_per_block: int = 0
    diffs: list[float] = field(default_factory=list)
    captured: int = 0
    blocks: int = 0
    sample: list[Any] = field(default_factory=list)  # a few records, to weigh them

    def run_traced(self) -> int:
        """The traced block; counts the records it left (a merged call record counts once)."""
        q = self.recorder.queue if self.recorder is not None else ()
        before = len(q)
        elapsed = self.traced()
        if self.recorder is not None:
            self.captured += len(q) - before
            if not self.sample and len(q) >= before + 3:
                self.sample = [q[-1], q[-2], q[-3]]
            if len(q) > QUEUE_DEPTH:  # as the flusher does: all of it, memory freed
                self.recorder.drain()
        return elapsed


def _lifted_recorder(sampled_out: bool = False) -> Any:
    """A recorder as a session gets it, with the rate and buffer limits lifted so every block
    is captured in full (the figures are per captured event)."""
    from scopeline.engine.options import parse_options
    from scopeline.engine.planning import build_recorder

    recorder = build_recorder(parse_options(mode="runtime"))
    recorder.set_max_events_per_second(10**12)
    recorder.set_buffer_size(10**9)
    recorder.set_sampling_rate(0.0 if sampled_out else 1.0)  # 0.0: every event sampled out
    return recorder


def _options(mode: str, options: dict[str, Any]) -> Any:
    """Options as ``trace()`` settles them (the granularity follows the mode)."""
    from scopeline.engine.options import parse_options, settle_granularity

    opts = parse_options(mode=mode, **options)
    settle_granularity(opts, mode)
    return opts


class _Installed:
    """The hooks calibration put on the sample functions; ``remove`` takes every one off."""

    def __init__(self) -> None:
        from scopeline.engine.runtime.select import get_backend

        self.backend = get_backend()
        self.runtime: list[tuple[Any, Any]] = []
        self.injectors: list[Any] = []

    def runtime_hooks(self, target: Any, recorder: Any, **options: Any) -> None:
        from scopeline.engine.planning import build_units

        units, _, _ = build_units(target, _options("runtime", options))
        for unit in units:
            self.backend.add(unit, recorder)
            self.runtime.append((unit, recorder))

    def injected(self, function: Any, recorder: Any, **options: Any) -> None:
        from scopeline.engine.compile_time.backend import CompileTimeInjector
        from scopeline.engine.errors import ScopelineError
        from scopeline.engine.planning import build_units

        opts = _options("compile_time", options)
        units, _, _ = build_units(function, opts)
        injector = CompileTimeInjector()
        self.injectors.append(injector)
        fallback = injector.install(units, recorder, opts)
        if fallback:
            raise ScopelineError("compilation_failed", "calibration could not inject probes "
                                 f"into its sample code: {injector.fallbacks[0][1]}")

    def remove(self) -> None:
        for unit, recorder in reversed(self.runtime):
            self.backend.remove(unit, recorder)
        self.runtime.clear()
        for injector in self.injectors:
            injector.uninstall()
        self.injectors.clear()


def _pairs(installed: _Installed) -> list[_Pair]:
    from scopeline.engine.selection import calibration_sample as s

    def line_of(fn: Callable[..., Any], offset: int) -> str:
        code = fn.__code__
        return f"{code.co_filename}:{code.co_firstlineno + offset}"

    def hot(fn: Callable[..., Any]) -> tuple[int, ...]:
        return (fn.__code__.co_firstlineno + 4,)

    c, n, lp = CALLS_PER_BLOCK, LOOP_N, LOOPS_PER_BLOCK
    pairs = [_Pair("untraced_call", _empty(c), _calls(s.call_base, c), c)]
    # one recorder for all capturing pairs, as one session's queue holds all its records
    recorders = {False: _lifted_recorder(), True: _lifted_recorder(sampled_out=True)}

    def pair(name: str, base: Callable[[], int], traced: Callable[[], int], per: int,
             expected: int, *, sampled_out: bool = False) -> Any:
        rec = recorders[sampled_out]
        pairs.append(_Pair(name, base, traced, per, rec, expected))
        return rec

    calls = ("calls", "returns")
    rec = pair("runtime_call", _calls(s.call_base, c), _calls(s.call_runtime, c), c, c)
    installed.runtime_hooks(s.call_runtime, rec, include=calls)
    rec = pair("runtime_skipped_call", _calls(s.call_base, c),
               _calls(s.call_runtime_sampled, c), c, 0, sampled_out=True)
    installed.runtime_hooks(s.call_runtime_sampled, rec, include=calls)
    rec = pair("injected_call", _calls(s.call_base, c), _calls(s.call_injected, c), c, 2 * c)
    installed.injected(s.call_injected, rec, granularity="function")
    rec = pair("injected_skipped_call", _calls(s.call_base, c),
               _calls(s.call_injected_sampled, c), c, 0, sampled_out=True)
    installed.injected(s.call_injected_sampled, rec, granularity="function")
    rec = pair("guard", _calls(s.guard_base, c), _calls(s.guard_runtime, c), c, 0)
    installed.runtime_hooks(line_of(s.guard_runtime, 2), rec, include=("lines",))
    base = _loops(s.loop_base, n, lp)
    rec = pair("loop_first", base, _loops(s.loop_runtime_first, n, lp), lp, lp)
    installed.runtime_hooks(line_of(s.loop_runtime_first, 1), rec, include=("lines",),
                            capture_locals=("acc",))
    for k, names in ((1, ("acc",)), (3, ("acc", "i", "x"))):
        fn = getattr(s, f"loop_runtime_{k}")
        rec = pair(f"loop_runtime_{k}", base, _loops(fn, n, lp), lp, n * lp)
        installed.runtime_hooks(line_of(fn, 4), rec, include=("lines",), capture_locals=names)
        fn = getattr(s, f"loop_injected_{k}")
        rec = pair(f"loop_injected_{k}", base, _loops(fn, n, lp), lp, n * lp)
        installed.injected(fn, rec, granularity="line", trace_lines=hot(fn),
                           capture_locals=names, include=("lines",))  # no entry/exit probes
    fn = s.loop_runtime_sampled
    rec = pair("loop_runtime_sampled", base, _loops(fn, n, lp), lp, 0, sampled_out=True)
    installed.runtime_hooks(line_of(fn, 4), rec, include=("lines",), capture_locals=("acc",))
    fn = s.loop_injected_sampled
    rec = pair("loop_injected_sampled", base, _loops(fn, n, lp), lp, 0, sampled_out=True)
    installed.injected(fn, rec, granularity="line", trace_lines=hot(fn), capture_locals=("acc",),
                       include=("lines",))
    return pairs


def _run_rounds(pairs: list[_Pair]) -> int:
    for p in pairs:  # warm-up: specialisation, first-time DISABLEs, thread registration
        p.base()
        p.run_traced()
    for p in pairs:
        p.captured, p.sample = 0, []
    started = time.perf_counter()
    rounds = 0
    for r in range(MAX_ROUNDS):
        for i, p in enumerate(pairs):
            if (r + i) % 2:
                tb = p.base()
                tv = p.run_traced()
            else:
                tv = p.run_traced()
                tb = p.base()
            p.diffs.append((tv - tb) / p.per)
            p.blocks += 1
        rounds += 1
        if rounds >= MIN_ROUNDS and time.perf_counter() - started > BUDGET_S:
            break
    return rounds


# Whose records the flush is timed on: call records of both sources and line records.
FLUSHED = ("runtime_call", "injected_call", "loop_runtime_3", "loop_injected_3")


def _flush_ns_per_record(pairs: list[_Pair]) -> float:
    """What the flusher pays per record, off the traced thread but on the same interpreter:
    drain, encode (``drain.Drain``), marshal and the atomic spool write, as
    ``TraceSession.flush`` does — into a temporary folder, not the store. Timed on three more
    blocks of each pair's records."""
    import marshal
    import tempfile
    from pathlib import Path

    from scopeline.engine.drain import Drain
    from scopeline.engine.store import SPOOL_MAGIC, write_atomic

    timings = []
    with tempfile.TemporaryDirectory(prefix="scopeline-calibration-") as folder:
        spool = Path(folder) / "spool.bin"
        for p in pairs * 3:
            rec = p.recorder
            rec.drain()
            p.traced()
            t0 = clock()
            records = rec.drain()
            write_atomic(spool, SPOOL_MAGIC + marshal.dumps(Drain(rec, rec.saferepr)
                                                            .encode(records)))
            timings.append((clock() - t0) / max(1, len(records)))
    return max(FLOOR_NS, median(timings))


def _rewrite_ns_per_line() -> float:
    """One uncached libcst rewrite + compile of the sample file, per source line."""
    from scopeline.engine.instrument import PLACEHOLDER, InjectionPlan, instrument_source
    from scopeline.engine.selection import calibration_sample as s

    path = s.__file__
    with open(path, encoding="utf-8") as fh:
        source = fh.read()
    line = s.loop_injected_1.__code__.co_firstlineno + 4
    plan = InjectionPlan(functions=("loop_injected_1",), granularity="line",
                         trace_lines=(line,), capture_locals=("acc",))
    t0 = clock()
    instrument_source(source, plan, filename=path).compile(path, PLACEHOLDER)
    return (clock() - t0) / max(1, source.count("\n"))


def _bytes(record: Any) -> float:
    """A raw record's size as the buffer holds it: the tuple, its containers and their
    non-shared items (small ints and interned names are shared, so not counted)."""
    size = sys.getsizeof(record) + 8  # + the deque slot
    for item in record:
        if isinstance(item, tuple | dict):
            size += sys.getsizeof(item)
            values = item.values() if isinstance(item, dict) else item
            size += sum(sys.getsizeof(v) for v in values if not _shared(v))
        elif not _shared(item):
            size += sys.getsizeof(item)
    return float(size)


def _shared(v: Any) -> bool:
    return v is None or type(v) is bool or (type(v) is int and -5 <= v <= 256)


def measure(key: str) -> Calibration:
    started = time.perf_counter()
    installed = _Installed()
    pairs: dict[str, _Pair] = {}
    try:
        pairs.update((p.name, p) for p in _pairs(installed))
        # The collector stays on: records are objects it tracks, and the program it will
        # trace runs with it on, so its extra work is part of what capture costs.
        rounds = _run_rounds(list(pairs.values()))
        flush = _flush_ns_per_record([pairs[name] for name in FLUSHED])
    finally:
        installed.remove()
        for p in pairs.values():
            if p.recorder is not None:
                p.recorder.drain()  # let the records go now, not with the recorders
    rewrite = _rewrite_ns_per_line()
    fig = {name: median(p.diffs) for name, p in pairs.items()}
    figures, clamped = derive(fig)
    sample = {name: p.sample for name, p in pairs.items()}
    line1 = median(_bytes(r) for r in sample["loop_runtime_1"])
    line3 = median(_bytes(r) for r in sample["loop_runtime_3"])
    calibration = Calibration(
        key=key, python=f"{platform.python_implementation()} {platform.python_version()}",
        backend=installed.backend.name,
        machine=f"{platform.node()} ({platform.machine()}, {os.cpu_count()} CPUs)",
        measured_at=time.time(), duration_ms=0.0, rounds=rounds, **figures,
        rewrite_ns_per_source_line=max(FLOOR_NS, rewrite), flush_record_ns=flush,
        call_record_bytes=median(_bytes(r) for r in sample["runtime_call"]),
        line_record_bytes=line1, local_bytes=max(0.0, (line3 - line1) / 2),
        checks={name: [p.captured, p.expected_per_block * p.blocks]
                for name, p in pairs.items() if p.recorder is not None},
        clamped=clamped)
    calibration.duration_ms = (time.perf_counter() - started) * 1000
    return calibration


def derive(fig: dict[str, float]) -> tuple[dict[str, float], list[str]]:
    """The per-event figures from the pairs' medians (ns added per call of each block).

    Runtime line capture, per call of a sample loop of n iterations (3n + 4 lines run a call),
    with u an unwanted line, L1 a captured line with one local, Ls a sampled-out line:
        guard = setup + 2u            first = setup + L1 + (3n + 3)u
        one = setup + n L1 + (2n + 4)u        sampled = setup + n Ls + (2n + 4)u
    Where noise would break what must hold (a capture costs something; a skipped event no
    more than a captured one; more locals no less), the figure is held at that bound and
    named in ``clamped``.
    """
    n = LOOP_N
    clamped: list[str] = []

    def bound(name: str, value: float, low: float = FLOOR_NS,
              high: float = float("inf")) -> float:
        if not low <= value <= high:
            clamped.append(name)
        return min(max(value, low), max(low, high))

    d = (fig["loop_runtime_1"] - fig["loop_first"]) / (n - 1)  # L1 - u
    u = bound("runtime_unwanted_line_ns",
              (fig["loop_first"] - fig["guard"] - d) / (3 * n + 2), 0.0)
    setup = bound("runtime_line_setup_ns", fig["guard"] - 2 * u, 0.0)
    line = bound("runtime_line_ns", d + u, u + FLOOR_NS)
    call = bound("runtime_call_ns", fig["runtime_call"])
    injected_call = bound("injected_call_ns", fig["injected_call"])
    injected_line = bound("injected_line_ns", fig["loop_injected_1"] / n)
    return {
        "untraced_call_ns": bound("untraced_call_ns", fig["untraced_call"]),
        "runtime_call_ns": call,
        "runtime_skipped_call_ns": bound("runtime_skipped_call_ns",
                                         fig["runtime_skipped_call"], high=call),
        "runtime_line_ns": line,
        "runtime_skipped_line_ns": bound(
            "runtime_skipped_line_ns",
            (fig["loop_runtime_sampled"] - setup - (2 * n + 4) * u) / n, u, line),
        "runtime_local_ns": bound("runtime_local_ns",
                                  (fig["loop_runtime_3"] - fig["loop_runtime_1"]) / (2 * n), 0.0),
        "runtime_unwanted_line_ns": u,
        "runtime_line_setup_ns": setup,
        "injected_call_ns": injected_call,
        "injected_skipped_call_ns": bound("injected_skipped_call_ns",
                                          fig["injected_skipped_call"], high=injected_call),
        "injected_line_ns": injected_line,
        "injected_skipped_line_ns": bound("injected_skipped_line_ns",
                                          fig["loop_injected_sampled"] / n, high=injected_line),
        "injected_local_ns": bound("injected_local_ns", (fig["loop_injected_3"]
                                                         - fig["loop_injected_1"]) / (2 * n), 0.0),
    }, clamped
