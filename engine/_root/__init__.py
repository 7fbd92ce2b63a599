"""Scopeline: a tracing debugger for Python. ``import scopeline`` gives the unified API.

Names are loaded on first use so that importing this package inside a user's program stays
cheap and pulls in nothing beyond the standard library until a session is started.
"""

from __future__ import annotations

from typing import Any

__version__ = "0.1.0"

# name -> module (under scopeline.engine) that defines it
_EXPORTS = {
    "ScopelineError": "errors",
    "trace": "api",
    "stop_trace": "api",
    "pause_trace": "api",
    "resume_trace": "api",
    "list_traces": "api",
    "get_trace_info": "api",
    "adjust_trace": "api",
    "request_detail": "api",
    "set_tracing_enabled": "api",
    "switch_mode": "api",
    "determine_mode": "api",
    "mode_available": "api",
    "get_mode_capabilities": "api",
    "train_with_feedback": "selection.learned",
    "evaluate_rules": "selection.rules",
    "add_rule": "selection.rules",
    "remove_rule": "selection.rules",
    "TraceSession": "sessions",
    "Event": "events",
    "get_config": "config",
    "update_config": "config",
    "set_feature_flag": "config",
    "reset_to_defaults": "config",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'scopeline' has no attribute {name!r}")
    import importlib

    value = getattr(importlib.import_module(f"scopeline.engine.{module}"), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return __all__
