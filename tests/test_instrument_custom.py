"""Custom injections: before/after source, and the statements that are refused."""

from __future__ import annotations

import pytest
from scopeline.engine.errors import ScopelineError
from scopeline.engine.instrument import InjectionPlan, RecordingHooks, instrument_source
from test_instrument_support import assert_transform


def test_before_and_after_keep_docstring_and_future_first() -> None:
    assert_transform(
        '''
        """module doc"""
        from __future__ import annotations
        def f(x):
            """doc"""
            y = x
            return y
        ''',
        '''
        """module doc"""
        from __future__ import annotations
        print("module")  # @sl:2
        def f(x):
            """doc"""
            print("doc")  # @sl:5
            print("before", x)  # @sl:6
            y = x
            log.append(y)  # @sl:6
            return y
        ''',
        InjectionPlan(granularity="line", trace_lines=(99,), custom_injections=(
            (2, "before", 'print("module")'), (6, "before", 'print("before", x)'),
            (6, "after", "log.append(y)"), (5, "before", 'print("doc")'))),
    )


@pytest.mark.parametrize("statement, reason", [
    ("x = 1", "assign the name 'x'"),
    ("x += 1", "assign the name 'x'"),
    ("print(y := 2)", "':='"),
    ("del x", "delete the name 'x'"),
    ("import os", "import"),
    ("global x", "global or nonlocal"),
    ("for i in range(3): print(i)", "assign the name 'i'"),
    ("with open('f') as fh: pass", "assign the name 'fh'"),
    ("def g(): pass", "define 'g'"),
    ("yield 1", "generator"),
    ("print(", "does not parse"),
])
def test_refused(statement: str, reason: str) -> None:
    plan = InjectionPlan(custom_injections=((2, "before", statement),))
    with pytest.raises(ScopelineError) as info:
        instrument_source("def f(x):\n    return x\n", plan)
    assert info.value.code == "ast_transformation_failed"
    assert reason in info.value.message and "line 2" in info.value.message


def test_allowed_mutation_and_comprehension() -> None:
    plan = InjectionPlan(custom_injections=((2, "after", "obj.seen = [v for v in range(2)]"),))
    result = instrument_source("def f(obj):\n    obj.n = 1\n    return obj\n", plan)
    namespace: dict = {}
    exec(result.compile("<t>", RecordingHooks()), namespace)
    obj = namespace["f"](type("O", (), {})())
    assert obj.seen == [0, 1] and result.sites[0].kind == "custom"


def test_line_without_a_statement() -> None:
    plan = InjectionPlan(custom_injections=((3, "before", "pass"),))
    with pytest.raises(ScopelineError) as info:
        instrument_source("def f(x):\n    return (x +\n            1)\n", plan)
    assert info.value.code == "ast_transformation_failed"
