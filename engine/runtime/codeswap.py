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
_TYPE, _BASE, _LEN = "@sl:type", "@sl:BaseException", "@sl:len"
# the fast template's: the session's recorder, its queue, and what a record is made of
_REC, _Q, _NAMES, _UID = "@sl:rec", "@sl:queue", "@sl:names", "@sl:uid"
_IDENT, _CLOCK, _SCALARS, _CAPTURE, _RENDER = (
    "@sl:ident", "@sl:clock", "@sl:scalars", "@sl:capture", "@sl:render")


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
        """Every parameter, in ``co_varnames`` order (keyword-only before ``*args``): the
        order a frame's locals have at its start."""
        return tuple(self.params + self.kwonly + ([self.star] if self.star else [])
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


def _call_expression(code: types.CodeType, sig: Signature) -> str:
    call = f"{_CLONE!r}({sig.call_source()})"
    if code.co_flags & CO_GENERATOR:
        return f"(yield from {call})"
    if code.co_flags & CO_COROUTINE:
        return f"(await {call})"
    return call


def _names(code: types.CodeType, *bases: str) -> list[str]:
    taken = set(code.co_varnames) | set(code.co_freevars) | set(code.co_cellvars)
    return [_unique(n, taken) for n in bases]


def _call_and_exit(code: types.CodeType, sig: Signature, k: str, r: str, e: str,
                   on_exit: list[str]) -> str:
    """The part both templates share: call the original code, report a propagating
    exception (bare ``raise``: no traceback entry), run ``on_exit`` lines, return."""
    exit_lines = "".join(f"        {line}\n" for line in on_exit)
    return (
        f"    try:\n"
        f"        {r} = {_call_expression(code, sig)}\n"
        f"    except {_BASE!r} as {e}:\n"
        f"        if {k} is not None:\n"
        f"            {_FAIL!r}({k}, {e})\n"
        f"        raise\n"
        f"    if {k} is not None:\n"
        f"{exit_lines}"
        f"    return {r}\n"
    )


def _template(code: types.CodeType, sig: Signature) -> str:
    """The general wrapper: enter/leave/fail hooks (several sessions, line tracing, ...)."""
    k, r, e = _names(code, "_sl_k", "_sl_r", "_sl_e")
    return (
        f"{'async ' if code.co_flags & CO_COROUTINE else ''}"
        f"def {code.co_name}({sig.parameters_source()}):\n"
        f"    {k} = {_ENTER!r}({sig.values_source()})\n"
        + _call_and_exit(code, sig, k, r, e, [f"{_LEAVE!r}({k}, {r})"])
    )


def _template_fast(code: types.CodeType, sig: Signature) -> str:
    """One session, calls only: the hooks' common case is written out in the wrapper itself.

    Entry: when the recorder is open (no sampling, not held), the thread is known and the
    buffer has room, the entry record is built and appended here; anything else goes to the
    general ``enter``. Exit: a call that recorded nothing else in between (a leaf call, the
    hot case) replaces its entry record by one CALL record, still the last in the queue. The
    check and the store are adjacent instructions that never release the GIL, so no other
    thread's record can be overwritten.
    """
    k, r, e, t, v, x, q = _names(code, "_sl_k", "_sl_r", "_sl_e", "_sl_t", "_sl_v", "_sl_x",
                                 "_sl_q")
    values = sig.all_names
    all_scalar = " and ".join(f"{_TYPE!r}({n}) in {_SCALARS!r}" for n in values) or "True"
    ret = f"{r} if {_TYPE!r}({r}) in {_SCALARS!r} else {_RENDER!r}({r})"
    return (
        f"{'async ' if code.co_flags & CO_COROUTINE else ''}"
        f"def {code.co_name}({sig.parameters_source()}):\n"
        # The queue goes through a local: the compiler would fold '@sl:queue'[-1] into 'e'.
        f"    {k} = None\n"
        f"    {q} = {_Q!r}\n"
        f"    if {_REC!r}.fast:\n"
        f"        {t} = {_IDENT!r}()\n"
        f"        if {t} in {_NAMES!r} and {_LEN!r}({q}) < {_REC!r}.capacity:\n"
        f"            {v} = {sig.values_source()}\n"
        f"            if not ({all_scalar}):\n"
        f"                {v} = {_CAPTURE!r}({v})\n"
        f"            {k} = (0, {_UID!r}, {t}, {_CLOCK!r}(), {v})\n"
        f"            {q}.append({k})\n"
        f"        else:\n"
        f"            {k} = {_ENTER!r}({sig.values_source()})\n"
        f"    else:\n"
        f"        {k} = {_ENTER!r}({sig.values_source()})\n"
        + _call_and_exit(code, sig, k, r, e, [
            f"{x} = (7, {_UID!r}, {k}[2], {k}[3], {k}[4], {_CLOCK!r}(), {ret})",
            f"if {q} and {q}[-1] is {k}:",
            f"    {q}[-1] = {x}",
            "else:",
            f"    {q}.append((1, {_UID!r}, {x}[2], {x}[5], {x}[6], {x}[3]))",
        ])
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


# id(wrapper code) -> the original code it stands for, while the swap is installed: whoever
# resolves a traced function's target (a second session, say) must find the user's code.
_originals: dict[int, types.CodeType] = {}


def original_code(code: types.CodeType) -> types.CodeType:
    """The user's code object behind our wrappers and injected code (or ``code`` itself):
    in a hybrid session on 3.11 a wrapper stands for injected code standing for the user's."""
    while id(code) in _originals:
        code = _originals[id(code)]
    return code


def register_stand_in(stand_in: types.CodeType, original: types.CodeType) -> None:
    """``stand_in`` (a wrapper, or instrumented code) now runs in place of ``original``."""
    _originals[id(stand_in)] = original


def is_stand_in(code: types.CodeType) -> bool:
    return id(code) in _originals


def unregister_stand_in(stand_in: types.CodeType) -> None:
    _originals.pop(id(stand_in), None)


@dataclass
class Swap:
    """A function whose code is swapped; ``install``/``restore`` do and undo it exactly."""

    function: types.FunctionType
    original: types.CodeType
    wrapper: types.CodeType
    clone: types.FunctionType

    def install(self) -> None:
        register_stand_in(self.wrapper, self.original)
        self.function.__code__ = self.wrapper

    def restore(self) -> None:
        if self.function.__code__ is self.wrapper:
            self.function.__code__ = self.original
        unregister_stand_in(self.wrapper)


def make_swap(
    func: types.FunctionType,
    enter: Callable[[tuple[Any, ...]], Any],
    leave: Callable[[Any, Any], None],
    fail: Callable[[Any, BaseException], None],
    original: types.CodeType | None = None,
    fast: dict[str, Any] | None = None,
) -> Swap:
    """Build the wrapper code for ``func`` (its current code unless ``original`` is given).

    ``fast`` (keys rec, queue, names, uid, ident, clock, scalars, capture, render) selects the
    template with the single session's common case written out (see ``_template_fast``).
    """
    code = original or func.__code__
    sig = Signature.of(code)
    source = _template_fast(code, sig) if fast is not None else _template(code, sig)
    wrapper = _compile_one_line(source, code.co_filename)
    # The clone runs the original code; defaults are bound by the wrapper, which has them.
    clone = types.FunctionType(code, func.__globals__, func.__name__, None, func.__closure__)
    clone.__qualname__ = func.__qualname__
    consts_for: dict[str, Any] = {_ENTER: enter, _LEAVE: leave, _FAIL: fail, _CLONE: clone,
                                  _TYPE: type, _BASE: BaseException, _LEN: len}
    if fast is not None:
        consts_for.update({_REC: fast["rec"], _Q: fast["queue"], _NAMES: fast["names"],
                           _UID: fast["uid"], _IDENT: fast["ident"], _CLOCK: fast["clock"],
                           _SCALARS: fast["scalars"], _CAPTURE: fast["capture"],
                           _RENDER: fast["render"]})
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
