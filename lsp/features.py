"""LSP handlers: lifecycle, document sync, code lenses and the custom requests."""

from __future__ import annotations

import asyncio
from typing import Any

from lsprotocol import types
from scopeline.engine.errors import ScopelineError

from . import protocol
from .lenses import code_lenses
from .server import ScopelineServer


def register(server: ScopelineServer) -> None:
    state = server.state

    @server.feature(types.INITIALIZED)
    def initialized(ls: ScopelineServer, params: types.InitializedParams) -> None:
        from .serve import watch_client

        ls.loop = asyncio.get_running_loop()
        ls.add_workspace_to_path()
        state.on_events_changed(ls.events_changed)
        state.start_watching()
        watch_client(ls)

    @server.feature(types.SHUTDOWN)
    def shutdown(ls: ScopelineServer, params: Any = None) -> None:
        stop_engine(ls)

    @server.feature(types.TEXT_DOCUMENT_DID_OPEN)
    def did_open(ls: ScopelineServer, params: types.DidOpenTextDocumentParams) -> None:
        state.documents[params.text_document.uri] = params.text_document.text
        _decide_quietly(ls, params.text_document.uri)

    @server.feature(types.TEXT_DOCUMENT_DID_CHANGE)
    def did_change(ls: ScopelineServer, params: types.DidChangeTextDocumentParams) -> None:
        uri = params.text_document.uri
        if uri not in state.documents:
            ls.state.log.warning("didChange for %s, which is not open: ignored", uri)
            return
        # pygls applied the (incremental) changes to its copy before calling us
        state.documents[uri] = ls.workspace.get_text_document(uri).source
        _decide_quietly(ls, uri)

    @server.feature(types.TEXT_DOCUMENT_DID_CLOSE)
    def did_close(ls: ScopelineServer, params: types.DidCloseTextDocumentParams) -> None:
        uri = params.text_document.uri
        state.documents.pop(uri, None)
        ls.records.pop(uri, None)
        ls.book.forget(uri)
        ls.publish(uri)  # empty: the editor clears what it showed

    @server.feature(types.TEXT_DOCUMENT_CODE_LENS,
                    types.CodeLensOptions(resolve_provider=False))
    def code_lens(ls: ScopelineServer, params: types.CodeLensParams) -> list[types.CodeLens]:
        uri = params.text_document.uri
        return code_lenses(uri, ls.record(uri, types.TEXT_DOCUMENT_CODE_LENS).decisions)

    @server.feature(protocol.EXPLAIN_MODE)
    def explain_mode(ls: ScopelineServer, params: Any) -> dict[str, Any]:
        return ls.explain(params, protocol.EXPLAIN_MODE)

    @server.feature(protocol.SESSIONS)
    def sessions(ls: ScopelineServer, params: Any = None) -> dict[str, Any]:
        live = {s.session_id for s in state.live_sessions()}
        return {"sessions": [protocol.session_json(m, live=m["session_id"] in live,
                                                   count=state.event_count(m["session_id"]))
                             for m in state.store.sessions()]}

    @server.feature(protocol.DEBUG_ADAPTER)
    def debug_adapter(ls: ScopelineServer, params: Any = None) -> dict[str, Any]:
        """The loopback port of the DAP listener (the extension's DebugAdapterServer)."""
        port = getattr(state, "dap_port", None)
        return {"host": "127.0.0.1", "port": port} if port else {"port": None}

    @server.feature(protocol.TRACE_TREE)
    def trace_tree(ls: ScopelineServer, params: Any = None) -> dict[str, Any]:
        expected = "{session_id?: string (an id, a unique prefix, or 'latest')}"
        p = protocol.params_dict(protocol.TRACE_TREE, params, expected)
        ref = protocol.field(protocol.TRACE_TREE, p, "session_id", str, expected,
                             required=False) or "latest"
        try:
            meta = state.store.find(ref)
            live = {s.session_id: s for s in state.live_sessions()}
            session = live.get(meta["session_id"])
            # a session live here is flushed first, so the tree holds what it captured so far
            events = list(session.events() if session is not None
                          else state.store.events(meta["session_id"], meta))
        except ScopelineError as exc:
            if exc.code == "session_not_found" and ref == "latest":
                exc.recovery_suggestions.insert(0, "Run a program with `scopeline run "
                                                   "script.py`, or start a trace first.")
            raise protocol.engine_error(exc) from exc
        return protocol.tree_json(meta, events)


def _decide_quietly(ls: ScopelineServer, uri: str) -> None:
    """Decide on open/change and publish the document's diagnostics (every time: the editor
    then always knows they are current); other errors wait for the lens request."""
    try:
        record = ls.record(uri, "textDocument/didChange")
    except Exception:
        ls.state.log.exception("deciding %s failed", uri)
        return
    ls.publish_parse(uri, record)


def stop_engine(ls: ScopelineServer) -> None:
    """Stop the sessions live in this process (their events flushed) and the store watcher."""
    from scopeline.engine import api

    for session in ls.state.live_sessions():
        try:
            api.stop_trace(session)
        except Exception:
            ls.state.log.exception("stopping %s failed", session.session_id)
    ls.state.stop_watching()
