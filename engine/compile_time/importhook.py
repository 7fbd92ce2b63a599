"""Instrument targeted modules as they are imported; every other import is left alone.

A meta-path finder that answers only for module names a compile-time session planned, and
otherwise returns None, so the normal machinery handles everything else untouched. For a
planned module it finds the real spec, keeps the real loader, and replaces only
``exec_module``: the module runs the instrumented code object instead of its own.
"""

from __future__ import annotations

import importlib.abc
import importlib.machinery
import sys
import threading
import types
from collections.abc import Callable, Sequence
from typing import Any

# module name -> callable(module, source, filename) -> code object to run instead
Instrumenter = Callable[[types.ModuleType, str, str], types.CodeType]


class _InstrumentingLoader(importlib.abc.Loader):
    def __init__(self, real: Any, instrument: Instrumenter) -> None:
        self.real = real
        self.instrument = instrument

    def create_module(self, spec: importlib.machinery.ModuleSpec) -> types.ModuleType | None:
        return self.real.create_module(spec)

    def exec_module(self, module: types.ModuleType) -> None:
        spec = module.__spec__
        assert spec is not None and spec.origin is not None
        source = self.real.get_source(spec.name)
        code = self.instrument(module, source, spec.origin)
        exec(code, module.__dict__)

    def __getattr__(self, name: str) -> Any:  # get_source, get_code, is_package, resources...
        return getattr(self.real, name)


def spec_from_other_finders(me: object, busy: threading.local, fullname: str,
                            path: Sequence[str] | None, target: types.ModuleType | None,
                            ) -> importlib.machinery.ModuleSpec | None:
    """The spec the import system would find without ``me`` (re-entry guarded by ``busy``:
    a finder may import while it searches)."""
    if getattr(busy, "active", False):
        return None
    busy.active = True
    try:
        for finder in sys.meta_path:
            if finder is me or not hasattr(finder, "find_spec"):
                continue
            spec = finder.find_spec(fullname, path, target)
            if spec is not None:
                return spec
        return None
    finally:
        busy.active = False


class ImportHook(importlib.abc.MetaPathFinder):
    def __init__(self) -> None:
        self.planned: dict[str, Instrumenter] = {}
        self.lock = threading.Lock()
        self._busy = threading.local()

    def plan(self, module_name: str, instrument: Instrumenter) -> None:
        with self.lock:
            self.planned[module_name] = instrument
            if self not in sys.meta_path:
                sys.meta_path.insert(0, self)

    def unplan(self, module_name: str) -> None:
        with self.lock:
            self.planned.pop(module_name, None)
            if not self.planned and self in sys.meta_path:
                sys.meta_path.remove(self)

    def find_spec(self, fullname: str, path: Sequence[str] | None = None,
                  target: types.ModuleType | None = None) -> importlib.machinery.ModuleSpec | None:
        instrument = self.planned.get(fullname)
        if instrument is None:
            return None
        spec = spec_from_other_finders(self, self._busy, fullname, path, target)
        if spec is None:
            return None
        real = spec.loader
        if real is None or not hasattr(real, "get_source") or real.get_source(fullname) is None:
            return spec  # no source to instrument: imported as usual (the session says why)
        spec.loader = _InstrumentingLoader(real, instrument)
        return spec


import_hook = ImportHook()
