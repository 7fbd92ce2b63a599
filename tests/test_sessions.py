"""The unified session API: lifecycle, the global switch, modes, and the store on disk."""

from __future__ import annotations

import subprocess
import sys
import textwrap
import time

import pytest
import runtime_sample as rs
import scopeline
from helpers import by_type
from scopeline import ScopelineError
from scopeline.engine.store import Store


def test_session_fields_and_listing():
    session = scopeline.trace("runtime_sample:hot", metadata={"ticket": "T-1"})
    try:
        assert session.status == "active" and session.mode == "runtime"
        assert session.targets == ["runtime_sample:hot"]
        assert session.runtime_refs == ["runtime_sample:hot"] and session.compile_time_refs == []
        assert session.started_at <= time.time()
        assert scopeline.list_traces() == [session]
        assert scopeline.get_trace_info(session.session_id) is session
        assert scopeline.get_trace_info(session.session_id[:8]) is session
    finally:
        scopeline.stop_trace(session)
    assert session.status == "stopped" and scopeline.list_traces() == []


def test_pause_removes_hooks_and_resume_restores_them():
    original = rs.hot.__code__
    with scopeline.trace(rs.hot) as session:
        rs.hot(1)
        scopeline.pause_trace(session.session_id)
        assert session.status == "paused"
        if sys.version_info < (3, 12):
            assert rs.hot.__code__ is original  # nothing of ours left on it
        rs.hot(2)
        scopeline.resume_trace(session.session_id)
        rs.hot(3)
    args = [e.data["arguments"]["x"] for e in by_type(list(session.events()), "function_entry")]
    assert args == ["1", "3"]


def test_global_switch_removes_every_hook_at_once_and_restores_them():
    originals = (rs.hot.__code__, rs.add.__code__)
    with scopeline.trace(rs.hot) as one, scopeline.trace(rs.add) as two:
        scopeline.set_tracing_enabled(False)
        try:
            assert (rs.hot.__code__, rs.add.__code__) == originals or sys.version_info >= (3, 12)
            assert sys.gettrace() is None
            rs.hot(1)
            rs.add(1)
        finally:
            scopeline.set_tracing_enabled(True)
        rs.hot(2)
        rs.add(2)
    assert [e.data["arguments"]["x"] for e in by_type(list(one.events()), "function_entry")] \
        == ["2"]
    assert len(by_type(list(two.events()), "function_entry")) == 1


def test_two_sessions_on_one_function_both_capture_and_stop_independently():
    first = scopeline.trace(rs.hot)
    second = scopeline.trace(rs.hot)
    rs.hot(1)
    scopeline.stop_trace(first)
    rs.hot(2)
    scopeline.stop_trace(second)
    assert [e.data["arguments"] for e in by_type(list(first.events()), "function_entry")] == [
        {"x": "1"}]
    assert [e.data["arguments"] for e in by_type(list(second.events()), "function_entry")] == [
        {"x": "1"}, {"x": "2"}]
    assert [e.data["return_value"] for e in by_type(list(second.events()), "function_exit")] \
        == ["2", "3"]


def test_timeout_stops_the_session_by_itself():
    session = scopeline.trace(rs.hot, timeout=0.2)
    deadline = time.time() + 5
    while session.status != "stopped" and time.time() < deadline:
        time.sleep(0.05)
    assert session.status == "stopped"
    assert any("timeout" in note for note in session.to_meta()["log"])


@pytest.mark.parametrize("mode", ["runtime", "compile_time", "hybrid"])
def test_every_mode_asked_for_is_the_session_mode(mode):
    with scopeline.trace(rs.hot, mode=mode) as session:
        rs.hot(1)
    assert session.mode == mode and f"{mode} mode was asked for" in session.mode_reason
    assert scopeline.mode_available(rs.hot, mode)
    assert scopeline.determine_mode(rs.hot).mode == "runtime"  # auto: nothing asks for more


def test_bad_options_and_unknown_sessions_are_one_clear_error():
    with pytest.raises(ScopelineError) as err:
        scopeline.trace(rs.hot, include=("calls", "telepathy"))
    assert err.value.code == "invalid_config" and "telepathy" in err.value.message
    with pytest.raises(ScopelineError) as err:
        scopeline.trace(rs.hot, sampling_rate=1.5)
    assert err.value.code == "invalid_config"
    with pytest.raises(ScopelineError) as err:
        scopeline.stop_trace("no-such-session")
    assert err.value.code == "session_not_found"
    with pytest.raises(ScopelineError) as err:
        scopeline.trace("runtime_sample:hto")
    assert err.value.code == "target_invalid"
    assert any("hot" in s for s in err.value.recovery_suggestions)


