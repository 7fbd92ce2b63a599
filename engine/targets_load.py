"""Finding and loading the module a target names, by dotted name or by file path.

Standard library only: this runs inside users' programs.
"""

from __future__ import annotations

import hashlib
import importlib
import importlib.machinery
import importlib.util
import os
import pkgutil
import re
import sys
import threading
import types
from collections import OrderedDict
from dataclasses import dataclass, field
from typing import Any

from .errors import ScopelineError
from .targets_code import close_names, same_file, target_invalid

_EXTENSION_SUFFIXES = tuple(importlib.machinery.EXTENSION_SUFFIXES)


@dataclass
class ModuleView:
    """The module a target lives in: live when imported, else only its compiled source."""

    name: str
    file: str | None
    module: types.ModuleType | None = None
    _code: types.CodeType | None = field(default=None, repr=False)

    def source_code(self) -> types.CodeType:
        """The module compiled from its file (no execution); raises target_invalid if it can't."""
        if self._code is None:
            if not self.file:
                raise target_invalid(f"module {self.name!r} has no source file to read")
            self._code = compiled_source(self.file)
        return self._code


# Compiled module code by file, valid while the file's (mtime_ns, size) stay the same:
# resolving a target by text in a module not imported compiles its file, and a 5,000-line
# file takes ~70 ms to compile, once per resolve without this.
_COMPILED: OrderedDict[str, tuple[tuple[int, int], types.CodeType | Exception]] = OrderedDict()
_COMPILED_SIZE = 64
_compiled_lock = threading.Lock()


def compiled_source(file: str) -> types.CodeType:
    """``file`` compiled (never run), cached by path, mtime and size; target_invalid if it
    cannot be read or compiled. The same code objects come back until the file changes."""
    try:
        st = os.stat(file)
        stamp = (st.st_mtime_ns, st.st_size)
        with _compiled_lock:
            cached = _COMPILED.get(file)
        if cached is None or cached[0] != stamp:
            try:
                with open(file, "rb") as fh:
                    result: types.CodeType | Exception = compile(
                        fh.read(), file, "exec", dont_inherit=True)
            except (SyntaxError, ValueError) as exc:
                result = exc  # remembered too: a broken file is not recompiled per resolve
            cached = (stamp, result)
            with _compiled_lock:
                _COMPILED[file] = cached
                _COMPILED.move_to_end(file)
                while len(_COMPILED) > _COMPILED_SIZE:
                    _COMPILED.popitem(last=False)
    except OSError as exc:
        cached = ((0, 0), exc)
    if isinstance(cached[1], Exception):
        exc = cached[1]
        raise target_invalid(
            f"cannot compile {file}: {type(exc).__name__}: {exc}", (),
            exception=type(exc).__name__, exception_message=str(exc),
        ) from exc
    return cached[1]


def view_of(module: types.ModuleType) -> ModuleView:
    return ModuleView(module.__name__, module_file(module), module)


def module_file(module: types.ModuleType) -> str | None:
    f = getattr(module, "__file__", None)
    return os.path.abspath(f) if isinstance(f, str) else None


def no_python_code(module: types.ModuleType | None, file: str | None) -> bool:
    """Built-in and C-extension modules: nothing a Python-level hook can see."""
    if module is not None and module.__name__ in sys.builtin_module_names:
        return True
    # no __file__ at all (exec'd, REPL __main__) is still Python: judged by __module__ later
    return bool(file) and file.endswith(_EXTENSION_SUFFIXES)


def mode_unavailable_module(name: str) -> ScopelineError:
    return ScopelineError(
        "mode_unavailable",
        f"module {name!r} is built-in or a compiled extension: it has no Python code to hook",
        details={"module": name},
        suggestions=[f"Trace the Python code that calls into {name} instead."],
    )


# --------------------------------------------------------------------------- by name


def load_by_name(name: str, *, load: bool = True, suffix: str = "") -> ModuleView:
    """Import `name` (or, with load=False, only locate its source). `suffix` (':func') is
    appended to suggested names so they are ready to paste."""
    live = sys.modules.get(name)
    if live is not None:
        return view_of(live)
    if not load:
        return _locate_without_import(name, suffix)
    try:
        module = importlib.import_module(name)
    except ModuleNotFoundError as exc:
        missing = exc.name or name
        if name == missing or name.startswith(missing + "."):
            raise module_not_found(name, missing, suffix) from exc
        raise import_failed(name, exc) from exc
    except (Exception, SystemExit) as exc:  # user code runs on import; anything can come out
        raise import_failed(name, exc) from exc
    return view_of(module)


