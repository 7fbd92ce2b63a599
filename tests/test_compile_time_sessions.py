"""Compile-time sessions end to end: injected probes, hot swap, fallback, the CLI."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import runtime_sample as rs
import scopeline
from conftest import FIXTURES
from helpers import by_type, marker_line, traceback_of


def test_line_granularity_injects_locals_capture_and_reports_original_lines():
    line = marker_line(rs, "loop-acc")
    original = rs.loop_with_locals.__code__
    with scopeline.trace(rs.loop_with_locals, mode="compile_time", granularity="line",
                         trace_lines=(line,), capture_locals=("acc", "i")) as session:
        assert session.mode == "compile_time"
        assert rs.loop_with_locals.__code__ is not original  # instrumented code is running
        assert rs.loop_with_locals(3) == 3
    assert rs.loop_with_locals.__code__ is original  # identity, not equality
    lines = by_type(list(session.events()), "line_execution")
    assert [e.line for e in lines] == [line] * 3
    assert [e.data["locals"] for e in lines] == [
        {"acc": "0", "i": "0"}, {"acc": "0", "i": "1"}, {"acc": "1", "i": "2"}]
    assert {e.source for e in lines} == {"ast"}
    assert session.compile_time_refs == ["runtime_sample:loop_with_locals"]


def test_function_granularity_entry_exit_and_unchanged_tracebacks():
    plain = traceback_of(rs.fails, 5)
    with scopeline.trace([rs.add, rs.fails], mode="compile_time") as session:
        assert rs.add(1, 2, 3, scale=2) == 12
        traced = traceback_of(rs.fails, 5)
    assert traced == plain
    events = list(session.events())
    (entry,) = by_type(events, "function_entry", "add")
    assert entry.data["arguments"]["a"] == "1" and entry.source == "ast"
    assert by_type(events, "function_exit", "add")[0].data["return_value"] == "12"
    assert by_type(events, "function_exception", "fails")[0].data["exception"].startswith(
        "ValueError")


def test_variable_granularity_records_every_binding():
    with scopeline.trace(rs.loop_with_locals, mode="compile_time", granularity="variable",
                         capture_locals=("acc",)) as session:
        rs.loop_with_locals(3)
    values = [e.data["new_value"] for e in by_type(list(session.events()),
                                                    "variable_assignment")]
    assert values == ["0", "0", "1", "3"]


def test_a_target_without_source_falls_back_to_runtime_and_says_so():
    namespace: dict = {}
    exec("def made_at_runtime(x):\n    return x * 2\n", namespace)
    fn = namespace["made_at_runtime"]
    with scopeline.trace([fn, rs.hot], mode="compile_time") as session:
        assert fn(4) == 8
        rs.hot(1)
    meta = session.to_meta()
    assert [f["target"] for f in meta["fallbacks"]] == [session.runtime_refs[0]]
    assert "falling back to runtime" in " ".join(meta["log"])
    sources = {e.function: e.source for e in by_type(list(session.events()), "function_exit")}
    assert sources == {"made_at_runtime": "runtime", "hot": "ast"}


def test_show_instrumented_prints_the_rewritten_function():
    exe = shutil.which("scopeline", path=str(Path(sys.executable).parent)) or "scopeline"
    proc = subprocess.run([exe, "show", "--instrumented", "runtime_sample:loop_with_locals",
                           "--granularity", "line"], capture_output=True, text=True,
                          env={**os.environ, "PYTHONPATH": str(FIXTURES), "NO_COLOR": "1",
                               "COLUMNS": "200"}, timeout=60)
    assert proc.returncode == 0, proc.stderr
    assert "def loop_with_locals(n):" in proc.stdout
    assert '"@sl:hooks".line(' in proc.stdout
    assert "acc += i" in proc.stdout


def test_run_with_mode_compile_time(tmp_path):
    exe = shutil.which("scopeline", path=str(Path(sys.executable).parent)) or "scopeline"
    prog = FIXTURES / "cli" / "prog.py"
    out = tmp_path / "events.json"
    proc = subprocess.run([exe, "run", "--mode", "compile_time", "--json", str(out), "--",
                           str(prog), "2", "3", "0"], capture_output=True, text=True,
                          env={**os.environ, "NO_COLOR": "1", "COLUMNS": "200"}, timeout=60)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == "total 13\n"
    assert "compile_time mode" in proc.stderr
    import json

    events = json.loads(out.read_text())
    assert {e["source"] for e in events} == {"ast"}
    assert [e["type"] for e in events].count("function_entry") == 3


def test_instrumentation_is_cached_by_source_and_plan(isolated_store):
    from scopeline.engine.compile_time.cache import PlanCache

    for _ in range(2):
        with scopeline.trace(rs.hot, mode="compile_time") as session:
            rs.hot(1)
        assert len(by_type(list(session.events()), "function_exit")) == 1
    assert len(PlanCache(isolated_store / "plans").db.all()) == 1  # the second run hit it
    with scopeline.trace(rs.hot, mode="compile_time", granularity="line"):
        rs.hot(1)
    assert len(PlanCache(isolated_store / "plans").db.all()) == 2  # another plan, another entry


def test_injected_code_adds_no_local_name():
    def own_locals(a, b=1):
        c = a + b
        return sorted(locals())

    plain = own_locals(1)
    with scopeline.trace(own_locals, mode="compile_time"):
        assert own_locals(1) == plain == ["a", "b", "c"]


def test_a_module_not_imported_yet_is_instrumented_when_it_is_imported():
    sys.modules.pop("lazy_mod", None)
    with scopeline.trace("lazy_mod:compute", mode="compile_time") as session:
        assert "lazy_mod" not in sys.modules  # planning read the source, imported nothing
        import lazy_mod

        assert lazy_mod.compute(4) == 6
    exits = by_type(list(session.events()), "function_exit", "compute")
    assert [e.data["return_value"] for e in exits] == ["6"]
    assert exits[0].source == "ast"
    sys.modules.pop("lazy_mod", None)
    import importlib.abc

    assert not any(type(f).__name__ == "ImportHook" and f.planned for f in sys.meta_path
                   if isinstance(f, importlib.abc.MetaPathFinder))


def test_a_loop_already_running_picks_up_instrumentation_at_its_next_call():
    import threading

    original = rs.hot.__code__
    started, stop = threading.Event(), threading.Event()
    results: list[int] = []

    def loop() -> None:
        while not stop.is_set():
            results.append(rs.hot(len(results)))
            started.set()

    worker = threading.Thread(target=loop, name="busy-loop")
    worker.start()
    started.wait()
    try:
        with scopeline.trace(rs.hot, mode="compile_time") as session:
            seen = len(results)
            while len(results) < seen + 50:
                pass
        after = len(results)
    finally:
        stop.set()
        worker.join()
    assert rs.hot.__code__ is original  # identity, not equality
    exits = by_type(list(session.events()), "function_exit", "hot")
    assert exits and {e.thread_name for e in exits} == {"busy-loop"}
    assert all(results[i] == i + 1 for i in range(after))  # behaviour unchanged throughout


def test_cached_instrumentation_is_never_loaded_by_another_python(isolated_store, tmp_path):
    # Regression: a 3.12 process loaded the 3.11 bytecode cached by the same data dir: segfault.
    module = tmp_path / "shared_mod.py"
    module.write_text("def f(n):\n    for i in range(n):\n        x = i * 2\n    return n\n")
    code = (f"import sys, scopeline; sys.path.insert(0, {str(tmp_path)!r}); import shared_mod as m;"
            "s = scopeline.trace(m.f, mode='compile_time', granularity='line'); print(m.f(3));"
            "scopeline.stop_trace(s)")
    env = {**os.environ, "SCOPELINE_DATA_DIR": str(isolated_store)}
    pythons = [sys.executable]
    # the other test venv beside this one (tests/run.sh makes both: .venv-test/py3.1x)
    tags = ("3.12", "312") if sys.version_info < (3, 12) else ("3.11", "311")
    siblings = Path(sys.executable).parent.parent.parent.iterdir()
    pythons += [str(p / "bin" / "python") for p in siblings
                if any(t in p.name for t in tags) and (p / "bin" / "python").exists()][:1]
    for python in pythons + pythons:
        proc = subprocess.run([python, "-c", code], capture_output=True, text=True, env=env,
                              timeout=60)
        assert proc.returncode == 0 and proc.stdout == "3\n", proc.stderr


def test_lines_or_locals_without_a_granularity_mean_line_granularity():
    line = marker_line(rs, "loop-acc")
    with scopeline.trace(rs.loop_with_locals, mode="compile_time", trace_lines=(line,),
                         capture_locals=("acc",)) as session:
        rs.loop_with_locals(2)
    assert session.options.granularity == "line"
    assert [e.data["locals"] for e in by_type(list(session.events()), "line_execution")] == [
        {"acc": "0"}, {"acc": "0"}]


def test_mode_available_knows_a_target_without_source_cannot_be_injected():
    namespace: dict = {}
    exec("def made_at_runtime(x):\n    return x\n", namespace)
    assert scopeline.mode_available(rs.hot, "compile_time")
    assert not scopeline.mode_available(namespace["made_at_runtime"], "compile_time")
    assert scopeline.mode_available(namespace["made_at_runtime"], "runtime")
