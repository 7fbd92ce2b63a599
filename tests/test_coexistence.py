"""Scopeline traces beside a debugger: it never takes the debugger's place."""

from __future__ import annotations

import sys

import pytest
import runtime_sample as rs
import scopeline
from helpers import by_type, marker_line


@pytest.mark.skipif(sys.version_info >= (3, 12), reason="3.11: trace functions are chained")
def test_an_existing_trace_function_keeps_its_events_and_is_restored():
    seen: list[tuple[str, int]] = []

    def debugger(frame, event, arg):
        # like a real debugger: by file and function name (breakpoints are file:line)
        code = frame.f_code
        if code.co_filename == rs.__file__ and code.co_name == "loop_with_locals":
            seen.append((event, frame.f_lineno))
            return debugger
        return None

    sys.settrace(debugger)
    try:
        line = marker_line(rs, "loop-acc")
        with scopeline.trace(f"{rs.__file__}:{line}", capture_locals=("acc",)) as session:
            rs.loop_with_locals(3)
        assert sys.gettrace() is debugger
    finally:
        sys.settrace(None)
    assert [e.data["locals"] for e in by_type(list(session.events()), "line_execution")] == [
        {"acc": "0"}, {"acc": "0"}, {"acc": "1"}]
    assert seen.count(("line", line)) == 3  # the debugger still sees every line it traced


@pytest.mark.skipif(sys.version_info < (3, 12), reason="sys.monitoring tool ids are 3.12+")
def test_the_debugger_tool_id_stays_free_and_a_debugger_keeps_working():
    mon = sys.monitoring
    assert mon.get_tool(mon.DEBUGGER_ID) is None
    calls: list[str] = []
    mon.use_tool_id(mon.DEBUGGER_ID, "fake-debugger")
    try:
        mon.register_callback(mon.DEBUGGER_ID, mon.events.PY_START,
                              lambda code, offset: calls.append(code.co_name))
        mon.set_local_events(mon.DEBUGGER_ID, rs.hot.__code__, mon.events.PY_START)
        with scopeline.trace(rs.hot) as session:
            assert mon.get_tool(mon.DEBUGGER_ID) == "fake-debugger"
            rs.hot(1)
        rs.hot(2)
    finally:
        mon.set_local_events(mon.DEBUGGER_ID, rs.hot.__code__, 0)
        mon.register_callback(mon.DEBUGGER_ID, mon.events.PY_START, None)
        mon.free_tool_id(mon.DEBUGGER_ID)
    assert calls == ["hot", "hot"]
    assert len(by_type(list(session.events()), "function_entry")) == 1


def test_current_thread_target_traces_from_now_on():
    import threading

    name = threading.current_thread().name
    with scopeline.trace(f"thread:{name}") as session:
        rs.add(1)
    functions = {e.function for e in by_type(list(session.events()), "function_entry")}
    assert "add" in functions
    assert not any(f.startswith("scopeline") for f in functions)
