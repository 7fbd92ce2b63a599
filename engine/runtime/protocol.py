"""The one interface both runtime backends implement (as coverage.py does for its tracers)."""

from __future__ import annotations

from typing import Protocol

from scopeline.engine.runtime.recorder import Recorder
from scopeline.engine.runtime.units import ThreadUnit, Unit


class RuntimeBackend(Protocol):
    name: str  # "sys.monitoring" or "sys.settrace"
    reason: str  # why this backend was chosen, in words

    def add(self, unit: Unit, recorder: Recorder) -> None:
        """Start hooking ``unit.code`` for ``recorder`` (several sessions may share a code)."""

    def update(self, unit: Unit, recorder: Recorder) -> None:
        """Re-read a hooked unit's settings (which lines it watches)."""
        ...

    def remove(self, unit: Unit, recorder: Recorder) -> None:
        """Stop; when no session is left on a code object, nothing of ours stays on it."""

    def add_thread(self, unit: ThreadUnit, recorder: Recorder) -> None: ...

    def remove_thread(self, unit: ThreadUnit, recorder: Recorder) -> None: ...

    def active(self) -> bool:
        """True while any hook of this backend is installed."""

    def shutdown(self) -> None:
        """Remove everything (tool id freed, trace functions restored)."""
