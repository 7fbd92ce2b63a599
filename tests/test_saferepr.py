"""SafeRepr: bounded reprs that never raise, never stall, and leave the trace function alone."""

from __future__ import annotations

import sys
import threading
import time
from collections import deque
from typing import Any

import pytest
from scopeline.engine.saferepr import SafeRepr, in_safe_repr, is_immutable_scalar


class Boom:
    calls = 0

    def __repr__(self) -> str:
        type(self).calls += 1
        raise ValueError("boom")


class SelfRecursive:
    def __repr__(self) -> str:
        return repr(self)


class BusyLoop:
    """Would spin for 5 s: long enough that a missing deadline fails the < 2 s bounds."""

    calls = 0

    def __repr__(self) -> str:
        type(self).calls += 1
        end = time.perf_counter() + 5
        while time.perf_counter() < end:
            pass
        return "BusyLoop()"


class SleepLoop:
    def __repr__(self) -> str:
        for _ in range(500):
            time.sleep(0.01)
        return "SleepLoop()"


class Long:
    def __repr__(self) -> str:
        return "L" * 5000


def tracer(frame: Any, event: str, arg: Any) -> Any:
    return None


def test_scalars_match_builtin_repr() -> None:
    sr = SafeRepr()
    for v in (0, -7, 3.5, True, None, "héllo\n", b"\x00ab", 1j, range(3)):
        assert sr(v) == repr(v)
        assert sr.repr(v) == repr(v)


def test_raising_repr_gives_placeholder_and_is_tried_again_next_time() -> None:
    sr = SafeRepr()
    Boom.calls = 0
    assert sr(Boom()) == "<repr failed: ValueError: boom>"
    assert sr([1, Boom()]) == "[1, <repr failed: ValueError: boom>]"
    assert Boom.calls == 2  # not remembered: a raising repr is cheap to try again
    assert Boom not in sr.failed_types()


def test_self_captured_before_init_does_not_spoil_later_instances() -> None:
    class Point:
        def __init__(self, x: int) -> None:
            self.x = x

        def __repr__(self) -> str:
            return f"Point({self.x})"

    sr = SafeRepr()
    half_built = Point.__new__(Point)  # what a hook sees on entry to __init__
    assert sr(half_built).startswith("<repr failed: AttributeError")
    assert sr(Point(3)) == "Point(3)"


def test_failure_message_is_bounded_and_str_may_fail_too() -> None:
    class Chatty:
        def __repr__(self) -> str:
            raise RuntimeError("x" * 10_000)

    class BadStr(Exception):
        def __str__(self) -> str:
            raise TypeError("no str either")

    class Weird:
        def __repr__(self) -> str:
            raise BadStr()

    out = SafeRepr()(Chatty())
    assert out.startswith("<repr failed: RuntimeError: xxx") and out.endswith("x>")
    assert len(out) < 120
    assert SafeRepr()(Weird()) == "<repr failed: BadStr: ?>"


def test_recursive_repr_placeholder_and_interpreter_recovers() -> None:
    limit = sys.getrecursionlimit()
    sr = SafeRepr()
    assert sr(SelfRecursive()) == "<recursive SelfRecursive>"
    assert sys.getrecursionlimit() == limit
    assert sys.gettrace() is None

    def dive(n: int) -> int:
        return 0 if n == 0 else 1 + dive(n - 1)

    depth = limit - 100 - len(_stack())  # the recursion budget is fully available again
    assert dive(depth) == depth


def _stack() -> list[Any]:
    frame, out = sys._getframe(), []
    while frame is not None:
        out.append(frame)
        frame = frame.f_back
    return out


def test_cycles_render_like_builtin() -> None:
    sr = SafeRepr()
    a: list[Any] = [1]
    a.append(a)
    assert sr(a) == repr(a) == "[1, [...]]"
    d: dict[str, Any] = {"k": 1}
    d["me"] = d
    assert sr(d) == "{'k': 1, 'me': {...}}"
    shared = [0]
    assert sr([shared, shared]) == "[[0], [0]]"  # a shared child is not a cycle


@pytest.mark.parametrize("cls", [BusyLoop, SleepLoop])
def test_slow_repr_times_out_then_is_immediate(cls: type) -> None:
    sr = SafeRepr(timeout_ms=50)
    t0 = time.perf_counter()
    first = sr(cls())
    first_elapsed = time.perf_counter() - t0
    assert first == f"<repr timed out: {cls.__name__}>"
    assert first_elapsed < 2  # sanity bound only

    t0 = time.perf_counter()
    second = sr(cls())
    second_elapsed = time.perf_counter() - t0
    assert second == first
    assert second_elapsed < first_elapsed / 10  # remembered: not run again
    assert sys.gettrace() is None


