"""Python 3.11: hook functions of the main module as soon as the program defines them.

A code object can only be swapped on its function object, which exists once the ``def`` has
run. The main module's top-level frame is traced line by line (and nothing else) until every
pending target has been found among its globals and classes; then tracing is switched off.
"""

from __future__ import annotations

import sys
import types
from typing import TYPE_CHECKING, Any

# The interpreter's own settrace, taken before a debugger (pydevd) wraps sys.settrace to warn
# whoever else calls it: we chain its trace function, we do not replace it.
_settrace = sys.settrace

if TYPE_CHECKING:  # the agent binds with its own (tinydb-free) tracepoint set
    from scopeline.engine.sessions import TraceSession


def functions_in(namespace: dict[str, Any], depth: int = 0) -> list[types.FunctionType]:
    out: list[types.FunctionType] = []
    for value in list(namespace.values()):
        if isinstance(value, staticmethod | classmethod):
            value = value.__func__
        if isinstance(value, types.FunctionType):
            out.append(value)
        elif isinstance(value, property):
            out += [f for f in (value.fget, value.fset, value.fdel)
                    if isinstance(f, types.FunctionType)]
        elif isinstance(value, type) and depth < 4:
            out += functions_in(dict(vars(value)), depth + 1)
    return out


class MainBinder:
    def __init__(self, session: TraceSession, module_code: types.CodeType) -> None:
        self.session = session
        self.module_code = module_code
        self.prev: Any = None

    def start(self) -> None:
        if not self.session.pending:
            return
        self.prev = sys.gettrace()
        _settrace(self._global)

    def _global(self, frame: types.FrameType, event: str, arg: Any) -> Any:
        if frame.f_code is self.module_code:
            return self._local
        return self.prev(frame, event, arg) if self.prev is not None else None

    def _local(self, frame: types.FrameType, event: str, arg: Any) -> Any:
        if event in ("line", "return"):
            self.scan(frame.f_globals)
            if not self.session.pending:
                _settrace(self.prev)
                return None
        return self._local

    def scan(self, namespace: dict[str, Any]) -> None:
        wanted = {id(u.code): u for u in self.session.pending}
        for func in functions_in(namespace):
            unit = wanted.get(id(func.__code__))
            if unit is not None:
                self.session.bind(unit, func)

    def stop(self) -> None:
        if sys.gettrace() is self._global:
            _settrace(self.prev)
