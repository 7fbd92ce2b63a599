"""Sampling and safety limits: nothing grows without bound, and every skip is counted."""

from __future__ import annotations

import threading

import pytest
import runtime_sample as rs
import scopeline
from helpers import by_type
from scopeline.engine import config


def run_threads(n_threads: int, calls: int) -> None:
    barrier = threading.Barrier(n_threads)

    def work() -> None:
        barrier.wait()
        for i in range(calls):
            rs.hot(i)

    threads = [threading.Thread(target=work, name=f"worker-{k}") for k in range(n_threads)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()


@pytest.mark.parametrize("buffer_size", [1_000_000, 512])
def test_eight_threads_every_call_is_captured_or_counted(buffer_size):
    config.update_config("runtime.tracing.buffer_size", buffer_size)
    config.update_config("runtime.safety_limits.max_events_per_second", 10_000_000)
    config.update_config("runtime.safety_limits.cpu_threshold_percent", 100)
    try:
        with scopeline.trace(rs.hot) as session:
            run_threads(8, 10_000)
    finally:
        config.reset_to_defaults()
    stats = session.stats()
    for kind in ("function_entry", "function_exit"):
        assert stats["captured"].get(kind, 0) + stats["dropped"][kind] == 80_000
    if buffer_size == 512:
        assert stats["skipped_calls"].get("buffer_full", 0) > 0
    else:
        assert stats["dropped"]["function_entry"] == 0
        names = {e.thread_name for e in session.events()}
        assert names == {f"worker-{k}" for k in range(8)}


def test_sampling_rate_keeps_a_fraction_and_counts_the_rest():
    n = 20_000
    with scopeline.trace(rs.hot, sampling_rate=0.25) as session:
        for i in range(n):
            rs.hot(i)
    stats = session.stats()
    kept = stats["captured"]["function_entry"]
    assert kept + stats["skipped_calls"]["sampling"] == n
    assert 0.2 * n < kept < 0.3 * n
    assert stats["captured"]["function_exit"] == kept
    entries = by_type(list(session.events()), "function_entry")
    assert all(e.data["arguments"]["x"] == str(int(e.data["arguments"]["x"])) for e in entries)
    assert len({e.data["arguments"]["x"] for e in entries}) == kept  # the calls' own values


def test_past_max_events_per_second_it_samples_down_and_says_so():
    config.update_config("runtime.safety_limits.max_events_per_second", 1_000)
    try:
        with scopeline.trace(rs.hot) as session:
            for i in range(30_000):
                rs.hot(i)
    finally:
        config.reset_to_defaults()
    stats = session.stats()
    skipped = stats["skipped_calls"]
    assert stats["captured"]["function_entry"] + sum(skipped.values()) == 30_000
    assert skipped.get("rate_limit", 0) > 0
    assert any("max_events_per_second" in note for note in session.to_meta()["log"])


def test_max_traced_threads_refuses_extra_threads_and_counts_them():
    config.update_config("runtime.safety_limits.max_traced_threads", 2)
    try:
        with scopeline.trace(rs.hot) as session:
            rs.hot(0)  # the main thread is one
            run_threads(3, 100)
    finally:
        config.reset_to_defaults()
    stats = session.stats()
    assert stats["skipped_calls"]["thread_limit"] >= 200
    assert len({e.thread_id for e in session.events()}) == 2


def test_adjust_trace_changes_sampling_on_a_live_session():
    session = scopeline.trace(rs.hot)
    for i in range(1_000):
        rs.hot(i)
    scopeline.adjust_trace(session.session_id, sampling_rate=0.1)
    for i in range(10_000):
        rs.hot(i)
    scopeline.stop_trace(session)
    entries = session.stats()["captured"]["function_entry"]
    assert 1_000 + 500 < entries < 1_000 + 1_600
    assert session.options.sampling_rate == 0.1


def test_memory_limit_holds_capture_back(monkeypatch):
    from scopeline.engine import flusher

    session = scopeline.trace(rs.hot)
    try:
        fl = flusher.Flusher(lambda: [session])
        monkeypatch.setattr(flusher, "rss_mb", lambda: fl.base_rss + 10_000)
        fl._check_memory(session)
        rs.hot(1)
        assert session.stats()["skipped_calls"] == {"memory_limit": 1}
        monkeypatch.setattr(flusher, "rss_mb", lambda: fl.base_rss)
        fl._check_memory(session)
        rs.hot(2)
    finally:
        scopeline.stop_trace(session)
    assert len(by_type(list(session.events()), "function_entry")) == 1
    assert any("memory_limit_mb" in note for note in session.to_meta()["log"])
