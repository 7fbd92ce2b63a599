"""Bad input gets an error response that says what to do, and the server keeps serving."""

from __future__ import annotations

import asyncio
import uuid
from concurrent.futures import Future

import pytest
from lsprotocol import types
from pygls.exceptions import JsonRpcException

PRICING = "shop/pricing.py"
INVALID_PARAMS, METHOD_NOT_FOUND, REQUEST_FAILED = -32602, -32601, -32803


async def still_serving(editor, uri: str) -> None:
    lenses = await editor.lenses(uri)
    assert len(lenses) == 12


async def send_raw(client, method: str, params: object) -> object:
    """A request as bytes on the wire: the client's typed API would refuse to send it."""
    msg_id = str(uuid.uuid4())
    future: Future = Future()
    client.protocol._request_futures[msg_id] = future
    client.protocol._send_data({"jsonrpc": "2.0", "id": msg_id, "method": method,
                                "params": params})
    return await asyncio.wrap_future(future)


async def test_a_malformed_request_gets_invalid_params(editor, client):
    uri = await editor.open(PRICING)
    with pytest.raises(JsonRpcException) as info:
        await send_raw(client, types.TEXT_DOCUMENT_CODE_LENS, {"textDocument": 42})
    assert info.value.code == INVALID_PARAMS
    assert "textDocument/codeLens" in info.value.message
    assert "check them against the specification" in info.value.message
    await still_serving(editor, uri)


async def test_custom_requests_check_their_params(editor):
    uri = await editor.open(PRICING)
    with pytest.raises(JsonRpcException) as info:
        await editor.request("scopeline/explainMode", {"uri": uri, "line": "ten"})
    assert info.value.code == INVALID_PARAMS
    assert "'line' has the wrong type" in info.value.message
    assert "{uri: string, line: integer (0-based)}" in info.value.message
    with pytest.raises(JsonRpcException) as info:
        await editor.request("scopeline/traceTree", [1, 2])
    assert info.value.code == INVALID_PARAMS and "must be an object" in info.value.message
    with pytest.raises(JsonRpcException) as info:
        await editor.request("scopeline/explainMode", {"uri": uri, "line": 2})
    assert info.value.code == REQUEST_FAILED and "no function at line 3" in info.value.message
    await still_serving(editor, uri)


async def test_an_unknown_method_gets_method_not_found(editor):
    uri = await editor.open(PRICING)
    with pytest.raises(JsonRpcException) as info:
        await editor.request("scopeline/noSuchThing", {})
    assert info.value.code == METHOD_NOT_FOUND
    assert "scopeline/noSuchThing" in info.value.message
    assert "scopeline/traceTree" in info.value.message  # what it does serve
    await still_serving(editor, uri)


async def test_a_request_for_a_closed_document_says_to_open_it(editor):
    uri = await editor.open(PRICING)
    assert await editor.close(uri) == []
    for ask in (editor.lenses(uri),
                editor.request("scopeline/explainMode", {"uri": uri, "line": 10}),
                editor.command("scopeline.feedback", {"uri": uri, "line": 10,
                                                      "mode": "runtime", "outcome": "failed"})):
        with pytest.raises(JsonRpcException) as info:
            await ask
        assert info.value.code == REQUEST_FAILED
        assert "is not open — send textDocument/didOpen for it first" in info.value.message
    uri = await editor.open(PRICING)
    await still_serving(editor, uri)


async def test_bad_command_arguments_and_unknown_commands(editor):
    uri = await editor.open(PRICING)
    with pytest.raises(JsonRpcException) as info:
        await editor.command("scopeline.switchMode", {"session_id": "abcd"})
    assert info.value.code == INVALID_PARAMS and "missing 'mode'" in info.value.message
    with pytest.raises(JsonRpcException) as info:
        await editor.command("scopeline.stopTrace")
    assert info.value.code == INVALID_PARAMS and "takes one object argument" in \
        info.value.message
    with pytest.raises(JsonRpcException) as info:
        await editor.command("scopeline.feedback", {"uri": uri, "line": 10, "mode": "runtime",
                                                    "outcome": "meh"})
    assert info.value.code == REQUEST_FAILED and "Use one of: successful" in info.value.message
    with pytest.raises(JsonRpcException) as info:
        await editor.command("scopeline.startTrace", {"target": "shop.pricing:order_total",
                                                      "options": {"colour": "red"}})
    assert info.value.code in (INVALID_PARAMS, REQUEST_FAILED)
    assert "colour" in info.value.message
    with pytest.raises(JsonRpcException) as info:
        await editor.command("scopeline.noSuchCommand", {})
    assert info.value.code == INVALID_PARAMS and "noSuchCommand" in info.value.message
    await still_serving(editor, uri)
