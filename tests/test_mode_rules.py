"""The rules engine: custom rules and their validation, every rule's verdict in words, each
threshold setting seen changing a decision, the strategies, and ``scopeline why``."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import scopeline
import selection_targets as st
from scopeline import ScopelineError
from scopeline.engine import config
from scopeline.engine.selection import rules
from scopeline.engine.selection.engine import determine_mode
from scopeline.engine.selection.rules import Rule

EXPR = {"granularity": "expression"}


pytestmark = pytest.mark.usefixtures("fresh_config_and_rules")


def decided_by(decision) -> str:
    matched = [r["rule"] for r in decision.rules if r["matched"] and r["available"]]
    return matched[0] if matched else "no rule"


def always(ctx) -> bool:
    return True


# ------------------------------------------------------------------ add / remove


@pytest.mark.parametrize("rule, says", [
    (Rule("", always, "runtime", 5, "x"), "no name"),
    (Rule("r", "not callable", "runtime", 5, "x"), "condition must be callable"),
    (Rule("r", always, "turbo", 5, "x"), "'turbo' is not a mode"),
    (Rule("r", always, "runtime", 0, "x"), "priority must be a positive int"),
    (Rule("r", always, "runtime", "high", "x"), "priority must be a positive int"),
    (Rule("r", always, "runtime", True, "x"), "priority must be a positive int"),
    (Rule("r", always, "runtime", 5000, "x"), "outrank the force flags"),
    (Rule("r", always, "runtime", 5, "x", confidence=1.5), "confidence"),
    (Rule("granular_debugging", always, "runtime", 5, "x"), "exists already"),
    ({"name": "r", "condition": always, "recommendation": "runtime", "priority": 5,
      "colour": "red"}, "unknown field(s) colour"),
    ("a string", "a rule is a Rule or a dict"),
])
def test_add_rule_refuses_a_bad_rule_saying_what_is_wrong(rule, says):
    with pytest.raises(ScopelineError) as err:
        scopeline.add_rule(rule)
    assert err.value.code == "invalid_config"
    assert says in err.value.message
    assert len(rules.rules()) == 7  # nothing was added


def test_every_problem_with_a_rule_is_reported_at_once():
    with pytest.raises(ScopelineError) as err:
        scopeline.add_rule(Rule("", None, "fast", -1, "x"))
    assert len(err.value.details["problems"]) == 4


def test_a_custom_rule_decides_by_its_priority_and_goes_away_when_removed():
    assert determine_mode(st.simple).mode == "runtime"
    scopeline.add_rule({"name": "inject_simple", "priority": 95, "reasoning": "we inject it",
                        "recommendation": "compile_time",
                        "condition": lambda ctx: ctx.profile.qualname == "simple"})
    decision = determine_mode(st.simple)
    assert (decision.mode, decided_by(decision)) == ("compile_time", "inject_simple")
    assert "we inject it" in decision.reason
    assert determine_mode(st.medium).mode == "runtime"  # its condition does not hold there
    scopeline.remove_rule("inject_simple")
    assert determine_mode(st.simple).mode == "runtime"


def test_a_custom_rule_that_raises_is_a_verdict_not_a_crash():
    def broken(ctx):
        raise KeyError("oops")

    scopeline.add_rule(Rule("broken", broken, "hybrid", 99, "never"))
    decision = determine_mode(st.simple)
    verdict = next(r for r in decision.rules if r["rule"] == "broken")
    assert not verdict["matched"] and "KeyError" in verdict["reasoning"]
    assert decision.mode == "runtime"


def test_remove_rule_unknown_names_the_nearest_and_force_flags_stay():
    with pytest.raises(ScopelineError) as err:
        scopeline.remove_rule("granular_debuging")
    assert err.value.code == "invalid_config"
    assert "granular_debugging" in err.value.recovery_suggestions[0]
    with pytest.raises(ScopelineError):
        scopeline.remove_rule("force_flags")


def test_removing_a_default_rule_changes_the_decision():
    assert determine_mode(st.route, EXPR).mode == "hybrid"
    scopeline.remove_rule("complex_algorithm")
    decision = determine_mode(st.route, EXPR)
    assert (decision.mode, decided_by(decision)) == ("compile_time", "granular_debugging")
    assert len(decision.rules) == 6


# ------------------------------------------------------------------ verdicts


def test_evaluate_rules_shows_all_seven_verdicts_with_the_facts():
    verdicts = scopeline.evaluate_rules(st.route, granularity="expression")
    by_name = {v.rule.name: v for v in verdicts}
    assert set(by_name) == {r.name for r in rules.default_rules()}
    assert [v.rule.priority for v in verdicts] == sorted(
        (v.rule.priority for v in verdicts), reverse=True)
    complex_ = by_name["complex_algorithm"]
    assert complex_.matched and complex_.confidence > 0
    assert "cyclomatic complexity 14 >= complexity_for_ast 10" in complex_.reasoning
    assert by_name["granular_debugging"].matched
    prod = by_name["production_environment"]
    assert not prod.matched and "dev, not prod" in prod.reasoning
    assert "no locals asked" in by_name["locals_needed"].reasoning


# ------------------------------------------------------------------ settings


def test_complexity_for_ast_decides_what_counts_as_complex():
    assert determine_mode(st.medium, EXPR).mode == "compile_time"  # complexity 5 < 10
    config.update_config("unified.auto_mode_thresholds.complexity_for_ast", 5)
    decision = determine_mode(st.medium, EXPR)
    assert (decision.mode, decided_by(decision)) == ("hybrid", "complex_algorithm")
    assert "cyclomatic complexity 5 >= complexity_for_ast 5" in decision.reason


def test_detail_level_for_hybrid_decides_how_much_detail_means_hybrid():
    line = {"granularity": "line"}
    assert determine_mode(st.route, line).mode == "runtime"
    config.update_config("unified.auto_mode_thresholds.detail_level_for_hybrid", 2)
    assert determine_mode(st.route, line).mode == "hybrid"
    config.update_config("unified.auto_mode_thresholds.detail_level_for_hybrid", 4)
    assert determine_mode(st.route, EXPR).mode == "compile_time"
    assert determine_mode(st.route, {"granularity": "variable"}).mode == "hybrid"


def test_performance_threshold_for_runtime_decides_what_is_hot():
    config.update_config("unified.default_mode", "compile_time")
    decision = determine_mode(st.tick)  # static frequency "medium": sensitivity 0.5
    assert (decision.mode, decided_by(decision)) == ("compile_time", "no rule")
    assert "unified.default_mode" in decision.reason
    config.update_config("unified.auto_mode_thresholds.performance_threshold_for_runtime", 0.5)
    decision = determine_mode(st.tick)
    assert (decision.mode, decided_by(decision)) == ("runtime", "high_frequency")


def test_sampling_rate_comes_from_the_measured_rate_and_max_events_per_second():
    with scopeline.trace(st.hot):
        for i in range(20_000):
            st.hot(i)
    config.update_config("runtime.safety_limits.max_events_per_second", 1_000)
    low = determine_mode(st.hot)
    config.update_config("runtime.safety_limits.max_events_per_second", 10_000)
    high = determine_mode(st.hot)
    assert decided_by(low) == decided_by(high) == "high_frequency"
    assert 0 < low.options["sampling_rate"] < high.options["sampling_rate"] < 1
    assert "max_events_per_second 1,000" in low.reason
    # an auto session takes the rate; an explicit sampling_rate is kept
    with scopeline.trace(st.hot) as session:
        pass
    assert session.options.sampling_rate == high.options["sampling_rate"]
    with scopeline.trace(st.hot, sampling_rate=0.5) as session:
        pass
    assert session.options.sampling_rate == 0.5


def test_complexity_analysis_off_keeps_complexity_out_of_the_rules():
    config.update_config("ai.instrumentation_planning.complexity_analysis", False)
    decision = determine_mode(st.route, EXPR)
    assert decision.mode == "compile_time"
    verdict = next(r for r in decision.rules if r["rule"] == "complex_algorithm")
    assert "complexity analysis is off" in verdict["reasoning"]


def test_instrumentation_planning_suggests_a_granularity_only_when_enabled():
    assert determine_mode(st.route).options["suggested_granularity"] == "expression"
    config.update_config("ai.instrumentation_planning.enabled", False)
    assert "suggested_granularity" not in determine_mode(st.route).options


def test_an_unavailable_mode_is_never_recommended_and_a_warning_says_why():
    config.update_config("compile_time.instrumentation.environments", ["test"])
    decision = determine_mode(st.simple, EXPR)
    assert decision.mode == "runtime" and "compile_time" not in decision.alternatives
    assert any("granular_debugging" in w and "'dev' environment" in w
               for w in decision.warnings)


# ------------------------------------------------------------------ preferences, strategies


def test_user_preference_weight_is_the_weight_of_a_preferred_mode():
    prefer = {**EXPR, "metadata": {"preferred_mode": "compile_time"}}
    decision = determine_mode(st.route, prefer)
    assert decision.mode == "compile_time" and "you prefer compile_time" in decision.reason
    config.update_config("ai.instrumentation_planning.user_preference_weight", 0.05)
    assert determine_mode(st.route, prefer).mode == "hybrid"
    with pytest.raises(ScopelineError) as err:
        determine_mode(st.route, {"metadata": {"preferred_mode": "fast"}})
    assert err.value.code == "invalid_config"


def test_an_explicit_mode_is_used_or_refused_never_replaced():
    decision = determine_mode(st.simple, {"mode": "hybrid"})
    assert (decision.mode, decision.confidence) == ("hybrid", 1.0)
    assert "hybrid was asked for" in decision.reason
    with pytest.raises(ScopelineError) as err:
        determine_mode(st.generated, {"mode": "compile_time"})
    assert err.value.code == "mode_unavailable" and "no source" in err.value.message


def test_each_strategy_decides_by_its_own_light():
    rule_based = determine_mode(st.route, EXPR, strategy="rule_based")
    assert (rule_based.mode, rule_based.strategy) == ("hybrid", "rule_based")
    perf = determine_mode(st.route, EXPR, strategy="performance_optimized")
    cost = perf.evidence["cost"]
    assert set(cost) == {"compile_time", "hybrid"}  # runtime cannot capture expressions
    assert perf.mode == min(cost, key=lambda m: cost[m]["cpu_overhead_percent"])
    assert "measured" in perf.reason
    pref = determine_mode(st.route, {"metadata": {"preferred_mode": "compile_time"}},
                          strategy="user_preference")
    assert pref.mode == "compile_time"
    learned = determine_mode(st.route, EXPR, strategy="ai_assisted")
    assert "no advice" in learned.reason
    with pytest.raises(ScopelineError) as err:
        determine_mode(st.route, strategy="magic")
    assert err.value.code == "invalid_config" and "combined" in err.value.message + str(
        err.value.recovery_suggestions)


def test_api_determine_mode_returns_the_full_decision():
    decision = scopeline.determine_mode(st.route, granularity="expression")
    data = decision.to_dict()
    assert data["mode"] == "hybrid" and len(data["rules"]) == 7
    assert {"evidence", "strategy", "options", "alternatives", "warnings"} <= set(data)
    json.dumps(data)  # plain data all the way down


# ------------------------------------------------------------------ scopeline why

SCOPELINE = shutil.which("scopeline", path=str(Path(sys.executable).parent)) or "scopeline"


def why(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([SCOPELINE, "why", *args], capture_output=True, text=True,
                          timeout=120, cwd=Path(st.__file__).parent,
                          env={**os.environ, "COLUMNS": "200", "NO_COLOR": "1",
                               "PYTHONPATH": str(Path(st.__file__).parent)})


def test_why_prints_the_decision_and_every_rule_verdict():
    proc = why("selection_targets:route", "--granularity", "expression")
    assert proc.returncode == 0, proc.stderr
    out = proc.stdout
    assert "selection_targets:route → hybrid (confidence 0.80)" in out
    assert "alternatives: compile_time, runtime" in out
    for rule in rules.default_rules():
        assert rule.name in out
    assert "cyclomatic complexity 14 >= complexity_for_ast 10" in out


def test_why_json_is_the_decision():
    proc = why("selection_targets:route", "--granularity", "expression", "--json")
    assert proc.returncode == 0, proc.stderr
    data = json.loads(proc.stdout)
    assert data == determine_mode(st.route, EXPR).to_dict()
    proc = why("selection_targets:route", "--env", "prod", "--json")
    assert json.loads(proc.stdout)["rules"][1]["matched"]  # production_environment
