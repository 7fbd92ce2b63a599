"""From a module, an object, a qualname or a file line to the code objects to trace ("units").

Standard library only: this runs inside users' programs.
"""

from __future__ import annotations

import functools
import inspect
import pkgutil
import sys
import types
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from .errors import ScopelineError
from .runtime.codeswap import original_code
from .targets_code import (
    NameMiss,
    close_names,
    expand_code,
    file_index,
    is_code_line,
    is_function_code,
    nested_defs,
    same_file,
    target_invalid,
    unwrap_chain,
    walk_code,
)
from .targets_load import ModuleView, mode_unavailable_module, module_file, no_python_code, view_of

CodeType = types.CodeType
_MISSING = object()

# Callables implemented in C: no code object, so no Python-level hook can see them run.
_NATIVE = (
    types.BuiltinFunctionType, types.MethodDescriptorType, types.WrapperDescriptorType,
    types.MethodWrapperType, types.ClassMethodDescriptorType, types.GetSetDescriptorType,
    types.MemberDescriptorType,
)

# Wrappers that keep the real function in `.func`.
_HAS_FUNC = (functools.partial, functools.partialmethod, functools.cached_property)


@dataclass
class Unit:
    """One code object to trace, with what is known about it."""

    code: CodeType
    function: Any = None
    wrapped: tuple[Any, ...] = ()
    warnings: tuple[str, ...] = ()
    line: int | None = None


# --------------------------------------------------------------------------- modules


def units_of_module(view: ModuleView, *, allow_empty: bool = False) -> list[Unit]:
    """Every function defined in the module: functions, methods (nested classes too), static and
    class methods, property accessors, module-level lambdas, and defs nested in those."""
    if view.module is not None:
        if no_python_code(view.module, view.file):
            raise mode_unavailable_module(view.name)
        found: dict[CodeType, Unit] = {}
        seen: set[int] = set()
        for value in list(vars(view.module).values()):
            _collect(value, view.file, view.name, found, seen)
        units = list(found.values())
    else:
        units = [Unit(c) for c in nested_defs(view.source_code(), lambdas=True)]
    if not units and not allow_empty:
        subs = [f"{view.name}.{m.name}" for m in
                pkgutil.iter_modules(getattr(view.module, "__path__", None) or [])]
        raise target_invalid(f"module {view.name!r} defines no functions", subs, module=view.name)
    return units


def _collect(obj: Any, file: str | None, modname: str, found: dict[CodeType, Unit],
             seen: set[int]) -> None:
    if isinstance(obj, staticmethod | classmethod):
        obj = obj.__func__
    if isinstance(obj, functools.cached_property):
        obj = obj.func
    under = function_under_c_wrapper(obj)
    if under is not None:  # lru_cache / cache: the def is the function the wrapper keeps
        before = set(found)
        _collect(under, file, modname, found, seen)
        for code in found.keys() - before:
            unit = found[code]
            if unit.function is not None:
                found[code] = Unit(unit.code, unit.function, unit.wrapped,
                                   unit.warnings + (c_wrapper_note(obj, unit.function),))
        return
    if isinstance(obj, property):
        for accessor in (obj.fget, obj.fset, obj.fdel):
            if accessor is not None:
                _collect(accessor, file, modname, found, seen)
    elif isinstance(obj, types.FunctionType):
        # A functools.wraps wrapper claims this module but its code lives in the decorator's;
        # the function defined here is the one further down the __wrapped__ chain.
        chain = unwrap_chain(obj)
        for i, func in enumerate(chain):
            code = code_of(func)
            if isinstance(code, CodeType) and _defined_here(code, func, file, modname):
                if code not in found:
                    found[code] = Unit(code, func, tuple(chain[i + 1:]))
                    for inner in nested_defs(code):
                        found.setdefault(inner, Unit(inner))
                break
    elif isinstance(obj, type) and id(obj) not in seen and obj.__module__ == modname:
        seen.add(id(obj))  # class aliases and self-references are visited once
        for value in list(vars(obj).values()):
            _collect(value, file, modname, found, seen)


def _defined_here(code: CodeType, func: Any, file: str | None, modname: str) -> bool:
    if file:
        return same_file(code.co_filename, file)
    return getattr(func, "__module__", None) == modname


# --------------------------------------------------------------------------- objects


