"""Pick the runtime backend for this interpreter, and say why (as coverage.py's core does)."""

from __future__ import annotations

import sys

from scopeline.engine.runtime.protocol import RuntimeBackend

_backend: RuntimeBackend | None = None


def choose_backend_name() -> tuple[str, str]:
    if sys.version_info >= (3, 12) and hasattr(sys, "monitoring"):
        return "sys.monitoring", (
            f"Python {sys.version_info.major}.{sys.version_info.minor} has sys.monitoring "
            "(PEP 669): events are switched on per traced code object, so untraced code "
            "runs at full speed, and the debugger's tool id stays free for debugpy.")
    return "sys.settrace", (
        f"Python {sys.version_info.major}.{sys.version_info.minor} has no sys.monitoring: "
        "calls are hooked by swapping the traced functions' code objects, and sys.settrace "
        "is used only for line events while a traced function runs.")


def get_backend() -> RuntimeBackend:
    """The process-wide backend (one tool id, one set of hooks shared by all sessions)."""
    global _backend
    if _backend is None:
        name, reason = choose_backend_name()
        if name == "sys.monitoring":
            from scopeline.engine.runtime.monitoring_backend import MonitoringBackend

            _backend = MonitoringBackend(reason)
        else:
            from scopeline.engine.runtime.settrace_backend import SettraceBackend

            _backend = SettraceBackend(reason)
    return _backend
