"""Hook bodies shared by both backends: turn one traced event into one raw record."""

from __future__ import annotations

import threading
from collections.abc import Callable
from time import perf_counter_ns
from typing import Any

from scopeline.engine.runtime.recorder import (
    ENTRY, EXCEPTION, EXIT, LINE, RAISE, Recorder, Rendered,
)
from scopeline.engine.runtime.units import Unit

_SCALARS = frozenset({int, float, complex, bool, type(None), str, bytes, range})
get_ident = threading.get_ident


def render_exception(rec: Recorder, exc: BaseException) -> Rendered:
    message = str_or_placeholder(exc)
    limit = rec.limits_repr_length
    if len(message) > limit:
        message = message[: limit - 3] + "..."
    return Rendered(f"{type(exc).__qualname__}: {message}")


def str_or_placeholder(exc: BaseException) -> str:
    try:
        return str(exc)
    except BaseException:  # a broken __str__ must not escape into the user's program
        return "<str() failed>"


def call_recorders(unit: Unit, rec: Recorder) -> tuple[
        Callable[[tuple[Any, ...]], int | None], Callable[[int, Any], None],
        Callable[[int, BaseException], None]]:
    """enter(values) -> token or None; leave(token, value); fail(token, exc)."""
    uid = unit.uid
    append = rec.queue.append
    admit = rec.admit
    capture = rec.capture
    skipped = rec.skipped
    render = rec.saferepr
    clock = perf_counter_ns

    def enter(values: tuple[Any, ...]) -> int | None:
        t = clock()
        tid = get_ident()
        why = admit(t, tid)
        if why is not None:
            skipped[why].inc()
            return None
        append((ENTRY, uid, tid, t, capture(values)))
        return t

    def leave(t0: int, value: Any) -> None:
        append((EXIT, uid, get_ident(), clock(),
                value if type(value) in _SCALARS else Rendered(render(value)), t0))

    def fail(t0: int, exc: BaseException) -> None:
        append((EXCEPTION, uid, get_ident(), clock(), render_exception(rec, exc), t0))

    return enter, leave, fail


def line_recorder(unit: Unit, rec: Recorder) -> Callable[[int, dict[str, Any]], None]:
    uid = unit.uid
    append = rec.queue.append
    admit = rec.admit
    names = unit.capture_locals
    capture_mapping = rec.capture_mapping
    skipped = rec.skipped_lines

    def on_line(line: int, f_locals: dict[str, Any]) -> None:
        t = perf_counter_ns()
        tid = get_ident()
        why = admit(t, tid)
        if why is not None:
            skipped[why].inc()
            return
        append((LINE, uid, tid, t, line, capture_mapping(names, f_locals)))

    return on_line


def raise_recorder(unit: Unit, rec: Recorder) -> Callable[[int, BaseException], None]:
    uid = unit.uid
    append = rec.queue.append

    def on_raise(line: int, exc: BaseException) -> None:
        append((RAISE, uid, get_ident(), perf_counter_ns(), render_exception(rec, exc), line))

    return on_raise
