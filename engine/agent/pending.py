"""Tracepoints in modules the program has not imported yet: placed right after the import.

A meta-path finder answers for no module itself. While files are waiting it asks the other
finders for each import's spec; when the spec's file is a waiting one, the real loader is kept
and only ``exec_module`` is wrapped, so the module runs as usual and the tracepoints go on its
functions before the importer gets it back. With nothing waiting the finder leaves
``sys.meta_path``: imports cost nothing extra.
"""

from __future__ import annotations

import importlib.abc
import importlib.machinery
import os
import sys
import threading
import types
from collections.abc import Callable, Sequence
from typing import Any

from scopeline.engine.compile_time.importhook import spec_from_other_finders

AfterImport = Callable[[], None]


class _CallbackLoader(importlib.abc.Loader):
    def __init__(self, real: Any, after: AfterImport) -> None:
        self.real = real
        self.after = after

    def create_module(self, spec: importlib.machinery.ModuleSpec) -> types.ModuleType | None:
        return self.real.create_module(spec)

    def exec_module(self, module: types.ModuleType) -> None:
        self.real.exec_module(module)
        try:
            self.after()
        except Exception:  # placing a tracepoint never breaks the user's import
            pass

    def __getattr__(self, name: str) -> Any:  # get_source, is_package, resources...
        return getattr(self.real, name)


class ImportWatch(importlib.abc.MetaPathFinder):
    def __init__(self) -> None:
        self.waiting: dict[str, AfterImport] = {}  # real path -> callback
        self.lock = threading.Lock()
        self._busy = threading.local()

    def watch(self, file: str, after: AfterImport) -> None:
        with self.lock:
            self.waiting[os.path.realpath(file)] = after
            if self not in sys.meta_path:
                sys.meta_path.insert(0, self)

    def forget(self, file: str) -> None:
        with self.lock:
            self.waiting.pop(os.path.realpath(file), None)
            if not self.waiting and self in sys.meta_path:
                sys.meta_path.remove(self)

    def find_spec(self, fullname: str, path: Sequence[str] | None = None,
                  target: types.ModuleType | None = None) -> importlib.machinery.ModuleSpec | None:
        if not self.waiting:
            return None
        spec = spec_from_other_finders(self, self._busy, fullname, path, target)
        if spec is None:
            return None
        origin = spec.origin and os.path.realpath(spec.origin)
        with self.lock:
            after = self.waiting.pop(origin, None) if origin else None
            if not self.waiting and self in sys.meta_path:
                sys.meta_path.remove(self)
        if after is None or spec.loader is None:
            return spec
        spec.loader = _CallbackLoader(spec.loader, after)
        return spec
