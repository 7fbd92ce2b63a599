"""``Config.Unified`` (seed §3.1): the process-wide current configuration.

The first read loads ``[tool.scopeline]`` from the nearest pyproject.toml above the working
directory; :func:`load_config` loads another one. Paths are dotted strings
("runtime.tracing.sampling_rate") or sequences of keys.

Standard library only: this module is imported inside users' programs.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Mapping
from typing import Any

from .defaults import validate_unified_config
from .live import Config, Listener, PathLike, _changes, _notify, current_environment
from .tree import deep_merge

_lock = threading.Lock()
_current: Config | None = None
# Subscribers outlive any one Config: load_config and reset keep notifying them.
_listeners: list[Listener] = []


def _config() -> Config:
    global _current
    with _lock:
        if _current is None:
            _current = Config.from_pyproject(None, listeners=_listeners)
        return _current


def current_config() -> Config:
    """The process-wide :class:`Config` object (loaded on first use)."""
    return _config()


def get_config() -> dict[str, Any]:
    """The complete effective configuration (a deep copy: changing it changes nothing)."""
    return _config().as_dict()


def get(path: PathLike) -> Any:
    """One value; an unknown path raises ScopelineError("invalid_config") naming the nearest."""
    return _config().get(path)


def get_with_fallback(path: PathLike, default: Any = None) -> Any:
    """Like :func:`get`, but ``default`` instead of any error."""
    try:
        return _config().get_with_fallback(path, default)
    except Exception:  # e.g. a broken pyproject.toml: this function promises never to raise
        return default


def get_mode_config(mode: str) -> dict[str, Any]:
    """The "runtime", "compile_time" or "hybrid" section."""
    return _config().mode_config(mode)


def get_environment_config(env: str | None = None) -> dict[str, Any]:
    """What ``env`` (default: the current one) overrides: built-in preset ⊕ the user's."""
    return _config().environment_config(env)


def update_config(path: PathLike, value: Any) -> None:
    """Set one setting (or merge a dict into a section) while the program runs."""
    _config().update(path, value)


def update_mode_config(mode: str, updates: Mapping[str, Any]) -> None:
    """Apply several updates to one mode's section: all of them, or none if any is invalid."""
    _config().update_mode(mode, updates)


def set_feature_flag(flag: str, enabled: bool) -> None:
    """Turn a feature flag (e.g. "enable_expression_tracing") on or off."""
    _config().set_feature_flag(flag, enabled)


def feature_enabled(flag: str) -> bool:
    return _config().feature_enabled(flag)


def validate_config(cfg: Mapping[str, Any]) -> list[str]:
    """Every problem with a (partial) configuration dict; empty means valid."""
    return validate_unified_config(cfg)


def merge_config(user: Mapping[str, Any], defaults: Mapping[str, Any]) -> dict[str, Any]:
    """Deep merge: user wins, dicts merge recursively, lists are replaced. Inputs untouched."""
    return deep_merge(user, defaults)


def reset_to_defaults() -> None:
    """Drop every runtime update and re-read pyproject.toml."""
    _config().reset()


def load_config(start_dir: str | os.PathLike[str] | None = None) -> dict[str, Any]:
    """Load [tool.scopeline] from the nearest pyproject.toml at or above start_dir (default:
    the working directory), make it current and return the effective configuration.

    Every problem raises at once as ScopelineError("config_validation_failed") with
    ``details["problems"]``; the previous configuration then stays current.
    """
    global _current
    fresh = Config.from_pyproject(start_dir, listeners=_listeners)
    new = fresh.as_dict()
    with _lock:
        old, _current = _current, fresh
    if old is not None:
        _notify(_listeners, _changes(old.get_with_fallback((), None), new))
    return new


def unload_config() -> None:
    """Forget the current configuration and its runtime updates; the next read loads afresh."""
    global _current
    with _lock:
        _current = None


def subscribe(listener: Listener) -> Callable[[], None]:
    """Call ``listener(path, value)`` whenever a setting changes; returns an unsubscribe."""
    _listeners.append(listener)

    def unsubscribe() -> None:
        if listener in _listeners:
            _listeners.remove(listener)

    return unsubscribe


__all__ = [
    "Config",
    "current_config",
    "current_environment",
    "feature_enabled",
    "get",
    "get_config",
    "get_environment_config",
    "get_mode_config",
    "get_with_fallback",
    "load_config",
    "merge_config",
    "reset_to_defaults",
    "set_feature_flag",
    "subscribe",
    "unload_config",
    "update_config",
    "update_mode_config",
    "validate_config",
]
