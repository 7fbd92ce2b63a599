"""The configuration system (seed §3): schema, defaults, pyproject, environments, live updates."""

from __future__ import annotations

import shutil
import threading
from pathlib import Path
from typing import Any

import pytest
from scopeline.engine import config
from scopeline.engine.errors import ScopelineError

FIXTURES = Path(__file__).parent / "fixtures" / "config"


@pytest.fixture(autouse=True)
def fresh_config(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Any:
    # Each test starts from defaults in an empty folder and leaves nothing behind.
    monkeypatch.delenv("SCOPELINE_ENV", raising=False)
    monkeypatch.chdir(tmp_path)
    config.unload_config()
    yield
    config.unload_config()


def project(tmp_path: Path, fixture: str) -> Path:
    """A project folder whose pyproject.toml is the given fixture."""
    shutil.copy(FIXTURES / fixture, tmp_path / "pyproject.toml")
    return tmp_path


# -- defaults -------------------------------------------------------------------------------


def test_defaults_validate_clean_and_are_complete() -> None:
    defaults = config.default_config()
    assert config.validate_config(defaults) == []
    assert config.validate_unified_config(defaults, require_all=True) == []
    assert defaults["runtime"]["tracing"]["sampling_rate"] == 1.0
    assert defaults["unified"]["values"]["max_repr_length"] == 200
    assert defaults["unified"]["storage"]["keep_sessions"] == 200


def test_default_config_is_a_fresh_copy_each_call() -> None:
    config.default_config()["runtime"]["tracing"]["default_flags"].append("lines")
    assert config.default_config()["runtime"]["tracing"]["default_flags"] == ["calls", "returns"]


def test_every_setting_has_a_doc_and_a_default_that_passes_its_own_check() -> None:
    settings = list(config.iter_settings())
    assert len(settings) > 50
    for path, setting in settings:
        assert setting.doc.strip(), path
        _, problem = setting.check(setting.default, path)
        assert problem is None, problem


def test_environment_presets_are_valid_partial_configs() -> None:
    for env in config.ENVIRONMENTS:
        assert config.validate_config(config.environment_defaults(env)) == [], env


# -- pyproject.toml ---------------------------------------------------------------------------


def test_pyproject_values_load_from_a_subfolder(tmp_path: Path) -> None:
    nested = project(tmp_path, "valid_pyproject.toml") / "src" / "app"
    nested.mkdir(parents=True)
    cfg = config.load_config(nested)
    assert cfg["unified"]["default_mode"] == "hybrid"
    assert cfg["hybrid"]["correlation"]["window_ms"] == 250
    assert cfg["runtime"]["tracing"]["default_flags"] == ["calls", "returns", "exceptions"]
    # TOML's integer 1 becomes the float the setting is declared as.
    assert config.get("runtime.tracing.sampling_rate") == 1.0
    assert isinstance(config.get("runtime.tracing.sampling_rate"), float)
    # Untouched settings keep their defaults.
    assert config.get("runtime.tracing.buffer_size") == 200_000
    assert config.current_config().source == tmp_path / "pyproject.toml"


def test_first_read_loads_pyproject_from_the_working_directory(tmp_path: Path) -> None:
    project(tmp_path, "valid_pyproject.toml")
    assert config.get("unified.values.max_repr_length") == 80


def test_pyproject_without_tool_table_gives_defaults(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text('[project]\nname = "x"\n')
    assert config.load_config() == config.default_config()


def test_invalid_pyproject_reports_every_problem_and_keeps_previous_config(
        tmp_path: Path) -> None:
    config.update_config("hybrid.correlation.window_ms", 42)
    project(tmp_path, "invalid_pyproject.toml")
    with pytest.raises(ScopelineError) as info:
        config.load_config()
    err = info.value
    assert err.code == "config_validation_failed"
    problems = err.details["problems"]
    assert len(problems) == 3
    for fragment in ("sampling_rate", "did you mean 'sampling_rate'", "psychic"):
        assert any(fragment in p for p in problems), fragment
        assert fragment in err.message
    assert config.get("hybrid.correlation.window_ms") == 42


def test_broken_toml_is_a_validation_failure(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text("[tool.scopeline\n")
    with pytest.raises(ScopelineError) as info:
        config.load_config()
    assert info.value.code == "config_validation_failed"
    assert "not valid TOML" in info.value.details["problems"][0]


# -- environments ---------------------------------------------------------------------------


def test_prod_environment_overrides_apply(monkeypatch: pytest.MonkeyPatch) -> None:
    assert config.current_environment() == "dev"
    assert config.get("runtime.tracing.sampling_rate") == 1.0
    monkeypatch.setenv("SCOPELINE_ENV", "prod")
    assert config.current_environment() == "prod"
    assert config.get("runtime.tracing.sampling_rate") == 0.1
    assert config.get("unified.default_mode") == "runtime"
    assert config.get("ai.mode_selection.enabled") is False
    assert config.get("runtime.safety_limits.max_events_per_second") < 100_000
    assert config.get_environment_config()["runtime"]["tracing"]["sampling_rate"] == 0.1


def test_test_environment_is_deterministic(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SCOPELINE_ENV", "test")
    assert config.get("ai.mode_selection.enabled") is False
    assert config.feature_enabled("enable_ai_mode_selection") is False
    assert config.get("runtime.tracing.sampling_rate") == 1.0


def test_user_settings_beat_presets_and_user_overrides_beat_both(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    project(tmp_path, "valid_pyproject.toml")
    monkeypatch.setenv("SCOPELINE_ENV", "prod")
    # Set at top level by the user: wins over prod's preset (0.1 / "runtime").
    assert config.get("runtime.tracing.sampling_rate") == 1.0
    assert config.get("unified.default_mode") == "hybrid"
    # The user's own prod override wins over prod's preset (10000).
    assert config.get("runtime.safety_limits.max_events_per_second") == 5000
    merged = config.get_environment_config("prod")
    assert merged["runtime"]["safety_limits"]["max_events_per_second"] == 5000
    assert merged["ai"]["mode_selection"]["enabled"] is False  # from the preset
    monkeypatch.setenv("SCOPELINE_ENV", "dev")
    assert config.get("runtime.safety_limits.max_events_per_second") == 100_000


def test_bogus_environment_is_an_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SCOPELINE_ENV", "bogus")
    with pytest.raises(ScopelineError) as info:
        config.get_config()
    assert info.value.code == "config_validation_failed"
    assert "bogus" in info.value.message and "prod" in info.value.message
    with pytest.raises(ScopelineError):
        config.current_environment()
    with pytest.raises(ScopelineError) as unknown:
        config.get_environment_config("staging")
    assert unknown.value.code == "invalid_config"


def test_runtime_update_of_an_environment_override(monkeypatch: pytest.MonkeyPatch) -> None:
    config.update_config("unified.environment_overrides.prod.runtime.tracing.buffer_size", 1024)
    assert config.get("runtime.tracing.buffer_size") == 200_000  # still dev
    monkeypatch.setenv("SCOPELINE_ENV", "prod")
    assert config.get("runtime.tracing.buffer_size") == 1024


# -- reading and updating by path -------------------------------------------------------------


def test_update_by_dotted_path_and_by_key_sequence() -> None:
    config.update_config("runtime.safety_limits.memory_limit_mb", 512)
    config.update_config(("hybrid", "correlation", "strategy"), "thread_correlation")
    assert config.get(["runtime", "safety_limits", "memory_limit_mb"]) == 512
    assert config.get_config()["hybrid"]["correlation"]["strategy"] == "thread_correlation"
    assert config.get_mode_config("runtime")["safety_limits"]["memory_limit_mb"] == 512


def test_returned_dicts_are_copies() -> None:
    config.get_config()["runtime"]["tracing"]["sampling_rate"] = 0.0
    config.get_mode_config("runtime")["tracing"]["sampling_rate"] = 0.0
    assert config.get("runtime.tracing.sampling_rate") == 1.0


def test_update_a_section_with_a_dict() -> None:
    config.update_config("runtime.tracing", {"sampling_rate": 0.5, "buffer_size": 4096})
    assert config.get("runtime.tracing.sampling_rate") == 0.5
    assert config.get("runtime.tracing.buffer_size") == 4096
    assert config.get("runtime.tracing.flush_interval_ms") == 200


def test_unknown_path_error_names_the_nearest_path() -> None:
    with pytest.raises(ScopelineError) as info:
        config.update_config("runtime.tracing.sampel_rate", 0.5)
    err = info.value
    assert err.code == "invalid_config"
    assert "did you mean 'runtime.tracing.sampling_rate'" in err.message
    assert "runtime.tracing.buffer_size" in err.details["valid"]
    with pytest.raises(ScopelineError) as bare:
        config.get("max_events_per_second")
    assert "runtime.safety_limits.max_events_per_second" in bare.value.message


@pytest.mark.parametrize(("path", "value", "expected"), [
    ("runtime.safety_limits.max_traced_threads", True, "an integer"),
    ("runtime.tracing.sampling_rate", "0.5", "a number"),
    ("runtime.tracing.sampling_rate", 1.5, "between 0.0 and 1.0"),
    ("runtime.safety_limits.cpu_threshold_percent", 101, "between 1 and 100"),
    ("unified.default_mode", "fastest", "one of 'auto'"),
    ("runtime.tracing.default_flags", ["calls", "everything"], "'everything' is not one of"),
    ("compile_time.instrumentation.custom_transformations", ["not a name"], "dotted name"),
    ("unified.feature_flags.enable_expression_tracing", 1, "true or false"),
])
def test_wrong_values_are_rejected_and_leave_the_setting_alone(
        path: str, value: Any, expected: str) -> None:
    before = config.get(path)
    with pytest.raises(ScopelineError) as info:
        config.update_config(path, value)
    assert info.value.code == "invalid_config"
    assert expected in info.value.message
    assert config.get(path) == before


def test_ints_widen_to_float_and_none_timeout_means_no_limit() -> None:
    config.update_config("runtime.tracing.sampling_rate", 0)
    assert config.get("runtime.tracing.sampling_rate") == 0.0
    assert isinstance(config.get("runtime.tracing.sampling_rate"), float)
    config.update_config("unified.values.repr_timeout_ms", None)
    assert config.get("unified.values.repr_timeout_ms") == 0


def test_validate_reports_every_problem_at_once() -> None:
    problems = config.validate_config({
        "runtime": {
            "tracing": {"sampling_rate": 1.5, "bufer_size": 10},
            "safety_limits": {"max_traced_threads": False},
        },
        "hybrid": {"correlation": {"strategy": "psychic"}},
        "unified": {"environment_overrides": {"prod": {"ai": {"mode_selection": {
            "enabled": "no"}}}}},
    })
    assert len(problems) == 5
    assert any(p.startswith("runtime.tracing.sampling_rate:") and "1.5" in p for p in problems)
    assert any("bufer_size" in p and "did you mean 'buffer_size'" in p for p in problems)
    assert any(p.startswith("runtime.safety_limits.max_traced_threads:") for p in problems)
    assert any("psychic" in p for p in problems)
    assert any(p.startswith("unified.environment_overrides.prod.ai.mode_selection.enabled")
               for p in problems)


# -- feature flags --------------------------------------------------------------------------


def test_feature_flags_set_and_read() -> None:
    assert config.feature_enabled("enable_expression_tracing") is True
    config.set_feature_flag("enable_expression_tracing", False)
    assert config.feature_enabled("enable_expression_tracing") is False
    assert config.get("unified.feature_flags.enable_expression_tracing") is False
    config.set_feature_flag("expression_tracing", True)  # the enable_ prefix is optional
    assert config.feature_enabled("enable_expression_tracing") is True


def test_unknown_feature_flag_lists_the_flags() -> None:
    with pytest.raises(ScopelineError) as info:
        config.set_feature_flag("enable_time_travel", True)
    assert info.value.code == "invalid_config"
    assert "enable_ast_local_variables" in info.value.message
    assert set(info.value.details["valid"]) == set(config.FEATURE_FLAGS)
    with pytest.raises(ScopelineError):
        config.set_feature_flag("enable_expression_tracing", "yes")  # type: ignore[arg-type]


# -- mode config ----------------------------------------------------------------------------


def test_update_mode_config_is_all_or_nothing() -> None:
    with pytest.raises(ScopelineError) as info:
        config.update_mode_config("hybrid", {
            "correlation": {"window_ms": 500, "confidence_threshold": 2.0},
            "session_management": {"max_concurrent_sessions": 4},
        })
    assert info.value.code == "invalid_config"
    assert "confidence_threshold" in info.value.message
    assert config.get("hybrid.correlation.window_ms") == 100
    assert config.get("hybrid.session_management.max_concurrent_sessions") == 16

    config.update_mode_config("hybrid", {
        "correlation": {"window_ms": 500},
        "session_management": {"max_concurrent_sessions": 4},
    })
    assert config.get("hybrid.correlation.window_ms") == 500
    assert config.get("hybrid.session_management.max_concurrent_sessions") == 4


def test_unknown_mode_is_rejected() -> None:
    with pytest.raises(ScopelineError) as info:
        config.get_mode_config("turbo")
    assert info.value.code == "invalid_config"
    assert info.value.details["valid"] == ["runtime", "compile_time", "hybrid"]
    with pytest.raises(ScopelineError):
        config.update_mode_config("ai", {"mode_selection": {"enabled": False}})


# -- reset ------------------------------------------------------------------------------------


def test_reset_drops_updates_and_rereads_pyproject(tmp_path: Path) -> None:
    project(tmp_path, "valid_pyproject.toml")
    config.update_config("hybrid.correlation.window_ms", 999)
    config.set_feature_flag("enable_on_demand_compilation", False)
    config.reset_to_defaults()
    assert config.get("hybrid.correlation.window_ms") == 250  # from pyproject.toml
    assert config.feature_enabled("enable_on_demand_compilation") is True

    pyproject = tmp_path / "pyproject.toml"
    pyproject.write_text(pyproject.read_text().replace("window_ms = 250", "window_ms = 300"))
    config.reset_to_defaults()
    assert config.get("hybrid.correlation.window_ms") == 300


# -- merge and fallback -----------------------------------------------------------------------


def test_merge_config_user_wins_dicts_merge_lists_replace() -> None:
    defaults = {"a": {"x": 1, "y": 2, "flags": ["calls", "returns"]}, "b": 3}
    user = {"a": {"y": 20, "flags": ["lines"]}, "c": 4}
    merged = config.merge_config(user, defaults)
    assert merged == {"a": {"x": 1, "y": 20, "flags": ["lines"]}, "b": 3, "c": 4}
    merged["a"]["flags"].append("x")
    assert user["a"]["flags"] == ["lines"]  # inputs are never shared or changed
    assert defaults["a"] == {"x": 1, "y": 2, "flags": ["calls", "returns"]}


def test_get_with_fallback_never_raises(tmp_path: Path,
                                        monkeypatch: pytest.MonkeyPatch) -> None:
    assert config.get_with_fallback("runtime.tracing.buffer_size", 1) == 200_000
    assert config.get_with_fallback("runtime.tracing.nope", "dflt") == "dflt"
    assert config.get_with_fallback(["runtime", 7], "dflt") == "dflt"  # type: ignore[list-item]
    unset = "unified.environment_overrides.dev.runtime.tracing.buffer_size"
    assert config.get_with_fallback(unset, "dflt") == "dflt"
    monkeypatch.setenv("SCOPELINE_ENV", "bogus")
    assert config.get_with_fallback("runtime.tracing.buffer_size", "dflt") == "dflt"
    monkeypatch.delenv("SCOPELINE_ENV")
    project(tmp_path, "invalid_pyproject.toml")
    config.unload_config()
    assert config.get_with_fallback("runtime.tracing.buffer_size", "dflt") == "dflt"


# -- subscribers and threads ------------------------------------------------------------------


def test_subscribers_hear_each_change() -> None:
    heard: list[tuple[str, Any]] = []
    unsubscribe = config.subscribe(lambda path, value: heard.append((path, value)))
    try:
        config.update_config("runtime.tracing.sampling_rate", 0.25)
        config.update_config("runtime.tracing.sampling_rate", 0.25)  # no change, no call
        config.update_mode_config("hybrid", {"correlation": {"window_ms": 50}})
        config.reset_to_defaults()
    finally:
        unsubscribe()
    config.update_config("runtime.tracing.sampling_rate", 0.5)
    assert heard == [
        ("runtime.tracing.sampling_rate", 0.25),
        ("hybrid.correlation.window_ms", 50),
        ("hybrid.correlation.window_ms", 100),
        ("runtime.tracing.sampling_rate", 1.0),
    ]


def test_a_failing_subscriber_does_not_break_updates() -> None:
    def broken(path: str, value: Any) -> None:
        raise RuntimeError("subscriber bug")

    unsubscribe = config.subscribe(broken)
    try:
        config.update_config("runtime.tracing.buffer_size", 2048)
    finally:
        unsubscribe()
    assert config.get("runtime.tracing.buffer_size") == 2048


def test_concurrent_updates_are_all_kept() -> None:
    paths = [
        ("runtime.safety_limits.max_traced_threads", 7),
        ("runtime.safety_limits.memory_limit_mb", 77),
        ("runtime.tracing.buffer_size", 777),
        ("hybrid.correlation.window_ms", 7777),
        ("hybrid.session_management.max_concurrent_sessions", 3),
        ("unified.values.max_items", 5),
    ]
    threads = [threading.Thread(target=config.update_config, args=pv) for pv in paths]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    for path, value in paths:
        assert config.get(path) == value
