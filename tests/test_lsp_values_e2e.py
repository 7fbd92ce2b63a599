"""Captured values in the editor, end to end: a real LSP client (pytest-lsp) on `scopeline serve`
over a copy of the sample workspace, and a program run with `scopeline run` in a subprocess.

The client announces VS Code's capabilities plus the inlay-hint and inline-value support that
VS Code has sent since 1.67 (pytest-lsp's recorded VS Code is 1.65, older than both). Tests wait
on the server's messages (``workspace/inlayHint/refresh``, diagnostics), never on sleeps.
"""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import pytest_lsp
from lsprotocol import types
from pygls.exceptions import JsonRpcException
from pytest_lsp import ClientServerConfig, LanguageClient, client_capabilities

SERVER = [sys.executable, "-m", "scopeline.engine.cli.main", "serve", "--log-level", "DEBUG"]


def vscode_capabilities() -> types.ClientCapabilities:
    caps = client_capabilities("visual-studio-code")
    caps.workspace.inlay_hint = types.InlayHintWorkspaceClientCapabilities(refresh_support=True)
    caps.workspace.inline_value = types.InlineValueWorkspaceClientCapabilities(
        refresh_support=True)
    caps.text_document.inlay_hint = types.InlayHintClientCapabilities(
        dynamic_registration=True, resolve_support=types.ClientInlayHintResolveOptions(
            properties=["tooltip", "textEdits", "label.tooltip", "label.location",
                        "label.command"]))
    caps.text_document.inline_value = types.InlineValueClientCapabilities(
        dynamic_registration=True)
    return caps


@pytest_lsp.fixture(config=ClientServerConfig(server_command=SERVER))
async def client(lsp_client: LanguageClient, workspace: Path):
    refreshes: asyncio.Queue[str] = asyncio.Queue()

    @lsp_client.feature(types.WORKSPACE_INLAY_HINT_REFRESH)
    def inlay_refresh(ls: Any, params: Any) -> None:
        refreshes.put_nowait("inlay")

    @lsp_client.feature(types.WORKSPACE_INLINE_VALUE_REFRESH)
    def inline_refresh(ls: Any, params: Any) -> None:
        refreshes.put_nowait("inline")

    lsp_client.refreshes = refreshes  # type: ignore[attr-defined]
    uri = workspace.as_uri()
    await lsp_client.initialize_session(types.InitializeParams(
        capabilities=vscode_capabilities(), root_uri=uri,
        workspace_folders=[types.WorkspaceFolder(uri=uri, name="workspace")]))
    yield
    await lsp_client.shutdown_session()


