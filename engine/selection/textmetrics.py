"""Metrics of source text as an editor holds it, re-read only where it changed.

``metrics.file_metrics`` reads a whole file (with ``ast``) in ~10 ms a thousand lines: fast
to open a file, still too slow to repeat on every keystroke of a large one. Every metric it gives
belongs to one top-level statement (a def or class with all it contains, or a module-level
statement), so a file's metrics are its top-level statements' metrics put together, with
their line numbers shifted. Here the text is cut into top-level statements ("chunks", found
with ``ast``), each chunk is measured once and cached by its text, and for a path seen
before only the lines between the unchanged head and tail are cut and measured again.

The result equals ``file_metrics`` of the whole text (the tests check it on real files).
"""

from __future__ import annotations

import ast
import dataclasses
import io
import threading
from collections import OrderedDict

from scopeline.engine.errors import ScopelineError
from scopeline.engine.selection.astmetrics import statements_metrics
from scopeline.engine.selection.metrics import FileMetrics, file_metrics

MAX_CHUNKS = 20_000  # chunk metrics kept in memory, least recently used dropped first
MAX_PATHS = 64  # files whose last text and cut are kept

_chunks: OrderedDict[str, FileMetrics] = OrderedDict()
_texts: OrderedDict[str, tuple[list[str], list[int], FileMetrics]] = OrderedDict()
_lock = threading.Lock()
parsed_chunks = 0  # chunks measured by this process (tests and bench read it)


def split_lines(text: str) -> list[str]:
    """Lines with their ends, cut where Python cuts them (\\n, \\r\\n, \\r; not form feeds)."""
    return io.StringIO(text, newline="").readlines()


def does_not_parse(path: str, exc: SyntaxError, line_offset: int = 0) -> ScopelineError:
    line = (exc.lineno or 0) + line_offset if exc.lineno else 0
    message = f"line {line}: {exc.msg}" if line else str(exc.msg)
    return ScopelineError("compilation_failed", f"{path} does not parse: {message}",
                          details={"path": path, "line": line or None},
                          suggestions=["Fix the syntax error: the file is decided again "
                                       "once it parses."])


# Statements already parsed (while cutting) per chunk start: the nodes, the lines their
# positions index, and the line before the chunk in those lines. Reading a chunk from them
# spares parsing its text a second time.
Parsed = dict[int, tuple[list[ast.stmt], list[str], int]]


def _starts(lines: list[str], path: str, offset: int, parsed: Parsed | None = None
            ) -> list[int]:
    """1-based first lines of the chunks of ``lines``: line 1, then each top-level statement
    (its first decorator's line). Raises SyntaxError."""
    tree = ast.parse("".join(lines), path)
    starts = {1}
    firsts = []
    for node in tree.body:
        decorators = getattr(node, "decorator_list", [])
        first = min([d.lineno for d in decorators] + [node.lineno])
        starts.add(first)
        firsts.append(first)
    ordered = sorted(starts)
    if parsed is not None:
        groups: dict[int, list[ast.stmt]] = {s: [] for s in ordered}
        at = 0
        for node, first in zip(tree.body, firsts, strict=True):
            while at + 1 < len(ordered) and ordered[at + 1] <= first:
                at += 1
            groups[ordered[at]].append(node)
        for s, nodes in groups.items():
            parsed[offset + s] = (nodes, lines, s - 1)
    return [offset + s for s in ordered]


def _chunk_metrics(text: str, path: str, first_line: int, parsed: Parsed) -> FileMetrics:
    global parsed_chunks
    with _lock:
        found = _chunks.get(text)
        if found is not None:
            _chunks.move_to_end(text)
            return found
    try:
        if first_line in parsed:
            found = statements_metrics(*parsed[first_line])
        else:
            found = file_metrics(text)
    except SyntaxError as exc:
        raise does_not_parse(path, exc, first_line - 1) from exc
    except RecursionError as exc:  # nesting deeper than the parser's recursion can follow
        raise ScopelineError("compilation_failed", f"{path} cannot be analysed: the code "
                             f"from line {first_line} is nested too deeply",
                             details={"path": path, "line": first_line}) from exc
    with _lock:
        parsed_chunks += 1
        _chunks[text] = found
        while len(_chunks) > MAX_CHUNKS:
            _chunks.popitem(last=False)
    return found


