"""The compile_time section of the configuration, each setting seen doing its job."""

from __future__ import annotations

import pytest
import runtime_sample as rs
import scopeline
from helpers import by_type
from scopeline import ScopelineError
from scopeline.engine import config
from scopeline.engine.compile_time.cache import PlanCache


@pytest.fixture(autouse=True)
def fresh_config():
    config.unload_config()
    yield
    config.unload_config()


def test_environments_gate_compile_time(monkeypatch):
    monkeypatch.setenv("SCOPELINE_ENV", "prod")
    config.unload_config()
    config.set_feature_flag("enable_on_demand_compilation", True)  # prod turns it off too
    with pytest.raises(ScopelineError) as err:
        scopeline.trace(rs.hot, mode="compile_time")
    assert err.value.code == "mode_unavailable" and "environments" in err.value.message


def test_default_level_is_the_granularity_when_none_is_given():
    config.update_config("compile_time.instrumentation.default_level", "line")
    with scopeline.trace(rs.loop_with_locals, mode="compile_time") as session:
        rs.loop_with_locals(2)
    assert session.options.granularity == "line"
    assert by_type(list(session.events()), "line_execution")


def test_targeted_recompilation_off_instruments_the_whole_file():
    config.update_config("compile_time.compilation.enable_targeted_recompilation", False)
    with scopeline.trace(rs.hot, mode="compile_time") as session:
        rs.hot(1)
    qualnames = {site["qualname"] for site in session.to_meta()["sites"]}
    assert {"hot", "add", "untraced"} <= qualnames
    config.update_config("compile_time.compilation.enable_targeted_recompilation", True)
    with scopeline.trace(rs.hot, mode="compile_time") as session:
        rs.hot(1)
    assert {site["qualname"] for site in session.to_meta()["sites"]} == {"hot"}


def test_recompile_timeout_falls_back_to_runtime_and_says_so():
    config.update_config("compile_time.compilation.recompile_timeout_ms", 1)
    config.update_config("compile_time.instrumentation.optimization_level", "none")
    with scopeline.trace(rs.hot, mode="compile_time") as session:
        rs.hot(1)
    assert "recompile_timeout_ms" in " ".join(session.to_meta()["log"])
    (exit_,) = by_type(list(session.events()), "function_exit")
    assert exit_.source == "runtime"


def test_optimization_level_none_keeps_no_cached_instrumentation(isolated_store):
    config.update_config("compile_time.instrumentation.optimization_level", "none")
    with scopeline.trace(rs.hot, mode="compile_time"):
        rs.hot(1)
    assert not (isolated_store / "plans" / "plans.json").exists() or not PlanCache(
        isolated_store / "plans").db.all()


def test_parallel_compilation_instruments_several_files():
    import lazy_mod

    config.update_config("compile_time.compilation.parallel_compilation", True)
    with scopeline.trace([rs.hot, lazy_mod.compute], mode="compile_time") as session:
        rs.hot(1)
        lazy_mod.compute(3)
    assert {e.source for e in by_type(list(session.events()), "function_exit")} == {"ast"}
    assert len(session.compile_time_refs) == 2


def test_custom_transformations_run_before_injection():
    config.update_config("compile_time.instrumentation.custom_transformations",
                         ["shout_transform.Shout"])
    with scopeline.trace(rs.greet, mode="compile_time") as session:
        assert rs.greet() == "HELLO"
    assert rs.greet() == "hello"  # restored
    (exit_,) = by_type(list(session.events()), "function_exit")
    assert exit_.data["return_value"] == "'HELLO'"


def test_runtime_control_pauses_injected_code_without_removing_it():
    with scopeline.trace(rs.hot, mode="compile_time") as session:
        instrumented = rs.hot.__code__
        scopeline.pause_trace(session.session_id)
        assert rs.hot.__code__ is instrumented  # still there, probes off
        rs.hot(1)
        scopeline.resume_trace(session.session_id)
        rs.hot(2)
    args = [e.data["arguments"]["x"] for e in by_type(list(session.events()),
                                                       "function_entry")]
    assert args == ["2"]
    config.update_config("compile_time.runtime_integration.runtime_control_enabled", False)
    original = rs.hot.__code__
    with scopeline.trace(rs.hot, mode="compile_time") as session:
        scopeline.pause_trace(session.session_id)
        assert rs.hot.__code__ is original  # without runtime control: taken out
        scopeline.resume_trace(session.session_id)


def test_on_demand_compilation_flag_guards_compile_time():
    config.set_feature_flag("enable_on_demand_compilation", False)
    with pytest.raises(ScopelineError) as err:
        scopeline.trace(rs.hot, mode="compile_time")
    assert err.value.code == "feature_disabled"
