"""Put a hook on one function by swapping its ``__code__`` (the 3.11 way to keep hooks local).

``sys.settrace`` calls its global function on every frame of the whole program, so on Python
3.11 a function is traced by giving its function object a new code object: same name, same
parameters, same file and first line, whose body calls the original code (kept in a private
clone of the function) between an enter and a leave hook. Every reference to the function —
decorators, bound methods, registered callbacks — runs the hook from its next call, and the
rest of the program runs at full speed. ``restore`` puts the original code object back.

The hooks are stored as constants of the new code object, so nothing is added to the user's
module globals. Each wrapper line maps to the ``def`` line, and the wrapper's own frame is
removed from the traceback of any exception that passes through it.
"""

from __future__ import annotations

import ast
import inspect
import types
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

CO_VARARGS = inspect.CO_VARARGS
CO_VARKEYWORDS = inspect.CO_VARKEYWORDS
CO_GENERATOR = inspect.CO_GENERATOR
CO_COROUTINE = inspect.CO_COROUTINE
CO_ASYNC_GENERATOR = inspect.CO_ASYNC_GENERATOR
CO_ITERABLE_COROUTINE = inspect.CO_ITERABLE_COROUTINE

# Placeholders in the template, replaced by objects in co_consts. Builtins the wrapper uses
# are constants too, so a user module that shadows ``type`` or ``BaseException`` changes nothing.
_ENTER, _LEAVE, _FAIL, _CLONE = "@sl:enter", "@sl:leave", "@sl:fail", "@sl:clone"
_APPEND, _UID, _IDENT, _CLOCK = "@sl:append", "@sl:uid", "@sl:ident", "@sl:clock"
_SCALARS, _RENDER, _TYPE, _BASE = "@sl:scalars", "@sl:render", "@sl:type", "@sl:BaseException"


@dataclass
class Signature:
    params: list[str]  # positional (incl. positional-only) parameter names
    posonly: int
    star: str | None
    kwonly: list[str]
    dstar: str | None

    @classmethod
    def of(cls, code: types.CodeType) -> Signature:
        names = code.co_varnames
        n, kw = code.co_argcount, code.co_kwonlyargcount
        i = n + kw
        star = names[i] if code.co_flags & CO_VARARGS else None
        i += star is not None
        dstar = names[i] if code.co_flags & CO_VARKEYWORDS else None
        return cls(list(names[:n]), code.co_posonlyargcount, star, list(names[n:n + kw]), dstar)

    @property
    def all_names(self) -> tuple[str, ...]:
        return tuple(self.params + ([self.star] if self.star else []) + self.kwonly
                     + ([self.dstar] if self.dstar else []))

    def parameters_source(self) -> str:
        parts = list(self.params[: self.posonly])
        if self.posonly:
            parts.append("/")
        parts += self.params[self.posonly:]
        if self.star:
            parts.append("*" + self.star)
        elif self.kwonly:
            parts.append("*")
        parts += self.kwonly
        if self.dstar:
            parts.append("**" + self.dstar)
        return ", ".join(parts)

    def call_source(self) -> str:
        parts = list(self.params)
        if self.star:
            parts.append("*" + self.star)
        parts += [f"{k}={k}" for k in self.kwonly]
        if self.dstar:
            parts.append("**" + self.dstar)
        return ", ".join(parts)

    def values_source(self) -> str:
        names = self.all_names
        return "(" + "".join(f"{n}, " for n in names) + ")"


def can_swap(func: Any) -> str | None:
    """None if ``func``'s code can be swapped, else the reason it cannot."""
    if not isinstance(func, types.FunctionType):
        return f"{func!r} is not a Python function"
    if func.__code__.co_flags & CO_ASYNC_GENERATOR:
        return "async generator functions are not swapped on this Python"
    return None


def _unique(base: str, taken: set[str]) -> str:
    name = base
    while name in taken:
        name += "_"
    taken.add(name)
    return name


