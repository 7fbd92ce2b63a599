"""Finding and reading ``[tool.scopeline]`` from the nearest pyproject.toml.

Standard library only (tomllib): this module is imported inside users' programs.
"""

from __future__ import annotations

import os
import tomllib
from pathlib import Path
from typing import Any

from ..errors import ScopelineError

PYPROJECT = "pyproject.toml"


def find_pyproject(start_dir: str | os.PathLike[str] | None = None) -> Path | None:
    """The nearest pyproject.toml in start_dir (default: the working directory) or above it."""
    start = Path(start_dir) if start_dir is not None else Path.cwd()
    start = start.expanduser().resolve()
    if start.is_file():
        if start.name == PYPROJECT:
            return start
        start = start.parent
    for folder in (start, *start.parents):
        candidate = folder / PYPROJECT
        if candidate.is_file():
            return candidate
    return None


def validation_error(problems: list[str], where: str) -> ScopelineError:
    """config_validation_failed with every problem in the message and in details."""
    count = f"{len(problems)} problem" + ("s" if len(problems) != 1 else "")
    return ScopelineError(
        "config_validation_failed",
        f"Invalid configuration in {where} ({count}): " + "; ".join(problems),
        details={"problems": list(problems), "source": where},
    )


def read_tool_table(path: Path) -> dict[str, Any]:
    """The [tool.scopeline] table of a pyproject.toml ({} when it has none)."""
    try:
        with path.open("rb") as fh:
            document = tomllib.load(fh)
    except tomllib.TOMLDecodeError as exc:
        raise validation_error([f"{path}: not valid TOML: {exc}"], str(path)) from exc
    except OSError as exc:
        raise validation_error([f"{path}: cannot be read: {exc}"], str(path)) from exc
    tool = document.get("tool", {})
    table = tool.get("scopeline", {}) if isinstance(tool, dict) else {}
    if not isinstance(table, dict):
        raise validation_error(
            [f"tool.scopeline: expected a table, got {type(table).__name__}"], str(path))
    return table
