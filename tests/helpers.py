"""Small helpers shared by tests (imported as a plain module from tests/)."""

from __future__ import annotations

import inspect
import re
import traceback
from pathlib import Path


def marker_line(module, name: str) -> int:
    """The line number of ``# @name`` in a module's source (debugpy-style markers)."""
    lines = Path(inspect.getsourcefile(module)).read_text().splitlines()
    for number, text in enumerate(lines, start=1):
        if re.search(rf"#\s*@{re.escape(name)}\b", text):
            return number
    raise LookupError(name)


def by_type(events, type_: str, function: str | None = None):
    return [e for e in events if e.type == type_ and (function is None or e.function == function)]


def traceback_of(func, *args) -> str:
    """The formatted traceback ``func(*args)`` raises, as a user would read it."""
    try:
        func(*args)
    except Exception:
        return traceback.format_exc()
    raise AssertionError(f"{func.__name__} did not raise")


def call_nodes(events, function: str | None = None):
    """Every call node of the trace tree (``function``'s only, if given), depth first."""
    from scopeline.engine.cli.tree import build_forest

    out = []

    def walk(nodes) -> None:
        for node in nodes:
            if function is None or node.entry.function == function:
                out.append(node)
            walk(node.children)

    for roots in build_forest(events).values():
        walk(roots)
    return out
