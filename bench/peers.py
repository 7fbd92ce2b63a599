"""How each tracer is switched on and off. Every starter returns a ``Stop`` callable.

A ``Stop`` tears the tracer down (this is timed separately from the traced region) and reports
how much it captured, so a cheap-looking tracer that silently dropped events is visible.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable
from dataclasses import dataclass
from time import perf_counter_ns
from types import CodeType
from typing import Any, TypeVar

F = TypeVar("F", bound=Callable[..., Any])


@dataclass
class Outcome:
    captured: int | None  # in the case's unit (calls, line hits); None when not countable
    detail: str = ""


Stop = Callable[[], Outcome]

# Scopeline's safety limits, lifted for the "full capture" variant: the defaults
# (100k events/s, 64k buffer, CPU self-throttling) make it drop events on case (b) and (c),
# which would make it look cheaper than peers that record everything.
FULL_CAPTURE: dict[str, int] = {
    "runtime.safety_limits.max_events_per_second": 1_000_000_000,
    "runtime.tracing.buffer_size": 10_000_000,
    "runtime.safety_limits.memory_limit_mb": 8_192,
    "runtime.safety_limits.cpu_threshold_percent": 100,
}


# -- Scopeline ---------------------------------------------------------------------------------
def start_scopeline(target: Any, *, full_capture: bool, count: tuple[str, ...],
                    **options: Any) -> Stop:
    import scopeline

    if full_capture:
        for path, value in FULL_CAPTURE.items():
            scopeline.update_config(path, value)
    session = scopeline.trace(target, **options)

    def stop() -> Outcome:
        scopeline.stop_trace(session)  # uninstall + final flush to the store
        stats = session.stats()
        captured = stats["captured"]
        # A call is captured when both its entry and exit are; a line hit is one event.
        got = min((captured.get(kind, 0) for kind in count), default=0)
        skipped = {**stats["skipped_calls"], **{f"line:{k}": v
                                                 for k, v in stats["skipped_lines"].items()}}
        detail = f"skipped {skipped}" if skipped else ""
        if stats["effective_sampling_rate"] < 1.0:
            detail += f" sampling rate fell to {stats['effective_sampling_rate']:.6g}"
        return Outcome(got, detail.strip())

    return stop


# -- references ------------------------------------------------------------------------------
def plain_wrapper(fn: Callable[..., Any]) -> tuple[Callable[..., Any], Stop]:
    """The least a Python-level tracer can do: args, return value, duration, one list append."""
    records: list[tuple[Any, ...]] = []
    append = records.append

    def wrapper(*args: Any) -> Any:
        t0 = perf_counter_ns()
        result = fn(*args)
        append((args, result, perf_counter_ns() - t0))
        return result

    return wrapper, lambda: Outcome(len(records))


def start_monitoring(code: CodeType, *, with_args: bool = True) -> Stop:
    """A bare sys.monitoring tool (3.12+): PY_START/PY_RETURN switched on for one code object.

    ``with_args=False`` skips reading the arguments, to show what frame.f_locals alone costs.
    """
    mon = sys.monitoring  # type: ignore[attr-defined]
    events = mon.events
    tool = next(t for t in (3, 2, 4) if mon.get_tool(t) is None)
    mon.use_tool_id(tool, "bench-reference")
    records: list[tuple[Any, ...]] = []
    append, getframe = records.append, sys._getframe

    def on_start(code: CodeType, offset: int) -> None:
        append((getframe(1).f_locals, perf_counter_ns()))  # frame 1 is the traced function

    def on_start_no_args(code: CodeType, offset: int) -> None:
        append((None, perf_counter_ns()))

    def on_return(code: CodeType, offset: int, retval: Any) -> None:
        append((retval, perf_counter_ns()))

    mon.register_callback(tool, events.PY_START, on_start if with_args else on_start_no_args)
    mon.register_callback(tool, events.PY_RETURN, on_return)
    mon.set_local_events(tool, code, events.PY_START | events.PY_RETURN)

    def stop() -> Outcome:
        mon.set_local_events(tool, code, 0)
        mon.register_callback(tool, events.PY_START, None)
        mon.register_callback(tool, events.PY_RETURN, None)
        mon.free_tool_id(tool)
        return Outcome(len(records) // 2)

    return stop


# -- peers -----------------------------------------------------------------------------------
def start_hunter(capture: str, **query: Any) -> Stop:
    """hunter with a query filter and an action that records what Scopeline records.

    ``capture``: "call" (arguments on call, value on return) or "locals:a,b" (named locals).
    A recording action rather than a printer keeps the comparison about capture, not formatting.
    """
    import hunter

    records: list[tuple[Any, ...]] = []
    append = records.append
    if capture == "call":
        def action(event: Any) -> None:
            if event.kind == "call":
                append((dict(event.locals), perf_counter_ns()))
            else:
                append((event.arg, perf_counter_ns()))
        per_unit = 2
    else:
        names = tuple(capture.removeprefix("locals:").split(","))

        def action(event: Any) -> None:
            f_locals = event.locals
            append(tuple(f_locals.get(name) for name in names))
        per_unit = 1
    tracer = hunter.trace(action=action, **query)

    def stop() -> Outcome:
        tracer.stop()
        return Outcome(len(records) // per_unit)

    return stop


def start_viztracer(include_file: str, count_name: str | None) -> Stop:
    """viztracer restricted to one file, logging arguments and return values."""
    from viztracer import VizTracer

    tracer = VizTracer(include_files=[include_file], log_func_args=True, log_func_retval=True,
                       verbose=0, register_global=False)
    tracer.start()

    def stop() -> Outcome:
        tracer.stop()
        if count_name is None:
            return Outcome(None)
        tracer.parse()  # builds the event list in memory; the trace file itself is not written
        events = tracer.data["traceEvents"]
        return Outcome(sum(1 for e in events if e.get("name", "").startswith(count_name)),
                       "save() not run")

    return stop


class CountingSink:
    """An os.devnull stream that counts the lines written (to show the tracer did trace)."""

    def __init__(self) -> None:
        self.file = open(os.devnull, "w")  # noqa: SIM115 - lives as long as the worker
        self.lines = 0

    def write(self, text: str) -> int:
        self.lines += text.count("\n")
        return self.file.write(text)

    def flush(self) -> None:
        self.file.flush()


def snoop_decorate(fn: F) -> tuple[F, Stop]:
    import snoop

    sink = CountingSink()
    decorated = snoop.Config(out=sink, color=False).snoop(fn)
    return decorated, lambda: Outcome(None, f"{sink.lines} output lines")


def pysnooper_decorate(fn: F) -> tuple[F, Stop]:
    import pysnooper

    sink = CountingSink()
    decorated = pysnooper.snoop(output=sink, color=False)(fn)
    return decorated, lambda: Outcome(None, f"{sink.lines} output lines")
