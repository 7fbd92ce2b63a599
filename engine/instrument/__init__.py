"""Compile-time instrumentation: rewrite source with libcst, compile to original positions.

One transformer per concern (function, line, variable, expression, custom); the generic hooks
(InstrumentHooks) are the only thing injected code calls, through the "@sl:hooks" constant.
"""

from __future__ import annotations

from .compiler import Instrumented, bind_hooks
from .hooks import InstrumentHooks, RecordingHooks
from .instrumenter import instrument_source
from .plan import GRANULARITIES, PLACEHOLDER, InjectionPlan, Site

__all__ = [
    "GRANULARITIES",
    "PLACEHOLDER",
    "InjectionPlan",
    "InstrumentHooks",
    "Instrumented",
    "RecordingHooks",
    "Site",
    "bind_hooks",
    "instrument_source",
]
