"""Runtime backend for Python 3.12+: ``sys.monitoring`` with events local to the traced code.

As in coverage.py's sysmon tracer: a tool id of our own (never the debugger's, so debugpy keeps
working beside us), ``set_local_events`` on exactly the traced code objects, ``DISABLE`` for
line locations nobody asked for. Events that cannot be local (``PY_UNWIND``, ``PY_THROW``,
``RAISE``) are switched on only while something is traced, and return at once for other code.
"""

from __future__ import annotations

import sys
import threading
import types
from collections.abc import Callable
from dataclasses import dataclass, field
from time import perf_counter_ns
from typing import Any

from scopeline.engine.errors import ScopelineError
from scopeline.engine.runtime.hooks import (
    call_recorders, line_recorder, raise_recorder, render_exception,
)
from scopeline.engine.runtime.recorder import ENTRY, EXCEPTION, EXIT, Recorder, Rendered
from scopeline.engine.runtime.units import ThreadUnit, Unit

_SCALARS = frozenset({int, float, complex, bool, type(None), str, bytes, range})
# Ids nobody else claims by convention first; 0 (debugger: debugpy) and 1 (coverage) never.
PREFERRED_TOOL_IDS = (3, 4, 2, 5)
TOOL_NAME = "scopeline"


@dataclass
class CodeHooks:
    calls: list[tuple[Callable[..., Any], Callable[..., Any], Callable[..., Any]]]
    lines: list[tuple[frozenset[int], Callable[[int, dict[str, Any]], None]]]
    raises: list[Callable[[int, BaseException], None]]
    argnames: tuple[str, ...]
    all_lines: bool = False
    wanted_lines: frozenset[int] = field(default_factory=frozenset)


def claim_tool_id() -> int:
    mon = sys.monitoring
    for tool in PREFERRED_TOOL_IDS:
        if mon.get_tool(tool) is None:
            mon.use_tool_id(tool, TOOL_NAME)
            return tool
    raise ScopelineError("tracer_conflict", "every sys.monitoring tool id Scopeline may use "
                         f"({PREFERRED_TOOL_IDS}) is taken by another tool",
                         suggestions=["Stop the other profiler or tracer, then trace again."])


