"""The hybrid-related settings each change what a user sees (issue 2 point 4, issue 4)."""

from __future__ import annotations

from collections.abc import Iterator

import hybrid_sample as hs
import pytest
import scopeline
from scopeline.engine import config
from scopeline.engine.errors import ScopelineError


@pytest.fixture(autouse=True)
def fresh_config() -> Iterator[None]:
    yield
    config.reset_to_defaults()
    scopeline.set_tracing_enabled(True)


def test_coordinate_with_ast_off_makes_hybrid_unavailable() -> None:
    assert scopeline.mode_available("hybrid_sample:work", "hybrid")
    config.update_config("runtime.coordination.coordinate_with_ast", False)
    assert not scopeline.mode_available("hybrid_sample:work", "hybrid")
    assert scopeline.mode_available("hybrid_sample:work", "compile_time")
    with pytest.raises(ScopelineError) as err:
        scopeline.trace("hybrid_sample:work", mode="hybrid")
    assert err.value.code == "mode_unavailable"
    assert "coordinate_with_ast" in err.value.message
    with scopeline.trace("hybrid_sample:work", mode="runtime") as s:
        assert not scopeline.request_detail(s.session_id, "locals")  # no escalation either
        config.update_config("hybrid.mode_switching.escalation_thresholds.detail_requests", 1)
        assert not scopeline.request_detail(s.session_id, "locals")
        assert s.mode == "runtime"
    assert any("not escalated to hybrid" in line for line in s.recorder.log)


def test_event_correlation_off_leaves_the_halves_unkeyed() -> None:
    config.update_config("runtime.coordination.event_correlation_enabled", False)
    with scopeline.trace("hybrid_sample:work", mode="hybrid", granularity="line") as s:
        hs.work(3)
    events = list(s.events())
    assert events and not any("keys" in e.metadata for e in events)
    assert {e.source for e in events} == {"runtime", "ast"}


def test_event_correlation_on_keys_both_halves() -> None:
    with scopeline.trace("hybrid_sample:work", mode="hybrid", granularity="line") as s:
        hs.work(3)
    keyed = {e.source for e in s.events() if "keys" in e.metadata}
    assert keyed == {"runtime", "ast"}


@pytest.mark.parametrize("shared", [True, False])
def test_shared_session_management_decides_what_pause_stops(shared: bool) -> None:
    config.update_config("runtime.coordination.shared_session_management", shared)
    with scopeline.trace("hybrid_sample:work", mode="hybrid", granularity="line") as s:
        s.pause()
        hs.work(2)
        s.resume()
    sources = {e.source for e in s.events()}
    assert sources == (set() if shared else {"ast"})


@pytest.mark.parametrize("registered", [True, False])
def test_register_with_runtime_decides_whether_the_global_switch_covers_injection(
        registered: bool) -> None:
    config.update_config("compile_time.runtime_integration.register_with_runtime", registered)
    with scopeline.trace("hybrid_sample:work", mode="compile_time", granularity="line") as s:
        scopeline.set_tracing_enabled(False)
        hs.work(2)
        scopeline.set_tracing_enabled(True)
    captured = [e for e in s.events() if e.type == "line_execution"]
    assert bool(captured) is (not registered)
