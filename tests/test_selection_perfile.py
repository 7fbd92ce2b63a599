"""``decide_file``: every function of one file with its mode, for the editor's code lenses —
from the editor's text, without importing anything, re-reading only what an edit touched."""

from __future__ import annotations

import sys
import textwrap
from collections import Counter
from pathlib import Path

import pytest
from conftest import FIXTURES
from scopeline.engine.errors import ScopelineError
from scopeline.engine.selection import textmetrics
from scopeline.engine.selection.engine import determine_mode
from scopeline.engine.selection.metrics import file_metrics
from scopeline.engine.selection.perfile import decide_file

SAMPLE = FIXTURES / "analysis_sample.py"
ENGINE = Path(__file__).resolve().parent.parent / "engine"

SIMPLE = textwrap.dedent("""\
    def total(values):
        return sum(values)


    def scale(values, k):
        return [v * k for v in values]
    """)
# `total` as the user is editing it, not saved yet: nested loops and many branches
EDITED_TOTAL = textwrap.dedent("""\
    def total(values):
        out = 0
        for row in values:
            for v in row:
                if v is None or v == "":
                    continue
                elif v < 0 and out > 0:
                    out -= v
                elif v > 100 or v < -100:
                    out += 100
                elif v % 2 and v % 3:
                    out += v * 2
                else:
                    out += v
        return out
    """)


@pytest.fixture(autouse=True)
def cold_text_cache():
    textmetrics.clear()
    yield
    textmetrics.clear()


@pytest.mark.parametrize("options", [{}, {"granularity": "expression"}, {"include": ["lines"]}])
def test_each_function_gets_the_decision_determine_mode_gives_it(options):
    decided = decide_file(str(SAMPLE), options)
    names = Counter(p.qualname for p, _ in decided)
    assert {"branchy", "outer.<locals>.inner", "Shape.area", "very_complex"} <= set(names)
    for profile, decision in decided:
        assert profile.file == str(SAMPLE) and profile.has_source
        if names[profile.qualname] > 1:
            continue  # one name for two defs: the text target means both at once
        alone = determine_mode(f"{SAMPLE}:{profile.qualname}", options)
        assert decision.to_dict() == alone.to_dict(), profile.qualname
    assert [p.first_line for p, _ in decided] == sorted(p.first_line for p, _ in decided)


def test_the_editors_unsaved_text_is_what_is_decided(tmp_path):
    path = tmp_path / "tmp_editing.py"
    path.write_text(SIMPLE)
    options = {"granularity": "expression"}
    saved = {p.qualname: (p, d) for p, d in decide_file(str(path), options)}
    assert saved["total"][0].cyclomatic == 1 and saved["total"][1].mode == "compile_time"
    unsaved = SIMPLE.replace("def total(values):\n    return sum(values)\n", EDITED_TOTAL)
    unsaved += "\n\ndef added(x):\n    return x\n"
    edited = {p.qualname: (p, d) for p, d in decide_file(str(path), options, source=unsaved)}
    assert set(edited) == {"total", "scale", "added"}
    total, decision = edited["total"]
    assert (total.cyclomatic, total.loop_depth) == (11, 2)
    # complex code at expression detail: the complex_algorithm rule, not granular_debugging
    assert decision.mode == "hybrid" and "complex_algorithm" in decision.reason
    assert edited["scale"][0].first_line == 18 and edited["added"][0].first_line == 22
    assert path.read_text() == SIMPLE  # the file on disk is not touched
    # and the saved text again gives the saved decisions
    again = {p.qualname: d.to_dict() for p, d in decide_file(str(path), options)}
    assert again == {q: d.to_dict() for q, (_, d) in saved.items()}


def test_a_text_that_does_not_parse_is_one_clear_error(tmp_path):
    path = tmp_path / "tmp_broken.py"
    path.write_text(SIMPLE)
    decide_file(str(path))  # a good text first: the next one is read as an edit of it
    broken = SIMPLE.replace("def scale(values, k):", "def scale(values, k:")
    for _ in range(2):  # as an edit, then from scratch
        with pytest.raises(ScopelineError) as err:
            decide_file(str(path), source=broken)
        assert err.value.code == "compilation_failed"
        assert err.value.message.startswith(f"{path} does not parse: line 5:")
        assert err.value.details["line"] == 5 and err.value.recovery_suggestions
        textmetrics.clear()
    with pytest.raises(ScopelineError) as err:
        decide_file(str(tmp_path / "missing.py"))
    assert err.value.code == "target_invalid" and "source=" in err.value.recovery_suggestions[0]


def test_a_module_not_imported_stays_not_imported(tmp_path, monkeypatch):
    marker = tmp_path / "imported.txt"
    path = tmp_path / "tmp_side_effects.py"
    path.write_text(f"open({str(marker)!r}, 'w').close()\n\n\n" + SIMPLE)
    monkeypatch.syspath_prepend(str(tmp_path))
    decided = decide_file(str(path))
    assert [p.qualname for p, _ in decided] == ["total", "scale"]
    assert {p.module for p, _ in decided} == {"tmp_side_effects"}  # the name it would have
    assert "tmp_side_effects" not in sys.modules and not marker.exists()


def test_the_same_text_gives_the_same_decisions():
    first = [(p, d.to_dict()) for p, d in decide_file(str(SAMPLE))]
    textmetrics.clear()
    assert [(p, d.to_dict()) for p, d in decide_file(str(SAMPLE))] == first
    assert [(p, d.to_dict()) for p, d in decide_file(str(SAMPLE))] == first  # warm


def test_an_edit_rereads_only_the_statements_it_touched(tmp_path):
    path = tmp_path / "tmp_many.py"
    text = "".join(f"def f{i}(x):\n    return x + {i}\n\n\n" for i in range(40))
    path.write_text(text)
    decide_file(str(path))
    before = textmetrics.parsed_chunks
    edited = text.replace("return x + 7\n", "for y in x:\n        x += y\n    return x\n")
    decided = {p.qualname: p for p, _ in decide_file(str(path), source=edited)}
    assert textmetrics.parsed_chunks == before + 1  # f7 alone was read again
    assert decided["f7"].loop_depth == 1 and decided["f8"].first_line == 8 * 4 + 1 + 2
    assert textmetrics.text_metrics(edited, str(path)) == file_metrics(edited)


@pytest.mark.parametrize("name", ["selection/analysis.py", "targets.py", "targets_units.py"])
def test_metrics_by_statement_equal_the_whole_files(name):
    text = (ENGINE / name).read_text()
    assert textmetrics.text_metrics(text, str(ENGINE / name)) == file_metrics(text)
