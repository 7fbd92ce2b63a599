"""The language server: one ``ScopelineServer`` over one ``EngineState`` (the engine instance).

Features live in their own modules (lenses, explain, diagnostics, commands, protocol; G's
values in hover/inlay); this module wires them to LSP and keeps the per-document records.
Handlers run on the server's event loop; the store watcher calls back from its own thread,
so everything it triggers is handed to the loop with ``call_soon_threadsafe``.
"""

from __future__ import annotations

import asyncio
import importlib
import sys
from typing import Any

from lsprotocol import types
from pygls.exceptions import JsonRpcException, JsonRpcInvalidParams, JsonRpcMethodNotFound
from pygls.lsp.server import LanguageServer
from pygls.protocol import LanguageServerProtocol
from scopeline.engine.errors import ScopelineError

from . import protocol
from .diagnostics import DiagnosticsBook, parse_diagnostic
from .explain import explain_markdown
from .lenses import FileDecisions, decide, function_at, signature
from .state import EngineState

NAME = "scopeline"


class _Dropped:
    """Stands in for a message that could not be read; pygls ignores it (wrong jsonrpc)."""

    jsonrpc = "dropped"


class ScopelineProtocol(LanguageServerProtocol):
    """pygls' protocol, answering requests it would otherwise drop or answer unhelpfully."""

    def structure_message(self, data: dict[str, Any]) -> Any:
        try:
            return super().structure_message(data)
        except JsonRpcException as exc:
            # pygls logs a request it cannot read and never answers it: the client would wait
            # forever. Answer with InvalidParams naming the method, and keep serving.
            if "id" in data and "method" in data:
                method = data["method"]
                cause = exc.__cause__ or exc
                error = JsonRpcInvalidParams(
                    f"{method}: the params do not match the LSP type of this method "
                    f"({type(cause).__name__}); check them against the specification")
                self._send_response(data["id"], error=error.to_response_error())
            return _Dropped()

    def _get_handler(self, feature_name: str) -> Any:
        try:
            return super()._get_handler(feature_name)
        except JsonRpcMethodNotFound:
            raise JsonRpcMethodNotFound(
                f"Method Not Found: {feature_name} — Scopeline serves the LSP methods it "
                f"announced in its capabilities and {', '.join(protocol.CUSTOM_REQUESTS)}"
            ) from None


class ScopelineServer(LanguageServer):
    def __init__(self, state: EngineState) -> None:
        super().__init__(NAME, _version(), protocol_cls=ScopelineProtocol,
                         text_document_sync_kind=types.TextDocumentSyncKind.Incremental)
        self.state = state
        self.records: dict[str, FileDecisions] = {}
        self.book = DiagnosticsBook()
        self.loop: asyncio.AbstractEventLoop | None = None

    # -- documents ---------------------------------------------------------------------------
    def open_text(self, uri: str, method: str) -> str:
        """The text of an open document, or an error saying to open it first."""
        text = self.state.documents.get(uri)
        if text is None:
            raise protocol.RequestFailed(
                f"{method}: {uri} is not open — send textDocument/didOpen for it first "
                f"(Scopeline works on the editor's text, saved or not)")
        return text

    def record(self, uri: str, method: str) -> FileDecisions:
        """The decisions for the document's current text (computed once per text)."""
        text = self.open_text(uri, method)
        try:
            record, _ = decide(self.state.path_of(uri), text, self.records.get(uri))
        except ScopelineError as exc:
            raise protocol.engine_error(exc) from exc
        self.records[uri] = record
        return record

    def publish_parse(self, uri: str, record: FileDecisions) -> None:
        text = self.state.documents.get(uri)
        self.book.set_parse(uri, parse_diagnostic(record.error, text) if record.error else None)
        self.publish(uri)

    def publish(self, uri: str) -> None:
        self.text_document_publish_diagnostics(types.PublishDiagnosticsParams(
            uri=uri, diagnostics=self.book.diagnostics(uri)))

    # -- decisions changed for a reason other than an edit -----------------------------------
    def redecide_all(self) -> bool:
        """Decide every open document again (feedback, new session counters); refresh the
        lenses when any of them changed."""
        changed = False
        for uri, text in list(self.state.documents.items()):
            old = self.records.get(uri)
            try:
                new, _ = decide(self.state.path_of(uri), text, None)
            except ScopelineError:
                self.state.log.exception("deciding %s again failed", uri)
                continue
            if new.error is not None and old is not None:  # keep the last good lenses
                new.decisions = old.decisions
            if old is None or signature(old.decisions) != signature(new.decisions):
                changed = True
            self.records[uri] = new
        if changed:
            self.refresh_lenses()
        return changed

    def refresh_lenses(self) -> None:
        caps = self.client_capabilities.workspace
        lens_caps = caps.code_lens if caps is not None else None
        if lens_caps is not None and lens_caps.refresh_support:
            self.workspace_code_lens_refresh(None)

    # -- explainMode -------------------------------------------------------------------------
    def explain(self, params: Any, method: str) -> dict[str, Any]:
        expected = "{uri: string, line: integer (0-based)}"
        p = protocol.params_dict(method, params, expected)
        uri = protocol.field(method, p, "uri", str, expected)
        line = protocol.field(method, p, "line", int, expected)
        record = self.record(uri, method)
        found = function_at(record.decisions, line)
        if found is None:
            raise protocol.RequestFailed(
                f"{method}: no function at line {line + 1} of {uri} — put the cursor inside "
                f"a def (Scopeline decides a mode per function)")
        profile, decision = found
        return {"markdown": explain_markdown(profile, decision, stale=record.stale),
                "function": profile.qualname, "decision": decision.to_dict()}

    # -- events from the store watcher (watcher thread) --------------------------------------
    def events_changed(self, session_id: str) -> None:
        if self.loop is None or self.loop.is_closed():
            return
        self.loop.call_soon_threadsafe(self._announce, session_id)

    def _announce(self, session_id: str) -> None:
        count = self.state.last_count(session_id)
        self.protocol.notify(protocol.EVENTS_CHANGED,
                             {"session_id": session_id, "count": count})
        if self._stopped(session_id):  # its call counts now inform the frequency estimate
            self.redecide_all()

    def _stopped(self, session_id: str) -> bool:
        try:
            return self.state.store.find(session_id).get("status") == "stopped"
        except ScopelineError:
            return False

    def add_workspace_to_path(self) -> None:
        """Make the workspace's modules importable here: traces started from the editor run
        in this process and resolve ``file.py:LINE`` by importing the file's module."""
        folders = [f.uri for f in (self.workspace.folders or {}).values()]
        if not folders and self.workspace.root_uri:
            folders = [self.workspace.root_uri]
        for uri in folders:
            path = self.state.path_of(uri)
            if path not in sys.path:
                sys.path.insert(0, path)
        importlib.invalidate_caches()


def _version() -> str:
    try:
        from importlib.metadata import version

        return version("scopeline")
    except Exception:
        return "0"


def build_server(state: EngineState | None = None) -> ScopelineServer:
    from . import commands, features

    server = ScopelineServer(state or EngineState())
    features.register(server)
    commands.register(server)
    try:
        from .hover import register_value_features  # helper G's module (issue 5)
    except ImportError:  # not written yet: the server runs without hover and inlay values
        server.state.log.info("lsp.hover not available: no value features")
    else:
        register_value_features(server, server.state)
    return server