def units_of_object(obj: Any, name: str) -> list[Unit]:
    """The units of a module, class, function, method or descriptor; `name` is for messages."""
    while True:  # peel method and descriptor wrappers down to the function
        if isinstance(obj, types.MethodType | staticmethod | classmethod):
            obj = obj.__func__
        elif isinstance(obj, _HAS_FUNC):
            obj = obj.func
        else:
            break
    if isinstance(obj, types.ModuleType):
        return units_of_module(view_of(obj))
    if isinstance(obj, property):
        return [u for acc in (obj.fget, obj.fset, obj.fdel) if acc is not None
                for u in units_of_object(acc, name)]
    if isinstance(obj, CodeType):
        return [Unit(c) for c in expand_code(obj)]
    if isinstance(obj, type):
        return _units_of_class(obj, name)
    code = code_of(obj)
    under = function_under_c_wrapper(obj) if code is None else None
    if under is not None:
        note = c_wrapper_note(obj, under)
        return [Unit(u.code, u.function, u.wrapped, (*u.warnings, note))
                for u in units_of_object(under, name)]
    if isinstance(code, CodeType):
        chain = unwrap_chain(obj)
        warnings: tuple[str, ...] = ()
        qual = getattr(obj, "__qualname__", code.co_qualname)
        if len(chain) > 1 and code.co_qualname != qual:
            warnings = (f"{name} is a wrapper whose code is {code.co_qualname} "
                        f"({code.co_filename}:{code.co_firstlineno}); that code runs for every "
                        "function its decorator wraps. The wrapped functions are in `wrapped`.",)
        return [Unit(code, obj, tuple(chain[1:]), warnings)]
    if isinstance(obj, _NATIVE):
        raise no_python_code_error(obj, name)
    call = inspect.getattr_static(type(obj), "__call__", None)
    if isinstance(call, types.FunctionType):  # a callable instance: trace its __call__
        return units_of_object(call, name)
    if callable(obj):
        raise no_python_code_error(obj, name)
    raise target_invalid(f"{name} is not a function, class or module (it is of type "
                         f"{type(obj).__name__})", (), type=type(obj).__name__)


def _units_of_class(cls: type, name: str) -> list[Unit]:
    home = sys.modules.get(cls.__module__)
    file = module_file(home) if home is not None else None
    found: dict[CodeType, Unit] = {}
    seen: set[int] = set()
    if file and no_python_code(None, file) or cls.__module__ == "builtins":
        raise no_python_code_error(cls, name)
    seen.add(id(cls))
    for value in list(vars(cls).values()):
        _collect(value, file, cls.__module__, found, seen)
    if not found:
        raise target_invalid(f"class {name} defines no methods to trace", (), type=cls.__name__)
    return list(found.values())


def no_python_code_error(obj: Any, name: str) -> ScopelineError:
    return ScopelineError(
        "mode_unavailable",
        f"{name} is implemented in C ({type(obj).__name__}): there is no Python code to hook",
        details={"object": repr(obj)[:200], "type": type(obj).__name__},
        suggestions=["Trace the Python function that calls it instead."],
    )


# --------------------------------------------------------------------------- qualnames


def units_of_qualname(view: ModuleView, parts: list[str],
                      render: Callable[[list[str]], str]) -> list[Unit]:
    """Walk `parts` from the module: attributes first, then code objects after '<locals>'.
    `render(parts)` spells a candidate as target text for suggestions."""
    if view.module is None:  # source only: the qualname is found among compiled code objects
        try:
            codes = walk_code([view.source_code()], parts, 0, "")
        except NameMiss as miss:
            raise _miss_error(miss, parts, render) from None
        return [Unit(c) for code in codes for c in expand_code(code)]
    obj: Any = view.module
    for i, part in enumerate(parts):
        if part == "<locals>":
            base = _locals_base(obj)
            if base is None:
                raise _miss_error(NameMiss(i, part, [], "'<locals>' can only follow a function"),
                                  parts, render)
            try:
                codes = walk_code([base], parts, i, base.co_qualname)
            except NameMiss as miss:
                raise _miss_error(miss, parts, render) from None
            return [Unit(c) for code in codes for c in expand_code(code)]
        found = _member(obj, part)
        if found is _MISSING:
            hints = []
            base = _locals_base(obj)
            if base is not None and any(c.co_name == part for c in nested_defs(base)):
                hints.append(render([*parts[:i], "<locals>", *parts[i:]]))
            pool = _member_names(obj, part)
            hints += [render([*parts[:i], m, *parts[i + 1:]]) for m in close_names(part, pool)]
            owner = render(parts[:i]) if i else view.name
            raise target_invalid(f"{owner} has no attribute {part!r}", hints,
                                 module=view.name, missing=part)
        obj = found
    return units_of_object(obj, render(parts))


def _member(obj: Any, part: str) -> Any:
    if isinstance(obj, types.ModuleType):
        value = vars(obj).get(part, _MISSING)
        if value is _MISSING:
            try:  # a module-level __getattr__ may provide it
                value = getattr(obj, part)
            except Exception:
                return _MISSING
        return value
    if isinstance(obj, types.FunctionType | types.MethodType | staticmethod | classmethod):
        return _MISSING  # a function's inner names need '<locals>'
    # getattr_static: no property or __getattr__ of the user's runs just to look a name up
    return inspect.getattr_static(obj, part, _MISSING)


def _member_names(obj: Any, part: str) -> list[str]:
    if isinstance(obj, types.ModuleType):
        names = list(vars(obj))
    elif isinstance(obj, types.FunctionType | types.MethodType | staticmethod | classmethod):
        names = []
    else:
        names = dir(obj)
    keep_dunder = part.startswith("__")
    return [n for n in names if keep_dunder or not n.startswith("__")]


