"""Walking the schema: paths, nearest-name suggestions, defaults, merging and checking.

Standard library only: this module is imported inside users' programs.
"""

from __future__ import annotations

import copy
import difflib
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

from .schema import ENVIRONMENTS, SCHEMA, Overrides, Partial, Path, Setting

# ---------------------------------------------------------------------------------------------
# paths


def split_path(path: str | Sequence[str]) -> Path:
    """"a.b.c" or ("a", "b", "c") -> ("a", "b", "c"); "" -> () (the root)."""
    if isinstance(path, str):
        return tuple(path.split(".")) if path else ()
    keys = tuple(path)
    for key in keys:
        if not isinstance(key, str):
            raise TypeError(f"path keys must be strings, got {key!r}")
    return keys


def join_path(keys: Sequence[str]) -> str:
    return ".".join(keys)


def resolve(keys: Path) -> tuple[Any, int]:
    """Walk the schema: (node, len(keys)) when found, else (deepest node, keys matched)."""
    node: Any = SCHEMA
    for depth, key in enumerate(keys):
        if not isinstance(node, dict) or key not in node:
            return node, depth
        node = node[key]
    return node, len(keys)


def iter_settings(node: Mapping[str, Any] | None = None,
                  prefix: Path = ()) -> Iterator[tuple[str, Setting]]:
    """Every leaf as (dotted path, Setting), skipping the per-environment copies."""
    for key, child in (SCHEMA if node is None else node).items():
        if isinstance(child, Setting):
            yield join_path((*prefix, key)), child
        elif not isinstance(child, Overrides):
            yield from iter_settings(child, (*prefix, key))


def _all_paths(node: Mapping[str, Any], prefix: Path = ()) -> Iterator[str]:
    for key, child in node.items():
        path = (*prefix, key)
        yield join_path(path)
        if isinstance(child, dict) and not isinstance(child, Overrides):
            yield from _all_paths(child, path)


ALL_PATHS: tuple[str, ...] = (*_all_paths(SCHEMA), *(
    f"unified.environment_overrides.{env}" for env in ENVIRONMENTS))


def nearest_paths(keys: Path, n: int = 3) -> list[str]:
    """Valid paths closest to a wrong one, best first."""
    node, depth = resolve(keys)
    if isinstance(node, dict) and depth == len(keys) - 1:
        # Only the last key is wrong: its siblings are the best guesses.
        close = difflib.get_close_matches(keys[-1], list(node), n=n, cutoff=0.6)
        if close:
            return [join_path((*keys[:-1], c)) for c in close]
    prefix: Path = ()
    if keys[:2] == ("unified", "environment_overrides") and len(keys) > 2 \
            and keys[2] in ENVIRONMENTS:
        # Inside an override the rest is an ordinary path.
        prefix, keys = keys[:3], keys[3:]
    candidates = [p for p in ALL_PATHS if not p.startswith("unified.environment_overrides")]
    # A bare or misplaced leaf name ("sampling_rate") names its full path exactly.
    found = [p for p in candidates if keys and p.rsplit(".", 1)[-1] == keys[-1]]
    if not found:
        found = difflib.get_close_matches(join_path(keys), candidates, n=n, cutoff=0.6)
    return [join_path((*prefix, p)) if prefix else p for p in found[:n]]


def nearest_key(key: str, options: Sequence[str]) -> str | None:
    close = difflib.get_close_matches(key, list(options), n=1, cutoff=0.6)
    return close[0] if close else None


# ---------------------------------------------------------------------------------------------
# defaults, merging and checking against the schema


def schema_defaults(node: Mapping[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, child in node.items():
        if isinstance(child, Setting):
            out[key] = copy.deepcopy(child.default)
        elif isinstance(child, Overrides):
            out[key] = {env: {} for env in child}  # overrides start empty
        else:
            out[key] = schema_defaults(child)
    return out


def deep_merge(user: Mapping[str, Any], defaults: Mapping[str, Any]) -> dict[str, Any]:
    """defaults with user on top: dicts merge recursively, anything else (lists too) replaces."""
    out = copy.deepcopy(dict(defaults))
    for key, value in user.items():
        if isinstance(value, Mapping) and isinstance(out.get(key), Mapping):
            out[key] = deep_merge(value, out[key])
        else:
            out[key] = copy.deepcopy(value)
    return out


def check_section(data: Any, node: Mapping[str, Any], prefix: Path,
                  problems: list[str], require_all: bool = False) -> dict[str, Any]:
    """Check a (partial) config against a schema section.

    Appends every problem found to ``problems`` and returns the valid part, normalized
    (ints widened to floats, tuples to lists, None timeouts to 0).
    """
    where = join_path(prefix) or "<config>"
    if not isinstance(data, Mapping):
        problems.append(f"{where}: expected a table of settings, got {data!r}"
                        f" ({type(data).__name__})")
        return {}
    out: dict[str, Any] = {}
    for key, value in data.items():
        path = (*prefix, str(key))
        if not isinstance(key, str) or key not in node:
            near = nearest_key(str(key), list(node))
            hint = f"did you mean '{near}'?" if near else "valid: " + ", ".join(node)
            problems.append(f"{join_path(path)}: unknown setting ({hint})")
            continue
        child = node[key]
        if isinstance(child, Setting):
            normalized, problem = child.check(value, join_path(path))
            if problem:
                problems.append(problem)
            else:
                out[key] = normalized
        else:
            # Overrides are partial by nature: never demand their contents.
            strict = require_all and not isinstance(child, (Overrides, Partial))
            out[key] = check_section(value, child, path, problems, strict)
    if require_all:
        for key in node:
            if key not in data:
                problems.append(f"{join_path((*prefix, key))}: missing")
    return out
