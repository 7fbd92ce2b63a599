"""`scopeline serve` as a process: logs to a file (stdout is the protocol's), exits cleanly on
shutdown/exit, and exits when the editor that started it dies without saying so."""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path

from lsprotocol import types
from pytest_lsp import LanguageClient, client_capabilities

SERVER = [sys.executable, "-m", "scopeline.engine.cli.main", "serve"]


async def start(log: Path, workspace: Path, process_id: int | None = None) -> LanguageClient:
    client = LanguageClient()
    await client.start_io(*SERVER, "--log-file", str(log))
    uri = workspace.as_uri()
    await client.initialize_session(types.InitializeParams(
        capabilities=client_capabilities("visual-studio-code"), root_uri=uri,
        process_id=process_id))
    return client


async def test_serve_logs_to_its_file_and_exits_cleanly(tmp_path, workspace):
    log = tmp_path / "serve.log"
    client = await start(log, workspace)
    path = workspace / "shop" / "pricing.py"
    client.text_document_did_open(types.DidOpenTextDocumentParams(types.TextDocumentItem(
        uri=path.as_uri(), language_id="python", version=1, text=path.read_text())))
    lenses = await client.text_document_code_lens_async(
        types.CodeLensParams(types.TextDocumentIdentifier(path.as_uri())))
    assert len(lenses) == 12  # the protocol stream was not corrupted by any output
    await client.shutdown_session()
    assert client._server.returncode == 0
    await client.stop()
    text = log.read_text()
    assert "scopeline serve: pid" in text and "scopeline serve: stopped" in text
    assert "warm-up failed" not in text  # a pygls upgrade must not silently undo the warm-up
    assert "DAP adapter on 127.0.0.1:" in text  # the debug adapter listened beside it


async def test_serve_exits_when_the_client_process_dies(tmp_path, workspace):
    editor = await asyncio.create_subprocess_exec(sys.executable, "-c",
                                                  "import sys; sys.stdin.read()",
                                                  stdin=asyncio.subprocess.PIPE)
    log = tmp_path / "serve.log"
    client = await start(log, workspace, process_id=editor.pid)
    server = client._server
    editor.kill()  # an editor that crashes sends no shutdown, no exit
    await editor.wait()
    # the server's stdin stays open (this test holds it): only the watch can end it
    code = await asyncio.wait_for(server.wait(), timeout=30)
    assert code == 0
    assert f"client process {editor.pid} is gone: stopping" in log.read_text()
    client._stop_event.set()  # the server is gone: nothing left to shut down
    await client.stop()
