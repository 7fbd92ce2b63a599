"""The unified API (INTERFACES §2): ``scopeline.trace`` and friends, over the live sessions."""

from __future__ import annotations

import atexit
import threading
import time
from typing import Any

from scopeline.engine import config
from scopeline.engine.errors import ScopelineError
from scopeline.engine.flusher import Flusher
from scopeline.engine.modes import ModeDecision, resolve_mode
from scopeline.engine.options import parse_options, settle_granularity
from scopeline.engine.planning import build_recorder, build_units
from scopeline.engine.runtime.select import get_backend
from scopeline.engine.sessions import TraceSession, not_found
from scopeline.engine.sigterm import flush_on_sigterm
from scopeline.engine.store import Store

_lock = threading.RLock()
_sessions: dict[str, TraceSession] = {}
_enabled = True
_flusher: Flusher | None = None


def _store() -> Store:
    return Store()


def _ensure_flusher() -> Flusher:
    global _flusher
    if _flusher is None or not _flusher.alive():
        _flusher = Flusher(lambda: list(_sessions.values()))
        _flusher.start()
    return _flusher


def trace(target: Any, **options: Any) -> TraceSession:
    """Start tracing ``target`` (INTERFACES §1 forms) and return the live session."""
    config.current_config()  # a broken [tool.scopeline] is reported here, not ignored
    opts = parse_options(**options)
    decision = resolve_mode(target, opts)
    settle_granularity(opts, decision.mode)
    with _lock:
        live = [s for s in _sessions.values() if s.status in ("active", "paused")]
        limit = config.get_with_fallback("hybrid.session_management.max_concurrent_sessions", 16)
        if len(live) >= limit:
            raise ScopelineError("trace_limit_exceeded", f"{len(live)} sessions are live "
                                 f"(max_concurrent_sessions={limit})",
                                 details={"live": [s.session_id for s in live]})
        units, thread_units, names = build_units(target, opts,
                                                 load=decision.mode != "compile_time")
        recorder = build_recorder(opts)
        session = TraceSession(
            mode=decision.mode, mode_reason=decision.reason, targets=names, options=opts,
            units=units, thread_units=thread_units, recorder=recorder, backend=get_backend(),
            store=_store())
        if decision.mode in ("compile_time", "hybrid"):
            from scopeline.engine.compile_time.backend import CompileTimeInjector

            session.injector = CompileTimeInjector(hybrid=decision.mode == "hybrid")
        session.batch_size = config.get_with_fallback("unified.storage.flush_batch_size", 50_000)
        if _enabled:
            session.install()
        else:
            recorder.note("tracing is globally disabled: hooks go in when it is enabled")
        _sessions[session.session_id] = session
        session.save()
        _ensure_flusher()
        _flush_on_sigterm()
        if opts.timeout:
            session.timer = threading.Timer(opts.timeout, _expire, args=(session.session_id,))
            session.timer.daemon = True
            session.timer.start()
    return session


def _expire(session_id: str) -> None:
    session = _sessions.get(session_id)
    if session is not None and session.status in ("active", "paused"):
        session.recorder.note("session timeout reached: stopped")
        stop_trace(session)


def _get(session_ref: Any) -> TraceSession:
    sid = getattr(session_ref, "session_id", session_ref)
    with _lock:
        session = _sessions.get(sid) if isinstance(sid, str) else None
        if session is None and isinstance(sid, str) and len(sid) >= 4:
            matches = [s for k, s in _sessions.items() if k.startswith(sid)]
            session = matches[0] if len(matches) == 1 else None
        if session is None:
            raise not_found(session_ref, list(_sessions))
        return session


def stop_trace(session_or_id: Any) -> None:
    session = _get(session_or_id)
    with session.lock:
        if session.status == "stopped":
            return
        if session.timer is not None:
            session.timer.cancel()
        session.uninstall()
        session.flush()
        with _lock:
            _sessions.pop(session.session_id, None)
        session.stopped_at = time.time()
        session.status = "stopped"
        session.save()
    if config.get_with_fallback("hybrid.session_management.auto_cleanup_enabled", True):
        keep = config.get_with_fallback("unified.storage.keep_sessions", 200)
        if keep:
            session.store.prune(keep)


def pause_trace(session_id: Any) -> None:
    session = _get(session_id)
    with session.lock:
        if session.status != "active":
            raise ScopelineError("invalid_config", f"session {session.session_id[:8]} is "
                                 f"{session.status}, not active")
        shared = config.get_with_fallback("runtime.coordination.shared_session_management", True)
        if session.mode == "hybrid" and not shared:
            # each half managed by its own mode: the injected half keeps recording
            session.uninstall(keep_injected=True, keep_recording=True)
        else:
            session.uninstall(keep_injected=config.get_with_fallback(
                "compile_time.runtime_integration.runtime_control_enabled", True))
        session.status = "paused"
        session.save()


def resume_trace(session_id: Any) -> None:
    session = _get(session_id)
    with session.lock:
        if session.status != "paused":
            raise ScopelineError("invalid_config", f"session {session.session_id[:8]} is "
                                 f"{session.status}, not paused",
                                 suggestions=["Only a paused session can be resumed."])
        if _enabled:
            session.install()
        session.status = "active"
        session.save()


def list_traces() -> list[TraceSession]:
    with _lock:
        return list(_sessions.values())


def get_trace_info(session_id: Any) -> TraceSession:
    return _get(session_id)


