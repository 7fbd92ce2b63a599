"""The captured-values index and its rendering (hover, inlay hints, inline values), without
the protocol: real sessions traced in this process on fixture code, read back from the store."""

from __future__ import annotations

import inspect
import os
from pathlib import Path

import pytest
import scopeline
import values_sample as sample
from scopeline.engine.store import Store
from scopeline.lsp.hover import hint_label, hover_markdown
from scopeline.lsp.inlay import inlay_hints, inline_values
from scopeline.lsp.values import ValueIndex

FILE = os.path.realpath(inspect.getsourcefile(sample) or "")
SOURCE = Path(FILE).read_text(encoding="utf-8").splitlines()


def line_of(text: str) -> int:
    """1-based line of the first source line containing ``text``."""
    return next(i for i, line in enumerate(SOURCE, 1) if text in line)


@pytest.fixture
def index() -> ValueIndex:
    return ValueIndex(Store(), scopeline.list_traces)


def test_a_line_shows_what_it_did_with_every_hit(index):
    with scopeline.trace("values_sample:scale", granularity="line"):
        for price in (1, 2, 3):
            sample.scale(price, 10)
    fv = index.for_file(FILE)
    assign = fv.lines[line_of("total = price * factor")]
    # the values after the line ran (the next line's locals), newest first
    assert [h.values["total"] for h in assign.history("total")] == ["30", "20", "10"]
    assert assign.latest() == {"price": "3", "factor": "10", "total": "30"}
    assert fv.lines[line_of("total = total + 1")].latest()["total"] == "31"
    assert {h.thread for h in assign.hits} == {"MainThread"}
    assert assign.count == 3


def test_function_statistics(index):
    with scopeline.trace(["values_sample:checkout", "values_sample:scale",
                          "values_sample:refuse"]):
        sample.checkout([1, 2])
        sample.refuse(5)
        with pytest.raises(ValueError):
            sample.refuse(-1)
    fv = index.for_file(FILE)
    scale = fv.function_named("scale")
    assert scale.calls == 2 and scale.last_args == {"price": "2", "factor": "2"}
    assert scale.last_return == "5" and scale.mean_ns > 0
    assert scale.first_line == line_of("def scale")
    refuse = fv.function_named("refuse")
    assert refuse.calls == 2 and refuse.last_return is None
    assert "negative amount -1" in refuse.last_exception
    assert fv.function_at(line_of("def checkout")).qualname == "checkout"


def test_a_live_session_is_read_incrementally(index):
    with scopeline.trace("values_sample:scale", granularity="line") as session:
        sample.scale(1, 1)
        fv = index.for_file(FILE)  # flushes the live session first
        first = index.sessions[session.session_id]
        read = first.events_read
        assert fv.lines[line_of("return total")].count == 1
        for price in range(5):
            sample.scale(price, 1)
        fv = index.for_file(FILE)
        again = index.sessions[session.session_id]
        assert again is first  # the same reader, fed only the new batches
        assert again.events_read > read
        assert fv.lines[line_of("return total")].count == 6
        # nothing new: nothing read
        assert again.refresh() == 0
    total = sum(1 for _ in Store().events(session.session_id))
    assert index.session(session.session_id).events_read == total


def test_the_latest_session_touching_the_file_wins(index):
    with scopeline.trace("values_sample:scale"):
        sample.scale(1, 1)
    with scopeline.trace("values_sample:scale"):
        sample.scale(7, 7)
        sample.scale(8, 8)
    fv = index.for_file(FILE)
    assert fv.function_named("scale").calls == 2
    assert index.for_file("/nowhere/else.py") is None


def test_assignments_and_expressions_from_compile_time(index):
    with scopeline.trace("values_sample:checkout", mode="compile_time", granularity="variable",
                         capture_locals=("acc",)):
        sample.checkout([1, 2, 3])
    fv = index.for_file(FILE)
    loop = fv.lines[line_of("acc += scale")]
    assert [h.values["acc"] for h in loop.history("acc")] == ["15", "8", "3"]
    assert all(h.kind == "variable_assignment" for h in loop.hits)
    assert fv.lines[line_of("acc = 0")].latest() == {"acc": "0"}
    with scopeline.trace("values_sample:scale", mode="compile_time", granularity="expression",
                         trace_lines=[line_of("total = price * factor")]):
        sample.scale(4, 5)
    fv = index.for_file(FILE)
    seen = fv.lines[line_of("total = price * factor")].latest()
    assert seen.get("price * factor") == "20"


