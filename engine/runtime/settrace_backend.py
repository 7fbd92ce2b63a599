"""Runtime backend for Python < 3.12: code swapping for calls, ``sys.settrace`` only for lines.

Calls, returns and exceptions that leave a function come from its swapped code object
(see ``codeswap``), so untraced code pays nothing. Line events and exceptions raised inside a
function need ``sys.settrace``; it is switched on for the current thread only while a traced
function that asks for them is running, and it chains whatever trace function (a debugger's)
was installed before instead of replacing it.
"""

from __future__ import annotations

import sys
import threading
import types
from collections.abc import Callable
from threading import get_ident
from time import perf_counter_ns
from typing import Any

from scopeline.engine.errors import ScopelineError
from scopeline.engine.runtime import codeswap
from scopeline.engine.runtime.hooks import call_recorders, line_recorder, raise_recorder
from scopeline.engine.runtime.recorder import SCALARS, Recorder
from scopeline.engine.runtime.threads import SettraceThreadTracer
from scopeline.engine.runtime.units import ThreadUnit, Unit

# The interpreter's own settrace, taken before a debugger (pydevd) wraps sys.settrace to warn
# whoever else calls it: we chain its trace function, we do not replace it.
_settrace = sys.settrace

TraceFn = Callable[[types.FrameType, str, Any], Any]


def chain(first: TraceFn | None, second: TraceFn | None) -> TraceFn | None:
    """A local trace function that feeds both ``first`` (someone else's) and ``second``."""
    if first is None:
        return second
    if second is None:
        return first

    def both(frame: types.FrameType, event: str, arg: Any) -> Any:
        return chain(first(frame, event, arg), second(frame, event, arg))

    return both


class LineDispatch:
    """One global trace function per thread, routing frames of traced code to their handler."""

    def __init__(self) -> None:
        # keyed by id(code): hashing a code object rehashes its bytecode every time
        self.handlers: dict[int, TraceFn] = {}
        self.local = threading.local()

    def global_fn(self, frame: types.FrameType, event: str, arg: Any) -> Any:
        handler = self.handlers.get(id(frame.f_code))
        prev = getattr(self.local, "prev", None)
        theirs = prev(frame, event, arg) if prev is not None else None
        if handler is None:
            return theirs
        return chain(theirs, handler)

    def enter(self) -> None:
        st = self.local
        depth = getattr(st, "depth", 0)
        if depth == 0:
            current = sys.gettrace()
            if current is not self.global_fn:
                st.prev = current
                _settrace(self.global_fn)
        st.depth = depth + 1

    def leave(self) -> None:
        st = self.local
        st.depth -= 1
        if st.depth == 0 and not getattr(st, "pinned", 0):
            _settrace(getattr(st, "prev", None))
            st.prev = None

    def pin_running_frames(self, code: types.CodeType) -> None:
        """Give frames of ``code`` already running on this thread their line events now."""
        frame = sys._getframe(1)
        found = False
        while frame is not None:
            if frame.f_code is code:
                handler = self.handlers[id(code)]
                frame.f_trace = chain(frame.f_trace, handler)
                frame.f_trace_lines = True
                found = True
            frame = frame.f_back
        if found:
            st = self.local
            if not getattr(st, "pinned", 0) and getattr(st, "depth", 0) == 0:
                current = sys.gettrace()
                if current is not self.global_fn:
                    st.prev = current
                    _settrace(self.global_fn)
            st.pinned = getattr(st, "pinned", 0) + 1

    def unpin(self) -> None:
        st = self.local
        if getattr(st, "pinned", 0):
            st.pinned -= 1
            if st.pinned == 0 and getattr(st, "depth", 0) == 0:
                _settrace(getattr(st, "prev", None))
                st.prev = None


