"""Shared fixtures: every test gets its own data dir, and leaves no tracer behind."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

FIXTURES = Path(__file__).parent / "fixtures"
for folder in (FIXTURES, Path(__file__).parent):  # sample code, and tests/helpers.py
    if str(folder) not in sys.path:
        sys.path.insert(0, str(folder))


def our_tool_ids() -> list[int]:
    if not hasattr(sys, "monitoring"):
        return []
    return [i for i in range(6) if sys.monitoring.get_tool(i) == "scopeline"]


@pytest.fixture(autouse=True)
def isolated_store(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    data = tmp_path / "scopeline-data"
    monkeypatch.setenv("SCOPELINE_DATA_DIR", str(data))
    monkeypatch.delenv("SCOPELINE_ENV", raising=False)
    return data


@pytest.fixture(autouse=True)
def no_tracer_left_behind():
    before = sys.gettrace()
    yield
    from scopeline.engine import api

    leftover = api.list_traces()
    for session in leftover:
        api.stop_trace(session)
    api.set_tracing_enabled(True)
    assert not leftover, f"test left live sessions: {leftover}"
    assert sys.gettrace() is before, "a trace function was left installed"
    assert our_tool_ids() == [], "the sys.monitoring tool id was not freed"


@pytest.fixture
def backend_name() -> str:
    return "sys.monitoring" if sys.version_info >= (3, 12) else "sys.settrace"


def pytest_report_header(config: pytest.Config) -> str:
    from scopeline.engine.runtime.select import choose_backend_name

    name = choose_backend_name()[0]
    return f"scopeline runtime backend: {name} ({os.path.basename(sys.executable)})"


@pytest.fixture
def fresh_config_and_rules():
    """Config and the rule set as shipped, before and after (mode-selection tests)."""
    from scopeline.engine import config
    from scopeline.engine.selection import rules

    config.unload_config()
    rules.reset_rules()
    yield
    rules.reset_rules()
    config.unload_config()


@pytest.fixture
def no_governor():
    """For tests of how a hybrid call's halves join: the governor (auto_escalate) would step a
    slow-running session down to runtime under load (tests/test_auto_escalate.py covers it)."""
    from scopeline.engine import config

    config.update_config("hybrid.mode_switching.enable_auto_escalation", False)
    yield
    config.reset_to_defaults()


@pytest.fixture
def workspace(tmp_path: Path) -> Path:
    """A fresh copy of tests/lsp_workspace per test: edits, saved files and bytecode never
    touch the repo (the editor tests' workspace)."""
    import shutil

    root = tmp_path / "workspace"
    shutil.copytree(Path(__file__).parent / "lsp_workspace", root,
                    ignore=shutil.ignore_patterns("__pycache__"))
    return root
