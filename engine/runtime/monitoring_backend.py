"""Runtime backend for Python 3.12+: ``sys.monitoring`` with events local to the traced code.

As in coverage.py's sysmon tracer: a tool id of our own (never the debugger's, so debugpy keeps
working beside us), ``set_local_events`` on exactly the traced code objects, ``DISABLE`` for
line locations nobody asked for. Events that cannot be local (``PY_UNWIND``, ``PY_THROW``,
``RAISE``) are switched on only while something is traced, and return at once for other code.

A call's start token is kept by frame (``id(frame)``), so a return finds its entry whatever
happened in between — recursion, threads, generators suspended and resumed elsewhere.
"""

from __future__ import annotations

import random
import sys
import threading
import types
from collections.abc import Callable
from dataclasses import dataclass, field
from time import perf_counter_ns
from typing import Any

from scopeline.engine.errors import ScopelineError
from scopeline.engine.runtime.hooks import (
    call_recorders,
    line_recorder,
    raise_recorder,
    render_exception,
)
from scopeline.engine.runtime.monitoring_threads import ThreadTargets
from scopeline.engine.runtime.recorder import (
    CALL,
    ENTRY,
    EXCEPTION,
    EXIT,
    RESUME,
    SCALARS,
    SUSPEND,
    Recorder,
)
from scopeline.engine.runtime.units import ThreadUnit, Unit

# Ids nobody else claims by convention first; 0 (debugger: debugpy) and 1 (coverage) never.
PREFERRED_TOOL_IDS = (3, 4, 2, 5)
TOOL_NAME = "scopeline"
_getframe = sys._getframe
get_ident = threading.get_ident


class _Orphan:
    """Ends a call whose code was unhooked while it ran: the session still gets its end."""

    def __init__(self, rec: Recorder, uid: int) -> None:
        self.rec, self.uid = rec, uid

    def leave(self, entry: Any, value: Any) -> None:
        self.rec.queue.append((EXIT, self.uid, entry[2], perf_counter_ns(),
                               self.rec.render_value(value), entry[3]))

    def fail(self, entry: Any, exc: BaseException) -> None:
        self.rec.queue.append((EXCEPTION, self.uid, entry[2], perf_counter_ns(),
                               render_exception(self.rec, exc), entry[3]))


@dataclass(slots=True)
class CodeHooks:
    """Everything hooked on one code object, for all sessions tracing it."""

    enter: Callable[[tuple[Any, ...]], Any]  # -> token (or a tuple of them), None if skipped
    leave: Callable[[Any, Any], None]
    fail: Callable[[Any, BaseException], None]
    argnames: tuple[str, ...]
    markers: list[Any]  # (queue.append, uid) of each session: suspend/resume of generators
    lines: list[tuple[frozenset[int], Callable[[int, dict[str, Any]], None]]]
    raises: list[Callable[[int, BaseException], None]]
    all_lines: bool = False
    wanted_lines: frozenset[int] = field(default_factory=frozenset)
    # One session capturing calls: the callbacks do its work inline (see _fast_callbacks).
    rec: Recorder | None = None
    uid: int = 0
    args_first: bool = False  # no cell or free variables: f_locals holds just the arguments
    names: dict[int, str] = field(default_factory=dict)  # the recorder's, read without a hop
    queue: Any = None
    max_str: int = 200


def claim_tool_id() -> int:
    mon = sys.monitoring
    for tool in PREFERRED_TOOL_IDS:
        if mon.get_tool(tool) is None:
            mon.use_tool_id(tool, TOOL_NAME)
            return tool
    raise ScopelineError("tracer_conflict", "every sys.monitoring tool id Scopeline may use "
                         f"({PREFERRED_TOOL_IDS}) is taken by another tool",
                         suggestions=["Stop the other profiler or tracer, then trace again."])


def combine(subs: list[tuple[Unit, Recorder]]) -> CodeHooks:
    calls = [call_recorders(u, r) for u, r in subs if u.calls]
    if len(calls) == 1:
        enter, leave, fail = calls[0]
    else:
        def enter(values: tuple[Any, ...]) -> Any:
            return tuple(c[0](values) for c in calls)

        def leave(tokens: Any, value: Any) -> None:
            for c, t in zip(calls, tokens, strict=False):
                if t is not None:
                    c[1](t, value)

        def fail(tokens: Any, exc: BaseException) -> None:
            for c, t in zip(calls, tokens, strict=False):
                if t is not None:
                    c[2](t, exc)

    lines = [(u.lines or frozenset(), line_recorder(u, r)) for u, r in subs if u.wants_lines]
    hooks = CodeHooks(enter, leave, fail, subs[0][0].argnames,
                      markers=[(r.queue.append, u.uid) for u, r in subs if u.calls],
                      lines=lines, raises=[raise_recorder(u, r) for u, r in subs if u.exceptions])
    hooks.all_lines = any(not wanted for wanted, _ in lines)
    hooks.wanted_lines = frozenset().union(*(w for w, _ in lines))
    callers = [(u, r) for u, r in subs if u.calls]
    if len(callers) == 1:
        rec = callers[0][1]
        hooks.uid, hooks.rec = callers[0][0].uid, rec
        hooks.names, hooks.queue, hooks.max_str = rec.thread_names, rec.queue, rec.max_str
    code = subs[0][0].code
    hooks.args_first = not (code.co_cellvars or code.co_freevars)
    return hooks


