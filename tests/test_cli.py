"""The command line, run as a user runs it: the installed ``scopeline`` script."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import FIXTURES

SCOPELINE = shutil.which("scopeline", path=str(Path(sys.executable).parent)) or "scopeline"
PROG = FIXTURES / "cli" / "prog.py"


def scopeline(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([SCOPELINE, *args], capture_output=True, text=True, timeout=120,
                          cwd=cwd, env={**os.environ, "COLUMNS": "200", "NO_COLOR": "1"})


def test_run_passes_arguments_and_exit_code_through_and_prints_the_tree(tmp_path):
    out = tmp_path / "events.json"
    proc = scopeline("run", "--json", str(out), "--", str(PROG), "2", "3", "7")
    assert proc.returncode == 7
    assert proc.stdout == "total 13\n"  # the program's own output, untouched
    assert "total(values=[2, 3]) → 13" in proc.stderr
    assert "square(n=2) → 4  ×2" in proc.stderr  # repeated calls folded...
    assert "last: square(n=3) → 9" in proc.stderr  # ...showing how the last one differed
    events = json.loads(out.read_text())
    assert [e["type"] for e in events].count("function_entry") == 3
    assert {e["function"] for e in events} == {"total", "square"}
    assert all(e["module"] == "__main__" for e in events)


def test_run_a_module_with_dash_m(tmp_path):
    proc = scopeline("run", "--trace", "scopeline.engine.demo.example.pricing",
                     "-m", "scopeline.engine.demo.example.app")
    assert proc.returncode == 0
    assert "16 x pear = 62" in proc.stdout
    assert "bulk_discount(quantity=16) → 4" in proc.stderr


def test_a_crashing_program_gets_pythons_own_traceback_and_exit_code(tmp_path):
    crash = FIXTURES / "cli" / "crash.py"
    plain = subprocess.run([sys.executable, str(crash)], capture_output=True, text=True)
    traced = scopeline("run", "--no-tree", "--", str(crash))
    assert traced.returncode == plain.returncode == 1
    assert traced.stderr.strip() == plain.stderr.strip()


def test_sessions_and_show_read_the_store_back():
    run = scopeline("run", "--", str(PROG), "4", "0")
    assert run.returncode == 0
    listing = scopeline("sessions")
    assert listing.returncode == 0 and "stopped" in listing.stdout
    shown = scopeline("show", "latest")
    assert shown.returncode == 0 and "square(n=4) → 16" in shown.stdout
    as_json = json.loads(scopeline("show", "latest", "--json").stdout)
    assert [e["data"].get("return_value") for e in as_json if e["type"] == "function_exit"] \
        == ["16", "16"]


def test_demo_runs_with_nothing_but_the_install():
    proc = scopeline("demo")
    assert proc.returncode == 0, proc.stderr
    assert "runtime" in proc.stderr and "bulk_discount" in proc.stderr
    assert "order-worker" in proc.stderr  # the worker thread's calls
    assert "OutOfStock" in proc.stderr  # the caught exception
    # auto mode chose each of the three modes once, each with its reason and its session
    for shown in ("⚡ runtime (confidence", "🔬 compile_time (confidence",
                  "🔀 hybrid (confidence"):
        assert proc.stderr.count(shown) == 1, shown
    for mode in ("runtime", "compile_time", "hybrid"):
        assert f"· {mode} mode via" in proc.stderr
    assert "rule complex_algorithm" in proc.stderr and "rule granular_debugging" in proc.stderr
    assert "exact_keys 1.00" in proc.stderr  # hybrid: one node per call, joined exactly
    assert "send→receive pairs joined by message id" in proc.stderr


@pytest.mark.parametrize(("args", "code"), [
    (("run", "--trace", "prog.py:squre", "--", "prog.py", "1", "0"), "target_invalid"),
    (("run", "--", "missing.py"), "script_not_found"),
    (("show", "no-such-session"), "session_not_found"),
])
def test_bad_input_is_one_clear_line_and_a_non_zero_exit(args, code, tmp_path):
    shutil.copy(PROG, tmp_path / "prog.py")
    proc = scopeline(*args, cwd=tmp_path)
    assert proc.returncode == 2
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(f"error[{code}]:")
    assert "Traceback" not in proc.stderr
    if code == "target_invalid":
        assert "square" in lines[0]


def test_bad_config_value_is_one_clear_line(tmp_path):
    (tmp_path / "pyproject.toml").write_text(
        "[tool.scopeline.runtime.tracing]\nsampling_rate = 5\n")
    shutil.copy(PROG, tmp_path / "prog.py")
    proc = scopeline("run", "--", "prog.py", "1", "0", cwd=tmp_path)
    assert proc.returncode == 2
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error[config_validation_failed]:")
    assert "sampling_rate" in lines[0]


def test_debug_flag_shows_the_traceback(tmp_path):
    proc = scopeline("--debug", "run", "--", str(tmp_path / "missing.py"))
    assert proc.returncode != 0 and "Traceback" in proc.stderr


@pytest.mark.parametrize("target", ["shop.pricing", "shop/pricing.py"])
def test_run_traces_a_package_module_of_the_script_by_name_or_path(target, tmp_path):
    """Targets resolve from the script's folder, as the program imports them: not another
    copy of the module (no PYTHONPATH needed)."""
    shutil.copytree(Path(__file__).parent / "lsp_workspace", tmp_path / "ws")
    proc = scopeline("run", "--trace", target, "--", "app.py", cwd=tmp_path / "ws")
    assert proc.returncode == 0, proc.stderr
    assert "order_total(items=" in proc.stderr and "discount(code=" in proc.stderr
