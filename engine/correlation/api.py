"""The seed's ``Events.Correlator`` API over live correlation sessions, and the seed's
single-event strategy forms (one event against candidates, best first)."""

from __future__ import annotations

import threading
from typing import Any

from scopeline.engine.correlation.confidence import (
    SCORED_MAX,
    content_factor,
    message_confidence,
    same_call_kind,
    stack_similarity,
    thread_agreement,
    time_closeness,
)
from scopeline.engine.correlation.correlator import CorrelationSession, Flushed
from scopeline.engine.correlation.model import (
    Correlated,
    CorrelationConfig,
    CorrelationResult,
    Pending,
    generate_correlation_id,
    message_id,
)
from scopeline.engine.errors import ScopelineError
from scopeline.engine.events import Event

_lock = threading.Lock()
_sessions: dict[str, CorrelationSession] = {}


def start_correlation_session(trace_session_ref: Any = None,
                              config: CorrelationConfig | dict[str, Any] | None = None,
                              ) -> CorrelationSession:
    """A correlation session for a trace session (object or id). Settings: ``config`` (the
    seed's correlation_config keys), else the trace session's ``correlation_window`` option
    for the window, else ``hybrid.correlation.*``."""
    trace_id, window = _trace_session_window(trace_session_ref)
    session = CorrelationSession(CorrelationConfig.resolve(config, window), trace_id)
    with _lock:
        _sessions[session.ref] = session
    return session


def correlate_event(ref: Any, event: Event) -> Correlated | Pending:
    """Join ``event`` with what the session holds: a Correlated group, or Pending(id)."""
    if not isinstance(event, Event):
        raise ScopelineError("invalid_config", f"correlate_event needs an Event, not "
                             f"{type(event).__name__}",
                             suggestions=["Pass scopeline Event objects (session.events())."])
    return _get(ref).correlate(event)


def get_correlated_events(correlation_id: str) -> list[Correlated]:
    """Every group with this id (or that an event's provisional id now belongs to)."""
    with _lock:
        sessions = list(_sessions.values())
    return [g for s in sessions if (g := s.get(correlation_id)) is not None]


def flush_pending_correlations(ref: Any) -> Flushed:
    """Force the best remaining joins and return them; ``.unmatched`` lists what stayed."""
    return _get(ref).flush()


def stop_correlation_session(ref: Any) -> CorrelationResult:
    """Flush, forget the session, and return everything it joined."""
    session = _get(ref)
    session.flush()
    with _lock:
        _sessions.pop(session.ref, None)
    return session.result()


def correlate_session(events: list[Event], config: CorrelationConfig | dict[str, Any] | None
                      = None) -> CorrelationResult:
    """The whole pipeline over one session's events (for trace trees): groups + unmatched."""
    session = CorrelationSession(CorrelationConfig.resolve(config))
    for event in events:
        session.correlate(event)
    session.flush()
    return session.result()


def _get(ref: Any) -> CorrelationSession:
    if isinstance(ref, CorrelationSession):
        return ref
    with _lock:
        session = _sessions.get(str(ref))
    if session is None:
        raise ScopelineError("session_not_found", f"no correlation session {ref!r}",
                             details={"live": sorted(_sessions)},
                             suggestions=["start_correlation_session(trace_session) makes one."])
    return session


def _trace_session_window(ref: Any) -> tuple[str | None, float | None]:
    """The trace session's id, and its correlation_window option if set away from default."""
    from scopeline.engine.options import TraceOptions

    if ref is None:
        return None, None
    session = ref
    if isinstance(ref, str):
        from scopeline.engine import api

        try:
            session = api.get_trace_info(ref)
        except ScopelineError:
            return ref, None  # a stopped or stored session: its id is enough
    options = getattr(session, "options", None)
    default = TraceOptions.__dataclass_fields__["correlation_window"].default
    window = getattr(options, "correlation_window", default)
    return getattr(session, "session_id", str(ref)), (None if window == default else window)


# -- the seed's single-event strategy forms -----------------------------------------------------
def _ranked(target: Event, scored: list[tuple[Event, float]], strategy: str) -> list[Correlated]:
    out = []
    for other, confidence in scored:
        if confidence <= 0:
            continue
        first, second = sorted((target, other), key=lambda e: e.source != "runtime")
        out.append(Correlated(generate_correlation_id(first), first, [second],
                              round(confidence, 6), {"strategy": strategy}))
    return sorted(out, key=lambda g: -g.confidence)


def correlate_by_timestamp(target: Event, candidates: list[Event], window_ms: float,
                           ) -> list[Correlated]:
    window = window_ms * 1_000_000
    return _ranked(target, [
        (c, SCORED_MAX * time_closeness(c.timestamp - target.timestamp, window)
         * content_factor(target, c))
        for c in candidates if c is not target and same_call_kind(target, c)],
        "timestamp_window")


def correlate_by_call_stack(target: Event, candidates: list[Event]) -> list[Correlated]:
    return _ranked(target, [
        (c, SCORED_MAX * 0.95 * stack_similarity(target.call_stack, c.call_stack)
         * (1.0 if c.line == target.line else 0.8) * content_factor(target, c))
        for c in candidates if c is not target and same_call_kind(target, c)],
        "call_stack_matching")


def correlate_by_thread(target: Event, candidates: list[Event]) -> list[Correlated]:
    return _ranked(target, [
        (c, SCORED_MAX * 0.9 * thread_agreement(target, c) * content_factor(target, c))
        for c in candidates if c is not target and same_call_kind(target, c)],
        "thread_correlation")


correlate_by_process = correlate_by_thread  # the seed's name


def correlate_by_message(target: Event, candidates: list[Event]) -> list[Correlated]:
    mid = message_id(target)
    return _ranked(target, [
        (c, 1.0 if mid is not None and message_id(c) == mid and c.type != target.type
         else message_confidence(target, c))
        for c in candidates if c is not target and c.category == "message"],
        "message_sequence")