class MonitoringBackend:
    name = "sys.monitoring"

    def __init__(self, reason: str) -> None:
        self.reason = reason
        self.tool: int | None = None
        self.subs: dict[types.CodeType, list[tuple[Unit, Recorder]]] = {}
        # keyed by id(code): hashing a code object rehashes its bytecode and constants every time
        self.hooks: dict[int, CodeHooks] = {}
        self.threads: dict[int, tuple[ThreadUnit, Recorder]] = {}
        self.pending_threads: dict[int, tuple[ThreadUnit, Recorder, Any]] = {}
        self.stacks: dict[int, list[tuple[types.CodeType, Any]]] = {}
        self.suspended: dict[int, Any] = {}  # id(generator frame) -> its call's tokens
        self.lock = threading.RLock()

    # -- installation ----------------------------------------------------------------------
    def _ensure_tool(self) -> int:
        if self.tool is None:
            self.tool = claim_tool_id()
            E = sys.monitoring.events
            register = sys.monitoring.register_callback
            register(self.tool, E.PY_START, self._on_start)
            register(self.tool, E.PY_RESUME, self._on_resume)
            register(self.tool, E.PY_THROW, self._on_throw)
            register(self.tool, E.PY_RETURN, self._on_return)
            register(self.tool, E.PY_YIELD, self._on_yield)
            register(self.tool, E.PY_UNWIND, self._on_unwind)
            register(self.tool, E.RAISE, self._on_raise)
            register(self.tool, E.LINE, self._on_line)
        return self.tool

    def _release_tool(self) -> None:
        if self.tool is not None and not self.subs and not self.threads:
            mon = sys.monitoring
            mon.set_events(self.tool, 0)
            for event in (mon.events.PY_START, mon.events.PY_RESUME, mon.events.PY_THROW,
                          mon.events.PY_RETURN, mon.events.PY_YIELD, mon.events.PY_UNWIND,
                          mon.events.RAISE, mon.events.LINE):
                mon.register_callback(self.tool, event, None)
            mon.free_tool_id(self.tool)
            self.tool = None

    def add(self, unit: Unit, recorder: Recorder) -> None:
        with self.lock:
            self._ensure_tool()
            self.subs.setdefault(unit.code, []).append((unit, recorder))
            self._refresh(unit.code)

    def remove(self, unit: Unit, recorder: Recorder) -> None:
        with self.lock:
            subs = self.subs.get(unit.code, [])
            subs[:] = [(u, r) for u, r in subs if not (u is unit and r is recorder)]
            if not subs:
                self.subs.pop(unit.code, None)
            self._refresh(unit.code)
            self._release_tool()

    def _refresh(self, code: types.CodeType) -> None:
        mon = sys.monitoring
        E = mon.events
        subs = self.subs.get(code)
        if self.tool is None:
            return
        if not subs:
            self.hooks.pop(id(code), None)
            mon.set_local_events(self.tool, code, 0)
        else:
            line_units = [(u, r) for u, r in subs if u.wants_lines]
            hooks = CodeHooks(
                calls=[call_recorders(u, r) for u, r in subs if u.calls],
                lines=[(u.lines or frozenset(), line_recorder(u, r)) for u, r in line_units],
                raises=[raise_recorder(u, r) for u, r in subs if u.exceptions],
                argnames=subs[0][0].argnames,
            )
            hooks.all_lines = any(not wanted for wanted, _ in hooks.lines)
            hooks.wanted_lines = frozenset().union(*(w for w, _ in hooks.lines))
            self.hooks[id(code)] = hooks
            local = E.PY_START | E.PY_RESUME | E.PY_RETURN | E.PY_YIELD
            if line_units:
                local |= E.LINE
            mon.set_local_events(self.tool, code, local)
        self._refresh_global()
        mon.restart_events()  # lines DISABLEd for an earlier plan may be wanted now

    def _refresh_global(self) -> None:
        if self.tool is None:
            return
        E = sys.monitoring.events
        events = 0
        if self.hooks or self.threads:
            events |= E.PY_UNWIND | E.PY_THROW
        if any(h.raises for h in self.hooks.values()):
            events |= E.RAISE
        if self.threads:
            events |= E.PY_START | E.PY_RESUME | E.PY_RETURN | E.PY_YIELD
        sys.monitoring.set_events(self.tool, events)

    # -- callbacks -------------------------------------------------------------------------
    def _on_start(self, code: types.CodeType, offset: int) -> Any:
        hooks = self.hooks.get(id(code))
        tid = threading.get_ident()
        if hooks is not None:
            f_locals = sys._getframe(1).f_locals
            values = tuple(f_locals.get(name) for name in hooks.argnames)
            tokens = [enter(values) for enter, _, _ in hooks.calls]
            self.stacks.setdefault(tid, []).append((code, tokens))
        elif tid in self.threads:
            self._thread_start(code, tid)
        return None

    # A generator or coroutine is one call from its start to its return: a yield suspends it
    # (its frame leaves this thread's stack) and a resume or throw puts it back, silently.
    def _on_resume(self, code: types.CodeType, offset: int) -> Any:
        if id(code) in self.hooks:
            tokens = self.suspended.pop(id(sys._getframe(1)), None)
            self.stacks.setdefault(threading.get_ident(), []).append((code, tokens))
        elif self.threads and threading.get_ident() in self.threads:
            self._thread_start(code, threading.get_ident())
        return None

    def _on_throw(self, code: types.CodeType, offset: int, exc: BaseException) -> Any:
        return self._on_resume(code, offset)

    def _on_yield(self, code: types.CodeType, offset: int, value: Any) -> Any:
        if id(code) in self.hooks:
            tokens = self._pop(code, threading.get_ident())
            if tokens is not None:
                self.suspended[id(sys._getframe(1))] = tokens
        elif self.threads and threading.get_ident() in self.threads:
            self._thread_end(code, threading.get_ident(), value, None)
        return None

    def _pop(self, code: types.CodeType, tid: int) -> Any:
        stack = self.stacks.get(tid)
        if stack and stack[-1][0] is code:
            return stack.pop()[1]
        return None

    def _on_return(self, code: types.CodeType, offset: int, value: Any) -> Any:
        hooks = self.hooks.get(id(code))
        tid = threading.get_ident()
        if hooks is not None:
            tokens = self._pop(code, tid)
            if tokens is not None:
                for (_, leave, _), token in zip(hooks.calls, tokens, strict=False):
                    if token is not None:
                        leave(token, value)
        elif tid in self.threads:
            self._thread_end(code, tid, value, None)
        return None

    def _on_unwind(self, code: types.CodeType, offset: int, exc: BaseException) -> Any:
        hooks = self.hooks.get(id(code))
        if hooks is not None:
            tokens = self._pop(code, threading.get_ident())
            if tokens is not None:
                for (_, _, fail), token in zip(hooks.calls, tokens, strict=False):
                    if token is not None:
                        fail(token, exc)
        elif self.threads and threading.get_ident() in self.threads:
            self._thread_end(code, threading.get_ident(), None, exc)
        return None

    def _on_raise(self, code: types.CodeType, offset: int, exc: BaseException) -> Any:
        hooks = self.hooks.get(id(code))
        if hooks is not None and hooks.raises:
            line = sys._getframe(1).f_lineno
            for hook in hooks.raises:
                hook(line, exc)
        return None

    def _on_line(self, code: types.CodeType, line: int) -> Any:
        hooks = self.hooks.get(id(code))
        if hooks is None:
            return sys.monitoring.DISABLE
        if not hooks.all_lines and line not in hooks.wanted_lines:
            return sys.monitoring.DISABLE
        f_locals = sys._getframe(1).f_locals
        for wanted, hook in hooks.lines:
            if not wanted or line in wanted:
                hook(line, f_locals)
        return None

    # -- threads ---------------------------------------------------------------------------
    def add_thread(self, unit: ThreadUnit, recorder: Recorder) -> None:
        with self.lock:
            self._ensure_tool()
            thread = unit.thread
            if isinstance(thread, threading.Thread) and thread.ident is None:
                # Not started: its ident is known only once it runs.
                original_run = thread.run

                def run() -> None:
                    with self.lock:
                        self.threads[threading.get_ident()] = (unit, recorder)
                        self._refresh_global()
                    original_run()

                thread.run = run  # type: ignore[method-assign]
                self.pending_threads[unit.uid] = (unit, recorder, run)
            else:
                assert unit.ident is not None
                self.threads[unit.ident] = (unit, recorder)
            self._refresh_global()

    def remove_thread(self, unit: ThreadUnit, recorder: Recorder) -> None:
        with self.lock:
            pending = self.pending_threads.pop(unit.uid, None)
            if pending is not None and isinstance(unit.thread, threading.Thread):
                if unit.thread.__dict__.get("run") is pending[2]:
                    del unit.thread.run
            for tid, (u, _) in list(self.threads.items()):
                if u is unit:
                    del self.threads[tid]
            self._refresh_global()
            self._release_tool()

    def _thread_start(self, code: types.CodeType, tid: int) -> None:
        unit, rec = self.threads[tid]
        frame = sys._getframe(2)
        if frame.f_globals.get("__name__", "").startswith("scopeline.engine"):
            return
        t = perf_counter_ns()
        why = rec.admit(t, tid)
        if why is not None:
            rec.skip(why)
            self.stacks.setdefault(tid, []).append((code, None))
            return
        from scopeline.engine.runtime.threads import dynamic_key, frame_arguments

        rec.queue.append((ENTRY, dynamic_key(frame), tid, t, frame_arguments(frame, rec)))
        self.stacks.setdefault(tid, []).append((code, (t, frame.f_globals.get("__name__", "?"))))

    def _thread_end(self, code: types.CodeType, tid: int, value: Any,
                    exc: BaseException | None) -> None:
        token = self._pop(code, tid)
        if token is None:
            return
        t0, module = token
        _, rec = self.threads[tid]
        key = (code, module)
        if exc is None:
            rendered = value if type(value) in _SCALARS else Rendered(rec.saferepr(value))
            rec.queue.append((EXIT, key, tid, perf_counter_ns(), rendered, t0))
        else:
            rec.queue.append((EXCEPTION, key, tid, perf_counter_ns(),
                              render_exception(rec, exc), t0))

    def active(self) -> bool:
        return self.tool is not None

    def shutdown(self) -> None:
        with self.lock:
            for code in list(self.subs):
                self.subs.pop(code)
                self._refresh(code)
            for unit, rec, _ in list(self.pending_threads.values()):
                self.remove_thread(unit, rec)
            self.threads.clear()
            self._release_tool()
