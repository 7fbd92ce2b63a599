"""A real LSP client (pytest-lsp, VS Code's capabilities) on `scopeline serve`, over a copy of
the sample workspace ``tests/lsp_workspace``. Tests wait on notifications, never on sleeps."""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path
from typing import Any

import pytest
import pytest_lsp
from lsprotocol import types
from pytest_lsp import ClientServerConfig, LanguageClient, client_capabilities

SERVER = [sys.executable, "-m", "scopeline.engine.cli.main", "serve", "--log-level", "DEBUG"]


@pytest_lsp.fixture(config=ClientServerConfig(server_command=SERVER))
async def client(lsp_client: LanguageClient, workspace: Path):
    refreshes: asyncio.Queue[None] = asyncio.Queue()

    @lsp_client.feature(types.WORKSPACE_CODE_LENS_REFRESH)
    def code_lens_refresh(ls: Any, params: Any) -> None:
        refreshes.put_nowait(None)

    lsp_client.lens_refreshes = refreshes  # type: ignore[attr-defined]
    uri = workspace.as_uri()
    await lsp_client.initialize_session(types.InitializeParams(
        capabilities=client_capabilities("visual-studio-code"), root_uri=uri,
        workspace_folders=[types.WorkspaceFolder(uri=uri, name="workspace")]))
    yield
    await lsp_client.shutdown_session()


class Editor:
    """What an editor does, through the real client: open, edit, ask, run commands."""

    def __init__(self, client: LanguageClient, root: Path) -> None:
        self.client = client
        self.root = root
        self.versions: dict[str, int] = {}

    def uri(self, relative: str) -> str:
        return (self.root / relative).as_uri()

    async def open(self, relative: str, text: str | None = None) -> str:
        path = self.root / relative
        uri = path.as_uri()
        self.versions[uri] = 1
        await self.after(uri, lambda: self.client.text_document_did_open(
            types.DidOpenTextDocumentParams(types.TextDocumentItem(
                uri=uri, language_id="python", version=1,
                text=path.read_text() if text is None else text))))
        return uri

    async def replace(self, uri: str, text: str) -> list[types.Diagnostic]:
        """A full-text change (what VS Code sends for a paste over the whole file)."""
        return await self._change(uri, types.TextDocumentContentChangeWholeDocument(text=text))

    async def insert(self, uri: str, line: int, text: str) -> list[types.Diagnostic]:
        """An incremental change: ``text`` inserted at the start of ``line`` (0-based)."""
        at = types.Position(line, 0)
        return await self._change(uri, types.TextDocumentContentChangePartial(
            range=types.Range(at, at), text=text))

    async def _change(self, uri: str, change: Any) -> list[types.Diagnostic]:
        self.versions[uri] += 1
        params = types.DidChangeTextDocumentParams(
            types.VersionedTextDocumentIdentifier(uri=uri, version=self.versions[uri]), [change])
        return await self.after(uri, lambda: self.client.text_document_did_change(params))

    async def after(self, uri: str, action: Any) -> list[types.Diagnostic]:
        """Do ``action`` (sync) and return the diagnostics the server publishes for ``uri``
        after it: the server publishes them after every open and change."""
        waiting = self.expect(types.TEXT_DOCUMENT_PUBLISH_DIAGNOSTICS)
        action()
        while True:
            params = await waiting
            if params.uri == uri:
                return list(params.diagnostics)
            waiting = self.expect(types.TEXT_DOCUMENT_PUBLISH_DIAGNOSTICS)

    async def close(self, uri: str) -> list[types.Diagnostic]:
        return await self.after(uri, lambda: self.client.text_document_did_close(
            types.DidCloseTextDocumentParams(types.TextDocumentIdentifier(uri))))

    async def lenses(self, uri: str) -> list[types.CodeLens]:
        return await self.client.text_document_code_lens_async(
            types.CodeLensParams(types.TextDocumentIdentifier(uri))) or []

    async def request(self, method: str, params: Any = None) -> Any:
        from scopeline.lsp.protocol import plain

        return plain(await self.client.protocol.send_request_async(method, params))

    async def command(self, name: str, *arguments: Any) -> Any:
        from scopeline.lsp.protocol import plain

        return plain(await self.client.workspace_execute_command_async(
            types.ExecuteCommandParams(command=name, arguments=list(arguments))))

    def expect(self, method: str) -> asyncio.Future[Any]:
        """A future for the next ``method`` notification, registered *before* the action
        that causes it, so it cannot be missed."""
        return asyncio.wrap_future(self.client.protocol.wait_for_notification(method))


@pytest.fixture
def editor(client: LanguageClient, workspace: Path) -> Editor:
    return Editor(client, workspace)
