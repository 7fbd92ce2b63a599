"""Issue 4 point 6: auto_escalate — up to hybrid when detail is asked for, down when costly."""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

import hybrid_sample as hs
import pytest
import scopeline
from scopeline.engine import config
from scopeline.engine.errors import ScopelineError


def wait_for(condition: Callable[[], bool], timeout: float = 30.0) -> bool:
    """Poll a condition the flusher makes true (it checks once a second)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.05)
    return condition()


def test_asking_a_runtime_session_for_locals_escalates_it_to_hybrid() -> None:
    with scopeline.trace("hybrid_sample:work", mode="runtime") as s:
        hs.work(2)
        scopeline.adjust_trace(s.session_id, capture_locals=["total"])
        assert s.mode == "hybrid"
        hs.work(3)
    events = list(s.events())
    assert any("escalated" in line or "mode switched runtime → hybrid" in line
               for line in s.recorder.log)
    assert [e.data["locals"] for e in events if e.type == "line_execution"][-1] == {
        "total": "5"}


def test_without_auto_escalate_the_request_is_refused_with_a_way_out() -> None:
    with scopeline.trace("hybrid_sample:work", mode="runtime", auto_escalate=False) as s:
        with pytest.raises(ScopelineError) as err:
            scopeline.adjust_trace(s.session_id, granularity="expression")
        assert err.value.code == "invalid_state"
        assert "switch_mode" in err.value.recovery_suggestions[0]
        assert s.mode == "runtime"


def test_the_enable_auto_escalation_setting_switches_it_off_too() -> None:
    config.update_config("hybrid.mode_switching.enable_auto_escalation", False)
    try:
        with scopeline.trace("hybrid_sample:work", mode="runtime") as s, \
                pytest.raises(ScopelineError):
            scopeline.adjust_trace(s.session_id, capture_locals=["total"])
    finally:
        config.reset_to_defaults()


def test_detail_requests_escalate_after_the_configured_count() -> None:
    config.update_config("hybrid.mode_switching.escalation_thresholds.detail_requests", 2)
    try:
        with scopeline.trace("hybrid_sample:work", mode="runtime") as s:
            assert scopeline.request_detail(s.session_id, "locals", line=7) is False
            assert s.mode == "runtime"
            assert scopeline.request_detail(s.session_id, "locals", line=7) is True
            assert s.mode == "hybrid" and s.options.trace_lines == (7,)
            hs.work(4)
        assert any(e.type == "line_execution" and e.line == 7 for e in s.events())
    finally:
        config.reset_to_defaults()


def test_adjusting_detail_of_a_hybrid_session_re_instruments_it() -> None:
    with scopeline.trace("hybrid_sample:work", mode="hybrid", granularity="line") as s:
        hs.work(2)
        scopeline.adjust_trace(s.session_id, granularity="expression")
        assert s.mode == "hybrid" and s.options.granularity == "expression"
        hs.work(2)
    kinds = [e.type for e in s.events() if e.source == "ast"]
    assert "line_execution" in kinds and "expression_evaluation" in kinds


@contextlib.contextmanager
def flooded_hybrid(**settings: Any) -> Iterator[Any]:
    """A hybrid session on ``work`` while a thread calls it non-stop, under ``settings``
    (paths under hybrid.mode_switching); config restored after."""
    for path, value in settings.items():
        config.update_config(f"hybrid.mode_switching.{path}", value)
    stop = threading.Event()

    def flood() -> None:
        while not stop.is_set():
            hs.work(30)

    try:
        with scopeline.trace("hybrid_sample:work", mode="hybrid", granularity="line") as s:
            worker = threading.Thread(target=flood)
            worker.start()
            try:
                yield s
            finally:
                stop.set()
                worker.join()
    finally:
        config.reset_to_defaults()


def test_under_a_flood_hybrid_steps_down_to_runtime_then_to_sampling() -> None:
    with flooded_hybrid(overhead_budget_percent=5) as s:
        assert wait_for(lambda: s.mode == "runtime"), s.recorder.log
        assert wait_for(lambda: s.recorder.rate < 1.0), s.recorder.log
    log = "\n".join(s.recorder.log)
    assert "overhead_budget_percent=5: stepped down to runtime" in log
    assert "sampling down to" in log
    assert s.governor.last_overhead is not None


def test_a_generous_budget_leaves_the_session_alone() -> None:
    with flooded_hybrid(**{"overhead_budget_percent": 100_000,
                           "escalation_thresholds.events_per_second": 10**9}) as s:
        assert wait_for(lambda: s.governor.last_overhead is not None)
        assert s.mode == "hybrid"


def test_event_rate_threshold_steps_hybrid_down() -> None:
    with flooded_hybrid(**{"overhead_budget_percent": 100_000,
                           "escalation_thresholds.events_per_second": 50}) as s:
        assert wait_for(lambda: s.mode == "runtime"), s.recorder.log
    assert any("escalation_thresholds.events_per_second=50" in line
               for line in s.recorder.log)
