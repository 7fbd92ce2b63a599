"""Switch a live session between runtime, hybrid and compile-time capture, losing no call.

Every step puts the new hooks on the code that new calls will run *before* that code is
swapped in (one ``__code__`` assignment), and old hooks stay on the code that frames already
running still execute, so each call is seen from its first event to its last by one capture
set, never by none and never twice:

* runtime → hybrid: inject; runtime hooks go on the injected code before the swap.
* hybrid → runtime: runtime hooks on the user's code first, then the injected code goes.
* hybrid → compile_time: the runtime half is removed (its frames' injected half remains).
* compile_time → runtime: runtime hooks on the user's code replace the injected code.
The other moves are two of these steps.
"""

from __future__ import annotations

from typing import Any

from scopeline.engine.errors import ScopelineError
from scopeline.engine.runtime.units import Unit

STEPS: dict[tuple[str, str], tuple[str, ...]] = {
    ("runtime", "hybrid"): ("hybrid",),
    ("runtime", "compile_time"): ("hybrid", "compile_time"),
    ("hybrid", "runtime"): ("runtime",),
    ("hybrid", "compile_time"): ("compile_time",),
    ("compile_time", "runtime"): ("runtime",),
    ("compile_time", "hybrid"): ("runtime", "hybrid"),
}


def switch(session: Any, new_mode: str, reason: str) -> None:
    """Move ``session`` to ``new_mode`` (installed or not), noting why in its log."""
    old = session.mode
    if new_mode == old:
        return
    with session.lock:
        if not session.installed:  # paused or globally off: the next install does it
            _set_mode(session, new_mode)
        else:
            for step in STEPS[(old, new_mode)]:
                _STEP[(session.mode, step)](session)
                session.mode = step
        session.recorder.note(f"mode switched {old} → {new_mode}: {reason}")


def _set_mode(session: Any, mode: str) -> None:
    from scopeline.engine.compile_time.backend import CompileTimeInjector

    if session.injector is not None and session.injector.live:
        session.injector.uninstall()
    session.mode = mode
    session.injector = CompileTimeInjector(hybrid=mode == "hybrid") \
        if mode != "runtime" else None
    session.runtime_units = list(session.units)


def _retire(session: Any, units: list[Unit], *, in_use: bool) -> None:
    """Old runtime hooks: removed now when new calls would still run their code, else kept
    until the session stops (frames already running finish with their exit seen). On 3.11 a
    wrapper already replaced keeps recording for the frames inside it: removed now."""
    now = in_use or getattr(session.backend, "needs_function", False)
    for unit in units:
        if unit in session.pending or unit in session.skipped_units:
            continue
        if now:
            session.backend.remove(unit, session.recorder)
        else:
            session.retired_units.append(unit)


def _user_units(session: Any) -> list[Unit]:
    """Runtime hooks on the user's own code, watching the lines the session's options ask
    for now (a step down to runtime watches none). Hooks retired but still in place (3.12)
    are taken back and updated in one step, never added twice."""
    from scopeline.engine.planning import runtime_lines

    out: list[Unit] = []
    done: list[Any] = []
    for unit in session.units:
        wanted = runtime_lines(unit, session.options)
        if unit in session.retired_units:
            session.retired_units.remove(unit)
            if unit.lines != wanted:
                unit.lines = wanted
                session.backend.update(unit, session.recorder)
            out.append(unit)
            continue
        unit.lines = wanted
        if session._add_runtime(unit, done):
            out.append(unit)
    return out


def _runtime_to_hybrid(session: Any) -> None:
    from scopeline.engine.compile_time.backend import CompileTimeInjector

    old_units = list(session.runtime_units)
    session.mode = "hybrid"
    session.injector = CompileTimeInjector(hybrid=True)
    done: list[Any] = []
    try:
        session._install_injected(done, hooked=tuple(old_units))
    except BaseException:
        for item in reversed(done):
            session._remove_one(item)
        session.injector.uninstall()
        session.injector = None
        session.mode = "runtime"
        raise
    fallback = [u for u in session.runtime_units if u.meta.get("variant_of") is None]
    # User-code hooks stay for frames already running; units that fell back keep theirs.
    _retire(session, [u for u in old_units if u not in fallback], in_use=False)


def _hybrid_to_runtime(session: Any) -> None:
    variants = [u for u in session.runtime_units if u.meta.get("variant_of") is not None]
    kept = [u for u in session.runtime_units if u.meta.get("variant_of") is None]
    session.runtime_units = kept + [u for u in _user_units(session) if u not in kept]
    session.injector.uninstall()  # 3.12: restores __code__; 3.11: our wrapper stands there
    session.injector = None
    _retire(session, variants, in_use=False)
    session.compile_time_refs = []
    session.runtime_refs = [u.display for u in session.runtime_units]


def _hybrid_to_compile_time(session: Any) -> None:
    variants = [u for u in session.runtime_units if u.meta.get("variant_of") is not None]
    _retire(session, variants, in_use=True)  # new calls run injected code: no runtime half
    session.runtime_units = [u for u in session.runtime_units if u not in variants]
    session.runtime_refs = [u.display for u in session.runtime_units]


def _compile_time_to_runtime(session: Any) -> None:
    fallback = list(session.runtime_units)
    session.runtime_units = fallback + [u for u in _user_units(session) if u not in fallback]
    session.injector.uninstall()
    session.injector = None
    session.compile_time_refs = []
    session.runtime_refs = [u.display for u in session.runtime_units]


_STEP = {
    ("runtime", "hybrid"): _runtime_to_hybrid,
    ("hybrid", "runtime"): _hybrid_to_runtime,
    ("hybrid", "compile_time"): _hybrid_to_compile_time,
    ("compile_time", "runtime"): _compile_time_to_runtime,
}


def check_switch(session: Any, new_mode: str) -> None:
    if session.status not in ("active", "paused"):
        raise ScopelineError("invalid_state", f"session {session.session_id[:8]} is "
                             f"{session.status}: only a live session can switch mode",
                             suggestions=["Start a new trace with the mode you want."])
    if session.thread_units and new_mode != "runtime":
        raise ScopelineError("mode_unavailable", "a thread target is traced by runtime hooks "
                             "only", suggestions=["Keep mode='runtime' for thread targets."])
