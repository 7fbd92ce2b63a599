"""Hover with captured values, and the registration of every value feature (hover, inlay
hints, inline values) on the server.

On a variable a session captured at that line: its latest value and the history of hits (value,
thread, time); on a function name: call count, mean duration, last arguments and return; on a
line with captured values but no captured name under the cursor: every value of its hits.
The rendering functions are plain (text in, markdown out) so they are tested without a client.
"""

from __future__ import annotations

import asyncio
import re
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from lsprotocol import types
from scopeline.engine.cli.tree import format_duration

from .values import FileValues, FunctionStats, Hit, LineValues, ValueIndex

if TYPE_CHECKING:
    from .state import EngineState

ROWS = 10  # history rows in a hover
VALUE_CHARS = 200  # the latest value
CELL_CHARS = 60  # a value in the history table
WORD = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


# -- text helpers ------------------------------------------------------------------------------
def word_at(line_text: str, character: int) -> tuple[str, int, int] | None:
    """The identifier under (or just before) the cursor, with its start and end column."""
    for match in WORD.finditer(line_text):
        if match.start() <= character <= match.end():
            return match.group(), match.start(), match.end()
    return None



def clip(value: str, limit: int) -> str:
    value = " ".join(str(value).split())  # one line: reprs of containers may wrap
    return value if len(value) <= limit else value[: limit - 1] + "…"


def code(value: str, limit: int) -> str:
    """A value as inline markdown code; table-safe (no pipe breaks the row)."""
    text = clip(value, limit).replace("|", "\\|")
    fence = "``" if "`" in text else "`"
    return f"{fence}{text}{fence}" if fence == "`" else f"{fence} {text} {fence}"


def clock(time_ns: int) -> str:
    seconds = time_ns / 1e9
    return time.strftime("%H:%M:%S", time.localtime(seconds)) + f".{int(seconds * 1000) % 1000:03d}"


# -- markdown ----------------------------------------------------------------------------------
def _footer(fv: FileValues) -> str:
    return f"\n\n*Scopeline · session {fv.session_id[:8]}*"


def variable_markdown(fv: FileValues, line: int, name: str) -> str:
    record = fv.lines[line]
    hits = record.history(name)
    out = [f"**{name}** = {code(hits[0].values[name], VALUE_CHARS)}  ·  line {line}, "
           f"{_hits(record, len(hits))}", "", "| # | value | thread | time |", "|--:|---|---|---|"]
    total = len(hits)
    for i, hit in enumerate(hits[:ROWS]):
        out.append(f"| {total - i} | {code(hit.values[name], CELL_CHARS)} | {hit.thread} | "
                   f"{clock(hit.time_ns)} |")
    if total > ROWS:
        out.append(f"\n*… {total - ROWS} earlier hits*")
    return "\n".join(out) + _footer(fv)


def line_markdown(fv: FileValues, line: int) -> str:
    record = fv.lines[line]
    latest = record.latest()
    values = ", ".join(f"{n} = {code(v, CELL_CHARS)}" for n, v in latest.items())
    out = [f"**line {line}** · {_hits(record, record.count)}", "", f"latest: {values}", "",
           "| # | values | thread | time |", "|--:|---|---|---|"]
    hits = record.history()
    for i, hit in enumerate(hits[:ROWS]):
        cells = ", ".join(f"{n} = {clip(v, CELL_CHARS)}" for n, v in hit.values.items())
        out.append(f"| {record.count - i} | {code(cells, CELL_CHARS * 2)} | {hit.thread} | "
                   f"{clock(hit.time_ns)} |")
    if record.count > ROWS:
        out.append(f"\n*… {record.count - ROWS} earlier hits*")
    return "\n".join(out) + _footer(fv)


def _hits(record: LineValues, seen: int) -> str:
    kept = "" if record.count <= len(record.hits) else f" (last {len(record.hits)} kept)"
    return f"{seen} hit{'s' if seen != 1 else ''}{kept}"


def function_markdown(fv: FileValues, stats: FunctionStats) -> str:
    mean = stats.mean_ns
    out = [f"**{stats.qualname}** · {stats.calls} call{'s' if stats.calls != 1 else ''}"
           + (f" · mean {format_duration(int(mean))}" if mean is not None else "")]
    if stats.last_args is not None:
        args = ", ".join(f"{n}={clip(v, CELL_CHARS)}" for n, v in stats.last_args.items())
        call = code(f"{stats.name}({args})", VALUE_CHARS)
        if stats.last_exception is not None:
            result = f" ✗ {code(stats.last_exception, VALUE_CHARS)}"
        elif stats.last_return is not None:
            result = f" → {code(stats.last_return, VALUE_CHARS)}"
        else:
            result = " (running)"
        out.append(f"\nlast call: {call}{result}  ·  {stats.last_thread}, "
                   f"{clock(stats.last_time_ns)}")
    return "\n".join(out) + _footer(fv)


def hover_markdown(fv: FileValues, line: int, line_text: str, character: int
                   ) -> tuple[str, tuple[int, int] | None] | None:
    """What to show at (1-based ``line``, 0-based ``character``), and the columns it covers."""
    found = word_at(line_text, character)
    record = fv.lines.get(line)
    if found is not None:
        word, start, end = found
        captured_here = record is not None and any(word in h.values for h in record.hits)
        stats = fv.function_named(word)
        if stats is not None and (not captured_here or fv.function_at(line) is stats):
            return function_markdown(fv, stats), (start, end)
        if captured_here:
            return variable_markdown(fv, line, word), (start, end)
    if record is not None and record.hits:
        return line_markdown(fv, line), None
    return None


