"""Runtime mode captures calls, returns, exceptions and lines — and changes nothing else."""

from __future__ import annotations

import asyncio
import sys

import pytest
import runtime_sample as rs
import scopeline
from helpers import by_type, marker_line, traceback_of
from scopeline import ScopelineError


def test_calls_with_arguments_and_returns_with_value_and_duration():
    with scopeline.trace(rs.add) as session:
        assert rs.add(1, 2, 3, scale=2, flag=True) == 12
    events = list(session.events())
    (entry,) = by_type(events, "function_entry")
    (exit_,) = by_type(events, "function_exit")
    assert entry.data["arguments"] == {"a": "1", "b": "2", "rest": "(3,)", "scale": "2",
                                       "extra": "{'flag': True}"}
    assert exit_.data["return_value"] == "12"
    assert exit_.duration_ns > 0
    assert exit_.parent_event_id == entry.event_id
    assert entry.module == "runtime_sample" and entry.function == "add"
    assert entry.file == rs.__file__ and entry.line == rs.add.__code__.co_firstlineno


def test_n_calls_give_exactly_n_entry_and_n_exit_events():
    n = 2_500
    with scopeline.trace("runtime_sample:hot") as session:
        for i in range(n):
            rs.hot(i)
    events = list(session.events())
    assert len(by_type(events, "function_entry")) == n
    assert len(by_type(events, "function_exit")) == n
    assert session.stats()["skipped_calls"] == {}


def test_propagated_exception_is_captured_and_traceback_is_unchanged():
    plain = traceback_of(rs.fails, 5)
    with scopeline.trace(rs.fails) as session:
        traced = traceback_of(rs.fails, 5)
    assert traced == plain  # same frames, same file, same line numbers
    assert f'line {marker_line(rs, "fails-raise")}, in fails' in traced
    (exc,) = by_type(list(session.events()), "function_exception")
    assert exc.data["exception"] == "ValueError: too big: 5"
    assert exc.duration_ns is not None


def test_exceptions_raised_and_handled_inside_are_captured_with_include_exceptions():
    with scopeline.trace([rs.catches, rs.fails], include=("calls", "returns", "exceptions")) as s:
        assert rs.catches(7) == "caught"
    events = list(s.events())
    raised = [e for e in by_type(events, "function_exception") if e.duration_ns is None]
    assert {(e.function, e.line) for e in raised} >= {
        ("fails", marker_line(rs, "fails-raise")), ("catches", rs.catches.__code__.co_firstlineno
                                                    + 2)}
    (catches_exit,) = by_type(events, "function_exit", "catches")
    assert catches_exit.data["return_value"] == "'caught'"


def test_line_events_carry_locals_in_the_original_file():
    line = marker_line(rs, "loop-acc")
    with scopeline.trace(f"{rs.__file__}:{line}", capture_locals=("acc", "i")) as session:
        assert rs.loop_with_locals(4) == 6
    lines = by_type(list(session.events()), "line_execution")
    assert [e.line for e in lines] == [line] * 4
    assert [e.data["locals"] for e in lines] == [
        {"acc": "0", "i": "0"}, {"acc": "0", "i": "1"}, {"acc": "1", "i": "2"},
        {"acc": "3", "i": "3"}]


def test_granularity_line_records_every_line_with_all_locals():
    with scopeline.trace(rs.add, granularity="line") as session:
        rs.add(1)
    lines = by_type(list(session.events()), "line_execution")
    first = rs.add.__code__.co_firstlineno
    assert [e.line for e in lines] == [first + 1, first + 2]
    assert lines[1].data["locals"]["total"] == "3"


def test_generators_are_one_call_from_start_to_return():
    with scopeline.trace(rs.count_up) as session:
        assert list(rs.count_up(3)) == [0, 1, 2]
        gen = rs.count_up(2)
        assert next(gen) == 0 and next(gen) == 1
        with pytest.raises(StopIteration) as stop:
            next(gen)
        assert stop.value.value == "done"
    events = list(session.events())
    assert len(by_type(events, "function_entry")) == 2
    exits = by_type(events, "function_exit")
    assert [e.data["return_value"] for e in exits] == ["'done'", "'done'"]


