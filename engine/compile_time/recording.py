"""The hooks object that injected probes call, recording into a session's Recorder.

Injected code calls these with a probe's site id; each call appends one raw record in the
same format the runtime hooks use, so the drain, the store and the reader treat both sources
alike. Every method returns quickly and never raises into the user's program.
"""

from __future__ import annotations

import sys
import threading
from time import perf_counter_ns
from typing import Any

from scopeline.engine.runtime.hooks import make_gate, render_exception
from scopeline.engine.runtime.recorder import (
    ASSIGN,
    CUSTOM,
    ENTRY,
    EXCEPTION,
    EXIT,
    EXPRESSION,
    LINE,
    SCALARS,
    Recorder,
)

get_ident = threading.get_ident
_getframe = sys._getframe


class RecordingHooks:
    """``sites``: a probe's site id -> (its function's unit id, its line, session-wide id,
    the names it captures)."""

    def __init__(self, recorder: Recorder, sites: dict[int, tuple[Any, ...]]) -> None:
        self.rec = recorder
        self.sites = sites
        self.enabled = True  # runtime_control_enabled: pause/resume without re-instrumenting
        self.calls: dict[int, Any] = {}  # id(frame) -> entry record of the call running there
        # the full admission checks (held, sampled, limits) for the slow path
        self._gates = {id(recorder.skipped): make_gate(recorder, recorder.skipped),
                       id(recorder.skipped_lines): make_gate(recorder, recorder.skipped_lines)}

    def _admit(self) -> int | None:
        rec = self.rec
        if not self.enabled or not rec.on:
            return None
        tid = get_ident()
        if tid not in rec.thread_names and not rec.register_thread(tid):
            return None
        if len(rec.queue) >= rec.capacity:
            rec.full(rec.skipped)
            return None
        return tid

    # The hot probes (enter/exit, values) admit and capture inline: on this path one Python
    # call less is worth more than the repetition costs. A call's entry record is kept by the
    # caller's frame, so injected code adds no local name.
    def enter(self, site: int, args: dict[str, Any]) -> None:
        rec = self.rec
        if not (self.enabled and rec.fast):
            tid = self._admit_slow(rec.skipped)
            if tid is None:
                return
        else:
            tid = get_ident()
            if tid not in rec.thread_names and not rec.register_thread(tid):
                rec.skipped["thread_limit"].inc()
                return
            if len(rec.queue) >= rec.capacity:
                rec.full(rec.skipped)
                return
        values = tuple(args.values())
        for v in values:
            if type(v) not in SCALARS or type(v) is str and len(v) > rec.max_str:
                values = rec.capture(values)
                break
        entry = (ENTRY, self.sites[site][0], tid, perf_counter_ns(), values)
        rec.queue.append(entry)
        self.calls[id(_getframe(1))] = entry

    def exit(self, site: int, value: Any) -> Any:
        entry = self.calls.pop(id(_getframe(1)), None)
        if entry is not None:  # a second exit (return inside finally) is not a second call
            rec = self.rec
            t = type(value)
            kept = value if t in SCALARS and (t is not str or len(value) <= rec.max_str) \
                else rec.render_value(value)
            rec.queue.append((EXIT, entry[1], entry[2], perf_counter_ns(), kept, entry[3]))
        return value

    def exception(self, site: int) -> None:
        entry = self.calls.pop(id(_getframe(1)), None)
        if entry is not None:
            self.rec.queue.append((EXCEPTION, entry[1], entry[2], perf_counter_ns(),
                                   render_exception(self.rec, sys.exc_info()[1]), entry[3]))

    def values(self, site: int, *values: Any) -> None:
        """A line's captured locals passed directly (all of them bound): no locals() dict."""
        rec = self.rec
        if not (self.enabled and rec.fast):
            tid = self._admit_slow(rec.skipped_lines)
            if tid is None:
                return
        else:
            tid = get_ident()
            if tid not in rec.thread_names and not rec.register_thread(tid):
                rec.skipped_lines["thread_limit"].inc()
                return
            if len(rec.queue) >= rec.capacity:
                rec.full(rec.skipped_lines)
                return
        for v in values:
            if type(v) not in SCALARS or type(v) is str and len(v) > rec.max_str:
                values = rec.capture(values)
                break
        uid, line, _, names = self.sites[site]
        captured = dict(zip(names, values, strict=True))
        rec.queue.append((LINE, uid, tid, perf_counter_ns(), line, captured))

    def probe(self, site: int) -> Any:
        """The callable one line probe calls with its captured values (see line.py): the
        site's unit, line and names are bound in, the common case written out."""
        uid, line, _, names = self.sites[site]
        rec = self.rec
        q = rec.queue
        known = rec.thread_names
        slow = self.values
        max_str = rec.max_str
        clock = perf_counter_ns

        def hit(*values: Any) -> None:
            if not (self.enabled and rec.fast):
                return slow(site, *values)
            tid = get_ident()
            if tid not in known and not rec.register_thread(tid):
                rec.skipped_lines["thread_limit"].inc()
                return None
            if len(q) >= rec.capacity:
                rec.full(rec.skipped_lines)
                return None
            for v in values:
                if type(v) not in SCALARS or type(v) is str and len(v) > max_str:
                    values = rec.capture(values)
                    break
            q.append((LINE, uid, tid, clock(), line, dict(zip(names, values, strict=True))))
            return None

        return hit

    def _admit_slow(self, counters: Any) -> int | None:
        if not self.enabled:
            return None
        return self._gates[id(counters)]()

    def line(self, site: int, f_locals: dict[str, Any]) -> None:
        tid = self._admit()
        if tid is not None:
            render = self.rec.render_value
            uid, line = self.sites[site][:2]
            self.rec.queue.append((LINE, uid, tid, perf_counter_ns(), line,
                                   {k: render(v) for k, v in f_locals.items()}))

    def assign(self, site: int, name: str, value: Any) -> None:
        tid = self._admit()
        if tid is not None:
            uid, line = self.sites[site][:2]
            self.rec.queue.append((ASSIGN, uid, tid, perf_counter_ns(), line, name,
                                   self.rec.render_value(value)))

    def expr(self, site: int, value: Any) -> Any:
        tid = self._admit()
        if tid is not None:
            uid, line, global_id = self.sites[site][:3]
            self.rec.queue.append((EXPRESSION, uid, tid, perf_counter_ns(), line, global_id,
                                   self.rec.render_value(value)))
        return value


__all__ = ["CUSTOM", "RecordingHooks"]
