"""Issue 3 point 2: the instrumented module behaves exactly like the original, per granularity."""

from __future__ import annotations

from pathlib import Path

import pytest
from scopeline.engine.instrument import InjectionPlan, instrument_source
from test_instrument_support import FIXTURES, run_both

SAMPLES = sorted(FIXTURES.glob("sample_*.py"))
GRANULARITIES = ["function", "line", "variable", "expression"]


@pytest.mark.parametrize("granularity", GRANULARITIES)
@pytest.mark.parametrize("sample", SAMPLES, ids=lambda p: p.stem)
def test_same_outcomes(sample: Path, granularity: str) -> None:
    original, instrumented, hooks = run_both(sample, InjectionPlan(granularity=granularity))
    assert set(original) == set(instrumented)
    for name in original:
        assert instrumented[name] == original[name], name
    assert hooks.events, "instrumentation recorded nothing"


@pytest.mark.parametrize("granularity", ["line", "variable", "expression"])
@pytest.mark.parametrize("sample", SAMPLES, ids=lambda p: p.stem)
def test_same_outcomes_with_calls_too(sample: Path, granularity: str) -> None:
    """Hybrid sessions add entry/exit probes to a finer granularity: still exact."""
    plan = InjectionPlan(granularity=granularity, with_calls=True)
    original, instrumented, hooks = run_both(sample, plan)
    assert instrumented == original
    kinds = {event[0] for event in hooks.events}
    assert "enter" in kinds and kinds - {"enter", "exit", "exception"}, kinds


def test_tracebacks_are_compared() -> None:
    original, _, _ = run_both(FIXTURES / "sample_basic.py", InjectionPlan())
    kind, text = original["scenario_attribute_error"]
    assert kind == "raised" and "sample_basic.py" in text
    assert "^^^^" in text  # carets are part of what must match


@pytest.mark.parametrize("granularity", ["line", "expression", "variable"])
def test_events_report_original_lines(granularity: str) -> None:
    path = FIXTURES / "sample_basic.py"
    lines = path.read_text().splitlines()
    _, _, hooks = run_both(path, InjectionPlan(granularity=granularity))
    result = instrument_source(path.read_text(), InjectionPlan(granularity=granularity))
    for event in hooks.events:
        site = result.site(event[1])
        text = lines[site.line - 1]
        if granularity == "expression" and "\n" not in site.detail:
            assert site.detail in text, (site, text)
        elif granularity == "variable" and site.detail != ":=":
            assert any(name in text for name in site.names), (site, text)
        else:
            assert text.strip() and not text.strip().startswith("#"), (site, text)