def test_coroutines_are_traced_and_still_awaitable():
    with scopeline.trace(rs.slow_double) as session:
        assert asyncio.run(rs.slow_double(21)) == 42
        assert asyncio.iscoroutinefunction(rs.slow_double)
    (exit_,) = by_type(list(session.events()), "function_exit")
    assert exit_.data["return_value"] == "42"


def test_decorated_functions_methods_super_and_closures_behave_the_same():
    counter = rs.make_counter()
    targets = [rs.decorated, rs.Child.greet, rs.Base.greet, counter]
    with scopeline.trace(targets) as session:
        assert rs.decorated(1) == 101
        assert rs.Child().greet("ada") == "HELLO ADA"
        assert counter() == 1 and counter(5) == 6
    names = [e.function for e in by_type(list(session.events()), "function_exit")]
    assert "Child.greet" in names and "Base.greet" in names
    assert names.count("make_counter.<locals>.bump") == 2


def test_stop_restores_original_code_objects_exactly_and_leaves_nothing_installed():
    originals = {f: f.__code__ for f in (rs.add, rs.fails, rs.hot)}
    trace_before = sys.gettrace()
    session = scopeline.trace(list(originals), granularity="line")
    rs.add(1)
    scopeline.stop_trace(session)
    assert all(f.__code__ is code for f, code in originals.items())
    assert sys.gettrace() is trace_before
    if sys.version_info >= (3, 12):
        assert "scopeline" not in [sys.monitoring.get_tool(i) for i in range(6)]


def test_code_that_is_not_traced_is_not_touched():
    code = rs.untraced.__code__
    with scopeline.trace(rs.hot):
        assert rs.untraced.__code__ is code
        if sys.version_info >= (3, 12):
            tool = next(i for i in range(6) if sys.monitoring.get_tool(i) == "scopeline")
            assert sys.monitoring.get_local_events(tool, code) == 0


def test_introspection_of_a_traced_function_is_unchanged():
    import inspect

    before = (inspect.signature(rs.add), rs.add.__name__, rs.add.__qualname__,
              rs.add.__code__.co_firstlineno, rs.add.__code__.co_filename,
              inspect.isgeneratorfunction(rs.count_up), rs.add.__defaults__)
    with scopeline.trace([rs.add, rs.count_up]):
        after = (inspect.signature(rs.add), rs.add.__name__, rs.add.__qualname__,
                 rs.add.__code__.co_firstlineno, rs.add.__code__.co_filename,
                 inspect.isgeneratorfunction(rs.count_up), rs.add.__defaults__)
    assert before == after


def test_nested_function_by_name(backend_name):
    target = "runtime_sample:make_counter.<locals>.bump"
    if backend_name == "sys.settrace":
        with pytest.raises(ScopelineError) as err:
            scopeline.trace(target, mode="runtime")
        assert err.value.code == "mode_unavailable"
        assert "3.12" in " ".join(err.value.recovery_suggestions)
    with scopeline.trace(target) as session:  # auto: the mode that can hook it here
        rs.make_counter()(3)
    assert session.mode == ("compile_time" if backend_name == "sys.settrace" else "runtime")
    (exit_,) = by_type(list(session.events()), "function_exit")
    assert exit_.data["return_value"] == "3"


def test_a_module_target_skips_only_what_cannot_be_hooked_and_says_so(backend_name):
    with scopeline.trace("runtime_sample") as session:
        assert rs.hot(1) == 2

        async def consume():
            return [i async for i in rs.ticks(2)]

        assert asyncio.run(consume()) == [0, 1]
    names = {e.function for e in by_type(list(session.events()), "function_exit")}
    assert "hot" in names
    log = " ".join(session.to_meta()["log"])
    if backend_name == "sys.settrace":
        assert "ticks skipped" in log and "make_counter.<locals>.bump" in log
    else:
        assert "ticks" in names and "skipped" not in log
