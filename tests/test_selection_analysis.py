"""Target analysis: exact metrics of known functions, every target form, no-source functions,
static and measured call frequency, the complexity threshold, compilation_required."""

from __future__ import annotations

import threading

import analysis_sample as a
import pytest
import scopeline
from conftest import FIXTURES
from helpers import marker_line
from scopeline.engine import config
from scopeline.engine.errors import ScopelineError
from scopeline.engine.options import TraceOptions
from scopeline.engine.selection.analysis import (
    analyze_target_complexity,
    compilation_required,
)
from scopeline.engine.selection.frequency import level_of_rate
from scopeline.engine.store import Store

SAMPLE = str(FIXTURES / "analysis_sample.py")


@pytest.fixture(autouse=True)
def fresh_config():
    config.unload_config()
    yield
    config.unload_config()


def profiles(target) -> dict:
    return {f.qualname: f for f in analyze_target_complexity(target).functions}


def test_cyclomatic_complexity_and_loop_nesting_are_exact_for_known_functions():
    p = profiles(SAMPLE)
    # straight: no decision point -> 1
    assert (p["straight"].cyclomatic, p["straight"].loop_depth) == (1, 0)
    # branchy: if, `and`, elif, `or`, conditional expression, 2 except clauses, the
    # comprehension's `for` and its `if` -> 9 decision points, 1 + 9 = 10
    assert (p["branchy"].cyclomatic, p["branchy"].loop_depth) == (10, 1)
    # nested_loops: for, for, while -> 1 + 3 = 4; they nest three deep
    assert (p["nested_loops"].cyclomatic, p["nested_loops"].loop_depth) == (4, 3)
    # very_complex: for, for (2), if+and (2), elif+or (2), if+and+and (3), if+or+or (3),
    # if (1), if (1) -> 14 decision points, 1 + 14 = 15; two loops deep
    assert (p["very_complex"].cyclomatic, p["very_complex"].loop_depth) == (15, 2)
    # walk: one if -> 2; outer: the generator expression's `for` -> 2
    assert p["walk"].cyclomatic == 2 and p["outer"].cyclomatic == 2
    # the nested def is a function of its own: its conditional expression -> 2
    assert p["outer.<locals>.inner"].cyclomatic == 2


def test_size_lines_calls_generators_and_async():
    p = profiles(SAMPLE)
    first = a.straight.__code__.co_firstlineno
    assert (p["straight"].first_line, p["straight"].last_line, p["straight"].size_lines) == (
        first, first + 1, 2)
    # decorated: first_line is the decorator's line, as the code object's co_firstlineno
    edges = p["Shape.edges"]
    assert edges.first_line == a.Shape.edges.fget.__code__.co_firstlineno
    assert edges.def_line == edges.first_line + 1 and edges.size_lines == 3
    assert p["outer"].calls_out == 2  # sum(...) and inner(...)
    assert p["Shape.area"].calls_out == 2  # sum, range; the decorator call is the class's
    assert p["numbers"].is_generator and not p["numbers"].is_async
    assert p["fetch"].is_async and not p["fetch"].is_generator
    assert all(f.has_source and f.file == SAMPLE for f in p.values())
    # nested_loops calls step, a def of the same file: one level of dependencies
    assert p["nested_loops"].dependency_depth == 1 and p["step"].dependency_depth == 0


def test_every_target_form_is_analysed():
    assert analyze_target_complexity("analysis_sample:branchy").kind == "function"
    arity = analyze_target_complexity("analysis_sample:straight/2")
    assert [f.qualname for f in arity.functions] == ["straight"]
    line = marker_line(a, "while")
    by_line = analyze_target_complexity(f"{SAMPLE}:{line}")  # inside nested_loops
    assert by_line.kind == "line"
    assert [f.qualname for f in by_line.functions] == ["nested_loops"]
    assert f"line {line}" in by_line.notes[0]
    module = analyze_target_complexity("analysis_sample")
    assert module.kind == "module"
    assert {"branchy", "Shape.__init__", "outer.<locals>.inner"} <= {
        f.qualname for f in module.functions}
    assert analyze_target_complexity(SAMPLE).kind == "file"
    nested = analyze_target_complexity("analysis_sample:outer.<locals>.inner")
    assert [f.qualname for f in nested.functions] == ["outer.<locals>.inner"]
    method = analyze_target_complexity(a.Shape.__init__)
    assert [f.display for f in method.functions] == ["analysis_sample:Shape.__init__"]
    klass = analyze_target_complexity(a.Shape)
    assert {"Shape.__init__", "Shape.edges"} <= {f.qualname for f in klass.functions}


def test_a_thread_target_has_no_functions_and_says_why():
    result = analyze_target_complexity("thread:worker")  # static: it need not be alive
    assert (result.kind, result.functions, result.function_count) == ("thread", [], 0)
    assert "runtime hooks" in result.notes[0] and "not known before it runs" in result.notes[0]
    both = analyze_target_complexity([a.straight, threading.current_thread()])
    assert both.kind == "list" and [f.qualname for f in both.functions] == ["straight"]
    assert both.notes and both.notes[0].startswith("thread:MainThread")


def test_summary_takes_the_hardest_function():
    result = analyze_target_complexity([a.straight, a.very_complex, a.walk])
    assert result.function_count == 3
    assert result.cyclomatic_complexity == 15
    # very_complex: 15 + 2 per loop level (2) + 17 lines // 25 (0) = 19
    assert result.complexity_score == 19
    assert result.estimated_execution_frequency == "high"  # walk is recursive
    assert result.recommended_granularity == "expression"
    assert result.to_dict()["functions"][0]["qualname"] == "straight"


