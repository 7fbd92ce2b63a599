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
    CALL,
    ENTRY,
    EXCEPTION,
    EXIT,
    LINE,
    RAISE,
    SCALARS,
    Recorder,
    Rendered,
    rendered,
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
    return rendered(f"{type(exc).__qualname__}: {message}")


def make_gate(rec: Recorder, counters: dict[str, Any]) -> Callable[[], int | None]:
    """The admission check every hook makes: returns the thread id, or None (and counts why)."""
    names = rec.thread_names
    register = rec.register_thread
    q = rec.queue
    rnd = random.random

    def gate() -> int | None:
        if not rec.fast:
            if not rec.on:
                counters[rec.off_reason].inc()
                return None
            if rnd() >= rec.rate:
                counters["sampling"].inc()
                return None
        tid = get_ident()
        if tid not in names and not register(tid):
            counters["thread_limit"].inc()
            return None
        if len(q) >= rec.capacity:  # the buffer, or what this second still allows
            rec.full(counters)
            return None
        return tid

    return gate


def call_recorders(unit: Unit, rec: Recorder) -> tuple[Enter, Leave, Fail]:
    """enter(values) -> token or None; leave(token, value); fail(token, exc).

    The token is the entry record itself. ``leave`` turns a leaf call (its entry is still the
    last record in the queue) into one CALL record: half the records for the hot case. The
    identity check and the store are adjacent and call nothing, so no other thread can append
    in between (under the GIL).
    """
    uid = unit.uid
    q = rec.queue
    append = q.append
    capture = rec.capture
    render_value = rec.render_value
    clock = perf_counter_ns
    scalars = SCALARS
    max_str = rec.max_str
    names = rec.thread_names
    skipped = rec.skipped
    gate = make_gate(rec, skipped)

    def enter(values: tuple[Any, ...]) -> tuple[Any, ...] | None:
        if rec.fast:  # the gate's common case, written out: one Python call less per call
            tid = get_ident()
            if tid not in names and not rec.register_thread(tid):
                skipped["thread_limit"].inc()
                return None
            if len(q) >= rec.capacity:
                rec.full(skipped)
                return None
        else:
            tid = gate()
            if tid is None:
                return None
        for v in values:
            if type(v) not in scalars or type(v) is str and len(v) > max_str:
                values = capture(values)
                break
        entry = (ENTRY, uid, tid, clock(), values)
        append(entry)
        return entry

    def leave(entry: tuple[Any, ...], value: Any) -> None:
        merged = (CALL, uid, entry[2], entry[3], entry[4], clock(), render_value(value))
        if q and q[-1] is entry:
            q[-1] = merged
        else:
            append((EXIT, uid, entry[2], merged[5], merged[6], entry[3]))

    def fail(entry: tuple[Any, ...], exc: BaseException) -> None:
        append((EXCEPTION, uid, entry[2], clock(), render_exception(rec, exc), entry[3]))

    return enter, leave, fail


def line_recorder(unit: Unit, rec: Recorder) -> Callable[[int, dict[str, Any]], None]:
    if unit.probe is not None:
        return unit.probe
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