def _template(code: types.CodeType, sig: Signature, inline_leave: bool) -> str:
    taken = set(code.co_varnames) | set(code.co_freevars) | set(code.co_cellvars)
    k, r, e = (_unique(n, taken) for n in ("_sl_k", "_sl_r", "_sl_e"))
    flags = code.co_flags
    is_async = bool(flags & CO_COROUTINE)
    call = f"{_CLONE!r}({sig.call_source()})"
    if flags & CO_GENERATOR:
        call = f"(yield from {call})"
    elif is_async:
        call = f"(await {call})"
    if inline_leave:
        # The exit record is built right here: one Python call less on every traced call.
        leave = (f"{_APPEND!r}((1, {_UID!r}, {_IDENT!r}(), {_CLOCK!r}(), {r} if {_TYPE!r}({r}) "
                 f"in {_SCALARS!r} else {_RENDER!r}({r}), {k}))")
    else:
        leave = f"{_LEAVE!r}({k}, {r})"
    return (
        f"{'async ' if is_async else ''}def {code.co_name}({sig.parameters_source()}):\n"
        f"    {k} = {_ENTER!r}({sig.values_source()})\n"
        f"    try:\n"
        f"        {r} = {call}\n"
        f"    except {_BASE!r} as {e}:\n"
        f"        if {k} is not None:\n"
        f"            {_FAIL!r}({k}, {e})\n"
        f"        raise\n"
        f"    if {k} is not None:\n"
        f"        {leave}\n"
        f"    return {r}\n"
    )


def _compile_one_line(source: str, filename: str) -> types.CodeType:
    tree = ast.parse(source)
    for node in ast.walk(tree):
        # Every instruction of the wrapper reports the ``def`` line of the user's function.
        if hasattr(node, "lineno"):
            node.lineno = node.end_lineno = 1  # type: ignore[attr-defined]
    with warnings.catch_warnings():
        # The placeholders are str constants in call position: the compiler warns about that.
        warnings.simplefilter("ignore", SyntaxWarning)
        module = compile(tree, filename, "exec")
    return next(c for c in module.co_consts if isinstance(c, types.CodeType))


@dataclass
class Swap:
    """A function whose code is swapped; ``restore`` undoes it exactly."""

    function: types.FunctionType
    original: types.CodeType
    wrapper: types.CodeType
    clone: types.FunctionType

    def restore(self) -> None:
        if self.function.__code__ is self.wrapper:
            self.function.__code__ = self.original


def make_swap(
    func: types.FunctionType,
    enter: Callable[[tuple[Any, ...]], Any],
    leave: Callable[[Any, Any], None],
    fail: Callable[[Any, BaseException], None],
    original: types.CodeType | None = None,
    inline_leave: dict[str, Any] | None = None,
) -> Swap:
    """Build the wrapper code for ``func`` (its current code unless ``original`` is given).

    ``inline_leave`` (keys append, uid, ident, clock, scalars, render) builds the exit record
    inside the wrapper instead of calling ``leave``.
    """
    code = original or func.__code__
    sig = Signature.of(code)
    wrapper = _compile_one_line(_template(code, sig, inline_leave is not None), code.co_filename)
    # The clone runs the original code; defaults are bound by the wrapper, which has them.
    clone = types.FunctionType(code, func.__globals__, func.__name__, None, func.__closure__)
    clone.__qualname__ = func.__qualname__
    consts_for: dict[str, Any] = {_ENTER: enter, _LEAVE: leave, _FAIL: fail, _CLONE: clone,
                                  _TYPE: type, _BASE: BaseException}
    if inline_leave is not None:
        consts_for.update({_APPEND: inline_leave["append"], _UID: inline_leave["uid"],
                           _IDENT: inline_leave["ident"], _CLOCK: inline_leave["clock"],
                           _SCALARS: inline_leave["scalars"], _RENDER: inline_leave["render"]})
    consts = tuple(consts_for.get(c, c) if isinstance(c, str) else c for c in wrapper.co_consts)
    wrapper = wrapper.replace(
        co_consts=consts,
        co_firstlineno=code.co_firstlineno,
        co_name=code.co_name,
        co_qualname=code.co_qualname,
        co_freevars=code.co_freevars,  # the function's closure must still fit its code
    )
    return Swap(func, code, wrapper, clone)


def trim_wrapper_frame(exc: BaseException, wrapper: types.CodeType) -> None:
    """Drop the wrapper's own frame from ``exc``'s traceback (it re-raises with bare ``raise``)."""
    tb = exc.__traceback__
    if tb is not None and tb.tb_frame.f_code is wrapper:
        exc.__traceback__ = tb.tb_next
