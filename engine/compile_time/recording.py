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

from scopeline.engine.runtime.hooks import render_exception
from scopeline.engine.runtime.recorder import (
    ENTRY,
    EXCEPTION,
    EXIT,
    LINE,
    Recorder,
)

ASSIGN, EXPRESSION, CUSTOM = 8, 9, 10  # record kinds only injected code produces
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

    # A call's entry record is kept by the caller's frame: injected code adds no local name.
    def enter(self, site: int, args: dict[str, Any]) -> None:
        tid = self._admit()
        if tid is None:
            return
        render = self.rec.render_value
        entry = (ENTRY, self.sites[site][0], tid, perf_counter_ns(),
                 tuple(render(v) for v in args.values()))
        self.rec.queue.append(entry)
        self.calls[id(_getframe(1))] = entry

    def exit(self, site: int, value: Any) -> Any:
        entry = self.calls.pop(id(_getframe(1)), None)
        if entry is not None:  # a second exit (return inside finally) is not a second call
            self.rec.queue.append((EXIT, entry[1], entry[2], perf_counter_ns(),
                                   self.rec.render_value(value), entry[3]))
        return value

    def exception(self, site: int) -> None:
        entry = self.calls.pop(id(_getframe(1)), None)
        if entry is not None:
            self.rec.queue.append((EXCEPTION, entry[1], entry[2], perf_counter_ns(),
                                   render_exception(self.rec, sys.exc_info()[1]), entry[3]))

    def line(self, site: int, f_locals: dict[str, Any]) -> None:
        tid = self._admit()
        if tid is not None:
            render = self.rec.render_value
            uid, line = self.sites[site][:2]
            self.rec.queue.append((LINE, uid, tid, perf_counter_ns(), line,
                                   {k: render(v) for k, v in f_locals.items()}))

    def values(self, site: int, *values: Any) -> None:
        """A line's captured locals passed directly (all of them bound): no locals() dict."""
        tid = self._admit()
        if tid is not None:
            uid, line, _, names = self.sites[site]
            render = self.rec.render_value
            self.rec.queue.append((LINE, uid, tid, perf_counter_ns(), line,
                                   dict(zip(names, map(render, values), strict=True))))

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
