"""Line granularity transformer: before/after source and captured locals."""

from __future__ import annotations

from scopeline.engine.instrument import InjectionPlan, RecordingHooks, instrument_source
from test_instrument_support import assert_transform


def test_probe_before_each_planned_line_keeps_comments_and_docstring() -> None:
    assert_transform(
        '''
        def f(x):
            """doc"""
            # about y
            y = x + 1
            if y:
                return y
        class C:
            z = 1
        ''',
        '''
        def f(x):
            """doc"""
            # about y
            "@sl:hooks".line(2, locals())  # @sl:5
            y = x + 1
            "@sl:hooks".line(3, locals())  # @sl:6
            if y:
                "@sl:hooks".line(1, locals())  # @sl:7
                return y
        class C:
            z = 1
        ''',
        InjectionPlan(granularity="line"),
    )


def test_trace_lines_and_capture_filter() -> None:
    source = "def f(x):\n    y = x + 1\n    z = y * 2\n    return z\n"
    plan = InjectionPlan(granularity="line", trace_lines=(4,), capture_locals=("y", "nope"))
    result = instrument_source(source, plan)
    assert [(s.kind, s.line) for s in result.sites] == [("line", 4)]
    hooks = RecordingHooks()
    namespace: dict = {}
    exec(result.compile("<t>", hooks), namespace)
    assert namespace["f"](1) == 4
    assert hooks.events == [("line", 1, {"y": 2})]
    assert namespace["f"].__code__.co_varnames == ("x", "y", "z")


def test_locals_are_only_names_bound_so_far() -> None:
    source = "def f(x):\n    y = x\n    for i in range(2):\n        y += i\n    return y\n"
    hooks = RecordingHooks()
    namespace: dict = {}
    result = instrument_source(source, InjectionPlan(granularity="line"))
    exec(result.compile("<t>", hooks), namespace)
    namespace["f"](5)
    seen = [(result.site(e[1]).line, e[2]) for e in hooks.events]
    assert seen == [(2, {"x": 5}), (3, {"x": 5, "y": 5}), (4, {"x": 5, "y": 5, "i": 0}),
                    (4, {"x": 5, "y": 5, "i": 1}), (5, {"x": 5, "y": 6, "i": 1})]


def test_captured_names_are_passed_directly_with_a_locals_fallback() -> None:
    assert_transform(
        '''
        def f(x):
            y = x + 1
            return y
        ''',
        '''
        def f(x):
            try:  # @sl:3
                "@sl:probe:1"(x, y)  # @sl:3
            except NameError:  # @sl:3
                "@sl:hooks".line(1, (lambda d: {k: d[k] for k in ('x', 'y', ) if k in d})(locals()))  # @sl:3
            y = x + 1
            return y
        ''',
        InjectionPlan(granularity="line", trace_lines=(3,), capture_locals=("x", "y")),
    )


def test_direct_values_when_bound_and_the_fallback_when_not() -> None:
    source = "def f(x):\n    y = x + 1\n    return y\n"
    plan = InjectionPlan(granularity="line", capture_locals=("x", "y"))
    result = instrument_source(source, plan)
    hooks = RecordingHooks()
    namespace: dict = {}
    exec(result.compile("<t>", hooks), namespace)
    assert namespace["f"](1) == 2
    # line 2: y is not bound yet -> the locals() fallback; line 3: both bound -> direct values
    assert hooks.events == [("line", 1, {"x": 1}), ("values", 2, (1, 2))]
