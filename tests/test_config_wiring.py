"""Settings change what a session does: each test flips one and watches the behaviour."""

from __future__ import annotations

import time

import pytest
import runtime_sample as rs
import scopeline
from helpers import by_type
from scopeline import ScopelineError
from scopeline.engine import config
from scopeline.engine.store import Store


@pytest.fixture(autouse=True)
def fresh_config():
    config.unload_config()
    yield
    config.unload_config()


def test_default_flags_decide_what_a_plain_trace_captures():
    config.update_config("runtime.tracing.default_flags", ["calls", "returns", "exceptions"])
    with scopeline.trace([rs.catches, rs.fails]) as session:
        rs.catches(9)
    raised = [e for e in by_type(list(session.events()), "function_exception")
              if e.duration_ns is None]
    assert raised, "exceptions raised inside were not captured"


def test_max_repr_length_bounds_captured_values():
    config.update_config("unified.values.max_repr_length", 20)
    with scopeline.trace(rs.add) as session:
        rs.add(list(range(100)) and 1, 2, *range(50))
    (entry,) = by_type(list(session.events()), "function_entry")
    assert len(entry.data["arguments"]["rest"]) <= 20


def test_keep_sessions_prunes_old_stopped_sessions(isolated_store):
    config.update_config("unified.storage.keep_sessions", 2)
    for _ in range(3):
        with scopeline.trace(rs.hot):
            rs.hot(1)
    assert len(Store(isolated_store).sessions()) == 2
    config.update_config("hybrid.session_management.auto_cleanup_enabled", False)
    with scopeline.trace(rs.hot):
        rs.hot(1)
    assert len(Store(isolated_store).sessions()) == 3


def test_idle_session_timeout_stops_a_session_that_captures_nothing():
    config.update_config("hybrid.session_management.session_timeout_ms", 300)
    config.update_config("runtime.tracing.flush_interval_ms", 50)
    session = scopeline.trace(rs.hot)
    deadline = time.time() + 10
    while session.status != "stopped" and time.time() < deadline:
        time.sleep(0.05)
    assert session.status == "stopped"
    assert any("session_timeout_ms" in note for note in session.to_meta()["log"])


def test_flush_interval_moves_events_to_disk_while_the_program_runs(isolated_store):
    config.update_config("runtime.tracing.flush_interval_ms", 50)
    session = scopeline.trace(rs.hot)
    try:
        rs.hot(1)
        deadline = time.time() + 10
        while not list(Store(isolated_store).batches(session.session_id)):
            assert time.time() < deadline, "nothing was flushed"
            time.sleep(0.02)
    finally:
        scopeline.stop_trace(session)


def test_feature_flag_off_refuses_the_granularity_it_guards():
    config.set_feature_flag("enable_expression_tracing", False)
    with pytest.raises(ScopelineError) as err:
        scopeline.trace(rs.add, granularity="expression")
    assert err.value.code == "feature_disabled"
    assert "enable_expression_tracing" in err.value.message


def test_default_mode_from_config_is_used_for_auto():
    config.update_config("unified.default_mode", "hybrid")
    with scopeline.trace(rs.hot) as session:  # no rule decides for a plain function
        rs.hot(1)
    assert session.mode == "hybrid" and "unified.default_mode" in session.mode_reason
    with scopeline.trace(rs.hot, granularity="expression") as session:  # a rule decides
        rs.hot(1)
    assert session.mode == "compile_time"


def test_prod_environment_samples_by_default(monkeypatch):
    monkeypatch.setenv("SCOPELINE_ENV", "prod")
    config.unload_config()
    with scopeline.trace(rs.hot) as session:
        for i in range(5_000):
            rs.hot(i)
    kept = session.stats()["captured"]["function_entry"]
    assert 200 < kept < 1_000  # prod samples 10%


def test_max_items_and_max_depth_bound_captured_containers():
    config.update_config("unified.values.max_items", 3)
    config.update_config("unified.values.max_depth", 1)
    with scopeline.trace(rs.count) as session:
        rs.count([1, 2, 3, 4, 5, 6], [[1, [2]]])
    (entry,) = by_type(list(session.events()), "function_entry")
    rest = entry.data["arguments"]["items"]
    assert "4" not in rest and "..." in rest  # three items, then an ellipsis
    assert "[2]" not in rest  # nothing below depth 1
