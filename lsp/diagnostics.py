"""Diagnostics: a file that does not parse, and tracepoints that could not be placed.

Two sources per document, published together: the syntax error of its current text (from
deciding its lenses) and the traces the user started from the editor that failed, each at
the line the trace was asked for, carrying the error's message and its first suggestion.
"""

from __future__ import annotations

from lsprotocol import types
from scopeline.engine.errors import ScopelineError

SOURCE = "scopeline"


def message_of(exc: ScopelineError) -> str:
    suggestion = exc.recovery_suggestions[0] if exc.recovery_suggestions else ""
    return f"{exc.message} — {suggestion}" if suggestion else exc.message


def _line_range(line: int, text: str | None) -> types.Range:
    """The whole of ``line`` (0-based) in ``text``: what an editor underlines."""
    width = 0
    if text is not None:
        lines = text.splitlines()
        if 0 <= line < len(lines):
            width = len(lines[line])
    return types.Range(types.Position(line, 0), types.Position(line, width))


def parse_diagnostic(exc: ScopelineError, text: str | None) -> types.Diagnostic:
    line = max(int(exc.details.get("line") or 1) - 1, 0)
    return types.Diagnostic(_line_range(line, text), message_of(exc),
                            severity=types.DiagnosticSeverity.Error, code=exc.code,
                            source=SOURCE)


def trace_diagnostic(exc: ScopelineError, line: int, text: str | None) -> types.Diagnostic:
    return types.Diagnostic(_line_range(line, text), f"tracepoint not placed: {message_of(exc)}",
                            severity=types.DiagnosticSeverity.Warning, code=exc.code,
                            source=SOURCE)


class DiagnosticsBook:
    """What is published for each document; ``diagnostics(uri)`` is the list to send."""

    def __init__(self) -> None:
        self.parse: dict[str, types.Diagnostic] = {}
        self.traces: dict[str, dict[int, types.Diagnostic]] = {}

    def set_parse(self, uri: str, diagnostic: types.Diagnostic | None) -> None:
        if diagnostic is None:
            self.parse.pop(uri, None)
        else:
            self.parse[uri] = diagnostic

    def add_trace(self, uri: str, line: int, diagnostic: types.Diagnostic) -> None:
        self.traces.setdefault(uri, {})[line] = diagnostic

    def clear_trace(self, uri: str, line: int) -> bool:
        return self.traces.get(uri, {}).pop(line, None) is not None

    def forget(self, uri: str) -> None:
        self.parse.pop(uri, None)
        self.traces.pop(uri, None)

    def diagnostics(self, uri: str) -> list[types.Diagnostic]:
        out = [self.parse[uri]] if uri in self.parse else []
        return out + [self.traces[uri][k] for k in sorted(self.traces.get(uri, {}))]
