"""Run a user's program (a script or ``-m module``) as ``__main__`` with tracing on.

The program's own code is compiled here, before it runs, so targets inside it resolve to the
very code objects that will execute. On 3.12+ hooks go on those code objects at once; on 3.11
a function's code can only be swapped once its function object exists, so the main module's
top-level frame is watched line by line until every target function has been defined.
"""

from __future__ import annotations

import importlib.util
import os
import sys
import traceback
import types
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from scopeline.engine.errors import ScopelineError
from scopeline.engine.targets import ResolvedTarget, parse_target, resolve


@dataclass
class Program:
    code: types.CodeType
    file: str
    argv: list[str]
    module_name: str | None = None  # for -m
    spec: Any = None


def load_program(script: str | None, module: str | None, args: list[str]) -> Program:
    if module:
        spec = importlib.util.find_spec(module)
        if spec is None:
            raise ScopelineError("module_not_found", f"no module named {module!r}",
                                 suggestions=["Check that the module is importable: "
                                              f"python -c 'import {module}'."])
        if spec.submodule_search_locations is not None:
            spec = importlib.util.find_spec(f"{module}.__main__")
            if spec is None:
                raise ScopelineError("module_not_found", f"{module!r} is a package with no "
                                     "__main__ module", suggestions=["Run a module inside it."])
        code = spec.loader.get_code(spec.name)  # type: ignore[union-attr]
        if code is None:
            raise ScopelineError("mode_unavailable", f"{module!r} has no Python code to run")
        return Program(code, os.path.abspath(spec.origin or module), [spec.origin or module,
                                                                      *args], spec.name, spec)
    if not script:
        raise ScopelineError("script_not_found", "no program given",
                             suggestions=["scopeline run -- script.py [args], or "
                                          "scopeline run -m module [args]."])
    path = os.path.abspath(script)
    if not os.path.isfile(path):
        raise ScopelineError("script_not_found", f"no such script: {script}",
                             details={"path": path})
    with open(path, "rb") as fh:
        source = fh.read()
    try:
        code = compile(source, path, "exec", dont_inherit=True)
    except SyntaxError as exc:
        raise ScopelineError("compilation_failed", f"{script}:{exc.lineno}: {exc.msg}",
                             details={"path": path, "line": exc.lineno},
                             suggestions=["Fix the syntax error; the program was not run."]
                             ) from exc
    return Program(code, path, [script, *args])


def all_codes(code: types.CodeType) -> Iterator[types.CodeType]:
    yield code
    for const in code.co_consts:
        if isinstance(const, types.CodeType):
            yield from all_codes(const)


def is_main_target(text: Any, program: Program) -> bool:
    if not isinstance(text, str):
        return False
    spec = parse_target(text)
    if spec.path:
        return os.path.abspath(spec.path) == program.file
    return spec.module in ("__main__", program.module_name)


def resolve_main_targets(targets: list[str], program: Program) -> list[ResolvedTarget]:
    """Targets inside the program itself, bound to the code objects about to run."""
    by_key = {(c.co_qualname, c.co_firstlineno): c for c in all_codes(program.code)}
    out = []
    for text in targets:
        spec = parse_target(text)
        if spec.module in ("__main__", program.module_name) and spec.module:
            text = program.file + (f":{spec.qualname}" if spec.qualname else "")
            if spec.arity is not None:
                text += f"/{spec.arity}"
        for rt in resolve(text, load=False):
            if rt.code is not None:
                rt.code = by_key.get((rt.code.co_qualname, rt.code.co_firstlineno), rt.code)
                rt.module = "__main__"
                rt.display = f"{os.path.basename(program.file)}:{rt.qualname}" + (
                    f" (line {rt.line})" if rt.line else "")
            out.append(rt)
    return out


def make_main_module(program: Program) -> types.ModuleType:
    module = types.ModuleType("__main__")
    module.__file__ = program.file
    module.__builtins__ = __builtins__  # type: ignore[attr-defined]
    if program.spec is not None:
        module.__spec__ = program.spec
        module.__loader__ = program.spec.loader
        module.__package__ = program.spec.parent
    return module


def program_path0(program: Program) -> str:
    """What Python puts first on sys.path for this program: its folder, or the cwd for -m."""
    return os.path.dirname(program.file) if program.module_name is None else os.getcwd()


def run_code(program: Program, module: types.ModuleType) -> int:
    """Execute like ``python script.py``: exit code, and Python's own traceback on a crash."""
    saved_argv, saved_main, saved_path0 = sys.argv, sys.modules.get("__main__"), sys.path[0]
    sys.argv = program.argv
    sys.modules["__main__"] = module
    sys.path[0] = program_path0(program)
    try:
        exec(program.code, module.__dict__)
        return 0
    except SystemExit as exc:
        code = exc.code
        if code is None:
            return 0
        if isinstance(code, int):
            return code
        print(code, file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        traceback.print_exception(*_user_part(sys.exc_info()))
        return 130
    except BaseException:
        traceback.print_exception(*_user_part(sys.exc_info()))
        return 1
    finally:
        sys.argv = saved_argv
        if saved_main is not None:
            sys.modules["__main__"] = saved_main
        sys.path[0] = saved_path0


def _user_part(info: Any) -> tuple[Any, Any, Any]:
    """The traceback from the program's first frame on, as ``python script.py`` prints it."""
    etype, value, tb = info
    while tb is not None and tb.tb_frame.f_code is run_code.__code__:
        tb = tb.tb_next
    return etype, value, tb