def import_failed(name: str, exc: BaseException) -> ScopelineError:
    return target_invalid(
        f"importing {name} raised {type(exc).__name__}: {exc}", (),
        extra=[f"Run `python -c 'import {name}'` to see the full traceback."],
        module=name, exception=type(exc).__name__, exception_message=str(exc),
    )


def module_not_found(name: str, missing: str, suffix: str = "") -> ScopelineError:
    parent, _, leaf = missing.rpartition(".")
    rest = name[len(missing):]
    parent_mod = sys.modules.get(parent) if parent else None
    hints: list[str] = []
    if parent_mod is not None and not rest and not suffix and hasattr(parent_mod, leaf):
        hints.append(f"{parent}:{leaf}")  # 'pkg.mod.func' written for 'pkg.mod:func'
    hints += [f"{parent + '.' if parent else ''}{m}{rest}{suffix}"
              for m in close_names(leaf, _names_at_level(parent, parent_mod))]
    where = f" (while importing {name!r})" if missing != name else ""
    return target_invalid(f"no module named {missing!r}{where}", hints, module=name)


def _names_at_level(parent: str, parent_mod: types.ModuleType | None) -> set[str]:
    """Module names that exist next to the missing one: loaded ones and those on the path."""
    if parent:
        names = {k[len(parent) + 1:] for k in list(sys.modules) if k.startswith(parent + ".")}
        path = getattr(parent_mod, "__path__", None)
        if path is not None:
            names |= {m.name for m in pkgutil.iter_modules(path)}
    else:
        names = {k.partition(".")[0] for k in list(sys.modules)} | set(sys.builtin_module_names)
        names |= {m.name for m in pkgutil.iter_modules()}
    return {n for n in names if "." not in n}


def _locate_without_import(name: str, suffix: str) -> ModuleView:
    """Find a module's source with the path finders alone, so no package __init__ runs."""
    if name in sys.builtin_module_names:
        raise mode_unavailable_module(name)
    search: list[str] | None = None
    spec = None
    parts = name.split(".")
    for i in range(len(parts)):
        sub = ".".join(parts[: i + 1])
        loaded = sys.modules.get(sub)
        if loaded is not None and i < len(parts) - 1:
            search = list(getattr(loaded, "__path__", []) or [])
            continue
        spec = importlib.machinery.PathFinder.find_spec(sub, search)
        if spec is None:
            leaf, parent = parts[i], ".".join(parts[:i])
            pool: set[str] = {m.name for m in pkgutil.iter_modules(search)}
            if not parent:
                pool |= {k.partition(".")[0] for k in list(sys.modules)}
            rest = "." + ".".join(parts[i + 1:]) if i < len(parts) - 1 else ""
            hints = [f"{parent + '.' if parent else ''}{m}{rest}{suffix}"
                     for m in close_names(leaf, pool)]
            raise target_invalid(f"no module named {sub!r}", hints, module=name)
        search = list(spec.submodule_search_locations or [])
    assert spec is not None
    origin = spec.origin if spec.has_location else None
    if origin is None and spec.submodule_search_locations is not None:
        raise target_invalid(f"{name!r} is a namespace package: it has no code of its own", (),
                             module=name)
    if origin is None or not origin.endswith((".py", ".pyw")):
        raise mode_unavailable_module(name)
    return ModuleView(name, os.path.abspath(origin))


# --------------------------------------------------------------------------- by path


def check_path(path: str, cwd: str | None, suffix: str = "") -> str:
    """The absolute file a path target names; a package directory means its __init__.py."""
    base = cwd or os.getcwd()
    full = os.path.abspath(os.path.join(base, os.path.expanduser(path)))
    if os.path.isdir(full):
        init = os.path.join(full, "__init__.py")
        if os.path.isfile(init):
            return init
        raise target_invalid(f"{path} is a directory, not a Python file", (), path=full)
    if os.path.isfile(full):
        return full
    # climb to the deepest directory that exists and suggest names found there
    existing, missing = full, []
    while not os.path.isdir(existing):
        existing, tail = os.path.split(existing)
        missing.insert(0, tail)
        if not tail:
            break
    try:
        entries = os.listdir(existing)
    except OSError:
        entries = []
    hints = []
    for match in close_names(missing[0], entries) if missing else []:
        cand = os.path.join(existing, match, *missing[1:])
        shown = cand if os.path.isabs(path) else os.path.relpath(cand, base)
        hints.append(shown + suffix)
    raise target_invalid(f"no such file: {path}", hints, path=full)


