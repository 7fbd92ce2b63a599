"""Put instrumented code into functions that are already loaded, and take it out again.

A function object keeps its identity; only its ``__code__`` changes, so every reference held
elsewhere (a decorator's wrapped function, a bound method, a registered callback) runs the
instrumented code from its next call, and a loop already running picks it up at its next call.
``restore`` puts back the very code object that was there (identity, not equality).
"""

from __future__ import annotations

import types
from collections.abc import Iterator
from dataclasses import dataclass

from scopeline.engine.errors import ScopelineError
from scopeline.engine.runtime import codeswap


def nested_codes(code: types.CodeType) -> Iterator[types.CodeType]:
    """``code`` and every code object defined inside it, depth first."""
    yield code
    for const in code.co_consts:
        if isinstance(const, types.CodeType):
            yield from nested_codes(const)


def codes_by_qualname(module_code: types.CodeType) -> dict[tuple[str, int], types.CodeType]:
    """Function code objects of a compiled module, by (qualified name, first line)."""
    return {(c.co_qualname, c.co_firstlineno): c for c in nested_codes(module_code)
            if c is not module_code}


@dataclass
class InjectedSwap:
    function: types.FunctionType
    previous: types.CodeType  # what __code__ was: the user's code, or a runtime wrapper
    instrumented: types.CodeType
    original: types.CodeType  # the user's code behind it

    def install(self) -> None:
        if self.function.__code__ is self.previous:
            self.function.__code__ = self.instrumented
        # else a runtime wrapper (hybrid, 3.11) already stands there, running the new code
        codeswap.register_stand_in(self.instrumented, self.original)

    def restore(self) -> None:
        if self.function.__code__ is self.instrumented:
            # Back to the wrapper that stood there if it is still in use (another session's),
            # else to the user's own code (a wrapper this session retired is gone).
            live = codeswap.is_stand_in(self.previous)
            self.function.__code__ = self.previous if live else self.original
        codeswap.unregister_stand_in(self.instrumented)


def prepare_swap(function: types.FunctionType,
                 instrumented_module: types.CodeType) -> InjectedSwap:
    """The swap for one live function, found in the instrumented module by name and line."""
    original = codeswap.original_code(function.__code__)
    found = codes_by_qualname(instrumented_module).get(
        (original.co_qualname, original.co_firstlineno))
    if found is None:
        raise ScopelineError("ast_transformation_failed",
                             f"{original.co_qualname} (line {original.co_firstlineno}) is not in "
                             "the instrumented source: the file changed since it was loaded",
                             suggestions=["Reload the module, or trace it with mode='runtime'."])
    if found.co_freevars != original.co_freevars:
        raise ScopelineError("ast_transformation_failed",
                             f"{original.co_qualname}: the instrumented code has other free "
                             "variables than the live function's closure",
                             details={"live": original.co_freevars, "new": found.co_freevars})
    return InjectedSwap(function, function.__code__, found, original)
