"""Shared by the instrument tests: run fixtures both ways; before/after in the LibCST style."""

from __future__ import annotations

import traceback
from pathlib import Path
from textwrap import dedent
from typing import Any

from scopeline.engine.instrument import (
    InjectionPlan,
    Instrumented,
    RecordingHooks,
    instrument_source,
)

FIXTURES = Path(__file__).parent / "fixtures" / "instrument"


def load(path: Path, plan: InjectionPlan | None, hooks: object | None = None) -> dict[str, Any]:
    source = path.read_text()
    if plan is None:
        code = compile(source, str(path), "exec", dont_inherit=True)
    else:
        code = instrument_source(source, plan, filename=str(path)).compile(str(path), hooks)
    namespace: dict[str, Any] = {"__name__": f"sl_fixture.{path.stem}", "__file__": str(path)}
    exec(code, namespace)
    return namespace


def outcomes(namespace: dict[str, Any]) -> dict[str, tuple[str, str]]:
    """Each scenario's repr'd result, or its formatted traceback (file names and carets)."""
    results: dict[str, tuple[str, str]] = {}
    for name, func in namespace.items():
        if name.startswith("scenario_"):
            results[name] = run_one(func)
    return results


def run_one(func: Any) -> tuple[str, str]:
    try:
        return "ok", repr(func())
    except Exception as exc:  # the formatted text must be the same, frame for frame
        return "raised", "".join(traceback.format_exception(exc))


def run_both(path: Path, plan: InjectionPlan) -> tuple[dict, dict, RecordingHooks]:
    hooks = RecordingHooks()
    return outcomes(load(path, None)), outcomes(load(path, plan, hooks)), hooks



def assert_transform(before: str, after: str, plan: InjectionPlan) -> Instrumented:
    result = instrument_source(dedent(before), plan)
    assert result.source == dedent(after), "\n" + result.source
    return result
