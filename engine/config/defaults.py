"""Default values, per-environment presets and validation (seed §3.2, ``Config.Defaults``).

Standard library only: this module is imported inside users' programs.
"""

from __future__ import annotations

import copy
from typing import Any

from ..errors import ScopelineError
from .schema import ENVIRONMENTS, SCHEMA
from .tree import check_section, schema_defaults

# Built once; callers always get a deep copy so nobody can mutate the defaults.
_DEFAULTS: dict[str, Any] = schema_defaults(SCHEMA)

_ALL_FLAGS_ON = {
    "enable_ast_local_variables": True,
    "enable_expression_tracing": True,
    "enable_on_demand_compilation": True,
    "enable_ai_mode_selection": True,
}

# Presets sit just above the defaults: anything the user sets in [tool.scopeline] wins over
# them, and unified.environment_overrides.<env> wins over both.
_ENVIRONMENT_PRESETS: dict[str, dict[str, Any]] = {
    # Full detail while developing.
    "dev": {
        "unified": {"feature_flags": dict(_ALL_FLAGS_ON)},
        "runtime": {"tracing": {"sampling_rate": 1.0}},
    },
    # Deterministic: no sampling, no learned advice, nothing timing-dependent.
    "test": {
        "unified": {"feature_flags": {"enable_ai_mode_selection": False}},
        "runtime": {"tracing": {"sampling_rate": 1.0}},
        "compile_time": {"compilation": {"parallel_compilation": False}},
        "hybrid": {"mode_switching": {"enable_auto_escalation": False}},
        "ai": {
            "mode_selection": {"enabled": False},
            "instrumentation_planning": {"enabled": False},
        },
    },
    # Production: runtime capture only (no source rewriting), sampled, tight limits.
    "prod": {
        "unified": {
            "default_mode": "runtime",
            "feature_flags": {
                "enable_ast_local_variables": False,
                "enable_expression_tracing": False,
                "enable_on_demand_compilation": False,
                "enable_ai_mode_selection": False,
            },
        },
        "runtime": {
            "safety_limits": {
                "max_traced_threads": 16,
                "max_events_per_second": 10_000,
                "memory_limit_mb": 64,
                "cpu_threshold_percent": 50,
            },
            "tracing": {"sampling_rate": 0.1},
        },
        "hybrid": {"mode_switching": {"enable_auto_escalation": False}},
        "ai": {
            "mode_selection": {"enabled": False},
            "instrumentation_planning": {"enabled": False},
        },
    },
}


def default_config() -> dict[str, Any]:
    """The complete default configuration as a nested dict (a fresh copy each call)."""
    return copy.deepcopy(_DEFAULTS)


def environment_defaults(env: str) -> dict[str, Any]:
    """The built-in partial overrides for ``env`` ("dev", "test" or "prod")."""
    if env not in _ENVIRONMENT_PRESETS:
        raise ScopelineError(
            "invalid_config",
            f"Unknown environment {env!r}; expected one of {', '.join(ENVIRONMENTS)}",
            details={"valid": list(ENVIRONMENTS)},
        )
    return copy.deepcopy(_ENVIRONMENT_PRESETS[env])


def validate_unified_config(cfg: Any, *, require_all: bool = False) -> list[str]:
    """Every problem with ``cfg`` at once; an empty list means it is valid.

    ``cfg`` may be partial (as in ``[tool.scopeline]``): missing settings take their defaults.
    With ``require_all=True`` a missing setting is a problem too.
    """
    problems: list[str] = []
    check_section(cfg, SCHEMA, (), problems, require_all)
    return problems


def normalize_partial(cfg: Any) -> tuple[dict[str, Any], list[str]]:
    """(the valid part of cfg with values normalized, every problem found)."""
    problems: list[str] = []
    return check_section(cfg, SCHEMA, (), problems), problems
