"""A session that changes mode by itself (``auto_escalate``), and says so in its log.

Up: a runtime session asked for locals or expressions (``adjust_trace``), or asked often
enough for detail it cannot give (``request_detail``), escalates to hybrid. Down: once a
second the flusher asks the governor whether the last second cost too much — the overhead
estimated from the events captured and the costs measured on this machine (``costmodel``),
the event rate, or calls that only one half of a hybrid session saw — and it steps down:
hybrid → runtime → runtime sampled.
"""

from __future__ import annotations

import time
from typing import Any

from scopeline.engine import config

_PREFIX = "hybrid.mode_switching."


def enabled(session: Any) -> bool:
    return bool(session.options.auto_escalate
                and config.get_with_fallback(_PREFIX + "enable_auto_escalation", True))


def _switch(session: Any, mode: str, reason: str, **options: Any) -> None:
    from scopeline.engine import api

    api.switch_mode(session.session_id, mode, _reason=reason, **options)


def escalate_for_detail(session: Any, *, granularity: str | None = None,
                        capture_locals: tuple[str, ...] = (),
                        trace_lines: tuple[int, ...] = ()) -> bool:
    """More detail was asked of a runtime session: go hybrid (True) if allowed."""
    if session.mode != "runtime" or not enabled(session):
        return False
    wanted = granularity or "line"
    from scopeline.engine.modes import injection_refusal

    refusal = injection_refusal("hybrid")
    if refusal is not None:
        session.recorder.note(f"not escalated to hybrid: {refusal.message}")
        return False
    what = (f"granularity={wanted!r}" if granularity else
            f"capture_locals={list(capture_locals)}" if capture_locals else
            f"lines {list(trace_lines)}")
    _switch(session, "hybrid", f"{what} asked for: runtime hooks keep timing every call, "
            "injected probes add what they cannot see cheaply (auto_escalate)",
            granularity=wanted, capture_locals=capture_locals or session.options.capture_locals,
            trace_lines=trace_lines or session.options.trace_lines)
    return True


class Governor:
    """Per session: the previous second's counts, and the detail requests so far."""

    def __init__(self, session: Any) -> None:
        self.session = session
        self.last_counts: dict[str, int] = {}
        self.last_skipped = 0
        self.last_skipped_lines = 0
        self.last_keys: dict[str, int] = {}
        self.last_time = time.monotonic()
        self.detail_requests = 0
        self.stepped_down = False  # hybrid → runtime done by this governor
        self.last_overhead: float | None = None

    def request_detail(self, what: str, line: int | None = None) -> bool:
        """The editor wanted ``what`` ("locals" | "expressions") the session does not
        capture; past ``detail_requests`` such requests the session escalates."""
        session = self.session
        if session.mode != "runtime":
            return False
        self.detail_requests += 1
        threshold = config.get_with_fallback(_PREFIX + "escalation_thresholds.detail_requests",
                                             3)
        session.recorder.note(f"detail request {self.detail_requests}/{threshold}: {what}"
                              + (f" at line {line}" if line else ""))
        if self.detail_requests < threshold:
            return False
        granularity = "expression" if what == "expressions" else "line"
        lines = (line,) if line else ()
        return escalate_for_detail(session, granularity=granularity, trace_lines=lines)

    def tick(self) -> str | None:
        """Called once a second by the flusher; returns the step taken, if any."""
        session = self.session
        now = time.monotonic()
        elapsed = now - self.last_time
        counts = dict(session.drain.counts)
        delta = {k: v - self.last_counts.get(k, 0) for k, v in counts.items()}
        self.last_counts, self.last_time = counts, now
        if elapsed <= 0 or session.status != "active" or not enabled(session):
            return None
        from scopeline.engine.selection.costmodel import estimate_live_overhead

        skipped = sum(session.recorder.skipped_counts().values())
        skipped_delta, self.last_skipped = skipped - self.last_skipped, skipped
        # Lines skipped by the limits still ran their probe, at their own measured price.
        skipped_lines = sum(session.recorder.skipped_line_counts().values())
        lines_delta, self.last_skipped_lines = (skipped_lines - self.last_skipped_lines,
                                                skipped_lines)
        overhead = estimate_live_overhead(delta, session.mode, elapsed,
                                          skipped_calls=skipped_delta,
                                          skipped_lines=lines_delta)
        self.last_overhead = overhead
        rate = sum(delta.values()) / elapsed
        budget = config.get_with_fallback(_PREFIX + "overhead_budget_percent", 25)
        if session.mode == "hybrid":
            return self._hybrid_check(overhead, rate, budget, elapsed)
        # Only a session this governor stepped down goes on to sampling: a runtime session
        # the user started keeps the capture asked for (the event-rate limit still applies).
        if session.mode == "runtime" and self.stepped_down and overhead > budget:
            rec = session.recorder
            new_rate = max(0.001, round(rec.rate * budget / overhead * 0.8, 4))
            if new_rate < rec.rate:
                rec.set_sampling_rate(new_rate)
                session.options.sampling_rate = new_rate
                rec.note(f"estimated capture overhead {overhead:.0f}% over "
                         f"overhead_budget_percent={budget}: sampling down to {new_rate} "
                         "(auto_escalate)")
                return "sampled"
        return None

    def _hybrid_check(self, overhead: float, rate: float, budget: int,
                      elapsed: float) -> str | None:
        thresholds = _PREFIX + "escalation_thresholds."
        max_rate = config.get_with_fallback(thresholds + "events_per_second", 10_000)
        max_failures = config.get_with_fallback(thresholds + "correlation_failures", 10)
        one_sided = self._one_sided_calls() / elapsed
        if overhead > budget:
            why = f"estimated capture overhead {overhead:.0f}% over overhead_budget_percent=" \
                  f"{budget}"
        elif rate > max_rate:
            why = f"{rate:.0f} events/s over escalation_thresholds.events_per_second={max_rate}"
        elif one_sided > max_failures:
            why = (f"{one_sided:.0f} calls/s seen by one half only, over "
                   f"escalation_thresholds.correlation_failures={max_failures}")
        else:
            return None
        _switch(self.session, "runtime", f"{why}: stepped down to runtime (auto_escalate)",
                granularity="function", capture_locals=(), trace_lines=())
        self.stepped_down = True
        return "runtime"

    def _one_sided_calls(self) -> int:
        """Calls in the last second entered by one source and not the other (per function)."""
        from scopeline.engine.runtime.recorder import CALL, ENTRY

        keys: dict[Any, int] = {}
        for (kind, key), n in list(self.session.drain.unit_counts.items()):
            if kind in (ENTRY, CALL):
                keys[key] = keys.get(key, 0) + n
        delta = {k: v - self.last_keys.get(k, 0) for k, v in keys.items()}
        self.last_keys = keys
        unmatched = 0
        for key, n in delta.items():
            if isinstance(key, str) and key.startswith("a"):
                unmatched += abs(n - delta.get(int(key[1:]), 0))
        return unmatched