class MonitoringBackend(ThreadTargets):
    name = "sys.monitoring"
    needs_function = False

    def __init__(self, reason: str) -> None:
        self.reason = reason
        self.tool: int | None = None
        self.subs: dict[types.CodeType, list[tuple[Unit, Recorder]]] = {}
        # keyed by id(code): hashing a code object rehashes its bytecode and constants
        self.hooks: dict[int, CodeHooks] = {}
        self.tokens: dict[int, Any] = {}  # id(frame) -> token of the call running in it
        self.threads: dict[int, tuple[ThreadUnit, Recorder, Any]] = {}  # tid -> unit, rec, gate
        self.pending_threads: dict[int, tuple[ThreadUnit, Recorder, Any]] = {}
        self.errors: list[str] = []  # internal errors caught in callbacks (never raised)
        self._fast: tuple[Callable[..., Any], Callable[..., Any]] | None = None
        self.lock = threading.RLock()

    # -- installation ----------------------------------------------------------------------
    def _events(self) -> list[tuple[int, Callable[..., Any]]]:
        E = sys.monitoring.events
        if self._fast is None:
            self._fast = self._fast_callbacks()
        on_start, on_return = self._fast
        return [(E.PY_START, on_start), (E.PY_RESUME, self._on_resume),
                (E.PY_THROW, self._on_throw), (E.PY_RETURN, on_return),
                (E.PY_YIELD, self._on_yield), (E.PY_UNWIND, self._on_unwind),
                (E.RAISE, self._on_raise), (E.LINE, self._on_line)]

    def _ensure_tool(self) -> int:
        if self.tool is None:
            self.tool = claim_tool_id()
            for event, callback in self._events():
                sys.monitoring.register_callback(self.tool, event, callback)
        return self.tool

    def _release_tool(self) -> None:
        if self.tool is not None and not self.subs and not self.threads \
                and not self.pending_threads:
            sys.monitoring.set_events(self.tool, 0)
            for event, _ in self._events():
                sys.monitoring.register_callback(self.tool, event, None)
            sys.monitoring.free_tool_id(self.tool)
            self.tool = None
            self.tokens.clear()

    def add(self, unit: Unit, recorder: Recorder) -> None:
        with self.lock:
            self._ensure_tool()
            self.subs.setdefault(unit.code, []).append((unit, recorder))
            self._refresh(unit.code)

    def update(self, unit: Unit, recorder: Recorder) -> None:
        """A hooked unit's settings changed (its lines): new hooks in one step, no gap."""
        with self.lock:
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
        if self.tool is None:
            return
        E = sys.monitoring.events
        subs = self.subs.get(code)
        if not subs:
            self.hooks.pop(id(code), None)
            sys.monitoring.set_local_events(self.tool, code, 0)
        else:
            hooks = combine(subs)
            self.hooks[id(code)] = hooks
            local = E.PY_START | E.PY_RETURN | E.PY_YIELD | E.PY_RESUME
            if hooks.lines:
                local |= E.LINE
            sys.monitoring.set_local_events(self.tool, code, local)
        self._refresh_global()
        sys.monitoring.restart_events()  # lines DISABLEd for an earlier plan may be wanted now

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

    # -- callbacks: keep them short, they run on every traced call ---------------------------
    def _fast_callbacks(self) -> tuple[Callable[..., Any], Callable[..., Any]]:
        """PY_START and PY_RETURN, as closures over the dicts they use.

        These run on every traced call. With one session on the code object (the usual case)
        the admission checks and the record are written out right here, with no further
        Python call: each one costs about as much as all the checks together.
        """
        hooks_get = self.hooks.get
        tokens = self.tokens
        tokens_pop = tokens.pop
        clock = perf_counter_ns
        scalars = SCALARS
        slow_start = self._on_start
        slow_end = self._end
        draw = random.random

        def on_start(code: types.CodeType, offset: int) -> Any:
            hooks = hooks_get(id(code))
            rec = hooks.rec if hooks is not None else None
            if rec is None or not rec.fast:
                if rec is None or not rec.on:
                    return slow_start(code, _getframe(1))
                # Sampling: draw before reading the frame, so a call left out costs little.
                if draw() >= rec.rate:
                    rec.skipped["sampling"].inc()
                    return None
            tid = get_ident()
            if tid not in hooks.names and not rec.register_thread(tid):
                rec.skipped["thread_limit"].inc()
                return None
            q = hooks.queue
            if len(q) >= rec.capacity:  # the buffer, or what this second still allows
                rec.full(rec.skipped)
                return None
            frame = _getframe(1)
            if hooks.args_first:  # at PY_START a plain function's locals are its arguments
                values = tuple(frame.f_locals.values())
            else:
                values = tuple(map(frame.f_locals.get, hooks.argnames))
            max_str = hooks.max_str
            for v in values:
                if type(v) not in scalars or type(v) is str and len(v) > max_str:
                    values = rec.capture(values)
                    break
            entry = (ENTRY, hooks.uid, tid, clock(), values)
            q.append(entry)
            tokens[id(frame)] = (rec, entry)  # a recorder first: this path's token
            return None

        def on_return(code: types.CodeType, offset: int, value: Any) -> Any:
            token = tokens_pop(id(_getframe(1)), None)
            if token is None:
                return None
            rec, entry = token
            if type(rec) is not Recorder:  # several sessions, or a thread target's call
                return slow_end(token, value, None)
            t = type(value)
            if t not in scalars or t is str and len(value) > rec.max_str:
                value = rec.render_value(value)
            merged = (CALL, entry[1], entry[2], entry[3], entry[4], clock(), value)
            q = rec.queue
            # A leaf call becomes one record; check and store are adjacent, calling nothing.
            if q and q[-1] is entry:
                q[-1] = merged
            else:
                q.append((EXIT, entry[1], entry[2], merged[5], value, entry[3]))
            return None

        return on_start, on_return

    def _on_start(self, code: types.CodeType, frame: types.FrameType) -> Any:
        """The general case: several sessions on one code object, sampling, held capture."""
        hooks = self.hooks.get(id(code))
        if hooks is not None:
            try:
                token = hooks.enter(tuple(map(frame.f_locals.get, hooks.argnames)))
            except Exception as exc:  # never into the user's program
                return self._internal_error(exc)
            if token is not None:
                # The hooks that made the token end the call, even if the plan changed since.
                self.tokens[id(frame)] = (hooks, token)
        elif self.threads:
            self._thread_start(frame)
        return None

    def _end(self, pair: Any, value: Any, exc: BaseException | None) -> Any:
        hooks, token = pair[0], pair[1]
        if type(hooks) is Recorder:  # made by the fast path: its hooks are the entry's code's
            hooks = self._hooks_of_uid(hooks, token[1])
        try:
            # token: the entry record (one session), the entries of several sessions, or a
            # thread target's (time, key, recorder)
            if hooks is None:
                self._thread_end(token, value, exc)
            elif exc is None:
                hooks.leave(token, value)
            else:
                hooks.fail(token, exc)
        except Exception as error:
            return self._internal_error(error)
        return None

    def _hooks_of_uid(self, rec: Recorder, uid: int) -> Any:
        for hooks in self.hooks.values():
            if hooks.rec is rec and hooks.uid == uid:
                return hooks
        return _Orphan(rec, uid)

    def _on_unwind(self, code: types.CodeType, offset: int, exc: BaseException) -> Any:
        if self.tokens:
            pair = self.tokens.pop(id(_getframe(1)), None)
            if pair is not None:
                return self._end(pair, None, exc)
        return None

    def _internal_error(self, exc: Exception) -> None:
        self.errors.append(repr(exc))
        del self.errors[:-10]
        return None

    # A generator or coroutine is one call from its start to its return. A yield takes its
    # frame off the thread's stack and a resume puts it back: markers let the reader keep
    # the tree right, without an event of their own.
    def _on_yield(self, code: types.CodeType, offset: int, value: Any) -> Any:
        self._marker(code, SUSPEND)
        return None

    def _on_resume(self, code: types.CodeType, offset: int) -> Any:
        self._marker(code, RESUME)
        return None

    def _on_throw(self, code: types.CodeType, offset: int, exc: BaseException) -> Any:
        self._marker(code, RESUME)
        return None

    def _marker(self, code: types.CodeType, kind: int) -> None:
        hooks = self.hooks.get(id(code))
        if hooks is not None and id(_getframe(2)) in self.tokens:
            t = perf_counter_ns()
            tid = get_ident()
            for append, uid in hooks.markers:
                append((kind, uid, tid, t))

    def _on_raise(self, code: types.CodeType, offset: int, exc: BaseException) -> Any:
        hooks = self.hooks.get(id(code))
        if hooks is not None and hooks.raises:
            line = _getframe(1).f_lineno
            for hook in hooks.raises:
                hook(line, exc)
        return None

    def _on_line(self, code: types.CodeType, line: int) -> Any:
        hooks = self.hooks.get(id(code))
        if hooks is None or not hooks.all_lines and line not in hooks.wanted_lines:
            return sys.monitoring.DISABLE
        f_locals = _getframe(1).f_locals
        for wanted, hook in hooks.lines:
            if not wanted or line in wanted:
                hook(line, f_locals)
        return None

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
