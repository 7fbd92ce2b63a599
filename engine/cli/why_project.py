"""``scopeline why DIR | file.py | package``: every function with its recommended mode."""

from __future__ import annotations

import argparse
import json
import os
import re

from rich.console import Console
from rich.table import Table
from rich.text import Text
from scopeline.engine.selection.project import ProjectAnalysis, analyze_project

ICONS = {"runtime": "⚡", "compile_time": "🔬", "hybrid": "🔀"}
LABELS = {"runtime": "runtime", "compile_time": "compile-time", "hybrid": "hybrid"}
_DOTTED = re.compile(r"[^\W\d]\w*(\.[^\W\d]\w*)*")


def is_project_target(text: str) -> bool:
    """A directory, a .py file without ``:line``/``:func``, or a dotted (package) name.
    ``pkg.mod:func``, ``file.py:42`` and ``thread:NAME`` are single targets."""
    text = text.strip()
    if text.startswith("thread:"):
        return False
    if os.path.isdir(text) or os.path.isfile(text):
        return True
    if text.endswith((".py", ".pyw")) or "/" in text or os.sep in text:
        # a path: a single target only if something follows the file name after ':'
        return not re.search(r"\.pyw?:", text)
    return bool(_DOTTED.fullmatch(text))


def _one_line(reason: str, width: int = 90) -> str:
    first = reason.split(". ")[0].strip().rstrip(".")
    return first if len(first) <= width else first[: width - 1] + "…"


def _rows(result: ProjectAnalysis) -> list[tuple[Text, ...]]:
    """The table's cells as plain Text: names and messages are never read as markup."""
    rows: list[tuple[Text, ...]] = []
    last_file = None
    for entry in result.entries:
        shown_file = entry.relpath if entry.relpath != last_file else ""
        last_file = entry.relpath
        if entry.profile is None or entry.decision is None:
            error = entry.error or {}
            name = entry.profile.qualname if entry.profile else "(file)"
            line = str(entry.profile.def_line) if entry.profile else ""
            rows.append((Text(shown_file), Text(name), Text(line),
                         Text("✖ error", style="red"), Text(""),
                         Text(f"{error.get('code')}: {error.get('message')}")))
            continue
        mode = entry.decision.mode
        rows.append(tuple(Text(cell) for cell in (
            shown_file, entry.profile.qualname, str(entry.profile.def_line),
            f"{ICONS.get(mode, '?')} {LABELS.get(mode, mode)}",
            f"{entry.decision.confidence:.2f}", _one_line(entry.decision.reason))))
    return rows


def render(result: ProjectAnalysis, console: Console) -> None:
    rows = _rows(result)
    headers = ("file", "function", "line", "mode", "conf.")
    # The reason gets what the other columns leave of the width, and is cut with "…".
    used = sum(max([len(h)] + [r[i].cell_len for r in rows]) + 3
               for i, h in enumerate(headers))
    table = Table(title=f"{result.target} · {len(result.functions)} functions in "
                        f"{result.files} files", title_justify="left")
    for header in headers:
        table.add_column(header, no_wrap=True, justify="right" if header in (
            "line", "conf.") else "left")
    table.add_column("reason", no_wrap=True, overflow="ellipsis",
                     max_width=max(20, console.width - used - 4))
    for row in rows:
        table.add_row(*row)
    console.print(table)
    console.print(f"[dim]{result.parsed_files} files parsed, {result.cached_files} from the "
                  f"cache · decided by {result.decided_by}[/dim]")


def cmd_why_project(args: argparse.Namespace) -> int:
    from scopeline.engine.options import parse_options

    options = parse_options(granularity=args.granularity,
                            capture_locals=tuple(p.strip() for p in args.capture.split(",")
                                                 if p.strip()))
    result = analyze_project(args.target, options=options)
    if args.json:
        print(json.dumps(result.to_dict(), indent=1))
    else:
        render(result, Console(highlight=False))
    return 0
