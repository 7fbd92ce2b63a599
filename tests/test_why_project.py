"""``scopeline why PATH_OR_PACKAGE``: every function of a project with its recommended mode,
cached by file hash."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import scopeline
from conftest import FIXTURES
from scopeline.engine.cli.main import main
from scopeline.engine.cli.why_project import is_project_target
from scopeline.engine.errors import ScopelineError
from scopeline.engine.modes import ModeDecision
from scopeline.engine.selection.filecache import clear_memory
from scopeline.engine.selection.project import analyze_project, placeholder_decision
from scopeline.engine.store import Store

SCOPELINE = shutil.which("scopeline", path=str(Path(sys.executable).parent)) or "scopeline"
PROJECT = FIXTURES / "sample_project"
FUNCTIONS = {"process", "summary", "Report.__init__", "Report.render", "clamp", "describe",
             "describe.<locals>.plural"}


def cli(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([SCOPELINE, *args], capture_output=True, text=True, timeout=300,
                          cwd=cwd, env={**os.environ, "COLUMNS": "200", "NO_COLOR": "1"})


@pytest.fixture
def project(tmp_path: Path) -> Path:
    """A copy of the sample package, free to edit."""
    copy = tmp_path / "work" / "sample_project"
    shutil.copytree(PROJECT, copy, ignore=shutil.ignore_patterns("__pycache__"))
    clear_memory()  # each test starts from what is on disk
    return copy


def always_runtime(profile):
    return ModeDecision("runtime", 1.0, f"test decision for {profile.qualname}")


def test_every_function_of_a_package_directory_is_listed_with_its_mode(project):
    result = analyze_project(str(project), decide=always_runtime)
    assert {e.profile.qualname for e in result.functions} == FUNCTIONS
    modules = {e.profile.qualname: e.profile.module for e in result.functions}
    assert modules["clamp"] == "sample_project.util"
    assert modules["Report.render"] == "sample_project.core"
    assert result.files == 3 and result.errors == []
    assert result.decided_by == "always_runtime"
    assert all(e.decision.reason == f"test decision for {e.profile.qualname}"
               for e in result.functions)
    # call frequency is estimated over the whole project: clamp is called in core's loop
    clamp = next(e.profile for e in result.functions if e.profile.qualname == "clamp")
    assert clamp.frequency_source == "static: called inside a loop in 1 place in the project"
    render = next(e.profile for e in result.functions if e.profile.qualname == "Report.render")
    assert render.cyclomatic == 7  # for, for, if, `or`, elif, `and`: 1 + 6


def test_a_second_run_over_unchanged_files_parses_nothing_and_a_changed_file_is_reparsed(
        project):
    first = analyze_project(str(project), decide=always_runtime)
    assert (first.parsed_files, first.cached_files) == (3, 0)
    clear_memory()  # the cache on disk, not this process's memory, must answer
    second = analyze_project(str(project), decide=always_runtime)
    assert (second.parsed_files, second.cached_files) == (0, 3)
    util = project / "util.py"
    util.write_text(util.read_text() + "\n\ndef added(x):\n    return x\n")
    third = analyze_project(str(project), decide=always_runtime)
    assert (third.parsed_files, third.cached_files) == (1, 2)
    assert "added" in {e.profile.qualname for e in third.functions}


def test_a_file_that_does_not_parse_is_one_entry_and_the_rest_are_listed(project):
    (project / "broken.py").write_text("def oops(:\n    pass\n")
    result = analyze_project(str(project), decide=always_runtime)
    (bad,) = result.errors
    assert bad.relpath == "broken.py" and bad.profile is None
    assert bad.error["code"] == "compilation_failed" and "does not parse" in bad.error["message"]
    assert {e.profile.qualname for e in result.functions} == FUNCTIONS
    clear_memory()
    again = analyze_project(str(project), decide=always_runtime)  # the failure is cached too
    assert again.parsed_files == 0 and len(again.errors) == 1


def test_a_package_name_is_found_without_importing_it(project, monkeypatch):
    monkeypatch.syspath_prepend(str(project.parent))
    for name in [n for n in sys.modules if n.split(".")[0] == "sample_project"]:
        monkeypatch.delitem(sys.modules, name)  # another test may have imported the fixture
    result = analyze_project("sample_project", decide=always_runtime)
    assert {e.profile.qualname for e in result.functions} == FUNCTIONS
    assert Path(result.root) == project
    assert "sample_project" not in sys.modules
    single = analyze_project("sample_project.util", decide=always_runtime)
    assert {e.profile.module for e in single.functions} == {"sample_project.util"}


def test_a_single_file_is_a_project_of_one(project):
    result = analyze_project(str(project / "util.py"), decide=always_runtime)
    assert {e.profile.qualname for e in result.functions} == {
        "clamp", "describe", "describe.<locals>.plural"}


def test_measured_counters_show_in_the_listing(monkeypatch):
    monkeypatch.syspath_prepend(str(FIXTURES))
    from sample_project import core

    with scopeline.trace("sample_project.util:clamp", mode="runtime") as session:
        core.process(list(range(30)), 10)
    result = analyze_project(str(PROJECT), decide=always_runtime)
    clamp = next(e.profile for e in result.functions if e.profile.qualname == "clamp")
    assert clamp.frequency_source.startswith("runtime counters: 30 calls in ")
    assert clamp.frequency_source.endswith(session.session_id[:8])
    meta = Store().find(session.session_id)
    assert clamp.calls_per_second == pytest.approx(
        30 / (meta["stopped_at"] - meta["started_at"]))


def test_the_default_decision_comes_from_the_selection_engine_or_says_it_is_a_placeholder(
        project):
    result = analyze_project(str(project))
    assert all(e.decision.mode in ("runtime", "compile_time", "hybrid")
               for e in result.functions)
    profile = result.functions[0].profile
    if result.decided_by.startswith("placeholder"):
        assert result.functions[0].decision.reason.startswith("placeholder decision")
    hot = placeholder_decision(profile.__class__(**{**profile.to_dict(), "frequency": "high"}))
    assert hot.mode == "runtime" and hot.reason.startswith("placeholder decision: it runs often")


def test_bad_paths_and_packages_are_one_clear_error(tmp_path):
    with pytest.raises(ScopelineError) as err:
        analyze_project(str(tmp_path / "nowhere"))
    assert err.value.code == "target_invalid"
    with pytest.raises(ScopelineError) as err:
        analyze_project("no_such_package_here")
    assert err.value.code == "target_invalid" and "no module named" in err.value.message
    (tmp_path / "empty").mkdir()
    with pytest.raises(ScopelineError) as err:
        analyze_project(str(tmp_path / "empty"))
    assert "holds no Python files" in err.value.message


@pytest.mark.parametrize(("text", "listing"), [
    ("some/dir", True), ("pkg/mod.py", True), ("pkg", True), ("pkg.sub", True),
    ("pkg/mod.py:42", False), ("pkg/mod.py:func", False), ("pkg.mod:func", False),
    ("thread:worker", False),
])
def test_which_why_arguments_mean_a_project_listing(text, listing):
    assert is_project_target(text) is listing


def test_the_cli_prints_the_listing_and_reuses_the_cache_across_runs(project):
    shown = cli("why", str(project))
    assert shown.returncode == 0, shown.stderr
    for name in ("Report.render", "describe.<locals>.plural", "core.py", "util.py"):
        assert name in shown.stdout
    assert any(icon in shown.stdout for icon in ("⚡ runtime", "🔬 compile-time", "🔀 hybrid"))
    assert "3 files parsed, 0 from the cache" in shown.stdout
    again = cli("why", "--json", str(project))
    assert again.returncode == 0, again.stderr
    data = json.loads(again.stdout)
    assert (data["parsed_files"], data["cached_files"]) == (0, 3)
    listed = {e["function"]["qualname"] for e in data["entries"] if e["function"]}
    assert listed == FUNCTIONS
    assert all(e["decision"]["mode"] in ("runtime", "compile_time", "hybrid")
               for e in data["entries"])


def test_the_cli_shows_a_broken_file_and_exits_2_on_a_bad_target(project, tmp_path, capsys,
                                                                  monkeypatch):
    (project / "broken.py").write_text("def oops(:\n    pass\n")
    assert main(["why", "--json", str(project)]) == 0
    data = json.loads(capsys.readouterr().out)
    errors = [e for e in data["entries"] if e["error"]]
    assert [e["error"]["code"] for e in errors] == ["compilation_failed"]
    monkeypatch.setenv("COLUMNS", "200")
    assert main(["why", str(project)]) == 0
    table = capsys.readouterr().out
    broken_row = next(line for line in table.splitlines() if "broken.py" in line)
    assert "✖ error" in broken_row and "compilation_failed: " in broken_row
    assert "clamp" in table  # the other files are listed as usual
    missing = cli("why", str(tmp_path / "nowhere"))
    assert missing.returncode == 2
    assert missing.stderr.count("\n") == 1 and "target_invalid" in missing.stderr
    assert "Traceback" not in missing.stderr
    package = cli("why", "no_such_package_here")
    assert package.returncode == 2 and "no module named" in package.stderr


def test_a_function_target_keeps_the_single_decision(project):
    shown = cli("why", "--json", f"{project / 'util.py'}:clamp")
    assert shown.returncode == 0, shown.stderr
    assert json.loads(shown.stdout)["mode"] in ("runtime", "compile_time", "hybrid")


def test_the_listing_decides_with_the_project_wide_frequency_it_shows(project):
    from scopeline.engine.selection.engine import determine_mode

    result = analyze_project(str(project))
    entry = next(e for e in result.functions if e.profile.qualname == "clamp")
    shown = entry.profile.frequency_source
    assert shown == "static: called inside a loop in 1 place in the project"
    rule = next(r for r in entry.decision.rules if r["rule"] == "high_frequency")
    assert f"{entry.profile.frequency} frequency ({shown})" in rule["reasoning"]
    assert entry.decision.evidence["features"]["frequency"] == "medium"
    # decided alone, the function is seen from its own module: no call site there
    alone = determine_mode(f"{entry.file}:clamp")
    alone_rule = next(r for r in alone.rules if r["rule"] == "high_frequency")
    assert "no call site in its module" in alone_rule["reasoning"]
    assert alone.evidence["features"]["frequency"] == "low"