def test_time_budget_is_shared_and_only_the_slow_type_is_blamed() -> None:
    class Quick:
        def __repr__(self) -> str:
            return "Quick()"

    sr = SafeRepr(timeout_ms=50)
    t0 = time.perf_counter()
    out = sr([BusyLoop(), Quick()])
    assert time.perf_counter() - t0 < 2
    assert out == "[<repr timed out: BusyLoop>, <repr timed out: Quick>]"
    assert set(sr.failed_types()) == {BusyLoop}  # Quick only ran out of someone else's budget
    assert sr(Quick()) == "Quick()"


def test_type_interrupted_early_in_its_run_is_not_blamed() -> None:
    class Sleeps:
        def __init__(self, n: int) -> None:
            self.n = n

        def __repr__(self) -> str:
            for _ in range(self.n):
                time.sleep(0.01)
            return "Sleeps()"

    class Innocent(Sleeps):
        pass

    sr = SafeRepr(timeout_ms=200)
    # Sleeps uses ~120 ms of the 200 ms budget; Innocent is cut ~80 ms into its own run.
    assert sr([Sleeps(12), Innocent(30)]) == "[Sleeps(), <repr timed out: Innocent>]"
    assert sr.failed_types() == {}
    assert sr(Innocent(1)) == "Sleeps()"


def test_deadline_works_inside_a_settrace_callback() -> None:
    # Capture hooks call SafeRepr from trace callbacks, where CPython suppresses trace events.
    sr = SafeRepr(timeout_ms=50)
    out: list[str] = []

    def hook(frame: Any, event: str, arg: Any) -> Any:
        if event == "call" and frame.f_code.co_name == "traced":
            out.append(sr(BusyLoop()))
            out.append(repr(sys.gettrace() is hook))
        return None

    def traced() -> None:
        pass

    t0 = time.perf_counter()
    sys.settrace(hook)
    try:
        traced()
    finally:
        sys.settrace(None)
    assert time.perf_counter() - t0 < 2
    assert out == ["<repr timed out: BusyLoop>", "True"]


@pytest.mark.skipif(sys.version_info < (3, 12), reason="sys.monitoring is 3.12+")
def test_deadline_works_inside_a_monitoring_callback() -> None:
    mon = sys.monitoring  # type: ignore[attr-defined]
    tool = next(i for i in range(6) if mon.get_tool(i) is None)
    sr = SafeRepr(timeout_ms=50)
    out: list[str] = []

    def traced() -> None:
        pass

    def on_start(code: Any, offset: int) -> None:
        out.append(sr(BusyLoop()))

    mon.use_tool_id(tool, "test_saferepr")
    try:
        mon.register_callback(tool, mon.events.PY_START, on_start)
        mon.set_local_events(tool, traced.__code__, mon.events.PY_START)
        t0 = time.perf_counter()
        traced()
        assert time.perf_counter() - t0 < 2
    finally:
        mon.set_local_events(tool, traced.__code__, 0)
        mon.register_callback(tool, mon.events.PY_START, None)
        mon.free_tool_id(tool)
    assert out == ["<repr timed out: BusyLoop>"]
    assert sys.gettrace() is None


def test_depth_is_bounded() -> None:
    v: Any = 1
    for _ in range(10):
        v = [v]
    assert SafeRepr(max_depth=2)(v) == "[[[...]]]"
    assert SafeRepr(max_depth=0)(v) == "[...]"
    assert SafeRepr(max_depth=2)({"a": {"b": {"c": 1}}}) == "{'a': {'b': {...}}}"


def test_lengths_and_items_are_bounded() -> None:
    sr = SafeRepr(max_length=40, max_items=5)
    s = "abcdefghij" * 100
    out = sr(s)
    assert len(out) == 40 and out.startswith("'abcdefgh") and "..." in out and out.endswith("hij'")
    assert len(sr(b"x" * 10_000)) == 40
    assert sr(list(range(100))) == "[0, 1, 2, 3, 4, ...]"
    assert sr(deque(range(8))) == "deque([0, 1, 2, 3, 4, ...])"
    assert sr({i: i for i in range(8)}) == "{0: 0, 1: 1, 2: 2, 3: 3, 4: 4, ...}"
    assert sr((1,)) == "(1,)"
    assert len(sr(Long())) == 40
    assert len(sr([s] * 5)) <= 40
    assert len(sr(10**3000)) <= 40
    assert SafeRepr()(10**6000) == "<int with 19932 bits>"


def test_gettrace_restored_exactly_and_the_previous_tracer_keeps_working() -> None:
    class Named:
        def __repr__(self) -> str:
            return "Named()"

    seen: list[tuple[str, str]] = []

    def dummy(frame: Any, event: str, arg: Any) -> Any:
        seen.append((event, frame.f_code.co_name))
        return dummy  # also wants local events (line/return) for that frame

    sr = SafeRepr(timeout_ms=50)
    assert sys.gettrace() is None
    sys.settrace(dummy)
    try:
        assert sr(Named()) == "Named()"
        assert sys.gettrace() is dummy
        assert sr(Boom()) == "<repr failed: ValueError: boom>"
        assert sys.gettrace() is dummy
        assert sr(BusyLoop()) == "<repr timed out: BusyLoop>"
        assert sys.gettrace() is dummy
        assert sr(SelfRecursive()) == "<recursive SelfRecursive>"
        assert sys.gettrace() is dummy
    finally:
        sys.settrace(None)
    # The earlier tracer sits out the reprs we run (an interrupt delivered inside it would
    # switch it off for good), and is back, working, afterwards.
    assert ("call", "__repr__") not in seen
    sys.settrace(dummy)
    try:
        repr(Named())
    finally:
        sys.settrace(None)
    assert ("call", "__repr__") in seen
    assert sys.gettrace() is None