def test_hybrid_calls_are_counted_once(index):
    with scopeline.trace("values_sample:scale", mode="hybrid"):
        sample.scale(1, 1)
        sample.scale(2, 1)
    assert index.for_file(FILE).function_named("scale").calls == 2


def test_threads_name_their_hits(index):
    with scopeline.trace("values_sample:checkout", granularity="line"):
        sample.in_threads(3)
    record = index.for_file(FILE).lines[line_of("return acc")]
    assert {h.thread for h in record.hits} == {"worker-0", "worker-1", "worker-2"}


def test_history_is_capped_but_counted(index):
    with scopeline.trace("values_sample:scale", granularity="line"):
        for price in range(300):
            sample.scale(price, 1)
    record = index.for_file(FILE).lines[line_of("return total")]
    assert record.count == 300 and len(record.hits) == 200
    assert record.latest()["total"] == "300"


# -- rendering --------------------------------------------------------------------------------
def hover_at(fv, text: str, word: str | None = None):
    line = line_of(text)
    column = SOURCE[line - 1].index(word) if word else 0
    return hover_markdown(fv, line, SOURCE[line - 1], column)


def test_hover_on_a_variable_a_function_and_a_line(index):
    with scopeline.trace(["values_sample:checkout", "values_sample:scale"], granularity="line"):
        sample.checkout([1, 2])
        sample.checkout(list(range(20)))
    fv = index.for_file(FILE)
    markdown, columns = hover_at(fv, "total = price * factor", "total")
    assert markdown.startswith("**total** = `38`")
    assert "| 22 | `38` | MainThread |" in markdown  # newest first, numbered by hit
    assert "12 earlier hits" in markdown
    assert columns == (4, 9)
    markdown, _ = hover_at(fv, "def scale", "scale")
    assert "**scale** · 22 calls · mean" in markdown
    assert "last call: `scale(price=19, factor=2)` → `39`" in markdown
    markdown, _ = hover_at(fv, "acc += scale", "scale")  # a call site names the function too
    assert "22 calls" in markdown
    markdown, columns = hover_at(fv, "for price in prices")  # the keyword: the whole line
    assert markdown.startswith(f"**line {line_of('for price in prices')}**") and columns is None
    assert hover_at(fv, "def refuse", "refuse") is None  # never called: nothing captured


def test_hover_escapes_table_breaking_values(index):
    with scopeline.trace("values_sample:refuse", granularity="line"), \
            pytest.raises(TypeError):
        sample.refuse("a|b`c")  # a str is not < 0
    fv = index.for_file(FILE)
    markdown, _ = hover_at(fv, "if amount < 0", "amount")
    assert "a\\|b`c" in markdown and "\n| 1 | `` " in markdown


def test_inlay_hints_and_inline_values(index):
    with scopeline.trace("values_sample:checkout", granularity="line"):
        sample.checkout([1, 2])
    fv = index.for_file(FILE)
    loop = line_of("acc += scale")
    assert hint_label(fv.lines[loop], SOURCE[loop - 1]) == "acc = 8, price = 2"
    hints = inlay_hints(fv, SOURCE, 0, len(SOURCE) - 1)
    by_line = {h.position.line + 1: h.label for h in hints}
    assert by_line[line_of("acc = 0")] == "acc = 0"
    assert by_line[loop] == "acc = 8, price = 2"
    assert all(h.position.character == len(SOURCE[h.position.line]) for h in hints)
    # only the asked range
    assert [h.position.line + 1 for h in inlay_hints(fv, SOURCE, loop - 1, loop - 1)] == [loop]

    stopped = line_of("return acc") - 1
    values = inline_values(fv, SOURCE, line_of("def checkout") - 1, stopped, stopped)
    texts = {v.range.start.line + 1: v.text for v in values if hasattr(v, "text")}
    assert texts[line_of("acc = 0")] == "acc = 0"
    assert texts[loop] == "acc = 8, price = 2"
    lookups = [v for v in values if hasattr(v, "variable_name")]
    assert [(v.variable_name, v.range.start.line) for v in lookups] == [("acc", stopped)]
