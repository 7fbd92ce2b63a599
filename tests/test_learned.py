"""The learned selector: feedback changes later decisions for similar targets, the reason cites
it, it survives a restart, and each of its settings is seen doing its job."""

from __future__ import annotations

import os
import subprocess
import sys
import time

import pytest
import scopeline
import selection_targets as st
from helpers import marker_line
from scopeline import ScopelineError
from scopeline.engine import config
from scopeline.engine.selection import learned
from scopeline.engine.selection.engine import determine_mode

EXPR = {"granularity": "expression"}
CITED = ("hybrid was marked failed 3 of 4 times for functions like this "
         "(complexity 12-20, nested loops, expression granularity)")


pytestmark = pytest.mark.usefixtures("fresh_config_and_rules")


def hybrid_failed_three_of_four() -> None:
    for outcome in ("failed", "successful", "failed", "failed"):
        scopeline.train_with_feedback(st.route, "hybrid", outcome, **EXPR)


def test_feedback_changes_a_later_decision_and_the_reason_names_it():
    before = determine_mode(st.route, EXPR)
    assert before.mode == "hybrid" and not before.evidence["used"]
    hybrid_failed_three_of_four()
    after = determine_mode(st.route, EXPR)
    assert after.mode == "compile_time"
    assert CITED in after.reason
    assert "instead of hybrid" in after.reason and "granular_debugging" in after.reason
    assert after.evidence["counts"]["hybrid"] == {"successful": 1, "failed": 3,
                                                  "suboptimal": 0}
    assert after.evidence["nearest"][0]["target"] == "selection_targets:route"


def test_feedback_reaches_similar_targets_only():
    hybrid_failed_three_of_four()
    # the same code as a line tracepoint is a target like this one
    line = f"{st.__file__}:{marker_line(st, 'route-inner')}"
    assert determine_mode(line, EXPR).mode == "compile_time"
    # a one-line function is not: its evidence is empty
    assert determine_mode(st.simple, EXPR).evidence["similar"] == 0
    # the same function at another injected granularity still is (granularity is 2 of 11)
    assert determine_mode(st.route, {"granularity": "variable"}).evidence["similar"] == 4


def test_good_feedback_promotes_a_mode():
    line = {"granularity": "line"}
    assert determine_mode(st.simple, line).mode == "runtime"
    for _ in range(3):
        scopeline.train_with_feedback(st.simple, "compile_time", "successful", **line)
    decision = determine_mode(st.simple, line)
    assert decision.mode == "compile_time"
    assert "compile_time was marked successful 3 of 3 times" in decision.reason


def test_feedback_survives_a_restart(isolated_store):
    code = ("import scopeline, selection_targets as st\n"
            "for o in ('failed', 'successful', 'failed', 'failed'):\n"
            "    scopeline.train_with_feedback(st.route, 'hybrid', o, granularity='expression')\n")
    fixtures = os.path.dirname(st.__file__)
    subprocess.run([sys.executable, "-c", code], check=True, timeout=120,
                   env={**os.environ, "SCOPELINE_DATA_DIR": str(isolated_store),
                        "PYTHONPATH": fixtures})
    assert learned.db_path().is_relative_to(isolated_store)
    decision = determine_mode(st.route, EXPR)
    assert decision.mode == "compile_time" and CITED in decision.reason


def test_a_session_can_be_given_as_the_target():
    with scopeline.trace(st.route, granularity="expression") as session:
        st.route({"a": {"b": 1}}, "a", "b", 10)
    assert session.mode == "hybrid"
    for outcome in ("failed", "failed", "failed"):
        scopeline.train_with_feedback(session, session.mode, outcome)
    assert determine_mode(st.route, EXPR).mode == "compile_time"


def test_bad_mode_or_outcome_is_a_clear_error():
    with pytest.raises(ScopelineError) as err:
        scopeline.train_with_feedback(st.route, "hybrid", "meh")
    assert err.value.code == "invalid_config" and "successful" in err.value.recovery_suggestions[0]
    with pytest.raises(ScopelineError) as err:
        scopeline.train_with_feedback(st.route, "turbo", "failed")
    assert err.value.code == "invalid_config" and "'turbo' is not a mode" in err.value.message


@pytest.mark.parametrize("path, value, says", [
    ("unified.feature_flags.enable_ai_mode_selection", False, "enable_ai_mode_selection"),
    ("ai.mode_selection.enabled", False, "ai.mode_selection.enabled"),
    ("ai.instrumentation_planning.historical_data_weight", 0.0, None),
])
def test_switched_off_feedback_has_no_influence(path, value, says):
    hybrid_failed_three_of_four()
    config.update_config(path, value)
    decision = determine_mode(st.route, EXPR)
    assert decision.mode == "hybrid"
    if says:
        assert says in decision.evidence["skipped"]


def test_the_test_environment_ignores_feedback(monkeypatch):
    hybrid_failed_three_of_four()
    monkeypatch.setenv("SCOPELINE_ENV", "test")
    config.unload_config()
    assert determine_mode(st.route, EXPR).mode == "hybrid"


def test_advice_below_the_confidence_threshold_is_ignored_and_said_so():
    hybrid_failed_three_of_four()  # confidence 0.75
    config.update_config("ai.mode_selection.confidence_threshold", 0.8)
    decision = determine_mode(st.route, EXPR)
    assert decision.mode == "hybrid"
    assert "below ai.mode_selection.confidence_threshold 0.8" in decision.reason


def test_too_little_feedback_is_below_the_default_threshold():
    scopeline.train_with_feedback(st.route, "hybrid", "failed", **EXPR)  # 1 record: 0.33
    decision = determine_mode(st.route, EXPR)
    assert decision.mode == "hybrid" and "not weighed" in decision.reason


def test_only_the_local_provider_exists():
    hybrid_failed_three_of_four()
    config.update_config("ai.mode_selection.provider", "openai")
    decision = determine_mode(st.route, EXPR)
    assert decision.mode == "hybrid"
    assert any("provider='openai' is not available" in w for w in decision.warnings)


def test_analysis_timeout_stops_scanning_and_warns():
    hybrid_failed_three_of_four()
    feats = learned.features(
        __import__("scopeline.engine.selection.context", fromlist=["x"]).build_context(
            st.simple))
    learned._table().insert_multiple(
        {"target": "x", "mode": "runtime", "outcome": "successful", "features": feats,
         "recorded_at": time.time()} for _ in range(20_000))
    config.update_config("ai.mode_selection.analysis_timeout_ms", 1)
    decision = determine_mode(st.route, EXPR)
    assert decision.evidence["scanned"] < decision.evidence["total"] == 20_004
    assert any("analysis_timeout_ms = 1" in w for w in decision.warnings)
    config.update_config("ai.mode_selection.analysis_timeout_ms", 0)  # 0: no limit
    decision = determine_mode(st.route, EXPR)
    assert decision.evidence["scanned"] == 20_004 and decision.mode == "compile_time"
