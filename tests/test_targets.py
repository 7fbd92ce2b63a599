"""Targets (INTERFACES §1): every text and object form, resolved against fixtures/targets_pkg."""

from __future__ import annotations

import functools
import importlib
import inspect
import os
import sys
import threading
import types
from pathlib import Path

import pytest
from scopeline.engine.errors import ScopelineError
from scopeline.engine.targets import ACCEPTED_FORMS, TargetSpec, parse_target, resolve

FIXTURES = Path(__file__).parent / "fixtures"
PKG = FIXTURES / "targets_pkg"


@pytest.fixture(autouse=True)
def fixture_pkg(monkeypatch: pytest.MonkeyPatch):
    monkeypatch.syspath_prepend(str(FIXTURES))
    before = set(sys.modules)
    yield
    for name in set(sys.modules) - before:
        if name.startswith(("targets_pkg", "_scopeline_file_", "tmp_")):
            del sys.modules[name]


def mod(name: str) -> types.ModuleType:
    return importlib.import_module(f"targets_pkg.{name}")


def marker(name: str) -> int:
    """Line of `# @name` in lines.py (debugpy-style markers keep tests independent of layout)."""
    for no, text in enumerate((PKG / "lines.py").read_text().splitlines(), 1):
        if text.rstrip().endswith(f"# @{name}"):
            return no
    raise LookupError(name)


def invalid(target, code: str = "target_invalid", **kw) -> ScopelineError:
    with pytest.raises(ScopelineError) as info:
        resolve(target, **kw)
    assert info.value.code == code, info.value.message
    return info.value


def quals(targets: list) -> list[str]:
    return [t.code.co_qualname for t in targets]


# --- parsing

@pytest.mark.parametrize("text, spec", [
    ("pkg.mod", TargetSpec("module", module="pkg.mod")),
    ("pkg.mod:func", TargetSpec("function", module="pkg.mod", qualname="func")),
    ("pkg.mod:Class.method", TargetSpec("function", module="pkg.mod", qualname="Class.method")),
    ("pkg.mod:outer.<locals>.inner",
     TargetSpec("function", module="pkg.mod", qualname="outer.<locals>.inner")),
    ("pkg.mod:func/2", TargetSpec("function", module="pkg.mod", qualname="func", arity=2)),
    ("path/to/file.py:42", TargetSpec("line", path="path/to/file.py", line=42)),
    ("path/to/file.py", TargetSpec("file", path="path/to/file.py")),
    ("file.py", TargetSpec("file", path="file.py")),
    ("path/to/file.py:Class.method/1",
     TargetSpec("function", path="path/to/file.py", qualname="Class.method", arity=1)),
    ("thread:worker-1", TargetSpec("thread", thread_name="worker-1")),
    ("thread:12345", TargetSpec("thread", thread_id=12345)),
])
def test_parse_every_form_and_print_it_back(text, spec):
    assert parse_target(text) == spec
    assert parse_target(f"  {text} ") == spec
    assert str(spec) == text


@pytest.mark.parametrize("text", [
    "", "   ", "pkg..mod", "pkg.mod:", "pkg.mod:func/x", "pkg.mod:<locals>.f",
    "pkg.mod:f.<locals>", "thread:", "a/b.py:0", "a/b.py:not a name", "9lives", "pkg.mod:a-b",
])
def test_malformed_text_lists_the_accepted_forms(text):
    with pytest.raises(ScopelineError) as info:
        parse_target(text)
    err = info.value
    assert err.code == "target_invalid"
    assert repr(text) in err.message
    assert err.details["accepted_forms"] == list(ACCEPTED_FORMS)
    assert "pkg.mod:Class.method" in err.recovery_suggestions[0]
    assert "thread:NAME" in err.recovery_suggestions[0]


# --- modules

def test_module_target_is_every_function_defined_there():
    got = resolve("targets_pkg.funcs")
    assert quals(got) == ["add", "greet", "outer", "outer.<locals>.inner",
                          "outer.<locals>.inner.<locals>.innermost", "<lambda>", "fetch",
                          "countdown"]  # imported sqrt (C) and os.path.join (Python) left out
    funcs = mod("funcs")
    assert got[0].code is funcs.add.__code__ and got[0].function is funcs.add
    assert got[5].function is funcs.square and got[3].function is None
    assert all(t.kind == "function" and t.spec == TargetSpec("module", module="targets_pkg.funcs")
               for t in got)


