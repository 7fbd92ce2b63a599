"""The event model's JSON round trip, and the structured error every failure carries."""

from __future__ import annotations

import json

import pytest
from scopeline.engine.errors import (
    ERROR_CODES,
    ErrorCategory,
    Fallback,
    ScopelineError,
    Severity,
    get_recovery_suggestions,
    handle_error,
)
from scopeline.engine.events import Event


def test_event_json_round_trip_keeps_every_field():
    event = Event.new("function_exit", {"return_value": "3", "locals": {"x": "2"}},
                      session_id="s1", module="pkg.mod", function="Class.method", arity=2,
                      file="/abs/path.py", line=42, call_stack=["pkg.mod:main"],
                      duration_ns=1200, parent_event_id="ev-1", thread_id=7,
                      thread_name="MainThread")
    raw = json.loads(event.to_json())
    assert set(raw) == {
        "event_id", "correlation_id", "session_id", "source", "timestamp", "monotonic_time",
        "type", "category", "thread_id", "thread_name", "module", "function", "arity", "file",
        "line", "data", "metadata", "call_stack", "sequence_number", "parent_event_id",
        "duration_ns", "memory_delta"}
    assert raw["category"] == "function_call" and raw["source"] == "runtime"
    assert Event.from_json(event.to_json()) == event


def test_event_helpers():
    a = Event.new("function_entry", {}, session_id="s", module="m", function="f", thread_id=1)
    b = Event.new("function_exit", {}, session_id="s", module="m", function="f", thread_id=1)
    c = Event.new("function_exit", {}, session_id="s", module="m", function="g", thread_id=1)
    assert a.correlatable(b) and not a.correlatable(c)
    a.add_correlation_metadata({"strategy": "exact"})
    assert a.metadata["correlation"] == {"strategy": "exact"}
    assert a.event_id != b.event_id


def test_error_structure_and_one_line_form():
    err = ScopelineError("target_invalid", "no function 'squre' in prog.py",
                         details={"nearest": ["square"]}, suggestions=["Did you mean square?"])
    assert err.category is ErrorCategory.MODE_SELECTION and err.severity is Severity.ERROR
    assert err.recovery_suggestions[0] == "Did you mean square?"
    assert err.one_line() == ("error[target_invalid]: no function 'squre' in prog.py — "
                              "Did you mean square?")
    as_dict = err.to_dict()
    assert as_dict["code"] == "target_invalid" and as_dict["timestamp"] > 0
    assert not err.recoverable


@pytest.mark.parametrize("code", sorted(ERROR_CODES))
def test_every_seed_code_has_a_category_and_a_suggestion(code):
    assert get_recovery_suggestions(code)
    assert ScopelineError(code, "x").category in ErrorCategory


def test_handle_error_falls_back_where_the_work_can_go_on():
    assert handle_error(ScopelineError("compilation_failed", "x")) == Fallback(
        "runtime", "compilation_failed: falling back to runtime capture")
    assert handle_error(ScopelineError("internal_error", "x")) == "abort"
    assert ScopelineError("mode_unavailable", "x").recoverable
