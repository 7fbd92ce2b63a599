"""The editor features' logic without the protocol: lenses, explanations, diagnostics, the
trace tree's JSON, and the engine state's change notifications (real sessions, real store)."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest
import scopeline
from scopeline.engine.errors import ScopelineError
from scopeline.engine.modes import ModeDecision
from scopeline.engine.store import Store
from scopeline.lsp.diagnostics import DiagnosticsBook, parse_diagnostic, trace_diagnostic
from scopeline.lsp.explain import explain_markdown
from scopeline.lsp.lenses import code_lenses, decide, function_at, title
from scopeline.lsp.protocol import plain, tree_json
from scopeline.lsp.state import EngineState

SOURCE = '''\
def outer(x):
    def inner(y):
        return y + 1
    return inner(x)


class Box:
    @property
    def size(self):
        return 1
'''


def test_decide_reuses_unchanged_text_and_keeps_last_good_decisions(tmp_path: Path):
    path = str(tmp_path / "mod.py")
    first, changed = decide(path, SOURCE, None)
    assert changed and not first.stale
    assert [p.qualname for p, _ in first.decisions] == ["outer", "outer.<locals>.inner",
                                                       "Box.size"]
    again, changed = decide(path, SOURCE, first)
    assert again is first and not changed
    broken, changed = decide(path, SOURCE.replace("def outer(x):", "def outer(x:"), first)
    assert changed and broken.stale and broken.error.code == "compilation_failed"
    assert broken.decisions == first.decisions  # the last good lenses stay
    still, changed = decide(path, SOURCE.replace("def outer(x):", "def outer(x, :"), broken)
    assert still.stale
    fixed, changed = decide(path, SOURCE, still)
    assert changed and not fixed.stale


def test_lenses_sit_above_decorators_and_explain_the_def_line(tmp_path: Path):
    record, _ = decide(str(tmp_path / "mod.py"), SOURCE, None)
    lenses = code_lenses("file:///mod.py", record.decisions)
    assert [lens.range.start.line for lens in lenses] == [0, 0, 1, 1, 7, 7]
    assert lenses[4].command.arguments == [{"uri": "file:///mod.py", "line": 8}]
    assert lenses[5].command.title == "why"


def test_function_at_is_the_innermost_function(tmp_path: Path):
    record, _ = decide(str(tmp_path / "mod.py"), SOURCE, None)
    assert function_at(record.decisions, 0)[0].qualname == "outer"
    assert function_at(record.decisions, 2)[0].qualname == "outer.<locals>.inner"
    assert function_at(record.decisions, 3)[0].qualname == "outer"
    assert function_at(record.decisions, 7)[0].qualname == "Box.size"  # the decorator line
    assert function_at(record.decisions, 5) is None


@pytest.mark.parametrize(("mode", "expected"), [
    ("runtime", "⚡ runtime · 70%"), ("compile_time", "🔬 compile-time · 70%"),
    ("hybrid", "🔀 hybrid · 70%"), ("unavailable", "⛔ unavailable")])
def test_lens_titles_carry_the_icon_and_confidence(mode: str, expected: str):
    assert title(ModeDecision(mode, 0.7, "because")) == expected


def test_explanation_names_error_warnings_alternatives_and_feedback(tmp_path: Path):
    record, _ = decide(str(tmp_path / "mod.py"), SOURCE, None)
    profile = record.decisions[0][0]
    decision = ModeDecision(
        "unavailable", 0.0, "no mode can trace it here", warnings=["save the file"],
        alternatives=["runtime"], evidence={"error": {"code": "mode_unavailable",
                                                      "message": "no source"},
                                            "statements": ["runtime was marked failed 2 of 2"],
                                            "ignored": ["hybrid was marked failed 1 of 1"]})
    text = explain_markdown(profile, decision, stale=True)
    assert text.startswith("### ⛔ `outer`: unavailable\n")
    assert "does not parse now" in text
    assert "**Error** `mode_unavailable`: no source" in text
    assert "- save the file" in text and "**Alternatives**: runtime" in text
    assert "- runtime was marked failed 2 of 2" in text
    assert "- (not weighed) hybrid was marked failed 1 of 1" in text


def test_diagnostics_carry_message_and_first_suggestion():
    exc = ScopelineError("target_invalid", "line 3 is not inside any function",
                         suggestions=["mod.py:8"])
    diag = trace_diagnostic(exc, 2, "a\nb\nthird line\n")
    assert diag.message == "tracepoint not placed: line 3 is not inside any function — mod.py:8"
    assert (diag.range.start.line, diag.range.end.character) == (2, len("third line"))
    parse = parse_diagnostic(ScopelineError("compilation_failed", "x.py does not parse",
                                            details={"line": 1}), "def f(:\n")
    book = DiagnosticsBook()
    book.add_trace("u", 2, diag)
    book.set_parse("u", parse)
    assert book.diagnostics("u") == [parse, diag]
    assert book.clear_trace("u", 2) and not book.clear_trace("u", 2)
    book.forget("u")
    assert book.diagnostics("u") == []


def test_plain_turns_pygls_namedtuples_back_into_json():
    from collections import namedtuple

    obj = namedtuple("Object", ["uri", "options"])("file:///a", namedtuple("Object", ["n"])(1))
    assert plain(obj) == {"uri": "file:///a", "options": {"n": 1}}
    assert plain([obj]) == [{"uri": "file:///a", "options": {"n": 1}}]


def test_trace_tree_of_a_hybrid_session_shows_the_join():
    from sample_project import core

    with scopeline.trace("sample_project.core:process", mode="hybrid") as session:
        core.process([1, 5], 2)
    tree = tree_json(session.to_meta(), list(session.events()))
    (thread,) = tree["threads"]
    (call,) = thread["calls"]
    assert call["function"] == "process" and call["args"] == {"values": "[1, 5]", "limit": "2"}
    assert call["status"] == "returned" and call["return_value"] == "[1, 2]"
    assert call["merged"]["strategy"] == "exact_keys" and call["merged"]["confidence"] == 1.0
    assert tree["session"]["mode"] == "hybrid" and not tree["truncated"]


def test_trace_tree_is_bounded():
    from sample_project import util

    with scopeline.trace("sample_project.util:clamp") as session:
        for i in range(50):
            util.clamp(i, 10)
    tree = tree_json(session.to_meta(), list(session.events()), max_nodes=10)
    assert tree["truncated"] and len(tree["threads"][0]["calls"]) == 10
    assert tree["threads"][0]["total_calls"] == 50


def test_state_reports_new_events_of_a_session(isolated_store: Path):
    from sample_project import util

    state = EngineState(Store(isolated_store))
    seen: list[str] = []
    state.on_events_changed(seen.append)
    with scopeline.trace("sample_project.util:clamp") as session:
        util.clamp(3, 2)
        session.flush()
        assert state.check_sessions() == [session.session_id]
        assert state.last_count(session.session_id) == 2  # entry and exit
        assert state.check_sessions() == []  # nothing new
    assert seen == [session.session_id]
    assert state.path_of("file:///a%20b/c.py") == "/a b/c.py"


def test_state_watcher_sees_sessions_flushed_to_the_store(isolated_store: Path):
    from sample_project import util

    state = EngineState(Store(isolated_store))
    arrived = threading.Event()
    got: list[str] = []
    state.on_events_changed(lambda sid: (got.append(sid), arrived.set()))
    state.start_watching()
    try:
        with scopeline.trace("sample_project.util:clamp") as session:
            util.clamp(3, 2)
        assert arrived.wait(timeout=30)  # a safety net, not a timing assertion
    finally:
        state.stop_watching()
    assert got[0] == session.session_id and state.last_count(session.session_id) == 2