def test_module_target_covers_methods_static_class_property_and_nested_classes():
    got = resolve("targets_pkg.shapes")
    assert quals(got) == ["Shape.describe", "Circle.__init__", "Circle.area", "Circle.unit",
                          "Circle.from_diameter", "Circle.radius", "Circle.radius",
                          "Circle.Meta.label", "Square.__init__", "Square.area"]
    circle = mod("shapes").Circle
    radius = [t.code for t in got if t.qualname == "Circle.radius"]
    assert radius == [circle.radius.fget.__code__, circle.radius.fset.__code__]
    assert [t.display for t in got][:3] == [
        "targets_pkg.shapes:Shape.describe", "targets_pkg.shapes:Circle.__init__",
        "targets_pkg.shapes:Circle.area"]


def test_module_object_and_path_give_the_same_units_as_the_name():
    by_name = resolve("targets_pkg.shapes")
    assert [t.code for t in resolve(mod("shapes"))] == [t.code for t in by_name]
    by_path = resolve(str(PKG / "shapes.py"))
    assert [t.code for t in by_path] == [t.code for t in by_name]
    assert by_path[0].spec.kind == "file"
    assert not [k for k in sys.modules if k.startswith("_scopeline_file_")]  # no second copy


def test_decorated_functions_in_a_module_target_are_the_defs_not_the_wrapper():
    got = resolve("targets_pkg.decorated")
    assert quals(got) == ["compute", "twice", "Service.handle", "Service.handle.<locals>.check"]
    assert {Path(t.file).name for t in got} == {"decorated.py"}
    assert got[0].function is mod("decorated").compute.__wrapped__


def test_package_without_functions_points_at_its_submodules():
    err = invalid("targets_pkg")
    assert "defines no functions" in err.message
    assert "targets_pkg.shapes" in err.details["nearest"] and "targets_pkg.shapes" in \
        err.recovery_suggestions


@pytest.mark.parametrize("text, suggestion", [
    ("targets_pkg.shapez", "targets_pkg.shapes"),
    ("targets_pkg.shapez:Circle.area", "targets_pkg.shapes:Circle.area"),
    ("targts_pkg.shapes", "targets_pkg.shapes"),
    ("targets_pkg.shapes.Circle", "targets_pkg.shapes:Circle"),  # dot written for the colon
])
def test_unknown_module_suggests_the_nearest_names(text, suggestion):
    err = invalid(text)
    assert "no module named" in err.message
    assert suggestion in err.details["nearest"]
    assert suggestion in err.recovery_suggestions


