"""Targets (INTERFACES §1): what to trace, parsed from text or taken from Python objects, and
resolved to the code objects (or threads) a tracer hooks.

Text forms::

    pkg.mod                       every function defined in the module
    pkg.mod:func                  one function          pkg.mod:Class.method
    pkg.mod:outer.<locals>.inner  a nested function (code object only)
    pkg.mod:func/2                with an arity check: co_argcount, as Python counts it, so
                                  `self`/`cls` count and *args / keyword-only do not
    path/to/file.py:42            the innermost def containing line 42 (a tracepoint)
    path/to/file.py               a module given by path (also path/to/file.py:func)
    thread:NAME  thread:12345     a live thread, by name or ident/native id

A text ending in ``.py`` (before any ``:``) is always a path. Standard library only: this runs
inside users' programs.
"""

from __future__ import annotations

import os
import re
import threading
import types
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from .targets_code import close_names, last_line_of, target_invalid
from .targets_load import ModuleView, check_path, load_by_name, load_by_path, loaded_module_for
from .targets_units import Unit, unit_for_line, units_of_module, units_of_object, units_of_qualname

__all__ = ["ACCEPTED_FORMS", "KINDS", "ResolvedTarget", "TargetSpec", "parse_target", "resolve"]

KINDS = ("module", "function", "line", "file", "thread")
ACCEPTED_FORMS = (
    "pkg.mod", "pkg.mod:func", "pkg.mod:Class.method", "pkg.mod:outer.<locals>.inner",
    "pkg.mod:func/2", "path/to/file.py:42", "path/to/file.py", "thread:NAME", "thread:12345",
)


@dataclass(frozen=True)
class TargetSpec:
    """A parsed target. `module` or `path` says where; `qualname` what inside it."""

    kind: str  # one of KINDS; "file" is a module given by path
    module: str | None = None
    qualname: str | None = None
    arity: int | None = None
    path: str | None = None  # as written (relative paths resolve against resolve()'s cwd)
    line: int | None = None
    thread_name: str | None = None
    thread_id: int | None = None

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ValueError(f"TargetSpec kind must be one of {KINDS}, not {self.kind!r}")

    def __str__(self) -> str:
        """The text form, which parse_target reads back."""
        if self.kind == "thread":
            return f"thread:{self.thread_name if self.thread_name is not None else self.thread_id}"
        where = self.module if self.module is not None else self.path or ""
        if self.kind == "line":
            return f"{where}:{self.line}"
        if self.qualname:
            return f"{where}:{self.qualname}" + (f"/{self.arity}" if self.arity is not None else "")
        return where


@dataclass
class ResolvedTarget:
    """One traced unit: a function's code object (kind "function" or "line") or a thread."""

    spec: TargetSpec
    kind: str  # "function" | "line" | "thread"
    code: types.CodeType | None = None
    function: Callable[..., Any] | None = None  # None for nested defs known only by code
    module: str | None = None
    qualname: str | None = None
    file: str | None = None  # absolute path of the code's file
    first_line: int | None = None  # co_firstlineno: the first decorator's line if decorated
    last_line: int | None = None
    line: int | None = None  # line targets: the tracepoint's line
    thread: threading.Thread | None = None
    display: str = ""  # "pkg.mod:Class.method"
    arity: int | None = None  # co_argcount of `code`
    wrapped: tuple[Any, ...] = ()  # functools.wraps chain below `function`, outermost first
    warnings: tuple[str, ...] = ()

    @property
    def alive(self) -> bool | None:
        """For thread targets whether the thread runs now (False before start); else None."""
        return self.thread.is_alive() if self.thread is not None else None

    def __str__(self) -> str:
        return self.display


# --------------------------------------------------------------------------- parsing

_IDENT = r"[^\W\d]\w*"
_PART = rf"(?:{_IDENT}|<locals>|<lambda>)"
_TAIL = re.compile(rf"(?P<qualname>{_PART}(?:\.{_PART})*)(?:/(?P<arity>\d+))?")
_MODULE = re.compile(rf"(?P<module>{_IDENT}(?:\.{_IDENT})*)(?::(?P<tail>.*))?", re.S)
_PY_PATH = re.compile(r"\.pyw?(?=:|$)")


def parse_target(text: str) -> TargetSpec:
    """Parse a text target; malformed text raises ScopelineError('target_invalid')."""
    if not isinstance(text, str):
        raise TypeError(f"parse_target takes a str, not {type(text).__name__}")
    raw, text = text, text.strip()
    if not text:
        raise _malformed(raw, "it is empty")
    if text.startswith("thread:"):
        rest = text[len("thread:"):].strip()
        if not rest:
            raise _malformed(raw, "'thread:' needs a thread name or id")
        if rest.isdigit():
            return TargetSpec("thread", thread_id=int(rest))
        return TargetSpec("thread", thread_name=rest)
    if not _PY_PATH.search(text):
        m = _MODULE.fullmatch(text)
        if m:
            return _with_tail(raw, m["tail"], module=m["module"])
    if _PY_PATH.search(text) or "/" in text or "\\" in text:
        return _parse_path(raw, text)
    raise _malformed(raw, "it is neither a dotted module name, a file path nor thread:NAME")


