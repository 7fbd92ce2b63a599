"""Variable granularity transformer: before/after source and reported bindings."""

from __future__ import annotations

from scopeline.engine.instrument import InjectionPlan, RecordingHooks, instrument_source
from test_instrument_support import assert_transform

PLAN = InjectionPlan(granularity="variable")


def test_every_kind_of_binding() -> None:
    assert_transform(
        """
        def f(pair, items, ctx):
            a, (*c,) = pair
            a += 1; total: int = 0
            for i in items: t += i
            with ctx as (x, y):
                pass
            try:
                pass
            except KeyError as err:
                pass
            if (n := len(items)) > 1: obj.attr = n
            import os.path, json as j
        """,
        """
        def f(pair, items, ctx):
            a, (*c,) = pair
            "@sl:hooks".assign(1, "a", a); "@sl:hooks".assign(1, "c", c)  # @sl:3
            a += 1; "@sl:hooks".assign(2, "a", a); total: int = 0
            "@sl:hooks".assign(3, "total", total)  # @sl:4
            for i in items: "@sl:hooks".assign(5, "i", i); t += i; "@sl:hooks".assign(4, "t", t)
            with ctx as (x, y):
                "@sl:hooks".assign(6, "x", x); "@sl:hooks".assign(6, "y", y)  # @sl:6
                pass
            try:
                pass
            except KeyError as err:
                "@sl:hooks".assign(7, "err", err)  # @sl:10
                pass
            if "@sl:hooks".expr(8, (n := len(items))) > 1: obj.attr = n
            import os.path, json as j
            "@sl:hooks".assign(9, "os", os); "@sl:hooks".assign(9, "j", j)  # @sl:13
        """,
        PLAN,
    )


def test_capture_filter_and_values() -> None:
    source = ("def f(items):\n    total = 0\n    for i in items:\n        total += i\n"
              "    if (k := total * 2):\n        pass\n    return total, k\n")
    result = instrument_source(source, InjectionPlan(granularity="variable",
                                                     capture_locals=("total", "k")))
    hooks = RecordingHooks()
    namespace: dict = {}
    exec(result.compile("<t>", hooks), namespace)
    assert namespace["f"]([1, 2]) == (3, 6)
    reported = [(result.site(e[1]).line, e[2] if e[0] == "assign" else "k", e[-1])
                for e in hooks.events]
    assert reported == [(2, "total", 0), (4, "total", 1), (4, "total", 3), (5, "k", 6)]
    assert all(s.names in (("total",), ("k",)) for s in result.sites)


def test_global_and_nonlocal_names_are_reported() -> None:
    source = ("G = 0\ndef outer():\n    n = 0\n    def inner():\n        global G\n"
              "        nonlocal n\n        G += 1\n        n += 1\n        return n\n"
              "    return inner()\n")
    result = instrument_source(source, InjectionPlan(granularity="variable",
                                                     functions=("outer.<locals>.inner",)))
    hooks = RecordingHooks()
    namespace: dict = {}
    exec(result.compile("<t>", hooks), namespace)
    assert namespace["outer"]() == 1 and namespace["G"] == 1
    assert hooks.events == [("assign", 1, "G", 1), ("assign", 2, "n", 1)]
