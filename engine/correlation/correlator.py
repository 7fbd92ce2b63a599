"""One correlation session: the events of a trace session, joined into calls and messages.

How an event is joined, in order:

1. **Exact keys** (``metadata["keys"]``, set by the reader for hybrid sessions): every event
   with the same (thread, code, frame, call) is one call; confidence 1.0, at once.
2. **Message id**: a send and the receive with its id are one message; confidence 1.0, at once.
3. **Its call**: an exit, exception, line, assignment or expression event belongs to the call
   its ``parent_event_id`` names (the entry of the call it happened in, same source); it joins
   that call's group as soon as the call is joined, with the call's strategy and confidence.
4. **Scored strategies** for the rest (entries, and exits whose entry is before the capture):
   they need an event's neighbourhood (the offset between the clocks, the order of calls
   around it), so they run in batches. At ``flush`` the configured strategy
   (``hybrid.correlation.strategy``) runs first and the others on what it left; joins below
   ``confidence_threshold`` are discarded and their events stay pending (reported unmatched).
   Events exact keys or ids could not join (one side only) are tried by the strategies too.
   Mid-stream (``settle``, run on arrival once ``auto_settle`` events wait) only the
   timestamp strategy commits, and only the unbroken run of joins from the start of each
   group that are older than two windows and confident: nothing it commits can be undone
   by events still to come.

A group holds at most ``max_events_per_correlation`` events; events past the cap still get the
group's correlation id but are not carried in it: they are counted in the group's
``metadata["overflow"]`` and listed in ``overflow`` (nothing dropped silently).
"""

from __future__ import annotations

import threading
import uuid
from collections.abc import Iterable
from typing import Any

from scopeline.engine.correlation.model import (
    EXACT,
    Correlated,
    CorrelationConfig,
    CorrelationResult,
    Pending,
    exact_keys,
    generate_correlation_id,
    message_id,
)
from scopeline.engine.correlation.strategies import CALL_STRATEGIES, Join, message_sequence
from scopeline.engine.events import Event

AUTO_SETTLE = 20_000  # pending scored events that trigger a settle on arrival


class Flushed(list[Correlated]):
    """What ``flush`` returns: the joins it forced, plus what stayed unmatched."""

    def __init__(self, joined: Iterable[Correlated], unmatched: list[Event]) -> None:
        super().__init__(joined)
        self.unmatched = unmatched

    @property
    def unmatched_count(self) -> int:
        return len(self.unmatched)


