"""The three cases and their variants: what runs in the timed region, and how it is traced."""

from __future__ import annotations

import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import partial

import other_target
import peers
import workloads
from peers import Outcome, Stop

HAS_MONITORING = sys.version_info >= (3, 12) and hasattr(sys, "monitoring")


@dataclass
class Armed:
    run: Callable[[], object]  # the timed region
    stop: Stop  # teardown, timed separately


def _nothing() -> Outcome:
    return Outcome(None)


@dataclass(frozen=True)
class Variant:
    key: str
    label: str
    group: str  # "baseline" | "reference" | "peer" | "scopeline"
    size: int  # workload rounds / calls / iterations this variant runs (small for slow peers)
    arm: Callable[[int], Armed] | None  # None: not available here (the reason is in ``note``)
    note: str = ""


@dataclass(frozen=True)
class Case:
    key: str
    title: str
    unit: str  # what "per unit" means in the table
    warm_up: Callable[[], object]
    variants: list[Variant] = field(default_factory=list)
    unit_size: int = 1  # sizes per reported unit (case (a): rounds per full workload run)

    def variant(self, key: str) -> Variant:
        return next(v for v in self.variants if v.key == key)


# -- (a) untraced code while another function is traced -----------------------------------------
# Timed regions are functools.partial objects, not lambdas: a lambda here would be a frame in a
# file viztracer does not include, and viztracer drops the whole subtree below such a frame.
def _a_run(rounds: int) -> Callable[[], object]:
    return partial(workloads.mixed_workload, rounds)


def _a_scopeline(size: int) -> Armed:
    return Armed(_a_run(size), peers.start_scopeline(
        other_target.other, full_capture=False, count=("function_entry", "function_exit")))


def _a_hunter(size: int) -> Armed:
    return Armed(_a_run(size), peers.start_hunter("call", function="other"))


def _a_viztracer(size: int) -> Armed:
    return Armed(_a_run(size), peers.start_viztracer(other_target.__file__, "other"))


def _a_decorator(decorate: Callable[..., tuple[Callable[..., object], Stop]]
                 ) -> Callable[[int], Armed]:
    def arm(size: int) -> Armed:
        # The decorated function is never called: these tracers only hook while it runs.
        _, stop = decorate(other_target.other)
        return Armed(_a_run(size), stop)
    return arm


ROUNDS = 230  # one full workload run, ~0.3 s untraced
CASE_A = Case(
    "a", "(a) untraced code while another function is traced", "run",
    warm_up=partial(workloads.mixed_workload, 5), unit_size=ROUNDS,
    variants=[
        Variant("baseline", "untraced", "baseline", ROUNDS, lambda s: Armed(_a_run(s), _nothing)),
        Variant("scopeline", "scopeline.trace(other)", "scopeline", ROUNDS, _a_scopeline),
        Variant("hunter", "hunter.trace(function='other')", "peer", 10, _a_hunter),
        Variant("viztracer", "viztracer include_files=[other_target.py]", "peer", ROUNDS,
                _a_viztracer),
        Variant("snoop", "@snoop on other", "peer", ROUNDS, _a_decorator(peers.snoop_decorate)),
        Variant("pysnooper", "@pysnooper.snoop on other", "peer", ROUNDS,
                _a_decorator(peers.pysnooper_decorate)),
    ])


# -- (b) one hot function traced with arguments and return -----------------------------------
def _b_calls(fn: Callable[[int, int], int], n: int) -> Callable[[], object]:
    return partial(workloads.call_loop, fn, n)


def _b_scopeline(full_capture: bool) -> Callable[[int], Armed]:
    def arm(n: int) -> Armed:
        stop = peers.start_scopeline(workloads.hot, full_capture=full_capture,
                                     count=("function_entry", "function_exit"))
        return Armed(_b_calls(workloads.hot, n), stop)
    return arm


def _b_wrapped(wrap: Callable[..., tuple[Callable[..., object], Stop]]
               ) -> Callable[[int], Armed]:
    def arm(n: int) -> Armed:
        fn, stop = wrap(workloads.hot)
        return Armed(_b_calls(fn, n), stop)
    return arm


def _b_monitoring(with_args: bool) -> Callable[[int], Armed]:
    def arm(n: int) -> Armed:
        stop = peers.start_monitoring(workloads.hot.__code__, with_args=with_args)
        return Armed(_b_calls(workloads.hot, n), stop)
    return arm


