"""Traces from the editor: start/switch/stop in the server's engine, tracepoints that cannot be
placed (diagnostics), and a program run with `scopeline run` showing up live: the
eventsChanged notification, then its tree and its session."""

from __future__ import annotations

import asyncio
import os
import sys

import pytest
from lsprotocol import types
from pygls.exceptions import JsonRpcException

PRICING = "shop/pricing.py"
REQUEST_FAILED = -32803


async def test_start_switch_and_stop_a_trace_from_the_editor(editor):
    uri = await editor.open(PRICING)
    started = await editor.command("scopeline.startTrace", {"uri": uri, "line": 24})
    sid = started["session_id"]
    assert started["status"] == "active"
    assert started["targets"] == ["shop.pricing:order_total (line 25)"]
    assert started["mode"] in ("runtime", "compile_time", "hybrid") and started["reason"]
    sessions = (await editor.request("scopeline/sessions"))["sessions"]
    assert [(s["session_id"], s["live_in_server"]) for s in sessions] == [(sid, True)]

    switched = await editor.command("scopeline.switchMode",
                                    {"session_id": sid, "mode": "compile_time"})
    assert switched == {"session_id": sid, "mode": "compile_time", "status": "active"}

    stopped = await editor.command("scopeline.stopTrace", {"session_id": sid[:8]})
    assert stopped["status"] == "stopped"
    (meta,) = (await editor.request("scopeline/sessions"))["sessions"]
    assert meta["status"] == "stopped" and meta["live_in_server"] is False
    # stopping it again: an error that says what is live
    with pytest.raises(JsonRpcException) as info:
        await editor.command("scopeline.stopTrace", {"session_id": sid})
    assert info.value.code == REQUEST_FAILED and "session_not_found" in info.value.message


async def test_a_trace_on_a_line_outside_any_function_gets_a_diagnostic(editor):
    uri = await editor.open(PRICING)

    async def start() -> None:
        with pytest.raises(JsonRpcException) as info:
            await editor.command("scopeline.startTrace", {"uri": uri, "line": 6})
        assert info.value.code == REQUEST_FAILED
        assert "line 7 is not inside any function" in info.value.message

    waiting = editor.expect(types.TEXT_DOCUMENT_PUBLISH_DIAGNOSTICS)
    await start()
    published = await waiting
    assert published.uri == uri
    (diag,) = published.diagnostics
    assert diag.range.start.line == 6
    assert diag.severity == types.DiagnosticSeverity.Warning
    assert "line 7 is not inside any function" in diag.message
    assert "nearest functions: line_total" in diag.message
    assert "— " in diag.message and "pricing.py:10" in diag.message  # first suggestion
    # closing the file clears what was published for it
    assert await editor.close(uri) == []


async def test_a_trace_in_a_file_that_does_not_parse_gets_a_diagnostic(editor):
    good = "def ok():\n    return 1\n\n\ndef bad():\n    pass\n"
    broken = good.replace("def bad():", "def bad(:")
    path = editor.root / "broken.py"
    path.write_text(broken)
    uri = await editor.open("broken.py")
    waiting = editor.expect(types.TEXT_DOCUMENT_PUBLISH_DIAGNOSTICS)
    with pytest.raises(JsonRpcException) as info:
        await editor.command("scopeline.startTrace", {"uri": uri, "line": 1})
    assert "broken.py does not parse: line 5" in info.value.message
    published = await waiting
    (trace_diag,) = [d for d in published.diagnostics if d.message.startswith("tracepoint")]
    assert trace_diag.range.start.line == 1
    assert "does not parse: line 5" in trace_diag.message
    assert "Fix the syntax error and save the file" in trace_diag.message
    # the syntax error itself is shown at its line too
    (syntax,) = [d for d in published.diagnostics if d is not trace_diag]
    assert syntax.range.start.line == 4 and syntax.severity == types.DiagnosticSeverity.Error

    # fixed and saved: the syntax error goes with the edit, the trace's with the next trace
    path.write_text(good)
    left = await editor.replace(uri, good)
    assert [d.range.start.line for d in left] == [1]
    waiting = editor.expect(types.TEXT_DOCUMENT_PUBLISH_DIAGNOSTICS)
    started = await editor.command("scopeline.startTrace", {"uri": uri, "line": 1})
    assert list((await waiting).diagnostics) == []
    assert started["targets"] == ["broken:ok (line 2)"]
    await editor.command("scopeline.stopTrace", {"session_id": started["session_id"]})


