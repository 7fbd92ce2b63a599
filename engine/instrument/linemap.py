"""Map the rewritten source back to the original: lines through marker comments, columns by diff.

Rules the transformers keep: every injected line ends with ``# @sl:N`` (N = original line);
every other line is an original line, in order, whose text only gained indentation, wrappers
around expressions, or probes appended after its own statements.
"""

from __future__ import annotations

import ast
import re
from difflib import SequenceMatcher

from ..errors import ScopelineError
from .plan import MARKER

_LINE_SPLIT = re.compile(r"\r\n|\r|\n")
_MARKER_RE = re.compile(r"\s*" + re.escape(MARKER) + r"(\d+)\s*$")
# The fixed head of an injected call, blanked before diffing so that its letters ("expr",
# "__sl_token__") cannot be matched against the user's identifiers.
_INJECTED_HEAD = re.compile(rb'"@sl:hooks"\.\w+\(\d+, (?:__sl_\w+__, )?')


def split_lines(source: str) -> list[str]:
    """Lines as the tokenizer counts them (str.splitlines also splits on \\f, \\x1c, ...)."""
    lines = _LINE_SPLIT.split(source)
    if lines and lines[-1] == "":
        lines.pop()
    return lines


def line_origins(new_source: str, original_line_count: int) -> list[int]:
    """For each line of the rewritten source (index 0 = line 1), its original line number."""
    origins: list[int] = []
    next_original = 1
    for text in split_lines(new_source):
        match = _MARKER_RE.search(text)
        if match:
            origins.append(int(match.group(1)))
        else:
            origins.append(next_original)
            next_original += 1
    if next_original - 1 != original_line_count:
        raise ScopelineError(
            "internal_error",
            f"instrumented source keeps {next_original - 1} original lines, "
            f"expected {original_line_count}",
        )
    return origins


class ColumnMap:
    """UTF-8 column mapping of one rewritten line onto its original line."""

    def __init__(self, new: bytes, old: bytes) -> None:
        self.identity = new == old
        if self.identity:
            return
        blanked = _INJECTED_HEAD.sub(lambda m: b"\0" * len(m.group()), new)
        pairs: list[tuple[int, int]] = []  # (new index, old index) of matched bytes
        matcher = SequenceMatcher(None, old, blanked, autojunk=False)
        for a, b, size in matcher.get_matching_blocks():
            pairs.extend((b + k, a + k) for k in range(size))
        matched = dict(pairs)
        self._start = [len(old)] * (len(new) + 1)
        self._end = [0] * (len(new) + 1)
        following = len(old)
        for c in range(len(new), -1, -1):  # the next matched byte at or after c
            if c in matched:
                following = matched[c]
            self._start[c] = following
        last = 0
        for c in range(1, len(new) + 1):  # just after the last matched byte before c
            if c - 1 in matched:
                last = matched[c - 1] + 1
            self._end[c] = last

    def start(self, col: int) -> int:
        if self.identity:
            return col
        return self._start[min(col, len(self._start) - 1)]

    def end(self, col: int) -> int:
        if self.identity:
            return col
        return self._end[min(col, len(self._end) - 1)]


def remap_tree(tree: ast.AST, new_source: str, original_source: str) -> None:
    """Rewrite every position in ``tree`` (parsed from new_source) into original coordinates."""
    new_lines = split_lines(new_source)
    old_lines = split_lines(original_source)
    origins = line_origins(new_source, len(old_lines))
    maps: dict[int, ColumnMap] = {}

    def colmap(new_line: int) -> ColumnMap:
        if new_line not in maps:
            new = _MARKER_RE.sub("", new_lines[new_line - 1]).encode()
            old_index = origins[new_line - 1] - 1
            old = old_lines[old_index].encode() if old_index < len(old_lines) else b""
            maps[new_line] = ColumnMap(new, old)
        return maps[new_line]

    for node in ast.walk(tree):
        lineno = getattr(node, "lineno", None)
        if lineno is None or lineno < 1:
            continue
        end_lineno = getattr(node, "end_lineno", None) or lineno
        line, col = origins[lineno - 1], colmap(lineno).start(node.col_offset)
        end_line = origins[end_lineno - 1]
        end_col = colmap(end_lineno).end(getattr(node, "end_col_offset", None) or 0)
        if (end_line, end_col) < (line, col):  # injected lines map anywhere: keep it valid
            end_line, end_col = line, col
        node.lineno, node.col_offset = line, col
        node.end_lineno, node.end_col_offset = end_line, end_col  # type: ignore[attr-defined]