def hint_label(record: LineValues, line_text: str, limit: int = 30) -> str | None:
    """``x = 3, total = 14``: the latest values of the names written on the line."""
    return values_text(record.latest(), line_text, limit)


def values_text(values: dict[str, str], line_text: str, limit: int = 30) -> str | None:
    """The values of the names (or captured expressions) written on the line, in the order
    they are written; None when the line names none of them."""
    code_part = line_text.split("#", 1)[0]
    order: dict[str, int] = {}
    for match in WORD.finditer(code_part):
        order.setdefault(match.group(), match.start())
    for name in values:  # a captured expression sits where its text does
        if not name.isidentifier() and name in code_part:
            order.setdefault(name, code_part.index(name))
    shown = sorted((n for n in values if n in order), key=order.__getitem__)
    return ", ".join(f"{n} = {clip(values[n], limit)}" for n in shown) or None


# -- the server side ---------------------------------------------------------------------------
class ValueFeatures:
    """What the handlers share: the index, and which documents were ever opened (a hover on a
    closed document answers None, on one never opened an error that says to open it)."""

    def __init__(self, server: Any, state: EngineState) -> None:
        self.server = server
        self.state = state
        self.index = ValueIndex(state.store, state.live_sessions)
        self.opened: set[str] = set(state.documents)
        self._refresh_pending = False
        _remember_opened(state, self.opened)

    def text(self, uri: str, method: str) -> str | None:
        text = self.state.documents.get(uri)
        if text is None and uri not in self.opened:
            from .protocol import RequestFailed

            raise RequestFailed(f"{method}: {uri} was never opened — send textDocument/didOpen "
                                "for it first (Scopeline shows values beside the editor's text)")
        return text

    def file_values(self, uri: str) -> FileValues | None:
        return self.index.for_file(self.state.path_of(uri))

    async def off_loop(self, fn: Callable[[], Any]) -> Any:
        """Run on a worker thread: reading a big session for the first time takes a while,
        and the server keeps answering meanwhile."""
        return await asyncio.get_running_loop().run_in_executor(None, fn)

    # -- refresh inlay hints as events arrive (watcher thread) -------------------------------
    def events_changed(self, session_id: str) -> None:
        loop = getattr(self.server, "loop", None)
        if loop is None or loop.is_closed() or self._refresh_pending:
            return
        self._refresh_pending = True  # debounced: one refresh per burst of batches
        loop.call_soon_threadsafe(loop.call_later, REFRESH_DELAY, self._refresh)

    def _refresh(self) -> None:
        # Index the new batches first (off the loop), then tell the editor to ask: its
        # requests then find them read, and a hover never pays for a cold read it can avoid.
        self._refresh_pending = False
        loop = asyncio.get_running_loop()
        loop.run_in_executor(None, self._prewarm).add_done_callback(
            lambda _: self._send_refresh())

    def _prewarm(self) -> None:
        for uri in list(self.state.documents):
            try:
                self.file_values(uri)
            except Exception:  # the request will meet (and report) the same problem
                self.state.log.exception("reading captured values for %s failed", uri)

    def _send_refresh(self) -> None:
        caps = self.server.client_capabilities.workspace
        if caps is None:
            return
        if caps.inlay_hint is not None and caps.inlay_hint.refresh_support:
            self.server.workspace_inlay_hint_refresh(None)
        if caps.inline_value is not None and caps.inline_value.refresh_support:
            self.server.workspace_inline_value_refresh(None)


REFRESH_DELAY = 0.2


class _RememberingDict(dict):  # type: ignore[type-arg]
    """``state.documents`` that also notes every uri ever opened (state.py has no hook)."""

    opened: set[str]

    def __setitem__(self, key: str, value: str) -> None:
        self.opened.add(key)
        super().__setitem__(key, value)


def _remember_opened(state: EngineState, opened: set[str]) -> None:
    docs = _RememberingDict(state.documents)
    docs.opened = opened
    state.documents = docs


def register_value_features(server: Any, state: EngineState) -> None:
    """Hover, inlay hints and inline values on ``server`` (called by ``build_server``)."""
    from . import inlay

    features = ValueFeatures(server, state)
    server.value_features = features  # tests and benchmarks reach the index through it
    state.on_events_changed(features.events_changed)

    @server.feature(types.TEXT_DOCUMENT_HOVER)
    async def hover(ls: Any, params: types.HoverParams) -> types.Hover | None:
        uri = params.text_document.uri
        text = features.text(uri, types.TEXT_DOCUMENT_HOVER)
        if text is None:
            return None
        return await features.off_loop(lambda: hover_for(features, uri, text, params.position))

    inlay.register(server, features)


def hover_for(features: ValueFeatures, uri: str, text: str, position: types.Position
              ) -> types.Hover | None:
    lines = text.splitlines()
    if not 0 <= position.line < len(lines):
        return None
    fv = features.file_values(uri)
    if fv is None:
        return None
    line_text = lines[position.line]
    found = hover_markdown(fv, position.line + 1, line_text, position.character)
    if found is None:
        return None
    markdown, columns = found
    rng = None
    if columns is not None:
        rng = types.Range(types.Position(position.line, columns[0]),
                          types.Position(position.line, columns[1]))
    return types.Hover(types.MarkupContent(types.MarkupKind.Markdown, markdown), rng)


__all__ = ["Hit", "ValueFeatures", "hover_markdown", "register_value_features"]