async def test_a_trace_in_an_unsaved_buffer_has_no_source(editor):
    uri = "untitled:Untitled-1"
    editor.versions[uri] = 1
    await editor.after(uri, lambda: editor.client.text_document_did_open(
        types.DidOpenTextDocumentParams(types.TextDocumentItem(
            uri=uri, language_id="python", version=1, text="def f():\n    return 1\n"))))
    waiting = editor.expect(types.TEXT_DOCUMENT_PUBLISH_DIAGNOSTICS)
    with pytest.raises(JsonRpcException) as info:
        await editor.command("scopeline.startTrace", {"uri": uri, "line": 1})
    assert "no source on disk" in info.value.message and "Save the file" in info.value.message
    (diag,) = (await waiting).diagnostics
    assert diag.range.start.line == 1 and "Save the file" in diag.message


async def test_a_trace_on_a_target_name_that_does_not_resolve_says_what_is_near(editor):
    with pytest.raises(JsonRpcException) as info:
        await editor.command("scopeline.startTrace", {"target": "shop.pricing:order_totl"})
    assert info.value.code == REQUEST_FAILED
    assert "target_invalid" in info.value.message and "shop.pricing:order_total" in \
        info.value.message


async def run_program(workspace, *args: str) -> int:
    env = {**os.environ, "PYTHONPATH": str(workspace)}
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "scopeline.engine.cli.main", "run", "--no-tree", *args,
        cwd=workspace, env=env, stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.PIPE)
    _, err = await proc.communicate()
    assert proc.returncode == 0, err.decode()
    return proc.returncode


async def test_a_program_run_with_scopeline_run_shows_up_live(editor, workspace):
    changed = editor.expect("scopeline/eventsChanged")
    run = asyncio.ensure_future(run_program(workspace, "--trace", "shop.pricing", "--",
                                            "app.py"))
    note = await changed
    sid = note.session_id
    assert note.count > 0
    await run

    tree = await editor.request("scopeline/traceTree", {"session_id": sid})
    assert tree["session"]["session_id"] == sid and tree["session"]["status"] == "stopped"
    (thread,) = tree["threads"]
    assert thread["thread"] == "MainThread"
    calls = thread["calls"]
    assert [c["function"] for c in calls] == ["Cart.__init__", "Cart.add", "Cart.add",
                                             "Cart.add", "Cart.total"]
    failed = calls[3]
    assert failed["status"] == "raised"
    assert "quantity must be positive, not 0" in failed["exception"]
    assert failed["args"]["quantity"] == "0"
    total = calls[4]
    assert total["status"] == "returned" and total["return_value"] == "24.3"
    (order,) = total["children"]
    assert order["function"] == "order_total" and order["args"]["code"] == "'TENTH'"
    assert [c["function"] for c in order["children"]] == ["line_total", "line_total",
                                                          "discount"]
    assert order["duration_ns"] > 0 and order["file"].endswith("pricing.py")
    # no id: the latest session
    assert (await editor.request("scopeline/traceTree"))["session"]["session_id"] == sid
    (meta,) = (await editor.request("scopeline/sessions"))["sessions"]
    assert meta["session_id"] == sid and meta["events"] >= 17 and not meta["live_in_server"]


async def test_trace_tree_without_any_session_says_how_to_get_one(editor):
    with pytest.raises(JsonRpcException) as info:
        await editor.request("scopeline/traceTree", {})
    assert info.value.code == REQUEST_FAILED and "scopeline run" in info.value.message
