"""Correlation of runtime and injected events (and of messages between threads/tasks).

Names load lazily: the message capture (``messages``) runs inside users' programs and must
not pull in the correlator with it.
"""

from __future__ import annotations

from importlib import import_module
from typing import Any

_EXPORTS = {
    "start_correlation_session": "api", "correlate_event": "api",
    "get_correlated_events": "api", "flush_pending_correlations": "api",
    "stop_correlation_session": "api", "correlate_session": "api",
    "correlate_by_timestamp": "api", "correlate_by_call_stack": "api",
    "correlate_by_thread": "api", "correlate_by_process": "api", "correlate_by_message": "api",
    "calculate_confidence": "confidence",
    "generate_correlation_id": "model", "Correlated": "model", "Pending": "model",
    "CorrelationConfig": "model", "CorrelationResult": "model", "STRATEGIES": "model",
    "CorrelationSession": "correlator", "Flushed": "correlator",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(import_module(f"{__name__}.{module}"), name)