class SettraceBackend:
    name = "sys.settrace"
    needs_function = True  # hooks go on function objects, not on code objects

    def __init__(self, reason: str) -> None:
        self.reason = reason
        self.lines = LineDispatch()
        # code object -> list of (unit, recorder) subscribed to it
        self.subs: dict[types.CodeType, list[tuple[Unit, Recorder]]] = {}
        self.swaps: dict[types.CodeType, codeswap.Swap] = {}
        self.pinned: set[types.CodeType] = set()
        self.threads = SettraceThreadTracer()
        self.lock = threading.RLock()

    # -- functions -----------------------------------------------------------------------------
    def add(self, unit: Unit, recorder: Recorder) -> None:
        with self.lock:
            if unit.function is None:
                raise ScopelineError(
                    "mode_unavailable",
                    f"{unit.display} is a nested function with no function object to hook "
                    "on Python 3.11",
                    suggestions=["Trace the enclosing function, or use Python 3.12+ where "
                                 "nested functions are traced through sys.monitoring."])
            why = codeswap.can_swap(unit.function)
            if why:
                raise ScopelineError("mode_unavailable", f"{unit.display}: {why}",
                                     suggestions=["Use Python 3.12+ for this target."])
            self.subs.setdefault(unit.code, []).append((unit, recorder))
            self._reinstall(unit.code)

    def update(self, unit: Unit, recorder: Recorder) -> None:
        """A hooked unit's settings changed: a new wrapper replaces the old one."""
        with self.lock:
            self._reinstall(unit.code)

    def remove(self, unit: Unit, recorder: Recorder) -> None:
        with self.lock:
            subs = self.subs.get(unit.code, [])
            subs[:] = [(u, r) for u, r in subs if not (u is unit and r is recorder)]
            if not subs:
                self.subs.pop(unit.code, None)
            self._reinstall(unit.code)

    def _reinstall(self, code: types.CodeType) -> None:
        old = self.swaps.pop(code, None)
        if old is not None:
            old.restore()
        self.lines.handlers.pop(id(code), None)
        if code in self.pinned:
            self.pinned.discard(code)
            self.lines.unpin()
        subs = self.subs.get(code)
        if not subs:
            return
        func = subs[0][0].function
        assert func is not None
        wants_trace = any(u.wants_lines or u.exceptions for u, _ in subs)
        if wants_trace:
            self.lines.handlers[id(code)] = self._frame_handler(subs)
        enter, leave, fail = self._call_hooks(subs, wants_trace)
        holder: list[types.CodeType] = []

        def fail_trimmed(token: Any, exc: BaseException) -> None:
            codeswap.trim_wrapper_frame(exc, holder[0])
            fail(token, exc)

        fast = None
        calls = [(u, r) for u, r in subs if u.calls]
        if len(calls) == 1 and not wants_trace:
            unit, rec = calls[0]
            # Strings are kept only when short, so the inline check leaves them to render.
            fast = {"rec": rec, "queue": rec.queue, "names": rec.thread_names, "uid": unit.uid,
                    "ident": get_ident, "clock": perf_counter_ns, "scalars": SCALARS - {str},
                    "capture": rec.capture, "render": rec.render_value}
        swap = codeswap.make_swap(func, enter, leave, fail_trimmed, original=code, fast=fast)
        holder.append(swap.wrapper)
        swap.install()
        self.swaps[code] = swap
        if any(u.wants_lines for u, _ in subs):
            self.lines.pin_running_frames(code)
            self.pinned.add(code)

    def _call_hooks(self, subs: list[tuple[Unit, Recorder]], wants_trace: bool) -> tuple[
            Callable[..., Any], Callable[..., Any], Callable[..., Any]]:
        hooks = [call_recorders(u, r) for u, r in subs if u.calls]
        lines = self.lines
        if len(hooks) == 1 and not wants_trace:
            return hooks[0]
        if not hooks:
            def enter0(values: tuple[Any, ...]) -> Any:
                if wants_trace:
                    lines.enter()
                    return ()
                return None
            hooks_enter: Callable[..., Any] = enter0
        else:
            def hooks_enter(values: tuple[Any, ...]) -> Any:
                tokens = tuple(h[0](values) for h in hooks)
                if wants_trace:
                    lines.enter()
                return tokens

        def leave(tokens: Any, value: Any) -> None:
            if wants_trace:
                lines.leave()
            for h, t in zip(hooks, tokens, strict=False):
                if t is not None:
                    h[1](t, value)

        def fail(tokens: Any, exc: BaseException) -> None:
            if wants_trace:
                lines.leave()
            for h, t in zip(hooks, tokens, strict=False):
                if t is not None:
                    h[2](t, exc)

        return hooks_enter, leave, fail

    def _frame_handler(self, subs: list[tuple[Unit, Recorder]]) -> TraceFn:
        line_hooks = [(u.lines, line_recorder(u, r)) for u, r in subs if u.wants_lines]
        raise_hooks = [raise_recorder(u, r) for u, r in subs if u.exceptions]

        def local(frame: types.FrameType, event: str, arg: Any) -> Any:
            if event == "line":
                lineno = frame.f_lineno
                f_locals = None
                for wanted, hook in line_hooks:
                    if not wanted or lineno in wanted:
                        if f_locals is None:
                            f_locals = frame.f_locals
                        hook(lineno, f_locals)
            elif event == "exception" and raise_hooks:
                for hook in raise_hooks:
                    hook(frame.f_lineno, arg[1])
            return local

        return local

    # -- threads -------------------------------------------------------------------------------
    def add_thread(self, unit: ThreadUnit, recorder: Recorder) -> None:
        self.threads.add(unit, recorder)

    def remove_thread(self, unit: ThreadUnit, recorder: Recorder) -> None:
        self.threads.remove(unit, recorder)

    def active(self) -> bool:
        return bool(self.swaps) or self.threads.active()

    def shutdown(self) -> None:
        with self.lock:
            for code in list(self.subs):
                self.subs.pop(code)
                self._reinstall(code)
            self.threads.shutdown()