def test_nested_capture_gets_placeholder() -> None:
    sr = SafeRepr()
    flags: list[bool] = []

    class Inner:
        def __repr__(self) -> str:
            return "Inner()"

    class Outer:
        def __repr__(self) -> str:
            flags.append(in_safe_repr())
            return f"Outer({sr(Inner())}, {sr([1])})"  # what a hook firing in here would do

    assert not in_safe_repr()
    assert sr(Outer()) == "Outer(<...>, <...>)"
    assert flags == [True]
    assert not in_safe_repr()
    assert sr(Inner()) == "Inner()"


def test_nesting_flag_is_per_thread() -> None:
    sr = SafeRepr()
    got: list[str] = []

    class Spawner:
        def __repr__(self) -> str:
            t = threading.Thread(target=lambda: got.append(sr([Long()])))
            t.start()
            t.join()
            return "Spawner()"

    assert sr(Spawner()) == "Spawner()"
    assert got and got[0].startswith("[LLL")


def test_keyboard_interrupt_propagates_system_exit_does_not() -> None:
    class Interrupted:
        def __repr__(self) -> str:
            raise KeyboardInterrupt

    class Exits:
        def __repr__(self) -> str:
            sys.exit(3)

    sr = SafeRepr()
    with pytest.raises(KeyboardInterrupt):
        sr(Interrupted())
    assert not in_safe_repr() and sys.gettrace() is None
    assert sr(Exits()) == "<repr failed: SystemExit: 3>"


def test_disabled_reprs() -> None:
    class NoRepr:
        __repr__ = None  # type: ignore[assignment]

    class Secret:
        def __repr__(self) -> str:
            raise AssertionError("must not be called")

    sr = SafeRepr(disabled_types=[Secret])
    assert sr(NoRepr()) == "<NoRepr object>"
    assert sr([Secret()]) == "[<Secret object>]"


def test_name_dispatch_is_by_exact_type() -> None:
    # reprlib dispatches on the type *name*: a user class called "list" would be iterated.
    fake = type("list", (), {"__repr__": lambda self: "custom", "__len__": lambda self: 1 / 0})
    assert SafeRepr()(fake()) == "custom"


def test_is_immutable_scalar() -> None:
    for v in (1, 1.0, 1j, True, None, "s", b"b", range(2)):
        assert is_immutable_scalar(v), v
    for v in ((1,), [1], {1}, frozenset(), bytearray(), object(), Boom()):
        assert not is_immutable_scalar(v), v

    class MyInt(int):
        pass

    assert not is_immutable_scalar(MyInt(1))


def test_bad_config_rejected() -> None:
    with pytest.raises(ValueError):
        SafeRepr(max_length=2)
    with pytest.raises(ValueError):
        SafeRepr(timeout_ms=0)


def test_after_a_cut_off_repr_the_program_runs_on_normally_even_under_a_tracer() -> None:
    # Regression: clearing a fired async exception with SetAsyncExc(NULL) left CPython's eval
    # breaker signalled, and on 3.11 the next call under sys.settrace spun forever.
    sr = SafeRepr(timeout_ms=30)
    assert sr(BusyLoop()) == "<repr timed out: BusyLoop>"
    calls: list[str] = []

    def tracer(frame: Any, event: str, arg: Any) -> Any:
        calls.append(frame.f_code.co_name)
        return None

    def after() -> int:
        return sum(range(100))

    sys.settrace(tracer)
    try:
        assert after() == 4950
    finally:
        sys.settrace(None)
    assert "after" in calls


def test_many_fast_guarded_reprs_leave_no_stray_exception_behind() -> None:
    class Quick:
        def __repr__(self) -> str:
            return "Quick()"

    sr = SafeRepr(timeout_ms=5)
    for _ in range(1_000):
        assert sr(Quick()) == "Quick()"
    deadline = time.perf_counter() + 0.05  # past every deadline that was ever registered
    total = 0
    while time.perf_counter() < deadline:  # a stray async exception would surface here
        total += 1
    assert total > 0


def test_the_watchdog_is_a_daemon_and_sleeps_when_idle() -> None:
    sr = SafeRepr(timeout_ms=20)
    sr(BusyLoop())
    (dog,) = [t for t in threading.enumerate() if t.name == "scopeline-repr-watchdog"]
    assert dog.daemon
    before = time.process_time()
    time.sleep(0.2)
    assert time.process_time() - before < 0.05  # no thread of the process spun meanwhile
