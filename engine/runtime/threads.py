"""``thread:`` targets on Python < 3.12: ``sys.settrace`` in that thread, for that thread only.

A thread's trace function can only be set from inside the thread on these Pythons, so a target
thread is either the calling thread (traced from now on) or a ``threading.Thread`` not started
yet (its ``run`` installs the trace function first). A thread already running elsewhere cannot
be reached without a new Python; the error says so.
"""

from __future__ import annotations

import sys
import threading
import types
from collections.abc import Callable
from time import perf_counter_ns
from typing import Any

from scopeline.engine.errors import ScopelineError
from scopeline.engine.runtime.hooks import make_gate, render_exception
from scopeline.engine.runtime.recorder import ENTRY, EXIT, RAISE, Recorder
from scopeline.engine.runtime.units import ThreadUnit

_OWN_PREFIX = __name__.rsplit(".", 2)[0]  # "scopeline.engine": never trace ourselves


def dynamic_key(frame: types.FrameType, rec: Recorder) -> str:
    return rec.dynamic_key(frame.f_code, frame.f_globals.get("__name__", "?"))


def frame_arguments(frame: types.FrameType, rec: Recorder) -> tuple[Any, ...]:
    code = frame.f_code
    n = code.co_argcount + code.co_kwonlyargcount
    n += bool(code.co_flags & 0x04) + bool(code.co_flags & 0x08)
    f_locals = frame.f_locals
    return rec.capture(tuple(f_locals.get(name) for name in code.co_varnames[:n]))


def make_thread_tracer(unit: ThreadUnit, rec: Recorder) -> Callable[..., Any]:
    append = rec.queue.append
    # per-frame start time; frames are unique while alive, so the dict stays small
    starts: dict[int, int] = {}
    gate = make_gate(rec, rec.skipped)

    def local(frame: types.FrameType, event: str, arg: Any) -> Any:
        if event == "return":
            t0 = starts.pop(id(frame), None)
            if t0 is not None:
                value = rec.render_value(arg)
                append((EXIT, dynamic_key(frame, rec), threading.get_ident(), perf_counter_ns(),
                        value, t0))
        elif event == "exception" and id(frame) in starts:
            append((RAISE, dynamic_key(frame, rec), threading.get_ident(), perf_counter_ns(),
                        render_exception(rec, arg[1]), frame.f_lineno))
        return local

    def global_fn(frame: types.FrameType, event: str, arg: Any) -> Any:
        if event != "call" or frame.f_globals.get("__name__", "").startswith(_OWN_PREFIX):
            return None
        tid = threading.get_ident()
        if gate() is None:
            return None
        t = perf_counter_ns()
        starts[id(frame)] = t
        append((ENTRY, dynamic_key(frame, rec), tid, t, frame_arguments(frame, rec)))
        frame.f_trace_lines = False
        return local

    return global_fn


class SettraceThreadTracer:
    def __init__(self) -> None:
        self.installed: dict[int, tuple[ThreadUnit, Any]] = {}  # unit uid -> (unit, undo)

    def add(self, unit: ThreadUnit, rec: Recorder) -> None:
        tracer = make_thread_tracer(unit, rec)
        thread = unit.thread
        if isinstance(thread, threading.Thread) and not thread.is_alive() and thread.ident is None:
            original_run = thread.run

            def run() -> None:
                sys.settrace(tracer)
                try:
                    original_run()
                finally:
                    sys.settrace(None)

            thread.run = run  # type: ignore[method-assign]
            self.installed[unit.uid] = (unit, lambda: _undo_run(thread, run, original_run))
        elif unit.ident == threading.get_ident():
            previous = sys.gettrace()
            sys.settrace(tracer)
            self.installed[unit.uid] = (unit, lambda: sys.settrace(previous))
        else:
            raise ScopelineError(
                "mode_unavailable",
                f"thread {unit.name!r} is already running: on Python 3.11 a thread's tracer "
                "can only be set from inside it",
                suggestions=["Pass the threading.Thread object before calling start(), "
                             "trace 'thread:' + threading.current_thread().name from that "
                             "thread, or use Python 3.12+."])

    def remove(self, unit: ThreadUnit, rec: Recorder) -> None:
        entry = self.installed.pop(unit.uid, None)
        if entry is not None:
            entry[1]()

    def active(self) -> bool:
        return bool(self.installed)

    def shutdown(self) -> None:
        for _, undo in self.installed.values():
            undo()
        self.installed.clear()


def _undo_run(thread: threading.Thread, run: Any, original: Any) -> None:
    if thread.__dict__.get("run") is run:
        del thread.run
