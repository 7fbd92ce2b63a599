"""Fidelity, short selection (issue 3 point 5): standard-library suites nobody here wrote pass,
fail and skip exactly as without instrumentation, and the events are there.

Each run is a fresh interpreter (bench/fidelity_worker.py via bench/fidelity.py), so the
instrumented run cannot leak into the plain one. The long selection is ``python bench/fidelity.py``.
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

import pytest

BENCH = Path(__file__).resolve().parent.parent / "bench"


def _load_fidelity() -> ModuleType:
    # bench/ is not a package: load the runner by path rather than editing sys.path for all tests.
    spec = importlib.util.spec_from_file_location("scopeline_bench_fidelity", BENCH / "fidelity.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses resolve annotations through sys.modules
    spec.loader.exec_module(module)
    return module


fidelity = _load_fidelity()


@pytest.mark.parametrize("module", fidelity.SHORT)
def test_stdlib_suite_unchanged_under_line_instrumentation(module: str, tmp_path: Path) -> None:
    result = fidelity.check(module, tmp_path)
    inst = result.instrumented
    assert result.identical, "\n".join(fidelity.details(result))
    assert result.plain["tests_run"] > 0
    assert inst["session_mode"] == "compile_time"
    assert inst["injected_functions"] > 0 and not inst["fallbacks"], inst["fallbacks"]
    assert result.events > 0
    # Read back from the store, every one from the injected code: line events, and each
    # call's entry with its exit or exception (calls are in the default include).
    stored = inst["stored"]
    assert sum(stored.values()) == result.events and stored["line_execution/ast"] > 0
    assert set(stored) <= {"line_execution/ast", "function_entry/ast", "function_exit/ast",
                           "function_exception/ast"}
    assert stored.get("function_entry/ast", 0) == stored.get("function_exit/ast", 0) + \
        stored.get("function_exception/ast", 0)
    assert not inst["skipped_lines"] and inst["sampling_rate"] == 1.0


def test_comparison_flags_a_test_that_changes_outcome() -> None:
    # The check itself must not be blind: a test that fails only when instrumented is reported.
    plain = {"tests_run": 2, "failures": [], "errors": [], "skipped": [["t.b", "why"]],
             "expected_failures": 0, "unexpected_successes": []}
    inst = {**plain, "failures": [["t.a", "Traceback ..."]]}
    result = fidelity.compare("colorsys", plain, inst)
    assert not result.identical
    assert "t.a" in result.differences[0]