def test_functions_without_source_are_profiled_from_their_code_object():
    namespace: dict = {}
    exec("def made(xs):\n"
         "    for x in xs:\n"
         "        if x:\n"
         "            yield x\n", namespace)
    (made,) = analyze_target_complexity(namespace["made"]).functions
    assert not made.has_source and made.file is None
    assert (made.first_line, made.last_line, made.size_lines) == (1, 4, 4)
    assert made.is_generator and made.loop_depth == 1
    assert made.cyclomatic == 3  # for + if, estimated from the bytecode: FOR_ITER, a jump
    assert "no source" in made.frequency_source
    (builtin,) = analyze_target_complexity(len).functions
    assert not builtin.has_source and builtin.size_lines == 0
    assert "implemented in C" in builtin.frequency_source


def test_static_frequency_says_where_it_comes_from():
    p = profiles(SAMPLE)
    assert p["step"].frequency == "high"
    assert p["step"].frequency_source == ("static: called inside nested loops in 1 place in "
                                          "its module")
    assert (p["walk"].frequency, p["walk"].frequency_source) == (
        "high", "static: recursive (it calls itself)")
    assert p["outer.<locals>.inner"].frequency == "medium"  # in a generator expression
    assert "inside a loop in 1 place" in p["outer.<locals>.inner"].frequency_source
    assert (p["Shape.edges"].frequency, p["Shape.edges"].frequency_source) == (
        "high", "static: a property, read inside a loop in its module")
    assert (p["straight"].frequency, p["straight"].frequency_source) == (
        "low", "static: no call site in its module")
    assert all(f.calls_per_second is None for f in p.values())


def test_the_complexity_threshold_setting_changes_the_recommended_granularity():
    p = profiles([a.branchy, a.very_complex, a.nested_loops])
    # default complexity_for_ast = 10: branchy (10) reaches it, very_complex (15) with two
    # loop levels gets two steps finer, nested_loops (4) only for its nested loops
    assert [p[n].recommended_granularity for n in ("branchy", "very_complex", "nested_loops")
            ] == ["line", "expression", "line"]
    config.update_config("unified.auto_mode_thresholds.complexity_for_ast", 11)
    p = profiles([a.branchy, a.very_complex])
    assert p["branchy"].recommended_granularity == "function"
    config.update_config("unified.auto_mode_thresholds.complexity_for_ast", 5)
    assert profiles(a.very_complex)["very_complex"].recommended_granularity == "variable"


def test_measured_frequency_comes_from_the_latest_session_that_ran_the_function():
    with scopeline.trace([a.step, a.nested_loops], mode="runtime") as first:
        a.nested_loops([[1]])
    with scopeline.trace([a.step, a.nested_loops], mode="runtime") as session:
        for _ in range(5):
            a.nested_loops([[3, 2], [1, 4]])  # 10 calls of step each time
    meta = Store().find(session.session_id)
    assert meta["stats"]["calls"] == {"analysis_sample:nested_loops": 5,
                                      "analysis_sample:step": 50}
    assert first.session_id != session.session_id
    p = profiles([a.step, a.walk])
    step = p["step"]
    span = meta["stopped_at"] - meta["started_at"]
    assert step.calls_per_second == pytest.approx(50 / span)
    assert step.frequency == level_of_rate(step.calls_per_second)
    assert step.frequency_source.startswith("runtime counters: 50 calls in ")
    assert step.frequency_source.endswith(f"in session {session.session_id[:8]}")
    assert p["walk"].frequency_source.startswith("static:")  # never traced: still static


@pytest.mark.parametrize("mode", ["runtime", "compile_time", "hybrid"])
def test_call_counters_count_each_call_once_in_every_mode(mode):
    # hybrid: runtime hooks and injected probes both see each call; it still counts once
    with scopeline.trace(a.step, mode=mode) as session:
        for _ in range(5):
            a.nested_loops([[3, 2], [1, 4]])
    assert Store().find(session.session_id)["stats"]["calls"] == {"analysis_sample:step": 50}


def test_a_thread_sessions_counters_name_the_functions_the_thread_ran():
    worker = threading.Thread(target=a.nested_loops, args=([[3, 2], [1]],), name="counted")
    with scopeline.trace(worker, mode="runtime") as session:
        worker.start()
        worker.join()
    calls = Store().find(session.session_id)["stats"]["calls"]
    assert calls["analysis_sample:nested_loops"] == 1
    assert calls["analysis_sample:step"] == 6


def test_compilation_required_asks_whether_the_capture_needs_injection():
    # without options: the granularity the code calls for
    assert not compilation_required(a.straight)
    assert compilation_required(a.very_complex)  # expression granularity recommended
    assert compilation_required(a.straight, {"granularity": "expression"})
    assert compilation_required(a.straight, TraceOptions(custom_injections=((9, "before",
                                                                             "pass"),)))
    assert not compilation_required(a.straight, {"granularity": "line",
                                                 "capture_locals": ("a",)})
    assert not compilation_required(a.very_complex, {"force_runtime": True})
    assert not compilation_required("thread:MainThread", {"granularity": "expression"})


def test_bad_targets_are_one_clear_error():
    with pytest.raises(ScopelineError) as err:
        analyze_target_complexity("analysis_sample:no_such_function")
    assert err.value.code == "target_invalid" and err.value.recovery_suggestions
    with pytest.raises(ScopelineError) as err:
        analyze_target_complexity([])
    assert err.value.code == "target_invalid"
    with pytest.raises(ScopelineError) as err:
        compilation_required(a.straight, 42)
    assert err.value.code == "invalid_config"
