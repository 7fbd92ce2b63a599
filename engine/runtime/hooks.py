"""Hook bodies shared by both backends: turn one traced event into one raw record.

``enter`` decides whether a call is recorded at all (limits, sampling) and returns the start
time as its token, or None; ``leave``/``fail`` record the end of a call whose entry was
recorded, so entries and exits always come in pairs and a skipped call counts once per kind.
"""

from __future__ import annotations

import random
import threading
from collections.abc import Callable
from time import perf_counter_ns
from typing import Any

from scopeline.engine.runtime.recorder import (
    ENTRY,
    EXCEPTION,
    EXIT,
    LINE,
    RAISE,
    SCALARS,
    Recorder,
    Rendered,
)
from scopeline.engine.runtime.units import Unit

get_ident = threading.get_ident
Enter = Callable[[tuple[Any, ...]], int | None]
Leave = Callable[[int, Any], None]
Fail = Callable[[int, BaseException], None]


def render_exception(rec: Recorder, exc: BaseException) -> Rendered:
    try:
        message = str(exc)
    except BaseException:  # a broken __str__ must not escape into the user's program
        message = "<str() failed>"
    limit = rec.limits_repr_length
    if len(message) > limit:
        message = message[: limit - 3] + "..."
    return Rendered(f"{type(exc).__qualname__}: {message}")


def make_gate(rec: Recorder, counters: dict[str, Any]) -> Callable[[], int | None]:
    """The admission check both kinds of hook share: returns the thread id, or None (counted)."""
    names = rec.thread_names
    register = rec.register_thread
    q = rec.queue
    nxt = rec.seq_next
    rnd = random.random

    def gate() -> int | None:
        if not rec.on:
            counters[rec.off_reason].inc()
            return None
        tid = get_ident()
        if tid not in names and not register(tid):
            counters["thread_limit"].inc()
            return None
        if rec.rate < 1.0 and rnd() >= rec.rate:
            counters["sampling"].inc()
            return None
        if nxt() >= rec.limit_seq:
            rec.limit_reached()
            return None
        if len(q) >= rec.capacity:
            counters["buffer_full"].inc()
            return None
        return tid

    return gate


def call_recorders(unit: Unit, rec: Recorder) -> tuple[Enter, Leave, Fail]:
    """enter(values) -> token or None; leave(token, value); fail(token, exc)."""
    uid = unit.uid
    append = rec.queue.append
    capture = rec.capture
    render = rec.saferepr
    clock = perf_counter_ns
    gate = make_gate(rec, rec.skipped)
    scalars = SCALARS

    max_str = rec.max_str

    def enter(values: tuple[Any, ...]) -> int | None:
        tid = gate()
        if tid is None:
            return None
        for v in values:
            if type(v) not in scalars or type(v) is str and len(v) > max_str:
                values = capture(values)
                break
        t = clock()
        append((ENTRY, uid, tid, t, values))
        return t

    keep = rec.keep

    def leave(t0: int, value: Any) -> None:
        append((EXIT, uid, get_ident(), clock(),
                value if keep(value) else Rendered(render(value)), t0))

    def fail(t0: int, exc: BaseException) -> None:
        append((EXCEPTION, uid, get_ident(), clock(), render_exception(rec, exc), t0))

    return enter, leave, fail


def line_recorder(unit: Unit, rec: Recorder) -> Callable[[int, dict[str, Any]], None]:
    uid = unit.uid
    append = rec.queue.append
    names = unit.capture_locals
    capture_mapping = rec.capture_mapping
    gate = make_gate(rec, rec.skipped_lines)

    def on_line(line: int, f_locals: dict[str, Any]) -> None:
        tid = gate()
        if tid is not None:
            append((LINE, uid, tid, perf_counter_ns(), line, capture_mapping(names, f_locals)))

    return on_line


def raise_recorder(unit: Unit, rec: Recorder) -> Callable[[int, BaseException], None]:
    uid = unit.uid
    append = rec.queue.append
    gate = make_gate(rec, rec.skipped_lines)

    def on_raise(line: int, exc: BaseException) -> None:
        tid = gate()
        if tid is not None:
            append((RAISE, uid, tid, perf_counter_ns(), render_exception(rec, exc), line))

    return on_raise
