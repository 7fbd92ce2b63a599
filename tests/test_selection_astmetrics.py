"""``file_metrics`` reads source with ``ast`` (fast enough to open a large file in an editor)
and must give exactly what the libcst reading (``cst_file_metrics``) gives: every function's
lines, complexity, loop depth, calls in order, decorators, and the file's outer calls and
attributes read in loops."""

from __future__ import annotations

import sys
import textwrap
from pathlib import Path

import pytest
from conftest import FIXTURES
from scopeline.engine.selection.metrics import cst_file_metrics, file_metrics

ENGINE = Path(__file__).resolve().parent.parent / "engine"
STDLIB = Path(textwrap.__file__).parent

# Where ast and libcst differ in shape: decorators split over lines, dict items, keyword
# arguments before starred ones, parameter annotations and defaults, lambdas, conditional
# expressions, imports in loops (libcst reads dotted modules as attributes), comprehensions
# nested in a first iterable or a `while` test, match, except*, async, class headers.
TRICKY = textwrap.dedent('''\
    import os


    @ (
        deco)
    @ \\
      other.thing(a(), b=c())
    def f(x: ann() = d(), /, y=e(), *args: g(), k=h(), **kw: i()) -> ret():
        {a(): b(), **c(), d(): e()}
        f(x=a(), *b(), **c())
        v = a() if b() else c()
        for i in range(3):
            import os.path.x
            from a.b.c import d
            from .q.r import s
            [p.q for p.r in t.u]
            while w.v:
                lambda m=n(), *, o=p(): q(r())
        [x for x in [y.a for y in z() if y.b] if x.c]
        [x for x in (i for i in w())]
        x = a and b or c and d and e
        try:
            pass
        except* ValueError:
            pass
        match x:
            case {"a": 1, Foo.BAR: y} if y.z:
                pass
            case Point(x=1):
                pass
        async def g():
            async for a in b:
                yield [c async for c in d()]
            await x.y()
            yield from z()
        class K(Base(), *bs, metaclass=M()):
            @property
            def p(self, q=lambda: (yield)): return p.q()
            z = [a() for a in b()]
        return f"{x()!r:{y()}}"

    while [x for x in y]:
        z.attr
    ''')


def test_the_awkward_shapes_measure_as_libcst_measures_them():
    fast = file_metrics(TRICKY)
    assert fast == cst_file_metrics(TRICKY)
    f = fast.functions[0]
    assert (f.first_line, f.def_line) == (4, 8)  # the first `@`, not its expression's line
    assert [name for name, _ in f.calls[:7]] == ["ret", "a", "b", "c", "d", "e", "f"]
    assert all(depth >= 0 for _, depth in f.calls)
    assert {"x", "c", "r"} <= set(fast.loop_attrs) and "BAR" not in fast.loop_attrs


@pytest.mark.parametrize("path", [
    *sorted(ENGINE.glob("selection/*.py")), *sorted(FIXTURES.glob("*.py")),
    STDLIB / "argparse.py",
], ids=lambda p: p.name)
def test_real_files_measure_the_same(path):
    data = path.read_bytes()
    assert file_metrics(data) == cst_file_metrics(data)


def test_a_syntax_error_is_a_syntax_error():
    with pytest.raises(SyntaxError):
        file_metrics("def f(:\n    pass\n")


@pytest.mark.skipif(sys.version_info < (3, 12), reason="type parameters are 3.12 syntax")
def test_type_parameters_count_in_the_function():
    text = "def f[T: bound()](x: T) -> T:\n    return g(x)\n"
    assert file_metrics(text) == cst_file_metrics(text)
