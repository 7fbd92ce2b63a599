"""The mode table: real targets × options × environment → the mode the seed's rules give, and
the rule that decides it. Every row is also run with each force flag (the flag always wins, or
the forced mode is refused with an error, never replaced) and twice (same decision)."""

from __future__ import annotations

import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pytest
import scopeline
import selection_targets as st
from helpers import marker_line
from scopeline import ScopelineError
from scopeline.engine import config
from scopeline.engine.options import parse_options
from scopeline.engine.selection import rules
from scopeline.engine.selection.analysis import analyze_target_complexity
from scopeline.engine.selection.capabilities import mode_available
from scopeline.engine.selection.costmodel import compare_locals_capture
from scopeline.engine.selection.engine import determine_mode

OLD_PYTHON = sys.version_info < (3, 12)
LOCALS = "cheaper by the cost model"  # rule 4: whichever mode the measured cost model prices lower
FALLBACK = "no rule"


def run_hot_session() -> None:
    """A real session runs `hot` many times: its counters then say high frequency."""
    with scopeline.trace(st.hot):
        for i in range(20_000):
            st.hot(i)


def line(name: str) -> str:
    return f"{st.__file__}:{marker_line(st, name)}"


@dataclass
class Row:
    label: str
    target: Callable[[], Any]
    options: dict[str, Any]
    mode: str  # expected mode, LOCALS, or "error"
    rule: str  # the rule that decides, FALLBACK, or the error code
    env: str = "dev"
    prepare: Callable[[], None] | None = None
    warns: str = ""  # a word the decision's warnings must contain
    marks: list[Any] = field(default_factory=list)

    def param(self) -> Any:
        return pytest.param(self, id=self.label, marks=self.marks)


EXPR = {"granularity": "expression"}
VAR = {"granularity": "variable"}
NESTED = "selection_targets:outer.<locals>.inner"
CUSTOM = {"custom_injections": [(11, "after", "pass")]}

ROWS = [
    Row("simple-plain", lambda: st.simple, {}, "runtime", FALLBACK),
    Row("simple-line", lambda: st.simple, {"granularity": "line"}, "runtime", FALLBACK),
    Row("simple-expression", lambda: st.simple, EXPR, "compile_time", "granular_debugging"),
    Row("simple-variable", lambda: st.simple, VAR, "compile_time", "granular_debugging"),
    Row("simple-custom-injection", lambda: st.simple, CUSTOM, "compile_time",
        "granular_debugging"),
    Row("simple-locals", lambda: st.simple, {"capture_locals": ("a",)}, LOCALS,
        "locals_needed"),
    Row("simple-prod", lambda: st.simple, {}, "runtime", "production_environment", env="prod"),
    Row("medium-plain", lambda: st.medium, {}, "runtime", FALLBACK),
    Row("medium-expression", lambda: st.medium, EXPR, "compile_time", "granular_debugging"),
    Row("complex-plain", lambda: st.route, {}, "runtime", FALLBACK),
    Row("complex-line", lambda: st.route, {"granularity": "line"}, "runtime", FALLBACK),
    Row("complex-expression", lambda: st.route, EXPR, "hybrid", "complex_algorithm"),
    Row("complex-variable", lambda: st.route, VAR, "hybrid", "complex_algorithm"),
    Row("complex-locals", lambda: st.route, {"capture_locals": ("total",)}, LOCALS,
        "locals_needed"),
    Row("complex-locals-prod", lambda: st.route, {"capture_locals": ("total",)}, "runtime",
        "production_environment", env="prod"),
    Row("complex-expression-prod", lambda: st.route, EXPR, "error", "feature_disabled",
        env="prod"),  # prod turns expression tracing off: refused, as trace() refuses it
    Row("complex-plain-test-env", lambda: st.route, {}, "runtime", FALLBACK, env="test"),
    Row("complex-expression-test-env", lambda: st.route, EXPR, "hybrid", "complex_algorithm",
        env="test"),
    Row("generator-plain", lambda: st.squares, {}, "runtime", FALLBACK),
    Row("generator-expression", lambda: st.squares, EXPR, "compile_time",
        "granular_debugging"),
    Row("async-plain", lambda: st.fetch, {}, "runtime", FALLBACK),
    Row("async-variable", lambda: st.fetch, VAR, "compile_time", "granular_debugging"),
    Row("method-plain", lambda: st.Shape.area, {}, "runtime", FALLBACK),
    Row("method-expression", lambda: st.Shape.area, EXPR, "compile_time",
        "granular_debugging"),
    Row("nested-plain", lambda: NESTED, {}, "compile_time" if OLD_PYTHON else "runtime",
        FALLBACK),
    Row("nested-expression", lambda: NESTED, EXPR, "compile_time", "granular_debugging"),
    Row("thread-plain", st.make_thread, {}, "runtime", "thread_monitoring"),
    Row("thread-expression", st.make_thread, EXPR, "runtime", "thread_monitoring",
        warns="unavailable"),
    Row("no-source-plain", lambda: st.generated, {}, "runtime", FALLBACK),
    Row("no-source-expression", lambda: st.generated, EXPR, "runtime", FALLBACK,
        warns="no source means no injection"),
    Row("builtin", lambda: len, {}, "error", "mode_unavailable"),
    Row("line-in-complex", lambda: line("route-inner"), {}, "runtime", FALLBACK),
    Row("line-in-complex-expression", lambda: line("route-inner"), EXPR, "hybrid",
        "complex_algorithm"),
    Row("line-in-complex-locals", lambda: line("route-inner"), {"capture_locals": ("total",)},
        LOCALS, "locals_needed"),
    Row("line-in-simple-expression", lambda: line("simple-body"), EXPR, "compile_time",
        "granular_debugging"),
    Row("module-plain", lambda: "selection_targets", {}, "runtime", FALLBACK),
    Row("module-expression", lambda: "selection_targets", EXPR, "hybrid", "complex_algorithm"),
    Row("module-prod", lambda: "selection_targets", {}, "runtime", "production_environment",
        env="prod"),
    Row("list-simple-and-complex-expression", lambda: [st.simple, st.route], EXPR, "hybrid",
        "complex_algorithm"),
    Row("static-medium-frequency", lambda: st.tick, {}, "runtime", FALLBACK),
    Row("hot-measured", lambda: st.hot, {}, "runtime", "high_frequency",
        prepare=run_hot_session),
    Row("hot-measured-locals", lambda: st.hot, {"capture_locals": ("x",)}, "runtime",
        "high_frequency", prepare=run_hot_session),
    Row("hot-measured-expression", lambda: st.hot, EXPR, "compile_time", "granular_debugging",
        prepare=run_hot_session),
]


