"""Expression granularity transformer: before/after source and values, each evaluated once."""

from __future__ import annotations

from scopeline.engine.instrument import InjectionPlan, RecordingHooks, instrument_source
from test_instrument_support import assert_transform


def test_wraps_loads_never_targets_callees_or_keywords() -> None:
    assert_transform(
        """
        def f(obj, i):
            obj.x[i] += g(k=i)
            return super().m(), f"{i}"
        """,
        """
        def f(obj, i):
            obj.x[i] += "@sl:hooks".expr(2, g(k="@sl:hooks".expr(1, i)))
            return "@sl:hooks".expr(3, super().m()), f"{i}"
        """,
        InjectionPlan(granularity="expression"),
    )


def test_planned_lines_only_and_single_evaluation() -> None:
    source = "def f(items):\n    n = len(items)\n    return items.pop() + n\n"
    result = instrument_source(source, InjectionPlan(granularity="expression", trace_lines=(3,)))
    assert {s.line for s in result.sites} == {3}
    assert [s.detail for s in result.sites] == ["items", "items.pop()", "n", "items.pop() + n"]
    hooks = RecordingHooks()
    namespace: dict = {}
    exec(result.compile("<t>", hooks), namespace)
    items = [1, 2, 3]
    assert namespace["f"](items) == 6 and items == [1, 2]  # pop() ran once
    assert [e[2] for e in hooks.events if e[0] == "expr"][1:] == [3, 3, 6]
