"""What the correlator hands back (joined groups, pending markers, a result) and its settings."""

from __future__ import annotations

import hashlib
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from typing import Any

from scopeline.engine.errors import ScopelineError
from scopeline.engine.events import Event

STRATEGIES = ("timestamp_window", "call_stack_matching", "thread_correlation",
              "message_sequence")
EXACT = "exact_keys"  # joined by the shared (thread, code, frame, call) key: confidence 1.0
KEY_FIELDS = ("thread", "code", "frame", "call")


@dataclass
class Correlated:
    """The seed's ``correlated_event``: one call (or one message) seen by several events."""

    correlation_id: str
    primary_event: Event
    related_events: list[Event] = field(default_factory=list)
    confidence: float = 0.0
    metadata: dict[str, Any] = field(default_factory=dict)  # {"strategy": ..., ...}

    @property
    def events(self) -> list[Event]:
        return [self.primary_event, *self.related_events]

    @property
    def strategy(self) -> str:
        return str(self.metadata.get("strategy", ""))

    @property
    def sources(self) -> set[str]:
        return {e.source for e in self.events}

    def to_dict(self) -> dict[str, Any]:
        return {"correlation_id": self.correlation_id,
                "primary_event": self.primary_event.to_dict(),
                "related_events": [e.to_dict() for e in self.related_events],
                "confidence": self.confidence, "metadata": dict(self.metadata)}


@dataclass(frozen=True)
class Pending:
    """An event the correlator holds until its counterpart (or a flush) comes.

    ``correlation_id`` is the id its group will carry if it joins by exact keys or message id;
    otherwise a provisional id that ``get_correlated_events`` still resolves after a join.
    """

    correlation_id: str
    event: Event


@dataclass
class CorrelationResult:
    """Everything one pass over a session's events produced (``correlate_session``)."""

    groups: list[Correlated]
    unmatched: list[Event]
    overflow: list[Event] = field(default_factory=list)  # past max_events_per_correlation

    def by_event(self) -> dict[str, Correlated]:
        return {e.event_id: g for g in self.groups for e in g.events}

    def summary(self) -> dict[str, Any]:
        return {"groups": len(self.groups), "unmatched": len(self.unmatched),
                "overflow": len(self.overflow),
                "by_strategy": dict(Counter(g.strategy for g in self.groups))}


@dataclass(frozen=True)
class CorrelationConfig:
    """The seed's ``correlation_config``; unset fields come from ``hybrid.correlation.*``."""

    strategy: str = "timestamp_window"
    window_ms: float = 100
    max_events_per_correlation: int = 1000
    confidence_threshold: float = 0.7

    @property
    def window_ns(self) -> int:
        return int(self.window_ms * 1_000_000)

    def order(self) -> list[str]:
        """Strategies in the order they are tried: the configured one first."""
        return [self.strategy, *(s for s in STRATEGIES if s != self.strategy)]

    @classmethod
    def resolve(cls, config: CorrelationConfig | Mapping[str, Any] | None = None,
                session_window_ms: float | None = None) -> CorrelationConfig:
        """Explicit ``config`` > the trace session's ``correlation_window`` option (when set
        away from its default) > ``hybrid.correlation.*`` settings."""
        from scopeline.engine import config as settings

        if isinstance(config, CorrelationConfig):
            return config
        raw = dict(config or {})
        unknown = sorted(set(raw) - {f.name for f in fields(cls)})
        if unknown:
            raise _bad(f"unknown correlation setting(s): {', '.join(unknown)}",
                       [f.name for f in fields(cls)])
        get = settings.get_with_fallback
        if "window_ms" not in raw and session_window_ms is not None:
            raw["window_ms"] = session_window_ms
        values = {f.name: raw.get(f.name, get(f"hybrid.correlation.{f.name}", f.default))
                  for f in fields(cls)}
        out = cls(**values)
        out.check()
        return out

    def check(self) -> None:
        if self.strategy not in STRATEGIES:
            raise _bad(f"strategy={self.strategy!r} is not a correlation strategy",
                       list(STRATEGIES))
        if isinstance(self.window_ms, bool) or not self.window_ms > 0:
            raise _bad(f"window_ms={self.window_ms!r} must be a positive number of ms",
                       "window_ms > 0")
        if not 0.0 <= self.confidence_threshold <= 1.0:
            raise _bad(f"confidence_threshold={self.confidence_threshold!r} must be in [0, 1]",
                       "0 <= confidence_threshold <= 1")
        if int(self.max_events_per_correlation) < 2:
            raise _bad("max_events_per_correlation must be at least 2 (a join has two events)",
                       "max_events_per_correlation >= 2")


def _bad(message: str, allowed: Any) -> ScopelineError:
    return ScopelineError("invalid_config", message, details={"allowed": allowed},
                          suggestions=[f"Use: {allowed}"])


# -- ids -----------------------------------------------------------------------------------------
def exact_keys(event: Event) -> tuple[Any, ...] | None:
    """The (thread, code, frame, call) key the reader puts on hybrid events, if complete."""
    keys = event.metadata.get("keys")
    if not isinstance(keys, Mapping) or any(keys.get(k) is None for k in KEY_FIELDS):
        return None
    return tuple(keys[k] for k in KEY_FIELDS)


def message_id(event: Event) -> str | None:
    if event.category != "message":
        return None
    mid = event.data.get("message_id")
    return str(mid) if mid is not None else None


def generate_correlation_id(event: Event) -> str:
    """Deterministic: the same exact keys (or message id) give the same id, whichever source
    or event of the call; an event with neither gets an id of its own."""
    keys = exact_keys(event)
    if keys is not None:
        basis, prefix = "k|" + "|".join(map(str, keys)), "c"
    elif (mid := message_id(event)) is not None:
        basis, prefix = "m|" + mid, "m"
    else:
        basis, prefix = f"e|{event.session_id}|{event.source}|{event.event_id}", "p"
    return f"{prefix}-{hashlib.sha1(basis.encode()).hexdigest()[:16]}"