class CorrelationSession:
    def __init__(self, config: CorrelationConfig, trace_session_id: str | None = None) -> None:
        self.ref = f"corr-{uuid.uuid4().hex[:12]}"
        self.trace_session_id = trace_session_id
        self.config = config
        self.lock = threading.RLock()
        self.groups: dict[str, Correlated] = {}
        self.aliases: dict[str, str] = {}  # a member's provisional id -> its group's id
        self.group_of: dict[str, str] = {}  # event id -> group id
        self.keyed: dict[tuple[Any, ...], list[Event]] = {}  # exact keys not joined yet
        self.messages: dict[str, list[Event]] = {}  # message id -> send/receive not joined yet
        self.pool: dict[str, Event] = {}  # waiting for a scored strategy (or their call)
        self.children: dict[str, list[Event]] = {}  # entry id -> its call's events waiting
        self.entry_ids: set[str] = set()  # function_entry events seen: the calls
        self.newest: dict[str, int] = {}  # source -> latest timestamp seen
        self.overflow: list[Event] = []
        self.discarded = 0  # proposed joins under the threshold
        self.auto_settle = self.settle_at = AUTO_SETTLE

    # -- arrival ---------------------------------------------------------------------------------
    def correlate(self, event: Event) -> Correlated | Pending:
        with self.lock:
            self.newest[event.source] = max(self.newest.get(event.source, 0), event.timestamp)
            if event.type == "function_entry":
                self.entry_ids.add(event.event_id)
            keys = exact_keys(event)
            if keys is not None:
                return self._add_exact(self.keyed, keys, event, EXACT,
                                       lambda ev: len({e.source for e in ev}) > 1)
            mid = message_id(event)
            if mid is not None:
                return self._add_exact(self.messages, mid, event, "message_sequence",
                                       lambda ev: len({e.type for e in ev}) > 1)
            parent = self.group_of.get(event.parent_event_id or "")
            if parent is not None and self._is_dependent(event):
                self._add(self.groups[parent], [event])
                return self.groups[parent]
            self._wait(event)
            if len(self.pool) >= self.settle_at:
                self.settle()
                # what is too recent stays: settle again once as many new events came
                self.settle_at = len(self.pool) + self.auto_settle
            gid = self.group_of.get(event.event_id)
            return self.groups[gid] if gid else Pending(generate_correlation_id(event), event)

    def _add_exact(self, table: dict[Any, list[Event]], key: Any, event: Event, strategy: str,
                   complete: Any) -> Correlated | Pending:
        cid = generate_correlation_id(event)
        group = self.groups.get(cid)
        if group is not None:
            self._add(group, [event])
            return group
        members = table.setdefault(key, [])
        members.append(event)
        if not complete(members):
            return Pending(cid, event)
        del table[key]
        return self._commit(cid, members, 1.0, strategy, {})

    def _wait(self, event: Event) -> None:
        self.pool[event.event_id] = event
        if (event.parent_event_id and event.type != "function_entry"
                and event.category != "message"):
            # filed under its parent even if that has not arrived yet (a feed out of order)
            self.children.setdefault(event.parent_event_id, []).append(event)

    def _is_dependent(self, event: Event) -> bool:
        """Part of a call we know (its parent is an entry), not a call or message itself."""
        return (event.type != "function_entry" and event.category != "message"
                and event.parent_event_id in self.entry_ids)

    # -- groups ----------------------------------------------------------------------------------
    def _commit(self, cid: str, events: list[Event], confidence: float, strategy: str,
                detail: dict[str, Any]) -> Correlated:
        ordered = sorted(events, key=_primary_rank)
        group = Correlated(cid, ordered[0], [], confidence,
                           {"strategy": strategy, **detail, "overflow": 0})
        self.groups[cid] = group
        self._add(group, ordered)
        return group

    def _add(self, group: Correlated, events: list[Event]) -> None:
        cap = int(self.config.max_events_per_correlation)
        meta = {"strategy": group.strategy, "confidence": group.confidence}
        waiting: list[Event] = []
        for event in events:
            self.pool.pop(event.event_id, None)
            if event.event_id in self.group_of:
                continue
            self.group_of[event.event_id] = group.correlation_id
            self.aliases[generate_correlation_id(event)] = group.correlation_id
            event.correlation_id = group.correlation_id
            event.metadata["correlation"] = dict(meta)
            if event is not group.primary_event:
                if 1 + len(group.related_events) < cap:
                    group.related_events.append(event)
                else:  # past the cap: still this call's, but not carried in the group
                    group.metadata["overflow"] += 1
                    event.metadata["correlation"]["overflow"] = True
                    self.overflow.append(event)
            waiting += self.children.pop(event.event_id, ())  # its call's events, if any wait
        if waiting:
            self._add(group, waiting)

    # -- scored joins ------------------------------------------------------------------------------
    def settle(self, *, final: bool = False) -> list[Correlated]:
        """Run the scored strategies over what waits (see the module doc); ``final`` is the
        flush: every strategy, on everything."""
        with self.lock:
            if final:  # what exact keys or ids could not join: let the strategies try
                for table in (self.keyed, self.messages):
                    for members in table.values():
                        for e in members:
                            self._wait(e)
                    table.clear()
            cutoff = {s: t - 2 * self.config.window_ns for s, t in self.newest.items()}
            roots = [e for e in self.pool.values() if not self._is_dependent(e)]
            made: list[Correlated] = []
            # Mid-stream only the timestamp strategy, and only what is settled (see there).
            order = self.config.order() if final else [
                s for s in self.config.order()[:1] if s == "timestamp_window"]
            for name in order:
                joins = self._propose(name, roots, cutoff=None if final else cutoff)
                used: set[str] = set()
                for join in sorted(joins, key=lambda j: -j.confidence):
                    if join.confidence < self.config.confidence_threshold:
                        self.discarded += 1
                        continue
                    pair = (join.first, join.second)
                    if any(e.event_id in used or e.event_id in self.group_of for e in pair):
                        continue
                    used.update(e.event_id for e in pair)
                    made.append(self._commit(generate_correlation_id(join.first), list(pair),
                                             join.confidence, join.strategy, join.detail))
                roots = [e for e in roots if e.event_id not in used]
            return made

    def _propose(self, name: str, roots: list[Event], *, cutoff: dict[str, int] | None,
                 ) -> list[Join]:
        if name == "message_sequence":
            return message_sequence([e for e in roots if e.category == "message"], self.config)
        calls = [e for e in roots if e.category != "message"]
        by_source: dict[str, list[Event]] = {}
        for e in calls:
            by_source.setdefault(e.source, []).append(e)
        if len(by_source) < 2:
            return []
        first = "runtime" if "runtime" in by_source else min(by_source)
        strategy = CALL_STRATEGIES[name]
        kwargs = {} if cutoff is None else {"cutoff": cutoff}
        return [j for source, events in sorted(by_source.items()) if source != first
                for j in strategy(by_source[first], events, self.config, **kwargs)]

    def flush(self) -> Flushed:
        made = self.settle(final=True)
        with self.lock:
            return Flushed(made, self.unmatched())

    def unmatched(self) -> list[Event]:
        with self.lock:
            waiting = [*self.pool.values(), *(e for t in (self.keyed, self.messages)
                                              for members in t.values() for e in members)]
            return sorted(waiting, key=lambda e: e.sequence_number)

    # -- queries -----------------------------------------------------------------------------------
    def get(self, correlation_id: str) -> Correlated | None:
        with self.lock:
            gid = correlation_id if correlation_id in self.groups else self.aliases.get(
                correlation_id)
            return self.groups.get(gid) if gid else None

    def result(self) -> CorrelationResult:
        with self.lock:
            return CorrelationResult(list(self.groups.values()), self.unmatched(),
                                     list(self.overflow))


def _primary_rank(e: Event) -> tuple[int, int, int]:
    """The runtime event first (it carries timing), and a call's entry (or a send) first."""
    return (e.source != "runtime", e.type not in ("function_entry", "message_send"),
            e.sequence_number)