def _parse_path(raw: str, text: str) -> TargetSpec:
    head, sep, tail = text.rpartition(":")
    is_drive = len(head) == 1 and head.isalpha()  # "C:\\x\\f.py" has no suffix
    if not sep or not head or is_drive:
        return TargetSpec("file", path=text)
    if tail.isdigit():
        if int(tail) < 1:
            raise _malformed(raw, "line numbers start at 1")
        return TargetSpec("line", path=head, line=int(tail))
    if _TAIL.fullmatch(tail) or _PY_PATH.search(head):
        return _with_tail(raw, tail, path=head)
    return TargetSpec("file", path=text)  # a ':' that is part of the file name


def _with_tail(raw: str, tail: str | None, *, module: str | None = None,
               path: str | None = None) -> TargetSpec:
    kind = "module" if module is not None else "file"
    if tail is None:
        return TargetSpec(kind, module=module, path=path)
    m = _TAIL.fullmatch(tail)
    if not m:
        raise _malformed(raw, f"{tail!r} is not a qualname like func, Class.method or func/2")
    parts = m["qualname"].split(".")
    if parts[0] == "<locals>" or parts[-1] == "<locals>" or "<locals>.<locals>" in m["qualname"]:
        raise _malformed(raw, "'<locals>' must sit between two names (outer.<locals>.inner)")
    arity = int(m["arity"]) if m["arity"] is not None else None
    return TargetSpec("function", module=module, qualname=m["qualname"], arity=arity, path=path)


def _malformed(text: str, why: str) -> Exception:
    forms = ", ".join(ACCEPTED_FORMS)
    return target_invalid(f"cannot parse target {text!r}: {why}", (),
                          extra=[f"Write the target in one of these forms: {forms}"],
                          text=text, accepted_forms=list(ACCEPTED_FORMS))


# --------------------------------------------------------------------------- resolving


def resolve(target: Any, *, cwd: str | None = None, load: bool = True) -> list[ResolvedTarget]:
    """Resolve text, a TargetSpec, a module/class/function/method/descriptor/code object, a
    threading.Thread, or a list of these, to traced units (deduplicated by code object).

    `cwd` anchors relative paths. With ``load=False`` no module is imported (nothing of the
    user's runs): modules not loaded yet are read from source, `function` is then None, and a
    decorated name means the def in the source rather than the decorator's wrapper.
    """
    out: dict[Any, ResolvedTarget] = {}
    for item in _flatten(target):
        for rt in _resolve_one(item, cwd, load):
            if rt.kind == "thread":
                key: Any = ("thread", rt.thread)
            else:  # by identity: equal code from two identical files stays apart
                assert rt.code is not None
                key = (rt.kind, id(rt.code), rt.line)
            out.setdefault(key, rt)
    return list(out.values())


def _flatten(target: Any) -> list[Any]:
    if isinstance(target, list | tuple | set | frozenset):
        return [leaf for item in target for leaf in _flatten(item)]
    return [target]


def _resolve_one(item: Any, cwd: str | None, load: bool) -> list[ResolvedTarget]:
    if isinstance(item, ResolvedTarget):
        return [item]
    if isinstance(item, str):
        item = parse_target(item)
    if isinstance(item, TargetSpec):
        return _resolve_spec(item, cwd, load)
    if isinstance(item, threading.Thread):
        return [_thread_target(TargetSpec("thread", thread_name=item.name, thread_id=item.ident),
                               item)]
    name = _object_name(item)
    spec = _object_spec(item)
    return [_build(spec, u, None) for u in units_of_object(item, name)]


def _resolve_spec(spec: TargetSpec, cwd: str | None, load: bool) -> list[ResolvedTarget]:
    if spec.kind == "thread":
        return _resolve_thread(spec)
    if spec.kind == "line":
        assert spec.path is not None and spec.line is not None
        path = check_path(spec.path, cwd, f":{spec.line}")
        view = load_by_path(path, load=load)
        unit = unit_for_line(view, path, spec.line, lambda n: f"{spec.path}:{n}")
        return [_build(spec, unit, view.name, kind="line")]
    view = _view_for(spec, cwd, load)
    if spec.kind in ("module", "file"):
        return [_build(spec, u, view.name) for u in units_of_module(view)]
    assert spec.qualname is not None
    where = spec.module if spec.module is not None else spec.path
    arity = f"/{spec.arity}" if spec.arity is not None else ""

    def render(parts: list[str]) -> str:
        return f"{where}:{'.'.join(parts)}{arity}"

    units = units_of_qualname(view, spec.qualname.split("."), render)
    if spec.arity is not None:
        units = _check_arity(spec, units, f"{where}:{spec.qualname}")
    return [_build(spec, u, view.name) for u in units]