def _b_hunter(n: int) -> Armed:
    stop = peers.start_hunter("call", function="hot", kind_in=("call", "return"))
    return Armed(_b_calls(workloads.hot, n), stop)


def _b_viztracer(n: int) -> Armed:
    return Armed(_b_calls(workloads.hot, n), peers.start_viztracer(workloads.__file__, "hot"))


N_HOT = 200_000
CASE_B = Case(
    "b", "(b) one hot function traced with arguments and return: hot(a, b) -> a + b", "call",
    warm_up=partial(workloads.call_loop, workloads.hot, 2_000),
    variants=[
        Variant("baseline", "untraced", "baseline", N_HOT,
                lambda n: Armed(_b_calls(workloads.hot, n), _nothing)),
        Variant("wrapper", "plain Python wrapper (args, return, duration)", "reference", N_HOT,
                _b_wrapped(peers.plain_wrapper)),
        Variant("monitoring", "bare sys.monitoring PY_START/PY_RETURN on hot", "reference",
                N_HOT, _b_monitoring(True) if HAS_MONITORING else None,
                "" if HAS_MONITORING else "needs Python 3.12"),
        Variant("monitoring-noargs", "  same, without reading f_locals (args not captured)",
                "reference", N_HOT, _b_monitoring(False) if HAS_MONITORING else None,
                "" if HAS_MONITORING else "needs Python 3.12"),
        Variant("scopeline", "scopeline.trace(hot), default limits", "scopeline", N_HOT,
                _b_scopeline(False)),
        Variant("scopeline-full", "scopeline.trace(hot), limits lifted", "scopeline", N_HOT,
                _b_scopeline(True)),
        Variant("hunter", "hunter function='hot' + recording action", "peer", 20_000,
                _b_hunter),
        Variant("viztracer", "viztracer args+retval, include workloads.py", "peer", N_HOT,
                _b_viztracer),
        Variant("snoop", "@snoop(hot) -> devnull", "peer", 2_000, _b_wrapped(peers.snoop_decorate)),
        Variant("pysnooper", "@pysnooper.snoop(hot) -> devnull", "peer", 2_000,
                _b_wrapped(peers.pysnooper_decorate)),
    ])


# -- (c) a line tracepoint with locals in a loop ---------------------------------------------
def _c_scopeline(full_capture: bool) -> Callable[[int], Armed]:
    def arm(n: int) -> Armed:
        target = f"{workloads.__file__}:{workloads.tracepoint_line()}"
        stop = peers.start_scopeline(target, full_capture=full_capture, count=("line_execution",),
                                     capture_locals=("acc", "i"))
        return Armed(partial(workloads.loop, n), stop)
    return arm


def _c_hunter(n: int) -> Armed:
    stop = peers.start_hunter("locals:acc,i", function="loop", kind="line",
                              lineno=workloads.tracepoint_line())
    return Armed(partial(workloads.loop, n), stop)


def _c_decorated(decorate: Callable[..., tuple[Callable[[int], int], Stop]]
                 ) -> Callable[[int], Armed]:
    def arm(n: int) -> Armed:
        fn, stop = decorate(workloads.loop)
        return Armed(partial(fn, n), stop)
    return arm


N_LOOP = 100_000
CASE_C = Case(
    "c", "(c) a line tracepoint capturing locals acc, i inside a loop", "iter",
    warm_up=partial(workloads.loop, 2_000),
    variants=[
        Variant("baseline", "untraced", "baseline", N_LOOP,
                lambda n: Armed(partial(workloads.loop, n), _nothing)),
        Variant("scopeline", "scopeline.trace('workloads.py:LINE'), default limits", "scopeline",
                N_LOOP, _c_scopeline(False)),
        Variant("scopeline-full", "scopeline.trace('workloads.py:LINE'), limits lifted",
                "scopeline", N_LOOP, _c_scopeline(True)),
        Variant("hunter", "hunter function='loop', kind='line', lineno=LINE", "peer", N_LOOP,
                _c_hunter),
        Variant("snoop", "@snoop(loop): every line, locals", "peer", 1_000,
                _c_decorated(peers.snoop_decorate)),
        Variant("pysnooper", "@pysnooper.snoop(loop): every line, locals", "peer", 1_000,
                _c_decorated(peers.pysnooper_decorate)),
        Variant("viztracer", "viztracer", "peer", N_LOOP, None, "n/a: no line tracepoints"),
    ])

CASES: dict[str, Case] = {c.key: c for c in (CASE_A, CASE_B, CASE_C)}
