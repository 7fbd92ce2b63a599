"""What each mode can do for a target, and in words what it cannot."""

from __future__ import annotations

import sys
import threading

import analysis_sample as a
import pytest
import runtime_sample as rs
import scopeline
from scopeline.engine import config
from scopeline.engine.errors import ScopelineError
from scopeline.engine.selection.capabilities import (
    analyze_mode_capabilities,
    get_mode_capabilities,
    mode_available,
)

OLD_PYTHON = sys.version_info < (3, 12)


@pytest.fixture(autouse=True)
def fresh_config():
    config.unload_config()
    yield
    config.unload_config()


def made_at_runtime():
    namespace: dict = {}
    exec("def made(x):\n    return x\n", namespace)
    return namespace["made"]


def test_a_function_with_source_can_use_every_mode():
    report = analyze_mode_capabilities(a.branchy)
    assert [report[m]["available"] for m in ("runtime", "compile_time", "hybrid")] == [
        True, True, True]
    assert report["compile_time"]["compilation_required"] is True
    assert {"expressions", "variable_assignments"} <= set(report["compile_time"]["capabilities"])
    assert "correlated_events" in report["hybrid"]["capabilities"]
    assert report["hybrid"]["complexity"] == "low"  # one function, rarely called
    assert all(report[m]["performance_impact"] in ("low", "medium", "high")
               for m in ("runtime", "compile_time", "hybrid"))
    # what runtime hooks never see is said even when runtime is available
    assert any("sub-expression" in lim for lim in report["runtime"]["limitations"])


def test_a_thread_target_is_runtime_only():
    report = analyze_mode_capabilities("thread:MainThread")
    assert report["kind"] == "thread"
    assert report["runtime"]["available"]
    assert "everything_a_thread_runs" in report["runtime"]["capabilities"]
    assert report["runtime"]["performance_impact"] == "high"
    for mode in ("compile_time", "hybrid"):
        assert not report[mode]["available"] and report[mode]["capabilities"] == []
        assert "a thread target is runtime-only" in report[mode]["why_unavailable"]
    assert get_mode_capabilities(threading.current_thread())["compile_time"] == []
    assert mode_available("thread:MainThread", "runtime")
    assert not mode_available("thread:MainThread", "hybrid")


def test_no_source_means_no_injection():
    made = made_at_runtime()
    report = analyze_mode_capabilities(made)
    assert report["runtime"]["available"]
    assert not report["compile_time"]["available"]
    assert report["compile_time"]["why_unavailable"] == ("no source means no injection: "
                                                         "made (<string>)")
    assert not report["hybrid"]["available"]
    assert "no source means no injection" in report["hybrid"]["limitations"][0]
    # in a list with a function that has source, it falls back to runtime hooks, and says so
    mixed = analyze_mode_capabilities([a.straight, made])
    assert mixed["compile_time"]["available"]
    assert any("falls back to runtime hooks" in lim
               for lim in mixed["compile_time"]["limitations"])


def test_c_code_can_be_traced_in_no_mode():
    report = analyze_mode_capabilities(len)
    assert not any(report[m]["available"] for m in ("runtime", "compile_time", "hybrid"))
    assert "implemented in C" in report["runtime"]["why_unavailable"]
    assert not mode_available(len, "auto")


def test_production_turns_injection_off(monkeypatch):
    monkeypatch.setenv("SCOPELINE_ENV", "prod")
    report = analyze_mode_capabilities(a.branchy)
    assert report["runtime"]["available"]
    assert not report["compile_time"]["available"] and not report["hybrid"]["available"]
    assert "enable_on_demand_compilation" in report["compile_time"]["why_unavailable"]
    # prod switches the granularity flags off too: said in words, not silently dropped
    assert any("enable_expression_tracing" in lim
               for lim in report["compile_time"]["limitations"])
    assert not scopeline.mode_available(a.branchy, "compile_time")
    assert scopeline.mode_available(a.branchy, "runtime")


def test_the_environments_setting_decides_where_injection_may_run(monkeypatch):
    monkeypatch.setenv("SCOPELINE_ENV", "test")
    assert mode_available(a.branchy, "compile_time")
    config.update_config("compile_time.instrumentation.environments", ["dev"])
    assert not mode_available(a.branchy, "compile_time")
    why = analyze_mode_capabilities(a.branchy)["compile_time"]["why_unavailable"]
    assert "'test' environment" in why and "compile_time.instrumentation.environments" in why


@pytest.mark.parametrize(("flag", "capability", "words"), [
    ("enable_expression_tracing", "expressions", "expression granularity is off"),
    ("enable_ast_local_variables", "variable_assignments", "variable granularity is off"),
])
def test_granularity_flags_remove_what_they_switch_off(flag, capability, words):
    assert capability in get_mode_capabilities(a.branchy)["compile_time"]
    config.set_feature_flag(flag, False)
    report = analyze_mode_capabilities(a.branchy)
    assert report["compile_time"]["available"]  # the rest of injection still works
    assert capability not in report["compile_time"]["capabilities"]
    assert f"{words} here (feature flag {flag})" in report["compile_time"]["limitations"]


def test_what_the_runtime_backend_cannot_hook_on_this_python():
    nested = "runtime_sample:make_counter.<locals>.bump"
    if OLD_PYTHON:
        assert not mode_available(nested, "runtime")
        assert "nested function named by text" in (
            analyze_mode_capabilities(nested)["runtime"]["why_unavailable"])
        assert not mode_available(rs.ticks, "runtime")  # an async generator
        assert "async generator" in analyze_mode_capabilities(rs.ticks)["runtime"][
            "why_unavailable"]
        # in a whole module they are skipped, not fatal: said as a limitation
        module = analyze_mode_capabilities("runtime_sample")["runtime"]
        assert module["available"]
        assert any(lim.startswith("skipped inside the module: runtime_sample:ticks")
                   for lim in module["limitations"])
    else:
        assert mode_available(nested, "runtime") and mode_available(rs.ticks, "runtime")
    # injection reads the source either way
    assert mode_available(nested, "compile_time")


def test_availability_of_bad_targets_and_modes():
    assert not mode_available("runtime_sample:no_such_function", "runtime")
    assert not mode_available("thread:no-such-thread", "runtime")
    assert mode_available(rs.hot, "auto")
    with pytest.raises(ScopelineError) as err:
        mode_available(rs.hot, "turbo")
    assert err.value.code == "invalid_config"
    with pytest.raises(ScopelineError) as err:
        analyze_mode_capabilities("runtime_sample:no_such_function")
    assert err.value.code == "target_invalid"


def test_the_public_api_answers_from_the_analysis():
    caps = scopeline.get_mode_capabilities(rs.hot)
    assert set(caps) == {"runtime", "compile_time", "hybrid"}
    assert "no_source_needed" in caps["runtime"] and "expressions" in caps["compile_time"]
    assert scopeline.get_mode_capabilities(made_at_runtime())["compile_time"] == []
