"""``scopeline run``: start a session on the program's targets, run it, stop and flush."""

from __future__ import annotations

import sys
from typing import Any

from scopeline.engine import api
from scopeline.engine.binder import MainBinder
from scopeline.engine.runner import (
    is_main_target,
    load_program,
    make_main_module,
    program_path0,
    resolve_main_targets,
    run_code,
)
from scopeline.engine.sessions import TraceSession


def traced_run(script: str | None, module: str | None, args: list[str], targets: list[str],
               options: dict[str, Any]) -> tuple[int, TraceSession]:
    program = load_program(script, module, args)
    # Targets resolve as the program will import them: from its own folder (or the cwd for
    # -m), which run_code puts first on sys.path; a target must not be another copy.
    saved_path0 = sys.path[0]
    sys.path[0] = program_path0(program)
    try:
        return _traced_run(program, targets, options)
    finally:
        sys.path[0] = saved_path0


def _traced_run(program: Any, targets: list[str],
                options: dict[str, Any]) -> tuple[int, TraceSession]:
    if not targets:
        targets = [program.file]  # every function of the program's main module
    main_targets = [t for t in targets if is_main_target(t, program)]
    other_targets = [t for t in targets if not is_main_target(t, program)]
    resolved = resolve_main_targets(main_targets, program) + list(other_targets)
    module_obj = make_main_module(program)
    session = api.trace(resolved, metadata={"program": program.argv}, **options)
    if session.injector is not None and program.file in session.injector.module_codes:
        # Compile-time: the program itself runs as rewritten (its line numbers unchanged).
        program.code = session.injector.module_codes[program.file]
    binder = MainBinder(session, program.code)
    binder.start()
    try:
        exit_code = run_code(program, module_obj)
    finally:
        binder.stop()
        api.stop_trace(session)
    return exit_code, session