def _assemble(lines: list[str], starts: list[int], path: str, parsed: Parsed
              ) -> FileMetrics:
    functions, outer, attrs = [], [], set()
    ends = [*starts[1:], len(lines) + 1]
    for start, end in zip(starts, ends, strict=True):
        part = _chunk_metrics("".join(lines[start - 1:end - 1]), path, start, parsed)
        shift = start - 1
        functions += [dataclasses.replace(f, first_line=f.first_line + shift,
                                          def_line=f.def_line + shift,
                                          last_line=f.last_line + shift)
                      for f in part.functions] if shift else part.functions
        outer += part.outer_calls
        attrs.update(part.loop_attrs)
    return FileMetrics(functions, outer, sorted(attrs))


def _recut(old_lines: list[str], old_starts: list[int], lines: list[str],
           path: str, parsed: Parsed) -> list[int] | None:
    """The chunk starts of ``lines`` from the last cut of the same path: unchanged chunks at
    the head and the tail are kept, the lines between are cut again. None when that region
    does not parse on its own (the whole text must then be cut)."""
    n_old, n_new = len(old_lines), len(lines)
    head = 0
    limit = min(n_old, n_new)
    while head < limit and old_lines[head] == lines[head]:
        head += 1
    tail = 0
    while tail < limit - head and old_lines[-1 - tail] == lines[-1 - tail]:
        tail += 1
    ends = [*old_starts[1:], n_old + 1]
    kept_head = [s for s, e in zip(old_starts, ends, strict=True) if e - 1 <= head]
    kept_tail = [s for s in old_starts if s > n_old - tail]
    region_start = ends[len(kept_head) - 1] if kept_head else 1
    region_end_old = (kept_tail[0] - 1) if kept_tail else n_old
    region_end = region_end_old + n_new - n_old
    shift = n_new - n_old
    region = lines[region_start - 1:region_end]
    if region_start > 1 and any("__future__" in line for line in region):
        return None  # a future import is only legal at the top: let the whole text say
    try:
        middle = _starts(region, path, region_start - 1, parsed) if region else []
    except (SyntaxError, ValueError, RecursionError):
        return None
    return kept_head + middle + [s + shift for s in kept_tail]


def text_metrics(text: str, path: str) -> FileMetrics:
    """The metrics of ``text``, the source of ``path`` (an editor's buffer or the file):
    equal to ``metrics.file_metrics(text)``. A text that does not parse raises
    ScopelineError("compilation_failed") naming the line."""
    with _lock:
        last = _texts.get(path)
    lines = split_lines(text)
    if last is not None and last[0] == lines:
        return last[2]
    parsed: Parsed = {}
    starts = _recut(last[0], last[1], lines, path, parsed) if last is not None else None
    if starts is None:
        parsed.clear()
        try:
            starts = _starts(lines, path, 0, parsed)
        except SyntaxError as exc:
            raise does_not_parse(path, exc) from exc
        except (ValueError, RecursionError) as exc:  # null bytes; absurdly deep nesting
            raise ScopelineError("compilation_failed", f"{path} does not parse: {exc}",
                                 details={"path": path}) from exc
    result = _assemble(lines, starts, path, parsed)
    with _lock:
        _texts[path] = (lines, starts, result)
        _texts.move_to_end(path)
        while len(_texts) > MAX_PATHS:
            _texts.popitem(last=False)
    return result


def clear() -> None:
    """Forget every cached chunk and text (a cold start, for tests and the benchmark)."""
    with _lock:
        _chunks.clear()
        _texts.clear()