def _locals_base(obj: Any) -> CodeType | None:
    """The code whose locals '<locals>' refers to: the def itself, not a wraps() wrapper."""
    while isinstance(obj, types.MethodType | staticmethod | classmethod):
        obj = obj.__func__
    obj = function_under_c_wrapper(obj) or obj
    if isinstance(obj, CodeType):
        return obj if is_function_code(obj) else None
    if not isinstance(obj, types.FunctionType):
        return None
    codes = [code_of(f) for f in unwrap_chain(obj) if isinstance(code_of(f), CodeType)]
    for code in codes:
        if code.co_qualname == obj.__qualname__:
            return code
    return codes[-1] if codes else None


def _miss_error(miss: NameMiss, parts: list[str], render: Callable[[list[str]], str]
                ) -> ScopelineError:
    hints = [render([*parts[: miss.index], c, *parts[miss.index + 1:]]) for c in miss.candidates]
    return target_invalid(f"{render(parts)}: {miss.why or f'no {miss.part!r}'}", hints,
                          missing=miss.part)


# --------------------------------------------------------------------------- file lines


def unit_for_line(view: ModuleView, path: str, line: int,
                  render_line: Callable[[int], str]) -> Unit:
    """The innermost def containing `line` of `path` (lambdas belong to their def)."""
    index = file_index(path)
    if index is None:
        raise target_invalid(f"cannot read or parse {path}", (), path=path)
    found = index.innermost_def(line)
    if found is None:
        near = index.nearest_defs(line)
        ranges = [{"qualname": d.qualname, "first_line": d.def_line, "last_line": d.last_line}
                  for d in near]
        where = (f"past the end of {path} ({len(index.lines)} lines)"
                 if line > len(index.lines) else f"not inside any function in {path}")
        listing = ", ".join(f"{d.qualname} (lines {d.def_line}-{d.last_line})" for d in near)
        raise target_invalid(
            f"line {line} is {where}" + (f"; nearest functions: {listing}" if near else ""),
            [render_line(d.def_line) for d in near], path=path, line=line, ranges=ranges,
        )
    warnings: list[str] = []
    at = line
    if not is_code_line(index, line):  # blank/comment: move to the next line with code
        after = [n for n in range(line + 1, found.last_line + 1) if is_code_line(index, n)]
        before = [n for n in range(line - 1, found.def_line - 1, -1) if is_code_line(index, n)]
        at = (after or before or [line])[0]
        warnings.append(f"line {line} has no code; the tracepoint is on line {at}")
    unit = None
    if view.module is not None:
        for u in units_of_module(view, allow_empty=True):
            if u.code.co_qualname == found.qualname and u.code.co_firstlineno == found.first_line:
                unit = u
                break
        if unit is None:
            warnings.append(f"{found.qualname} is not among the loaded module's objects; using "
                            "its code compiled from the file (equal by value to the live one)")
    if unit is None:
        for code in nested_defs(view.source_code(), lambdas=True):
            if code.co_qualname == found.qualname and code.co_firstlineno == found.first_line:
                unit = Unit(code)
                break
    if unit is None:
        raise target_invalid(f"no code object for {found.qualname} at {path}:{found.def_line}",
                             (), path=path, line=line)
    return Unit(unit.code, unit.function, unit.wrapped, tuple(warnings), at)


def function_under_c_wrapper(obj: Any) -> types.FunctionType | None:
    """The Python function kept by a callable that has no code of its own — a C wrapper set
    up with functools.update_wrapper, such as functools.lru_cache and functools.cache — found
    through ``__wrapped__`` in the wrapper's own ``__dict__`` (read without running any
    ``__getattr__`` of the user's); None for anything else."""
    for _ in range(16):  # wrappers of wrappers; a cycle ends here
        if isinstance(obj, type | types.FunctionType | types.ModuleType | CodeType) or \
                getattr(obj, "__code__", None) is not None or not callable(obj):
            return None
        try:
            own = object.__getattribute__(obj, "__dict__")
        except AttributeError:
            return None
        inner = own.get("__wrapped__") if isinstance(own, dict) else None
        if inner is None:
            return None
        if isinstance(inner, types.FunctionType):
            return inner
        obj = inner
    return None


def c_wrapper_note(wrapper: Any, func: Any) -> str:
    kind = type(wrapper).__name__
    return (f"{func.__module__}:{func.__qualname__} is wrapped by {kind} (C code): its Python "
            f"function is traced, so calls the {kind} answers itself (a cache hit) do not run "
            "the code and are not seen")


def code_of(func: Any) -> CodeType | None:
    """A function's code, seen through Scopeline's own wrapper if it is traced already."""
    code = getattr(func, "__code__", None)
    return original_code(code) if isinstance(code, CodeType) else None
