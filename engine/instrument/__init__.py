"""Compile-time instrumentation: rewrite source with libcst, compile to original positions.

One transformer per concern (function, line, variable, expression, custom); the generic hooks
(InstrumentHooks) are the only thing injected code calls, through the "@sl:hooks" constant.

Names load on first use: the agent inside a debuggee imports ``compiler`` (binding hooks into
code the engine instrumented) without pulling in libcst.
"""

from __future__ import annotations

import importlib
from typing import Any

_EXPORTS = {
    "GRANULARITIES": "plan",
    "PLACEHOLDER": "plan",
    "InjectionPlan": "plan",
    "Site": "plan",
    "InstrumentHooks": "hooks",
    "RecordingHooks": "hooks",
    "Instrumented": "compiler",
    "bind_hooks": "compiler",
    "instrument_source": "instrumenter",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f"{__name__}.{module}"), name)
    globals()[name] = value
    return value
