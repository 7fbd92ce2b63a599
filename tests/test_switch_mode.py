"""Issue 4 point 6: switch_mode on a live session loses and duplicates no call."""

from __future__ import annotations

import threading
import time

import hybrid_sample as hs
import pytest
import scopeline
from helpers import call_nodes
from scopeline.engine.errors import ScopelineError


def test_switching_back_and_forth_under_load_sees_every_call_once() -> None:
    original = hs.work.__code__
    done = threading.Event()
    calls = [0]
    results: list[int] = []

    def hammer() -> None:
        while not done.is_set():
            results.append(hs.work(calls[0] % 7))
            calls[0] += 1
            time.sleep(0.0001)  # stay well under max_events_per_second: nothing is sampled

    # manual switches only: auto_escalate off, so the governor cannot add one of its own
    with scopeline.trace("hybrid_sample:work", mode="runtime", auto_escalate=False) as s:
        worker = threading.Thread(target=hammer)
        worker.start()
        for mode in ("hybrid", "runtime", "compile_time", "runtime", "hybrid",
                     "compile_time", "hybrid", "runtime"):
            time.sleep(0.02)
            scopeline.switch_mode(s.session_id, mode, granularity="line")
            assert s.mode == mode
        time.sleep(0.02)
        done.set()
        worker.join()
    assert hs.work.__code__ is original
    assert results == [hs.work(i % 7) for i in range(calls[0])]
    nodes = call_nodes(list(s.events()))
    assert s.stats()["skipped_calls"] == {} and s.stats()["skipped_lines"] == {}
    assert len(nodes) == calls[0], "a call was lost or seen twice"
    args = [int(n.entry.data["arguments"]["n"]) for n in nodes]
    assert args == [i % 7 for i in range(calls[0])]
    sources = {(n.entry.source, bool(n.merged)) for n in nodes}
    assert sources >= {("runtime", False), ("runtime", True), ("ast", False)}, sources
    log = "\n".join(s.recorder.log)
    assert log.count("mode switched") == 8


def test_switch_while_paused_applies_on_resume() -> None:
    with scopeline.trace("hybrid_sample:work", mode="runtime", auto_escalate=False) as s:
        s.pause()
        scopeline.switch_mode(s.session_id, "hybrid", granularity="line")
        s.resume()
        hs.work(3)
    (node,) = call_nodes(list(s.events()))
    assert node.merged and node.lines


def test_bad_switches_are_refused_clearly() -> None:
    with scopeline.trace("hybrid_sample:work", mode="runtime", auto_escalate=False) as s:
        with pytest.raises(ScopelineError) as err:
            scopeline.switch_mode(s.session_id, "sideways")
        assert err.value.code == "invalid_config"
    with pytest.raises(ScopelineError) as err:
        scopeline.switch_mode(s.session_id, "hybrid")
    assert err.value.code in ("session_not_found", "invalid_state")


def test_every_switch_path_restores_the_users_code_object() -> None:
    original = hs.work.__code__
    for path in (("hybrid",), ("compile_time",), ("hybrid", "runtime"), ("compile_time",
                 "hybrid"), ("hybrid", "compile_time", "runtime")):
        with scopeline.trace("hybrid_sample:work", mode="runtime", auto_escalate=False) as s:
            for mode in path:
                scopeline.switch_mode(s.session_id, mode, granularity="line")
                assert hs.work(3) == 5
        assert hs.work.__code__ is original, path