def test_import_errors_of_the_users_module_are_named(tmp_path, monkeypatch):
    err = invalid("targets_pkg.explodes")
    assert "RuntimeError" in err.message and "boom while importing" in err.message
    assert err.details["exception"] == "RuntimeError"
    (tmp_path / "tmp_needs_dep.py").write_text("import not_installed_anywhere\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    err = invalid("tmp_needs_dep:f")  # its *dependency* is missing, not the module itself
    assert err.details["exception"] == "ModuleNotFoundError"
    assert "not_installed_anywhere" in err.message


# --- functions

def test_method_target_carries_code_location_and_display():
    (t,) = resolve("targets_pkg.shapes:Circle.area")
    circle = mod("shapes").Circle
    lines, start = inspect.getsourcelines(circle.area)
    assert t.code is circle.area.__code__ and t.function is circle.area
    assert (t.kind, t.module, t.qualname) == ("function", "targets_pkg.shapes", "Circle.area")
    assert t.file == str(PKG / "shapes.py") and os.path.isabs(t.file)
    assert (t.first_line, t.last_line) == (start, start + len(lines) - 1)
    assert t.display == str(t) == "targets_pkg.shapes:Circle.area"
    assert t.thread is None and t.alive is None and t.line is None


def test_static_class_methods_and_property_accessors():
    circle = mod("shapes").Circle
    assert resolve("targets_pkg.shapes:Circle.unit")[0].function is circle.unit
    assert resolve("targets_pkg.shapes:Circle.from_diameter")[0].code is \
        circle.from_diameter.__func__.__code__
    accessors = resolve("targets_pkg.shapes:Circle.radius")
    assert [t.function for t in accessors] == [circle.radius.fget, circle.radius.fset]
    assert quals(resolve("targets_pkg.shapes:Circle.Meta.label")) == ["Circle.Meta.label"]
    assert len(resolve("targets_pkg.shapes:Circle")) == 7  # a class means its methods


def test_nested_function_resolves_to_the_live_code_object():
    (t,) = resolve("targets_pkg.funcs:outer.<locals>.inner")
    made = mod("funcs").outer(1)
    assert t.code is made.__code__ and t.function is None
    assert t.display == "targets_pkg.funcs:outer.<locals>.inner"
    deep = resolve("targets_pkg.funcs:outer.<locals>.inner.<locals>.innermost")
    assert deep[0].code.co_qualname == "outer.<locals>.inner.<locals>.innermost"
    (check,) = resolve("targets_pkg.decorated:Service.handle.<locals>.check")  # through wraps
    assert check.code.co_filename == str(PKG / "decorated.py")


@pytest.mark.parametrize("text, suggestion", [
    ("targets_pkg.shapes:Circel.area", "targets_pkg.shapes:Circle.area"),
    ("targets_pkg.shapes:Circle.aera", "targets_pkg.shapes:Circle.area"),
    ("targets_pkg.funcs:ad", "targets_pkg.funcs:add"),
    ("targets_pkg.funcs:outer.inner", "targets_pkg.funcs:outer.<locals>.inner"),
    ("targets_pkg.funcs:outer.<locals>.iner", "targets_pkg.funcs:outer.<locals>.inner"),
    ("targets_pkg/shapes.py:Circel", "targets_pkg/shapes.py:Circle"),
])
def test_unknown_name_suggests_nearest_names_in_that_namespace(text, suggestion):
    err = invalid(text, cwd=str(FIXTURES))
    assert suggestion in err.details["nearest"]
    assert suggestion in err.recovery_suggestions
    assert err.one_line().endswith(err.recovery_suggestions[0])


def test_arity_is_co_argcount():
    assert quals(resolve("targets_pkg.funcs:add/2")) == ["add"]
    assert quals(resolve("targets_pkg.funcs:greet/2")) == ["greet"]  # *rest, loud= not counted
    assert quals(resolve("targets_pkg.shapes:Circle.area/1")) == ["Circle.area"]  # self counts
    err = invalid("targets_pkg.funcs:add/3")
    assert "takes 2 positional" in err.message
    assert err.details["actual_arity"] == 2
    assert err.details["nearest"] == ["targets_pkg.funcs:add/2"]
    # a wraps() wrapper takes *args; the arity of the function it wraps is what users see
    assert resolve("targets_pkg.decorated:compute/2")[0].arity == 0
    assert invalid("targets_pkg.decorated:compute/1").details["actual_arity"] == 2


def test_names_that_are_not_python_code():
    assert invalid("targets_pkg.funcs:sqrt", code="mode_unavailable").details["type"] == \
        "builtin_function_or_method"
    assert "no Python code" in invalid("builtins:len", code="mode_unavailable").message
    assert "extension" in invalid("math", code="mode_unavailable").message
    assert "is not a function" in invalid(object()).message
    assert "int" in invalid("targets_pkg.funcs:LIMIT").message
    assert "no methods" in invalid("targets_pkg.shapes:Empty").message


# --- objects

def test_method_and_descriptor_objects():
    shapes = mod("shapes")
    area = shapes.Circle.area.__code__
    assert resolve(shapes.Circle(2).area)[0].code is area  # bound method
    assert resolve(shapes.Circle.__dict__["unit"])[0].code is shapes.Circle.unit.__code__
    cm = shapes.Circle.__dict__["from_diameter"]
    assert resolve(cm)[0].code is resolve(shapes.Circle.from_diameter)[0].code
    assert len(resolve(shapes.Circle.__dict__["radius"])) == 2  # property: getter and setter
    assert resolve(functools.partial(shapes.Circle.area))[0].code is area
    assert resolve(area)[0].code is area and resolve(area)[0].module == "targets_pkg.shapes"
    assert resolve(shapes.Circle.area)[0].spec == TargetSpec(
        "function", module="targets_pkg.shapes", qualname="Circle.area")


def test_wrapped_function_object_is_traced_as_given_with_its_chain_recorded():
    dec = mod("decorated")
    (t,) = resolve(dec.compute)
    assert t.function is dec.compute and t.code is dec.compute.__code__
    assert Path(t.file).name == "decorators.py"  # the wrapper's own code
    assert t.wrapped == (dec.compute.__wrapped__,)
    assert t.display == "targets_pkg.decorated:compute"
    assert "wrapper" in t.warnings[0] and "every function" in t.warnings[0]
    (twice,) = resolve(dec.twice)
    assert twice.wrapped == (dec.twice.__wrapped__, dec.twice.__wrapped__.__wrapped__)
    assert resolve("targets_pkg.decorated:compute")[0].code is t.code  # text names the same


@pytest.mark.parametrize("obj", [len, str.join, "".join, int.__add__, dict.fromkeys])
def test_builtin_objects_have_no_python_code(obj):
    assert "no Python code to hook" in invalid(obj, code="mode_unavailable").message


def test_list_is_flattened_and_deduplicated_by_code_object():
    shapes = mod("shapes")
    got = resolve(["targets_pkg.shapes:Circle.area", [shapes.Circle.area, shapes.Circle(1).area],
                   TargetSpec("function", module="targets_pkg.funcs", qualname="add"),
                   ("targets_pkg.shapes:Circle",)])
    assert quals(got) == ["Circle.area", "add", "Circle.__init__", "Circle.unit",
                          "Circle.from_diameter", "Circle.radius", "Circle.radius",
                          "Circle.Meta.label"]
    assert resolve(got) == got  # resolved targets pass through unchanged


# --- lines

@pytest.mark.parametrize("name, qualname", [
    ("compute_def", "compute"), ("compute_body", "compute"), ("compute_last", "compute"),
    ("compute_lambda", "compute"),  # a lambda's line belongs to its def
    ("helper_def", "compute.<locals>.helper"), ("helper_body", "compute.<locals>.helper"),
    ("render_body", "Report.render"),
])
def test_line_target_is_the_innermost_def_containing_it(name, qualname):
    line = marker(name)
    (t,) = resolve(f"targets_pkg/lines.py:{line}", cwd=str(FIXTURES))
    assert (t.kind, t.line, t.code.co_qualname) == ("line", line, qualname)
    assert t.file == str(PKG / "lines.py") and t.first_line <= line <= t.last_line
    assert t.spec == TargetSpec("line", path="targets_pkg/lines.py", line=line)
    assert t.warnings == ()


def test_line_target_uses_the_live_code_objects():
    lines = mod("lines")
    (t,) = resolve(f"{PKG / 'lines.py'}:{marker('compute_body')}")
    assert t.code is lines.compute.__code__ and t.function is lines.compute
    (h,) = resolve(f"{PKG / 'lines.py'}:{marker('helper_body')}")
    assert h.code in lines.compute.__code__.co_consts and h.function is None


def test_comment_line_inside_a_function_moves_to_the_next_line_with_code():
    (t,) = resolve(f"{PKG / 'lines.py'}:{marker('compute_comment')}")
    assert t.line == marker("compute_comment") + 1
    assert "has no code" in t.warnings[0]


@pytest.mark.parametrize("name", ["module_level", "class_line", "class_body", "after_all", ""])
def test_line_outside_any_function_names_the_nearest_functions(name):
    err = invalid(f"targets_pkg/lines.py:{marker(name) if name else 9999}", cwd=str(FIXTURES))
    assert ("not inside any function" if name else "past the end") in err.message
    assert "compute (lines" in err.message or "Report.render (lines" in err.message
    ranges = {r["qualname"]: (r["first_line"], r["last_line"]) for r in err.details["ranges"]}
    assert set(ranges) & {"compute", "Report.render"}
    assert err.details["nearest"][0].startswith("targets_pkg/lines.py:")
    assert err.details["nearest"] == err.recovery_suggestions[:len(err.details["nearest"])]


@pytest.mark.parametrize("text, suggestion", [
    ("targets_pkg/linez.py:9", "targets_pkg/lines.py:9"),
    ("targets_pkk/lines.py:9", "targets_pkg/lines.py:9"),
    ("targets_pkg/shapez.py", "targets_pkg/shapes.py"),
])
def test_missing_file_suggests_nearest_file_names(text, suggestion):
    err = invalid(text, cwd=str(FIXTURES))
    assert "no such file" in err.message
    assert suggestion in err.details["nearest"] and suggestion in err.recovery_suggestions


# --- files by path

def test_script_outside_packages_is_imported_once_under_a_stable_name(tmp_path):
    log, script = tmp_path / "log.txt", tmp_path / "my-script.py"
    script.write_text(f"open({str(log)!r}, 'a').write('ran\\n')\n\ndef job(a):\n    return a\n")
    first = resolve(f"{script}:job/1")
    again = resolve("my-script.py:job", cwd=str(tmp_path))
    assert first[0].code is again[0].code and first[0].display.endswith(":job")
    assert log.read_text() == "ran\n"  # imported once, then reused from sys.modules
    assert first[0].module.startswith("_scopeline_file_my_script_")


def test_file_already_running_as_main_is_reused(tmp_path, monkeypatch):
    script = tmp_path / "app.py"
    script.write_text("def main():\n    return 1\n")
    main = types.ModuleType("__main__")
    main.__file__ = str(script)
    exec(compile(script.read_text(), str(script), "exec"), main.__dict__)
    monkeypatch.setitem(sys.modules, "__main__", main)
    (t,) = resolve(f"{script}:2")
    assert t.function is main.main and t.module == "__main__"
    assert t.display == "__main__:main (line 2)"


def test_load_false_reads_source_without_running_it(tmp_path):
    script = tmp_path / "tmp_loud.py"
    script.write_text("import sys\nsys.exit('must not run')\n\ndef quiet(x):\n    return x\n")
    (t,) = resolve(f"{script}:quiet", load=False)
    assert t.code.co_qualname == "quiet" and t.function is None
    assert resolve(f"{script}:5", load=False)[0].code == t.code
    assert invalid(str(script)).details["exception"] == "SystemExit"  # importing it would run
    (c,) = resolve("targets_pkg.lines:compute", load=False)
    assert "targets_pkg.lines" not in sys.modules
    assert c.code == mod("lines").compute.__code__  # equal by value to the live code
    (d,) = resolve("targets_pkg.decorated:compute", load=False)
    assert Path(d.file).name == "decorated.py"  # the def in the source, not the wrapper
    assert "targets_pkg.shapes:Circle.area" in invalid(
        "targets_pkg.shapes:Circle.aera", load=False).details["nearest"]
    assert "targets_pkg.shapes" in invalid("targets_pkg.shapez", load=False).details["nearest"]


# --- threads

@pytest.fixture
def worker():
    stop = threading.Event()
    thread = threading.Thread(target=stop.wait, name="scopeline-test-worker", daemon=True)
    thread.start()
    yield thread
    stop.set()
    thread.join()


def test_thread_by_name_ident_and_native_id(worker):
    for text in ("thread:scopeline-test-worker", f"thread:{worker.ident}",
                 f"thread:{worker.native_id}"):
        (t,) = resolve(text)
        assert (t.kind, t.thread, t.alive, t.code) == ("thread", worker, True, None)
        assert t.display == "thread:scopeline-test-worker"
    assert resolve(worker)[0].thread is worker


def test_unknown_finished_and_unstarted_threads(worker):
    err = invalid("thread:scopeline-test-wrker")
    assert "thread:scopeline-test-worker" in err.details["nearest"]
    assert "scopeline-test-worker" in err.details["live_threads"] and "MainThread" in err.message
    done = threading.Thread(target=lambda: None, name="scopeline-test-done")
    done.start()
    done.join()
    assert "finished" in invalid(done).message
    assert "scopeline-test-done" not in invalid("thread:scopeline-test-done").details[
        "live_threads"]
    later = threading.Thread(target=lambda: None, name="scopeline-test-later")
    (t,) = resolve(later)
    assert t.kind == "thread" and t.alive is False and t.thread is later


# --- functions behind C wrappers (functools.lru_cache / cache)

def cached_mod() -> types.ModuleType:
    return mod("cached")


def test_lru_cache_wrapped_method_resolves_to_the_python_function_underneath():
    c = cached_mod()
    area = c.Shape.area.__wrapped__
    for target in (c.Shape.area, c.Shape(3).area, "targets_pkg.cached:Shape.area"):
        (t,) = resolve(target)
        assert t.code is area.__code__ and t.function is area
        assert (Path(t.file).name, t.first_line) == ("cached.py", area.__code__.co_firstlineno)
        assert t.display == "targets_pkg.cached:Shape.area"
        assert "cache hit" in t.warnings[-1] and "not seen" in t.warnings[-1]
    assert resolve(c.fib)[0].function is c.fib.__wrapped__
    assert resolve(c.Shape.label)[0].code is c.Shape.label.fget.__wrapped__.__code__
    assert resolve(c.Shape.unit)[0].function is c.Shape.__dict__["unit"].__func__.__wrapped__
    # '<locals>' reaches through the cache wrapper to the def it keeps
    (inner,) = resolve("targets_pkg.cached:square.<locals>.describe")
    assert inner.code.co_qualname == "square.<locals>.describe"


def test_module_target_keeps_the_functions_behind_cache_wrappers():
    got = resolve("targets_pkg.cached")
    assert quals(got) == ["fib", "square", "square.<locals>.describe", "Shape.__init__",
                          "Shape.__hash__", "Shape.__eq__", "Shape.area", "Shape.label",
                          "Shape.unit"]
    by_qual = {t.qualname: t for t in got}
    assert by_qual["fib"].function is cached_mod().fib.__wrapped__
    assert "cache hit" in by_qual["Shape.area"].warnings[-1]
    assert by_qual["Shape.__init__"].warnings == ()
    # read from source (not imported) the same defs are found
    sys.modules.pop("targets_pkg.cached")
    assert quals(resolve(str(PKG / "cached.py"), load=False)) == quals(got)


def test_a_session_sees_the_calls_that_run_the_code_not_the_cache_hits():
    import scopeline

    c = cached_mod()
    c.fib.cache_clear()
    with scopeline.trace(c.fib, mode="runtime") as session:
        assert c.fib(10) == 55  # fib(0)..fib(10) each run once; the recursion's repeats hit
        assert c.fib(10) == 55  # all from the cache: nothing runs
        session.flush()
    entries = [e for e in session.events() if e.type == "function_entry"]
    assert sorted(int(e.data["arguments"]["n"]) for e in entries) == list(range(11))


# --- what resolving caches: compiled files, the index of loaded modules

def test_a_file_resolved_without_import_is_recompiled_when_it_changes(tmp_path):
    src = tmp_path / "tmp_changing.py"
    src.write_text("def first():\n    return 1\n")
    assert quals(resolve(str(src), load=False)) == ["first"]
    assert resolve(str(src), load=False)[0].code is resolve(str(src), load=False)[0].code
    src.write_text("def first():\n    return 1\n\n\ndef second():\n    return 2\n")
    assert quals(resolve(str(src), load=False)) == ["first", "second"]
    src.write_text("def broken(:\n")
    assert "cannot compile" in invalid(str(src), load=False).message


def test_a_module_imported_or_replaced_later_is_the_one_a_path_resolves_to(tmp_path,
                                                                              monkeypatch):
    src = tmp_path / "tmp_later.py"
    src.write_text("def f():\n    return 1\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    (before,) = resolve(f"{src}:f", load=False)
    assert before.function is None and before.module == "tmp_later"  # read, not imported
    first = importlib.import_module("tmp_later")
    assert resolve(f"{src}:f", load=False)[0].function is first.f  # imported since: live
    del sys.modules["tmp_later"]
    second = importlib.import_module("tmp_later")
    assert second is not first
    assert resolve(f"{src}:f", load=False)[0].function is second.f