def _view_for(spec: TargetSpec, cwd: str | None, load: bool) -> ModuleView:
    suffix = f":{spec.qualname}" if spec.qualname else ""
    if spec.module is not None:
        return load_by_name(spec.module, load=load, suffix=suffix)
    assert spec.path is not None
    return load_by_path(check_path(spec.path, cwd, suffix), load=load)


def _check_arity(spec: TargetSpec, units: list[Unit], base: str) -> list[Unit]:
    """Keep units whose positional parameter count (co_argcount) is spec.arity. A wraps()
    wrapper also matches through the function it wraps, whose signature the user sees."""
    def counts(u: Unit) -> list[int]:
        inner = [getattr(w, "__code__", None) for w in u.wrapped]
        return [u.code.co_argcount] + [c.co_argcount for c in inner
                                       if isinstance(c, types.CodeType)]

    kept = [u for u in units if spec.arity in counts(u)]
    if kept:
        return kept
    actual = sorted({counts(u)[-1] for u in units})
    said = " or ".join(str(n) for n in actual)
    raise target_invalid(
        f"{base} takes {said} positional parameter(s) (co_argcount, self/cls included), "
        f"not {spec.arity}", [f"{base}/{n}" for n in actual],
        expected_arity=spec.arity, actual_arity=actual[0] if len(actual) == 1 else actual,
    )


def _build(spec: TargetSpec, unit: Unit, module: str | None, kind: str = "function"
           ) -> ResolvedTarget:
    code, func = unit.code, unit.function
    file = code.co_filename if code.co_filename.startswith("<") else os.path.abspath(
        code.co_filename)
    mod = getattr(func, "__module__", None) or module or _module_of_file(file)
    qual = getattr(func, "__qualname__", None) or code.co_qualname
    display = f"{mod}:{qual}" if mod else qual
    if kind == "line":
        display += f" (line {unit.line})"
    return ResolvedTarget(
        spec=spec, kind=kind, code=code, function=func, module=mod, qualname=qual, file=file,
        first_line=code.co_firstlineno, last_line=last_line_of(code), line=unit.line,
        display=display, arity=code.co_argcount, wrapped=unit.wrapped, warnings=unit.warnings,
    )


def _module_of_file(file: str) -> str | None:
    module = loaded_module_for(file)
    return module.__name__ if module is not None else None


def _object_name(obj: Any) -> str:
    inner = obj.fget if isinstance(obj, property) else obj
    inner = getattr(inner, "__func__", getattr(inner, "func", inner))
    mod = getattr(inner, "__module__", None)
    qual = getattr(inner, "__qualname__", None) or getattr(inner, "__name__", None)
    if isinstance(obj, types.ModuleType):
        return obj.__name__
    if isinstance(obj, types.CodeType):
        return obj.co_qualname
    if isinstance(qual, str):
        return f"{mod}:{qual}" if isinstance(mod, str) else qual
    return repr(obj)[:80]


def _object_spec(obj: Any) -> TargetSpec:
    if isinstance(obj, types.ModuleType):
        return TargetSpec("module", module=obj.__name__)
    name = _object_name(obj)
    mod, _, qual = name.rpartition(":")
    return TargetSpec("function", module=mod or None, qualname=qual or None)


# --------------------------------------------------------------------------- threads


def _resolve_thread(spec: TargetSpec) -> list[ResolvedTarget]:
    threads = threading.enumerate()
    if spec.thread_id is not None:
        want = spec.thread_id
        found = [t for t in threads if want in (t.ident, t.native_id) or t.name == str(want)]
        asked = f"id {want}"
    else:
        found = [t for t in threads if t.name == spec.thread_name]
        asked = f"name {spec.thread_name!r}"
    if not found:
        names = [t.name for t in threads]
        query = spec.thread_name if spec.thread_name is not None else str(spec.thread_id)
        near = close_names(query, names) if spec.thread_name is not None else names[:10]
        raise target_invalid(
            f"no live thread with {asked}; live threads: {', '.join(names)}",
            [f"thread:{n}" for n in near], live_threads=names,
        )
    return [_thread_target(spec, t) for t in found]


def _thread_target(spec: TargetSpec, thread: threading.Thread) -> ResolvedTarget:
    if thread.ident is not None and not thread.is_alive():  # started and already finished
        names = [t.name for t in threading.enumerate()]
        raise target_invalid(f"thread {thread.name!r} has finished", [f"thread:{n}" for n in
                             close_names(thread.name, names)], live_threads=names)
    return ResolvedTarget(spec=spec, kind="thread", thread=thread, display=f"thread:{thread.name}")