def adjust_trace(session_id: Any, *, sampling_rate: float | None = None,
                 max_events_per_second: int | None = None,
                 buffer_size: int | None = None, granularity: str | None = None,
                 capture_locals: Any = None, trace_lines: Any = None) -> TraceSession:
    """Change a live session's capture limits, or what it captures, without stopping it
    (second seed). More detail on a runtime session escalates it to hybrid (auto_escalate)."""
    session = _get(session_id)
    if granularity is not None or capture_locals is not None or trace_lines is not None:
        _adjust_detail(session, granularity, capture_locals, trace_lines)
    rec = session.recorder
    if sampling_rate is not None:
        parse_options(sampling_rate=sampling_rate)  # same checks as trace()
        rec.set_sampling_rate(float(sampling_rate))
        session.options.sampling_rate = float(sampling_rate)
        session.governor.stepped_down = False  # the user's rate now: auto_escalate keeps off it
    if max_events_per_second is not None:
        if isinstance(max_events_per_second, bool) or max_events_per_second < 1:
            raise ScopelineError("invalid_config", "max_events_per_second must be >= 1")
        rec.set_max_events_per_second(int(max_events_per_second))
    if buffer_size is not None:
        if isinstance(buffer_size, bool) or buffer_size < 1:
            raise ScopelineError("invalid_config", "buffer_size must be >= 1")
        rec.set_buffer_size(int(buffer_size))
    rec.note(f"adjusted: sampling_rate={rec.rate} max_events_per_second={rec.max_eps} "
             f"buffer_size={rec.limits.buffer_size}")
    session.save()
    return session


def _adjust_detail(session: TraceSession, granularity: str | None, capture_locals: Any,
                   trace_lines: Any) -> None:
    from scopeline.engine.autoswitch import escalate_for_detail

    wanted = parse_options(granularity=granularity, capture_locals=capture_locals or (),
                           trace_lines=trace_lines or ())
    detail = {"granularity": wanted.granularity or session.options.granularity,
              "capture_locals": wanted.capture_locals or session.options.capture_locals,
              "trace_lines": wanted.trace_lines or session.options.trace_lines}
    if session.mode == "runtime":
        if escalate_for_detail(session, granularity=wanted.granularity,
                               capture_locals=wanted.capture_locals,
                               trace_lines=wanted.trace_lines):
            return
        raise ScopelineError(
            "invalid_state", "a runtime session cannot change what it captures while it "
            "runs (auto_escalate is off)", details=detail,
            suggestions=[f"scopeline.switch_mode({session.session_id[:8]!r}, 'hybrid', "
                         "granularity=...) keeps every call and adds the detail."])
    # Injected capture is re-planned: through runtime and back, each step losing nothing.
    mode = session.mode
    switch_mode(session.session_id, "runtime", _reason="re-instrumenting with new detail")
    switch_mode(session.session_id, mode, _reason="new detail asked for", **detail)


def request_detail(session_id: Any, what: str = "locals", line: int | None = None) -> bool:
    """The editor wanted locals (or expression values) the session does not capture; past
    ``hybrid.mode_switching.escalation_thresholds.detail_requests`` requests a runtime
    session escalates to hybrid. Returns True when it did."""
    if what not in ("locals", "expressions"):
        raise ScopelineError("invalid_config", f"what={what!r}: expected 'locals' or "
                             "'expressions'")
    session = _get(session_id)
    with session.lock:
        return bool(session.governor.request_detail(what, line))


def set_tracing_enabled(enabled: bool) -> None:
    """The global switch: off removes every hook of every session at once; on restores them."""
    global _enabled
    with _lock:
        _enabled = bool(enabled)
        registered = config.get_with_fallback(
            "compile_time.runtime_integration.register_with_runtime", True)
        for session in _sessions.values():
            if session.status != "active":
                continue
            if session.mode == "compile_time" and not registered:
                continue  # injected code not registered with the runtime switch: keeps going
            if _enabled:
                session.install()
            else:
                session.uninstall()


def tracing_enabled() -> bool:
    return _enabled


def switch_mode(session_id: Any, new_mode: str, **options: Any) -> TraceSession:
    """Move a live session to another mode without losing or duplicating a call's events
    (see ``switching``); ``options`` may change granularity, capture_locals, trace_lines."""
    from scopeline.engine.switching import check_switch, switch

    reason = options.pop("_reason", None)
    session = _get(session_id)
    carried = {**session.options.to_dict(), "force_runtime": False,
               "force_compile_time": False}
    opts = parse_options(**{**carried, **options, "mode": new_mode})
    check_switch(session, new_mode)
    decision = resolve_mode(session.targets, opts)
    settle_granularity(opts, decision.mode)
    session.options = opts
    switch(session, decision.mode, reason or decision.reason)
    session.mode_reason = reason or decision.reason
    session.save()
    return session


def determine_mode(target: Any, *, strategy: str = "combined", **options: Any) -> ModeDecision:
    """The full mode decision (every rule's verdict, learned evidence), without tracing."""
    from scopeline.engine.selection.engine import determine_mode as decide

    return decide(target, parse_options(**options), strategy=strategy)


def mode_available(target: Any, mode: str) -> bool:
    """Can ``target`` be traced in ``mode`` here? (see selection.capabilities)"""
    from scopeline.engine.selection.capabilities import mode_available as available

    return available(target, mode)


def get_mode_capabilities(target: Any) -> dict[str, list[str]]:
    """What each mode can capture for ``target`` here; an unavailable mode lists nothing."""
    from scopeline.engine.selection.capabilities import get_mode_capabilities as capabilities

    return capabilities(target)


def flush_all() -> None:
    for session in list(_sessions.values()):
        try:
            session.flush()
            session.save()
        except Exception:  # at exit, one broken session must not stop the others flushing
            pass


def _at_exit() -> None:
    for session in list(_sessions.values()):
        try:
            stop_trace(session)
        except Exception:
            pass
    if _flusher is not None:
        _flusher.stop()


def _flush_on_sigterm() -> None:
    flush_on_sigterm(_at_exit)


atexit.register(_at_exit)