pytestmark = pytest.mark.usefixtures("fresh_config_and_rules")


def in_env(row: Row, monkeypatch: pytest.MonkeyPatch) -> Any:
    if row.env != "dev":
        monkeypatch.setenv("SCOPELINE_ENV", row.env)
        config.unload_config()
    if row.prepare is not None:
        row.prepare()
    return row.target()


def deciding_rule(decision: Any) -> str:
    """The highest-priority matched rule whose mode is available, as the decision shows it."""
    decided = [r for r in decision.rules if r["matched"] and r["available"]]
    return decided[0]["rule"] if decided else FALLBACK


def expected_mode(row: Row, target: Any) -> str:
    if row.mode != LOCALS:
        return row.mode
    profile = analyze_target_complexity(target).functions[0]
    cheaper = compare_locals_capture(profile, parse_options(**row.options)).cheaper
    return "runtime" if cheaper == "runtime" else "compile_time"


def test_the_table_has_at_least_30_rows_covering_every_rule():
    assert len(ROWS) >= 30
    deciders = {row.rule for row in ROWS}
    assert {r.name for r in rules.default_rules()} - {"force_flags"} <= deciders


@pytest.mark.parametrize("row", [r.param() for r in ROWS])
def test_mode_table(row: Row, monkeypatch):
    target = in_env(row, monkeypatch)
    if row.mode == "error":
        with pytest.raises(ScopelineError) as err:
            determine_mode(target, row.options)
        assert err.value.code == row.rule
        return
    decision = determine_mode(target, row.options)
    assert (decision.mode, deciding_rule(decision)) == (expected_mode(row, target), row.rule), \
        decision.reason
    assert len(decision.rules) == 7 and decision.reason
    assert decision.mode not in decision.alternatives
    if row.rule != FALLBACK:
        assert f"rule {row.rule}" in decision.reason
    if row.warns:
        assert any(row.warns in w for w in decision.warnings), decision.warnings
    if row.rule == "high_frequency":
        high = next(r for r in decision.rules if r["rule"] == "high_frequency")
        assert "runtime counters" in high["reasoning"]


@pytest.mark.parametrize("forced", ["runtime", "compile_time"])
@pytest.mark.parametrize("row", [r.param() for r in ROWS])
def test_force_flags_always_win(row: Row, forced: str, monkeypatch):
    target = in_env(row, monkeypatch)
    options = {**row.options, f"force_{forced}": True}
    if row.mode == "error" or not mode_available(target, forced):
        # the forced mode cannot run here: an error that says so, never another mode
        with pytest.raises(ScopelineError) as err:
            determine_mode(target, options)
        assert err.value.code in ("mode_unavailable", "feature_disabled")
        return
    decision = determine_mode(target, options)
    assert decision.mode == forced
    assert decision.confidence == 1.0
    assert deciding_rule(decision) == "force_flags"


@pytest.mark.parametrize("row", [r.param() for r in ROWS if r.mode != "error"])
def test_same_inputs_same_decision(row: Row, monkeypatch):
    target = in_env(row, monkeypatch)
    first = determine_mode(target, row.options).to_dict()
    second = determine_mode(target, row.options).to_dict()
    assert first == second


def test_auto_trace_uses_the_decision(monkeypatch):
    """The decision is the session's: auto on a complex function asked for expressions is a
    hybrid session whose reason names the rule."""
    with scopeline.trace(st.route, granularity="expression") as session:
        st.route({"a": {"b": 1}}, "a", "b", 10)
    assert session.mode == "hybrid"
    assert "complex_algorithm" in session.mode_reason
