"""How sure a join is: 1.0 only for exact keys (or a message id); every scored join below 1.

The pieces here are shared by the strategies (each weighs them its own way) and by
``calculate_confidence``, the seed's pairwise score for any two events.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

from scopeline.engine.correlation.model import exact_keys, message_id
from scopeline.engine.events import Event

SCORED_MAX = 0.97  # no scored join claims more: only a shared key is certain


def same_call_kind(e1: Event, e2: Event) -> bool:
    """Could these two events be one fact seen twice: same type, same function."""
    return e1.type == e2.type and e1.qualified_name == e2.qualified_name


def thread_agreement(e1: Event, e2: Event) -> float:
    """1 for one thread id; 0.8 for one thread name (another process); else 0."""
    if e1.thread_id and e1.thread_id == e2.thread_id:
        return 1.0
    if e1.thread_name and e1.thread_name == e2.thread_name:
        return 0.8
    return 0.0


def stack_similarity(s1: list[str], s2: list[str]) -> float:
    """Shared innermost frames over the longer stack (inner frames say most about a call)."""
    if not s1 and not s2:
        return 1.0
    shared = 0
    for a, b in zip(reversed(s1), reversed(s2), strict=False):
        if a != b:
            break
        shared += 1
    return shared / max(len(s1), len(s2))


def content_agreement(e1: Event, e2: Event) -> float | None:
    """Do the captured values agree? None when the two have nothing to compare.

    Arguments are compared as a multiset of values: the two sources may name a call's
    parameters differently, but one call passes the same values.
    """
    d1, d2 = e1.data, e2.data
    checks: list[bool] = []
    a1, a2 = d1.get("arguments"), d2.get("arguments")
    if isinstance(a1, dict) and isinstance(a2, dict) and a1 and a2:
        checks.append(Counter(map(str, a1.values())) == Counter(map(str, a2.values())))
    for name in ("return_value", "exception", "value", "new_value"):
        if name in d1 and name in d2:
            checks.append(d1[name] == d2[name])
    if not checks:
        return None
    return sum(checks) / len(checks)


def content_factor(e1: Event, e2: Event) -> float:
    """Multiplier for a join's confidence: values that disagree make it far less likely."""
    agreement = content_agreement(e1, e2)
    return 1.0 if agreement is None else 0.5 + 0.5 * agreement


def time_closeness(dt_ns: float, window_ns: float) -> float:
    """1 at no distance, 0 at the window's edge and beyond."""
    return max(0.0, 1.0 - abs(dt_ns) / window_ns)


def calculate_confidence(e1: Event, e2: Event, *, window_ms: float | None = None) -> float:
    """How likely ``e1`` and ``e2`` describe the same call (or the two ends of one message).

    1.0 only for equal exact keys or a send and a receive with one message id; 0 for events
    that cannot be one fact (other function, other type, outside the correlation window);
    otherwise a weighted score of time, thread, call stack and line, times value agreement,
    capped below 1.
    """
    k1, k2 = exact_keys(e1), exact_keys(e2)
    if k1 is not None and k2 is not None:
        return 1.0 if k1 == k2 else 0.0
    m1, m2 = message_id(e1), message_id(e2)
    if m1 is not None and m1 == m2 and {e1.type, e2.type} == {"message_send", "message_receive"}:
        return 1.0
    if window_ms is None:
        from scopeline.engine import config

        window_ms = float(config.get_with_fallback("hybrid.correlation.window_ms", 100))
    window_ns = window_ms * 1_000_000
    closeness = time_closeness(e2.timestamp - e1.timestamp, window_ns)
    if e1.category == "message" and e2.category == "message":
        return message_confidence(e1, e2)
    if not same_call_kind(e1, e2) or closeness == 0.0:
        return 0.0
    score = (0.4 * closeness + 0.2 * thread_agreement(e1, e2)
             + 0.25 * stack_similarity(e1.call_stack, e2.call_stack)
             + 0.15 * (1.0 if e1.line == e2.line else 0.0))
    return round(SCORED_MAX * score * content_factor(e1, e2), 6)


def message_confidence(e1: Event, e2: Event) -> float:
    """A send and a receive without a shared id: same queue and same value at best."""
    kinds = {e1.type, e2.type}
    if kinds != {"message_send", "message_receive"}:
        return 0.0
    ids = message_id(e1), message_id(e2)
    if None not in ids and ids[0] != ids[1]:
        return 0.0  # two messages, by their own ids
    send, receive = (e1, e2) if e1.type == "message_send" else (e2, e1)
    if send.data.get("queue") != receive.data.get("queue") or receive.timestamp < send.timestamp:
        return 0.0
    same_value = send.data.get("value") == receive.data.get("value")
    return 0.8 if same_value else 0.4


def describe(confidence: float) -> str:
    """Words for a confidence, for explanations."""
    if confidence >= 1.0:
        return "exact"
    return "high" if confidence >= 0.9 else "medium" if confidence >= 0.7 else "low"


def clamp(value: Any) -> float:
    return max(0.0, min(SCORED_MAX, float(value)))
