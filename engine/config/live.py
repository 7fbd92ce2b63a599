"""The :class:`Config` object behind ``Config.Unified`` (seed §3.1).

Layers, lowest first: schema defaults, the built-in preset for the environment, the user's
``[tool.scopeline]``, the user's ``unified.environment_overrides.<env>``, and updates made while
the program runs. Explicit user settings therefore always beat the built-in presets.

Standard library only: this module is imported inside users' programs.
"""

from __future__ import annotations

import copy
import logging
import os
import threading
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

from ..errors import ScopelineError
from .defaults import default_config, environment_defaults, normalize_partial
from .pyproject import find_pyproject, read_tool_table, validation_error
from .schema import ENVIRONMENTS, FEATURE_FLAGS, MODES, SCHEMA, Setting
from .tree import (
    check_section,
    deep_merge,
    join_path,
    nearest_key,
    nearest_paths,
    resolve,
    split_path,
)

ENV_VAR = "SCOPELINE_ENV"
DEFAULT_ENVIRONMENT = "dev"
_OVERRIDES = ("unified", "environment_overrides")

PathLike = str | Sequence[str]
Listener = Callable[[str, Any], None]

_log = logging.getLogger("scopeline.config")


def current_environment() -> str:
    """The environment named by SCOPELINE_ENV ("dev" when unset)."""
    raw = os.environ.get(ENV_VAR, "").strip().lower()
    env = raw or DEFAULT_ENVIRONMENT
    if env not in ENVIRONMENTS:
        raise validation_error(
            [f"{ENV_VAR}={raw!r} is not an environment; expected one of "
             + ", ".join(ENVIRONMENTS)], ENV_VAR)
    return env


def _invalid(message: str, **details: Any) -> ScopelineError:
    return ScopelineError("invalid_config", message, details=details)


def _unknown_path(keys: tuple[str, ...], depth: int, node: Any) -> ScopelineError:
    path = join_path(keys)
    valid = [join_path((*keys[:depth], k)) for k in node] if isinstance(node, dict) else []
    near = nearest_paths(keys)
    if isinstance(node, Setting):
        message = f"'{join_path(keys[:depth])}' is a setting and has no '{keys[depth]}'"
    elif near:
        message = f"Unknown setting '{path}'; did you mean " + " or ".join(
            f"'{p}'" for p in near) + "?"
    else:
        message = f"Unknown setting '{path}'; valid here: " + ", ".join(valid)
    return ScopelineError(
        "invalid_config", message,
        details={"path": path, "valid": valid, "nearest": near},
        suggestions=[f"Use '{near[0]}'."] if near else None,
    )


def _nest(keys: Sequence[str], value: Any) -> Any:
    for key in reversed(keys):
        value = {key: value}
    return value


def _dig(data: Mapping[str, Any], keys: Sequence[str]) -> Any:
    node: Any = data
    for key in keys:
        if not isinstance(node, Mapping) or key not in node:
            raise KeyError(key)
        node = node[key]
    return node


def _flatten(data: Mapping[str, Any], prefix: str = "") -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in data.items():
        path = f"{prefix}.{key}" if prefix else key
        if isinstance(value, Mapping):
            out.update(_flatten(value, path))
        else:
            out[path] = value
    return out


def _changes(old: Mapping[str, Any] | None, new: Mapping[str, Any]) -> list[tuple[str, Any]]:
    """(path, new value) for each leaf that differs; None for a leaf that went away."""
    if old is None:
        return []
    before, after = _flatten(old), _flatten(new)
    return [(p, after.get(p)) for p in sorted(before.keys() | after.keys())
            if before.get(p, _flatten) != after.get(p, _flatten)]


def _notify(listeners: Sequence[Listener], changes: list[tuple[str, Any]]) -> None:
    for path, value in changes:
        for listener in list(listeners):
            try:
                listener(path, copy.deepcopy(value))
            except Exception:  # one broken subscriber must not break config updates
                _log.exception("config subscriber %r failed for %s", listener, path)