def test_thread_object_not_started_traces_what_that_thread_runs():
    import threading

    thread = threading.Thread(target=rs.loop_with_locals, args=(3,), name="counted")
    with scopeline.trace(thread) as session:
        thread.start()
        thread.join()
        rs.hot(1)  # on the main thread: not part of this target
    events = list(session.events())
    assert {e.thread_name for e in events} == {"counted"}
    functions = {e.function for e in by_type(events, "function_entry")}
    assert "loop_with_locals" in functions and "hot" not in functions


def test_running_thread_by_name(backend_name):
    import threading

    stop = threading.Event()
    ready = threading.Event()

    def spin() -> None:
        ready.set()
        while not stop.is_set():
            rs.hot(1)
            time.sleep(0.001)

    thread = threading.Thread(target=spin, name="spinner")
    thread.start()
    ready.wait()
    try:
        if backend_name == "sys.settrace":
            with pytest.raises(ScopelineError) as err:
                scopeline.trace("thread:spinner")
            assert err.value.code == "mode_unavailable"
            return
        with scopeline.trace("thread:spinner") as session:
            deadline = time.time() + 5
            while not session.recorder.queue and time.time() < deadline:
                time.sleep(0.01)
    finally:
        stop.set()
        thread.join()
    entries = by_type(list(session.events()), "function_entry")
    assert entries and {e.thread_name for e in entries} == {"spinner"}
    assert "hot" in {e.function for e in entries}


def test_store_keeps_sessions_and_events_across_a_restart(isolated_store):
    with scopeline.trace(rs.add) as session:
        rs.add(5)
    reopened = Store(isolated_store)
    meta = reopened.find(session.session_id[:10])
    assert meta["status"] == "stopped" and meta["targets"] == session.targets
    assert meta["backend"] in ("sys.monitoring", "sys.settrace") and meta["backend_reason"]
    events = list(reopened.events(session.session_id))
    assert [e.type for e in events] == ["function_entry", "function_exit"]
    assert events[0].to_dict() == type(events[0]).from_json(events[0].to_json()).to_dict()


PROGRAM = textwrap.dedent("""
    import os, sys, time
    sys.path.insert(0, {fixtures!r})
    import runtime_sample as rs, scopeline
    session = scopeline.trace(rs.hot)
    for i in range(100):
        rs.hot(i)
    {ending}
""")


def run_child(ending: str, isolated_store) -> subprocess.CompletedProcess:
    from conftest import FIXTURES

    code = PROGRAM.format(fixtures=str(FIXTURES), ending=ending)
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          timeout=60, env={**__import__("os").environ,
                                           "SCOPELINE_DATA_DIR": str(isolated_store)})


def test_events_survive_a_crash_of_the_traced_program(isolated_store):
    # os._exit skips every exit handler: only batches already flushed can be there.
    proc = run_child("time.sleep(1.0); os._exit(3)", isolated_store)
    assert proc.returncode == 3
    (meta,) = Store(isolated_store).sessions()
    events = list(Store(isolated_store).events(meta["session_id"]))
    assert len(by_type(events, "function_entry")) == 100


def test_uncaught_exception_still_flushes_and_stops_the_session(isolated_store):
    proc = run_child("raise SystemError('boom')", isolated_store)
    assert proc.returncode == 1 and "SystemError: boom" in proc.stderr
    (meta,) = Store(isolated_store).sessions()
    assert meta["status"] == "stopped"
    assert meta["stats"]["captured"] == {"function_entry": 100, "function_exit": 100}


def test_sigterm_flushes_before_the_program_dies(isolated_store):
    import signal

    proc = run_child("os.kill(os.getpid(), signal.SIGTERM); time.sleep(5)".replace(
        "signal.", "__import__('signal')."), isolated_store)
    assert proc.returncode == -signal.SIGTERM
    (meta,) = Store(isolated_store).sessions()
    assert meta["status"] == "stopped"
    assert len(list(Store(isolated_store).events(meta["session_id"]))) == 200
