"""Loading a compile-time tracepoint plan the engine instrumented (standard library only).

The engine sends the file's instrumented module code (marshalled, hooks unbound). Here the
agent's hooks are bound in and each traced function's code is swapped for its instrumented
twin; the program's main module, not running yet, runs the instrumented module instead. Every
line keeps its original number, so tracebacks and the debugger's breakpoints are unchanged.
"""

from __future__ import annotations

import base64
import importlib.util
import marshal
import types
from collections.abc import Callable
from typing import Any

from scopeline.engine.compile_time.swap import InjectedSwap, prepare_swap
from scopeline.engine.errors import ScopelineError
from scopeline.engine.instrument.compiler import bind_hooks

LineHandler = Callable[[int, dict[str, Any]], None]


class TracepointHooks:
    """What the injected line probes call: ``line(site, locals())`` -> the tracepoints."""

    def __init__(self, sites: dict[int, int], on_line: LineHandler) -> None:
        self.sites = sites  # site id -> original line
        self.on_line = on_line

    def line(self, site: int, f_locals: dict[str, Any]) -> None:
        try:
            self.on_line(self.sites[site], f_locals)
        except Exception:  # a probe never raises into the user's program
            pass


def load(inject: dict[str, Any], on_line: LineHandler) -> types.CodeType:
    """The instrumented module code with ``on_line`` bound in (ScopelineError if unusable)."""
    if inject.get("magic") != importlib.util.MAGIC_NUMBER.hex():
        raise ScopelineError("mode_unavailable", "the engine compiled the injection for "
                             "another Python version than the program's",
                             suggestions=["Run the editor's engine on the program's Python, "
                                          "or use mode=runtime."])
    code = marshal.loads(base64.b64decode(inject["code"]))
    sites = {int(k): int(v) for k, v in inject["sites"].items()}
    return bind_hooks(code, TracepointHooks(sites, on_line))


def swap_in(functions: list[types.FunctionType], module_code: types.CodeType
            ) -> list[InjectedSwap]:
    """All or nothing: every function gets its instrumented code, or none does."""
    swaps = [prepare_swap(fn, module_code) for fn in functions]
    for swap in swaps:
        swap.install()
    return swaps