class Config:
    """One configuration: defaults ⊕ preset ⊕ user ⊕ environment override ⊕ runtime updates.

    Thread-safe. ``env=None`` follows SCOPELINE_ENV as it changes.
    """

    def __init__(self, user: Mapping[str, Any] | None = None, *, env: str | None = None,
                 source: Path | None = None, listeners: list[Listener] | None = None) -> None:
        normalized, problems = normalize_partial(user or {})
        if env is not None and env not in ENVIRONMENTS:
            problems.append(f"environment {env!r} is not one of " + ", ".join(ENVIRONMENTS))
        if problems:
            raise validation_error(problems, str(source or "the configuration"))
        self._user = normalized
        self._fixed_env = env
        self._source = source
        self._updates: dict[str, Any] = {}
        self._lock = threading.RLock()
        self._listeners: list[Listener] = listeners if listeners is not None else []
        self._effective: dict[str, Any] | None = None
        self._built_for: str | None = None

    @classmethod
    def from_pyproject(cls, start_dir: str | os.PathLike[str] | None = None, *,
                       env: str | None = None,
                       listeners: list[Listener] | None = None) -> Config:
        """A Config from [tool.scopeline] of the nearest pyproject.toml (defaults if none)."""
        path = find_pyproject(start_dir)
        user = read_tool_table(path) if path else {}
        return cls(user, env=env, source=path, listeners=listeners)

    @property
    def source(self) -> Path | None:
        """The pyproject.toml this config was read from, if any."""
        return self._source

    @property
    def environment(self) -> str:
        return self._fixed_env or current_environment()

    # -- building -------------------------------------------------------------------------

    def _compose(self, env: str) -> dict[str, Any]:
        cfg = deep_merge(environment_defaults(env), default_config())
        cfg = deep_merge(self._user, cfg)
        override = self._user_override(env)
        cfg = deep_merge(override, cfg)
        return deep_merge(self._updates, cfg)

    def _user_override(self, env: str) -> dict[str, Any]:
        keys = (*_OVERRIDES, env)
        parts = []
        for layer in (self._user, self._updates):
            try:
                parts.append(_dig(layer, keys))
            except KeyError:
                parts.append({})
        return deep_merge(parts[1], parts[0])

    def _sync(self) -> list[tuple[str, Any]]:
        """Rebuild if the environment changed; caller holds the lock."""
        env = self.environment
        if self._effective is not None and env == self._built_for:
            return []
        old, self._effective = self._effective, self._compose(env)
        self._built_for = env
        return _changes(old, self._effective)

    def _view(self) -> dict[str, Any]:
        # The effective dict is replaced, never mutated, so it may be read outside the lock.
        with self._lock:
            changes = self._sync()
            view = self._effective
        _notify(self._listeners, changes)
        assert view is not None
        return view

    def _change(self, partial: Mapping[str, Any] | None = None, *, clear: bool = False,
                user: dict[str, Any] | None = None) -> None:
        """Apply a change to the layers and tell subscribers what moved."""
        with self._lock:
            changes = self._sync()
            old = self._effective
            if clear:
                self._updates = {}
            if user is not None:
                self._user = user
            if partial:
                self._updates = deep_merge(partial, self._updates)
            self._effective = self._compose(self._built_for or self.environment)
            changes += _changes(old, self._effective)
        _notify(self._listeners, changes)

    # -- reading ----------------------------------------------------------------------------

    def as_dict(self) -> dict[str, Any]:
        return copy.deepcopy(self._view())

    def get(self, path: PathLike) -> Any:
        keys = split_path(path)
        node, depth = resolve(keys)
        if depth < len(keys):
            raise _unknown_path(keys, depth, node)
        try:
            value = _dig(self._view(), keys)
        except KeyError:
            # Only possible inside an environment override, which is partial.
            raise _invalid(f"'{join_path(keys)}' is not set", path=join_path(keys)) from None
        return copy.deepcopy(value)

    def get_with_fallback(self, path: PathLike, default: Any = None) -> Any:
        try:
            return self.get(path)
        except (ScopelineError, TypeError):
            return default

    def mode_config(self, mode: str) -> dict[str, Any]:
        return self.get((_check_mode(mode),))

    def environment_config(self, env: str | None = None) -> dict[str, Any]:
        env = self.environment if env is None else env
        if env not in ENVIRONMENTS:
            raise _invalid(f"Unknown environment {env!r}; expected one of "
                           + ", ".join(ENVIRONMENTS), valid=list(ENVIRONMENTS))
        with self._lock:
            return deep_merge(self._user_override(env), environment_defaults(env))

    def feature_enabled(self, flag: str) -> bool:
        return bool(self.get(("unified", "feature_flags", _flag_name(flag))))

    # -- changing ---------------------------------------------------------------------------

    def update(self, path: PathLike, value: Any) -> None:
        """Set one setting, or merge a dict into a section."""
        keys = split_path(path)
        node, depth = resolve(keys)
        if depth < len(keys):
            raise _unknown_path(keys, depth, node)
        where = join_path(keys) or "<config>"
        if isinstance(node, Setting):
            normalized, problem = node.check(value, where)
            if problem:
                raise _invalid(problem, path=where, expected=node.expected(), value=value)
        else:
            problems: list[str] = []
            normalized = check_section(value, node, keys, problems)
            if problems:
                raise _invalid(f"Invalid update of '{where}': " + "; ".join(problems),
                               path=where, problems=problems)
        self._change(_nest(keys, normalized))

    def update_mode(self, mode: str, updates: Mapping[str, Any]) -> None:
        """Validate every update first, then apply them together or not at all."""
        mode = _check_mode(mode)
        problems: list[str] = []
        normalized = check_section(updates, SCHEMA[mode], (mode,), problems)
        if problems:
            raise _invalid(f"Invalid {mode} configuration ({len(problems)} problems, nothing"
                           " applied): " + "; ".join(problems), mode=mode, problems=problems)
        self._change({mode: normalized})

    def set_feature_flag(self, flag: str, enabled: bool) -> None:
        name = _flag_name(flag)
        if not isinstance(enabled, bool):
            raise _invalid(f"Feature flag {name} must be True or False, got {enabled!r}",
                           flag=name)
        self.update(("unified", "feature_flags", name), enabled)

    def reset(self) -> None:
        """Drop runtime updates and re-read the pyproject.toml this config came from."""
        user = None
        if self._source is not None:
            if self._source.is_file():
                user, problems = normalize_partial(read_tool_table(self._source))
                if problems:
                    raise validation_error(problems, str(self._source))
            else:
                user = {}  # the file went away: nothing left but defaults
        self._change(clear=True, user=user)

    def subscribe(self, listener: Listener) -> Callable[[], None]:
        """Call listener(path, value) for each setting that changes; returns an unsubscribe."""
        self._listeners.append(listener)

        def unsubscribe() -> None:
            if listener in self._listeners:
                self._listeners.remove(listener)

        return unsubscribe


def _check_mode(mode: str) -> str:
    if mode not in MODES:
        raise _invalid(f"Unknown mode {mode!r}; expected one of " + ", ".join(MODES),
                       valid=list(MODES))
    return mode


def _flag_name(flag: str) -> str:
    name = str(flag).rsplit(".", 1)[-1]  # tolerate the full "unified.feature_flags.X" path
    for candidate in (name, f"enable_{name}"):
        if candidate in FEATURE_FLAGS:
            return candidate
    near = nearest_key(name, FEATURE_FLAGS)
    hint = f"did you mean '{near}'? " if near else ""
    raise ScopelineError(
        "invalid_config",
        f"Unknown feature flag {flag!r}; {hint}flags: " + ", ".join(FEATURE_FLAGS),
        details={"flag": flag, "valid": list(FEATURE_FLAGS)},
    )
