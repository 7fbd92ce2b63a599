"""Scopeline configuration: schema, defaults, environments and the live process-wide config.

Standard library only: this package is imported inside users' programs.
"""

from __future__ import annotations

from .defaults import default_config, environment_defaults, validate_unified_config
from .live import Config, current_environment
from .pyproject import find_pyproject
from .schema import (
    ENVIRONMENTS,
    FEATURE_FLAGS,
    MODES,
    SCHEMA,
    Setting,
)
from .tree import iter_settings
from .unified import (
    current_config,
    feature_enabled,
    get,
    get_config,
    get_environment_config,
    get_mode_config,
    get_with_fallback,
    load_config,
    merge_config,
    reset_to_defaults,
    set_feature_flag,
    subscribe,
    unload_config,
    update_config,
    update_mode_config,
    validate_config,
)

__all__ = [
    "ENVIRONMENTS",
    "FEATURE_FLAGS",
    "MODES",
    "SCHEMA",
    "Config",
    "Setting",
    "current_config",
    "current_environment",
    "default_config",
    "environment_defaults",
    "feature_enabled",
    "find_pyproject",
    "get",
    "get_config",
    "get_environment_config",
    "get_mode_config",
    "get_with_fallback",
    "iter_settings",
    "load_config",
    "merge_config",
    "reset_to_defaults",
    "set_feature_flag",
    "subscribe",
    "unload_config",
    "update_config",
    "update_mode_config",
    "validate_config",
    "validate_unified_config",
]