def run_program(workspace: Path) -> None:
    """`scopeline run` on the workspace's program, every line of shop/pricing.py traced."""
    env = {**os.environ, "PYTHONPATH": str(workspace)}
    done = subprocess.run([sys.executable, "-m", "scopeline.engine.cli.main", "run", "--trace",
                           "shop.pricing", "--granularity", "line", "--no-tree", "--", "app.py"],
                          cwd=workspace, env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "24.3"


async def open_doc(client: LanguageClient, path: Path) -> str:
    uri = path.as_uri()
    published = asyncio.wrap_future(
        client.protocol.wait_for_notification(types.TEXT_DOCUMENT_PUBLISH_DIAGNOSTICS))
    client.text_document_did_open(types.DidOpenTextDocumentParams(types.TextDocumentItem(
        uri=uri, language_id="python", version=1, text=path.read_text())))
    await published  # the server has taken the document in
    return uri


def at(path: Path, text: str, word: str | None = None) -> types.Position:
    """The 0-based position of ``word`` on the first line containing ``text``."""
    lines = path.read_text().splitlines()
    line = next(i for i, s in enumerate(lines) if text in s)
    return types.Position(line, lines[line].index(word or text))


async def hover(client: LanguageClient, uri: str, position: types.Position) -> str | None:
    found = await client.text_document_hover_async(types.HoverParams(
        types.TextDocumentIdentifier(uri), position))
    return None if found is None else found.contents.value


async def test_hover_inlay_and_inline_values_of_a_program_run(client: LanguageClient,
                                                             workspace: Path):
    pricing = workspace / "shop" / "pricing.py"
    uri = await open_doc(client, pricing)
    # nothing captured yet: no hover, no hints
    assert await hover(client, uri, at(pricing, "net = gross", "net")) is None

    run_program(workspace)
    # the store watcher saw the session's batches: the editor is told to ask again
    assert await asyncio.wait_for(client.refreshes.get(), 30) in ("inlay", "inline")

    text = await hover(client, uri, at(pricing, "net = gross", "net"))
    assert text.startswith("**net** = `20.25`") and "MainThread" in text
    text = await hover(client, uri, at(pricing, "gross += line_total", "gross"))
    assert "**gross** = `22.5`" in text and "| 2 | `22.5` |" in text and "| 1 | `20.0` |" in text
    text = await hover(client, uri, at(pricing, "def line_total", "line_total"))
    assert "**line_total** · 2 calls · mean" in text
    assert "last call: `line_total(price=2.5, quantity=1)` → `2.5`" in text
    text = await hover(client, uri, at(pricing, "def add", "add"))
    assert "**Cart.add** · 3 calls" in text and "✗ `ValueError: quantity must be positive" in text

    lines = pricing.read_text().splitlines()
    hints = await client.text_document_inlay_hint_async(types.InlayHintParams(
        text_document=types.TextDocumentIdentifier(uri),
        range=types.Range(types.Position(0, 0), types.Position(len(lines), 0))))
    labels = {h.position.line: h.label for h in hints}
    net = at(pricing, "net = gross").line
    assert labels[net] == "net = 20.25, gross = 22.5, code = 'TENTH'"
    assert hints[0].position.character == len(lines[hints[0].position.line])
    assert at(pricing, "RATE = 0.2").line not in labels  # module level: not traced

    ret = at(pricing, "return round(net").line
    values = await client.text_document_inline_value_async(types.InlineValueParams(
        text_document=types.TextDocumentIdentifier(uri),
        range=types.Range(types.Position(at(pricing, "def order_total").line, 0),
                          types.Position(ret, 0)),
        context=types.InlineValueContext(frame_id=1, stopped_location=types.Range(
            types.Position(ret, 4), types.Position(ret, 4)))))
    texts = {v.range.start.line: v.text for v in values if isinstance(v, types.InlineValueText)}
    assert texts[net] == "net = 20.25, gross = 22.5, code = 'TENTH'"
    assert texts[at(pricing, "gross = 0").line] == "gross = 0"
    lookups = {v.variable_name for v in values
               if isinstance(v, types.InlineValueVariableLookup)}
    assert lookups == {"net"}  # on the stopped line, the debugger answers


async def test_closed_and_never_opened_documents(client: LanguageClient, workspace: Path):
    pricing = workspace / "shop" / "pricing.py"
    run_program(workspace)
    uri = await open_doc(client, pricing)
    position = at(pricing, "net = gross", "net")
    assert "20.25" in await hover(client, uri, position)

    closed = asyncio.wrap_future(
        client.protocol.wait_for_notification(types.TEXT_DOCUMENT_PUBLISH_DIAGNOSTICS))
    client.text_document_did_close(types.DidCloseTextDocumentParams(
        types.TextDocumentIdentifier(uri)))
    await closed
    assert await hover(client, uri, position) is None  # closed: nothing, not an error

    never = (workspace / "app.py").as_uri()
    with pytest.raises(JsonRpcException, match="never opened.*didOpen"):
        await hover(client, never, types.Position(0, 0))
    with pytest.raises(JsonRpcException, match="never opened"):
        await client.text_document_inlay_hint_async(types.InlayHintParams(
            types.TextDocumentIdentifier(never), types.Range(types.Position(0, 0),
                                                             types.Position(5, 0))))
    # and the server keeps serving
    uri = await open_doc(client, pricing)
    assert "20.25" in await hover(client, uri, position)
    beyond = types.Position(10_000, 0)
    assert await hover(client, uri, beyond) is None


LIVE_PROGRAM = '''import sys

from shop.pricing import order_total

order_total([(1.0, 2)], "HALF")
print("ready", flush=True)
sys.stdin.readline()
order_total([(3.0, 1)])
'''


async def hints_until(client: LanguageClient, uri: str, line: int, expected: str) -> str:
    """Ask for the line's hint after each refresh the server sends, until it reads
    ``expected`` (the program's batches land one flush at a time)."""
    while True:
        await asyncio.wait_for(client.refreshes.get(), 30)
        hints = await client.text_document_inlay_hint_async(types.InlayHintParams(
            types.TextDocumentIdentifier(uri), types.Range(types.Position(line, 0),
                                                           types.Position(line + 1, 0))))
        labels = [h.label for h in hints or [] if h.position.line == line]
        if labels and expected in labels[0]:
            return labels[0]


async def test_inlay_hints_follow_a_running_program(client: LanguageClient, workspace: Path):
    (workspace / "live.py").write_text(LIVE_PROGRAM)
    pricing = workspace / "shop" / "pricing.py"
    uri = await open_doc(client, pricing)
    net = at(pricing, "net = gross").line
    env = {**os.environ, "PYTHONPATH": str(workspace)}
    program = subprocess.Popen(
        [sys.executable, "-m", "scopeline.engine.cli.main", "run", "--trace", "shop.pricing",
         "--granularity", "line", "--no-tree", "--", "live.py"], cwd=workspace, env=env,
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        assert await asyncio.to_thread(program.stdout.readline) == "ready\n"
        # still running (blocked on stdin): its flushed batches already show
        assert await hints_until(client, uri, net, "net = 1.0") == \
            "net = 1.0, gross = 2.0, code = 'HALF'"
        assert program.poll() is None
        program.stdin.write("\n")
        program.stdin.flush()
        assert await hints_until(client, uri, net, "net = 3.0") == \
            "net = 3.0, gross = 3.0, code = ''"
    finally:
        program.stdin.close()
        assert await asyncio.to_thread(program.wait, 60) == 0


async def test_a_debug_session_on_the_same_engine_feeds_hover_and_hints(client: LanguageClient,
                                                                        workspace: Path):
    """The DAP listener beside the LSP server: a `scopeline` debug session's tracepoint hits
    reach hover and inlay hints while the program runs, through the same store."""
    from dap_client import DapClient

    pricing = workspace / "shop" / "pricing.py"
    uri = await open_doc(client, pricing)
    where = await client.protocol.send_request_async("scopeline/debugAdapter", {})
    dap = await asyncio.to_thread(DapClient, None, where.port)
    line = at(pricing, "return round(net").line + 1  # 1-based for DAP

    def debug() -> str:
        assert dap.start({"program": str(workspace / "app.py"), "cwd": str(workspace),
                          "env": {"PYTHONPATH": str(workspace)}})["success"]
        placed = dap.request("setBreakpoints", {"source": {"path": str(pricing)},
                                                "breakpoints": [{"line": line,
                                                                 "logMessage": "net={net}"}]})
        dap.request("configurationDone")
        dap.wait_event("terminated", timeout=60)
        return placed["body"]["breakpoints"][0]["message"]

    message = await asyncio.to_thread(debug)
    assert "placed when the program imports it" in message
    assert dap.output("console") == "net=20.25\n" and dap.output("stdout") == "24.3\n"
    dap.close()
    assert await asyncio.wait_for(client.refreshes.get(), 30) in ("inlay", "inline")
    text = await hover(client, uri, at(pricing, "return round(net", "net"))
    assert text is not None and text.startswith("**net** = `20.25`"), text