def load_by_path(path: str, *, load: bool = True) -> ModuleView:
    """The module for a source file: already loaded (also as __main__), importable under its
    package name, or else imported under a stable name derived from its path."""
    loaded = loaded_module_for(path)
    if loaded is not None:
        return view_of(loaded)
    dotted = _dotted_name_for(path)
    if not load:
        return ModuleView(dotted or _synthetic_name(path), path)
    if dotted is not None:
        view = load_by_name(dotted)
        if same_file(view.file, path):
            return view
    name = _synthetic_name(path)
    spec = importlib.util.spec_from_file_location(
        name, path, loader=importlib.machinery.SourceFileLoader(name, path)
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module  # as the import system does, so the module can import itself
    try:
        spec.loader.exec_module(module)
    except (Exception, SystemExit) as exc:
        sys.modules.pop(name, None)
        raise import_failed(path, exc) from exc
    return view_of(module)


def loaded_module_for(path: str) -> types.ModuleType | None:
    """The loaded module whose file is ``path`` (``__main__`` first: a script run as a
    program is the live copy of its code), or None."""
    base = os.path.basename(path)
    matches = [m for m in _ModuleIndex.by_basename().get(base, ())
               if same_file(m.__file__, path)]
    main = [m for m in matches if m.__name__ == "__main__"]
    return (main or matches or [None])[0]


def _dotted_name_for(path: str) -> str | None:
    """Shortest import name reaching `path` from sys.path through regular packages only."""
    real = os.path.realpath(path)
    stem, ext = os.path.splitext(real)
    if ext not in (".py", ".pyw"):
        return None
    best: str | None = None
    for entry in list(sys.path):
        root = os.path.realpath(entry or os.getcwd())
        if not stem.startswith(root + os.sep):
            continue
        parts = os.path.relpath(stem, root).split(os.sep)
        if parts[-1] == "__init__":
            parts.pop()
        if not parts or not all(p.isidentifier() for p in parts):
            continue
        dirs = [os.path.join(root, *parts[: i + 1]) for i in range(len(parts) - 1)]
        if all(os.path.isfile(os.path.join(d, "__init__.py")) for d in dirs):
            name = ".".join(parts)
            if best is None or name.count(".") < best.count("."):
                best = name
    return best


def _synthetic_name(path: str) -> str:
    real = os.path.realpath(path)
    stem = re.sub(r"\W", "_", os.path.splitext(os.path.basename(real))[0])
    digest = hashlib.sha1(real.encode(), usedforsecurity=False).hexdigest()[:8]
    return f"_scopeline_file_{stem}_{digest}"


class _ModuleIndex:
    """Loaded modules by their file's base name, rebuilt when ``sys.modules`` changes.

    The change check compares the identities of the values of ``sys.modules`` with the last
    build's (one pass in C), so a module imported, removed or replaced since is seen; the
    index holds the modules it lists, so an identity cannot be reused while it is kept. A
    module that had no ``__file__`` when indexed (built-ins, a module being set up) is
    looked at again on each lookup, so a ``__file__`` given later is seen too.
    """

    _signature: tuple[int, ...] = ()
    _modules: list[Any] = []
    _fileless: list[dict[str, Any]] = []  # the dicts of modules indexed without a __file__
    _index: dict[str, list[Any]] = {}
    _lock = threading.Lock()

    @classmethod
    def by_basename(cls) -> dict[str, list[Any]]:
        modules = list(sys.modules.values())
        signature = tuple(map(id, modules))
        with cls._lock:
            if signature == cls._signature and not any(
                    isinstance(d.get("__file__"), str) for d in cls._fileless):
                return cls._index
        index: dict[str, list[Any]] = {}
        fileless = []
        for m in modules:
            f = _file_attr(m)
            if isinstance(f, str):
                index.setdefault(os.path.basename(f), []).append(m)
            elif type(m) is types.ModuleType:
                fileless.append(m.__dict__)
        with cls._lock:
            cls._signature, cls._modules, cls._index = signature, modules, index
            cls._fileless = fileless
        return index


def _file_attr(m: Any) -> Any:
    # a module's own dict first: no AttributeError raised and caught for the many without one
    if type(m) is types.ModuleType:
        return m.__dict__.get("__file__")
    return getattr(m, "__file__", None)
