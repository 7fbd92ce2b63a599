"""Function granularity transformer: before/after source, sites, and errors."""

from __future__ import annotations

import pytest
from scopeline.engine.errors import ScopelineError
from scopeline.engine.instrument import InjectionPlan, RecordingHooks, instrument_source
from test_instrument_support import assert_transform

PLAN = InjectionPlan(granularity="function")


def test_entry_exit_exception_and_docstring_first() -> None:
    result = assert_transform(
        '''
        def f(a, *b, c=1, **d):
            """doc"""
            if a:
                return a, b
        ''',
        '''
        def f(a, *b, c=1, **d):
            """doc"""
            "@sl:hooks".enter(2, {"a": a, "c": c, "b": b, "d": d})  # @sl:2
            try:  # @sl:2
                if a:
                    return "@sl:hooks".exit(1, (a, b))
                "@sl:hooks".exit(3, None)  # @sl:5
            except BaseException:  # @sl:5
                "@sl:hooks".exception(4)  # @sl:5
                raise  # @sl:5
        ''',
        PLAN,
    )
    assert [(s.kind, s.line) for s in result.sites] == [
        ("exit", 5), ("entry", 2), ("exit", 5), ("exception", 5)]
    assert result.sites[1].names == ("a", "c", "b", "d")  # code order: keyword-only before *b


def test_one_line_def_moves_body_to_its_own_line() -> None:
    assert_transform(
        """
        def g(x): return x
        """,
        """
        def g(x):  # @sl:2
            "@sl:hooks".enter(2, {"x": x})  # @sl:2
            try:  # @sl:2
                return "@sl:hooks".exit(1, x)
                "@sl:hooks".exit(3, None)  # @sl:2
            except BaseException:  # @sl:2
                "@sl:hooks".exception(4)  # @sl:2
                raise  # @sl:2
        """,
        PLAN,
    )


def test_async_generator_bare_return_reports_then_returns() -> None:
    result = instrument_source("async def a():\n    yield 1\n    return\n", PLAN)
    assert '"@sl:hooks".exit(1, None); return\n' in result.source


def test_only_planned_functions_and_nested_qualnames() -> None:
    source = "class C:\n    def m(self):\n        def inner():\n            return 1\n" \
             "        return inner()\n"
    result = instrument_source(source, InjectionPlan(functions=("C.m.<locals>.inner",)))
    assert {s.qualname for s in result.sites} == {"C.m.<locals>.inner"}
    hooks = RecordingHooks()
    namespace: dict = {}
    exec(result.compile("<t>", hooks), namespace)
    assert namespace["C"]().m() == 1
    assert hooks.kinds() == ["enter", "exit"]


def test_unknown_function_names_the_nearest() -> None:
    with pytest.raises(ScopelineError) as info:
        instrument_source("def compute():\n    pass\n", InjectionPlan(functions=("compte",)))
    assert info.value.code == "target_invalid"
    assert "compute" in info.value.message


def test_source_that_does_not_parse() -> None:
    with pytest.raises(ScopelineError) as info:
        instrument_source("def broken(:\n", PLAN)
    assert info.value.code == "compilation_failed"


def test_events_carry_original_lines() -> None:
    source = "\n\ndef f(x):\n    y = x + 1\n    return y\n"
    result = instrument_source(source, PLAN)
    hooks = RecordingHooks()
    namespace: dict = {}
    exec(result.compile("<t>", hooks), namespace)
    namespace["f"](1)
    lines = [(e[0], result.site(e[1]).line) for e in hooks.events]
    assert lines == [("enter", 3), ("exit", 5)]
    assert namespace["f"].__code__.co_firstlineno == 3
