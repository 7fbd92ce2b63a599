"""Rebuild Events from stored rows: names, call stacks and parents, in capture order."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any

from scopeline.engine.drain import decode_value
from scopeline.engine.events import Event
from scopeline.engine.runtime.recorder import (
    ASSIGN,
    CALL,
    ENTRY,
    EXCEPTION,
    EXIT,
    EXPRESSION,
    KIND_NAMES,
    LINE,
    MESSAGE_RECEIVE,
    MESSAGE_SEND,
    RAISE,
    RESUME,
    SUSPEND,
)


class Reader:
    def __init__(self, session_id: str, meta: dict[str, Any]) -> None:
        self.session_id = session_id
        self.units = {str(u["uid"]): u for u in meta.get("units", [])}
        self.sites = {str(s["site_id"]): s for s in meta.get("sites", [])}
        self.wall0 = meta.get("clock", {}).get("wall0", 0)
        self.perf0 = meta.get("clock", {}).get("perf0", 0)
        self.prefix = session_id[:8]
        self.seq = 0
        self.threads: dict[str, str] = {}
        # tid -> frames, innermost last: [event id, label, key, exact keys, joined by ast]
        self.stacks: dict[int, list[list[Any]]] = {}
        self.suspended: dict[Any, list[list[Any]]] = {}
        # hybrid: an injected record's key -> the runtime key of the same function
        self.mirror = {str(u["uid"]): str(u["mirror_of"]) for u in meta.get("units", [])
                       if "mirror_of" in u}
        self.exact = bool(meta.get("exact_keys", True))  # event_correlation_enabled
        self.call_counts: dict[tuple[int, str], int] = {}

    def events(self, batches: Iterable[dict[str, Any]]) -> Iterator[Event]:
        for batch in batches:
            for index, info in batch.get("dynamic", {}).items():
                self.units[index] = info
            self.threads.update(batch.get("threads", {}))
            for row in batch["rows"]:
                if row[0] == CALL:  # a leaf call in one record: its entry, then its exit
                    _, key, tid, t0, args, t1, value = row
                    yield self._event((ENTRY, key, tid, t0, args))  # type: ignore[misc]
                    yield self._event((EXIT, key, tid, t1, value, t0))  # type: ignore[misc]
                    continue
                event = self._event(row)
                if event is not None:
                    yield event

    def _event(self, row: list[Any]) -> Event | None:
        kind, key, tid, t = row[0], str(row[1]), row[2], row[3]
        info = self.units[key]
        stack = self.stacks.setdefault(tid, [])
        label = f"{info['module']}:{info['function']}"
        if kind == SUSPEND:  # a generator yielded: its frame leaves this thread's stack
            if stack and stack[-1][2] == key:
                self.suspended.setdefault(key, []).append(stack.pop())
            return None
        if kind == RESUME:
            parked = self.suspended.get(key)
            if parked:
                stack.append(parked.pop())
            return None
        if stack and stack[-1][4] is None and not (kind in (EXIT, EXCEPTION)
                                                   and key == stack[-1][2]):
            # A call whose injected half ended and whose runtime exit never came (its runtime
            # hooks were removed mid-call by a mode switch): it is over.
            stack.pop()
        self.seq += 1
        event_id = f"{self.prefix}-{self.seq}"
        parent = stack[-1][0] if stack else None
        data: dict[str, Any] = {}
        duration = None
        line = info["first_line"]
        call_stack = [s[1] for s in stack]
        keys = None
        # Hybrid: the injected half of a call the runtime hooks opened on this thread's top
        # frame. Nothing runs between a call's runtime entry hook and its first injected probe
        # (nor between its last probe and the runtime exit), so the top frame is that call.
        joined = (self.exact and key in self.mirror and stack
                  and stack[-1][2] == self.mirror[key]
                  and stack[-1][4] is (kind != ENTRY))
        if joined:
            top = stack[-1]
            keys = top[3]
            if kind == ENTRY:
                top[4] = True
                call_stack.append(label)
            elif kind in (EXIT, EXCEPTION):
                top[4] = None  # the call is over; its runtime exit should come next
                call_stack.append(label)
                duration = t - row[5] if row[5] is not None and row[5] >= 0 else None
        if kind == ENTRY:
            data["arguments"] = {n: decode_value(v) for n, v in zip(info["argnames"], row[4],
                                                                    strict=False)}
            if not joined:
                call_stack.append(label)
                if self.exact and self.mirror and key not in self.mirror:
                    n = self.call_counts[(tid, key)] = self.call_counts.get((tid, key), 0) + 1
                    keys = {"thread": tid, "code": label, "frame": event_id, "call": n}
                stack.append([event_id, label, key, keys, False])
        elif kind in (EXIT, EXCEPTION):
            if not joined:
                if stack and stack[-1][2] == key:
                    frame = stack.pop()
                    parent, keys = frame[0], frame[3]
                    call_stack = [s[1] for s in stack] + [label]
                else:
                    parent = None  # its entry was before the session (or on another stack)
                duration = t - row[5] if row[5] is not None and row[5] >= 0 else None
            data["return_value" if kind == EXIT else "exception"] = decode_value(row[4])
        elif kind == LINE:
            line = row[4]
            data["locals"] = {n: decode_value(v) for n, v in row[5].items()}
            if len(row) > 6:  # a tracepoint's hit: its id, hit number and log message
                data.update(row[6])
        elif kind == RAISE:
            data["exception"] = decode_value(row[4])
            data["propagated"] = False
            line = row[5]
        elif kind == ASSIGN:  # (.., line, name, value)
            line = row[4]
            data["variable_name"] = row[5]
            data["new_value"] = decode_value(row[6])
        elif kind == EXPRESSION:  # (.., line, site, value)
            line = row[4]
            site = self.sites.get(str(row[5]), {})
            data["expression"] = site.get("detail", "")
            data["value"] = decode_value(row[6])
        elif kind in (MESSAGE_SEND, MESSAGE_RECEIVE):  # (.., line, id, queue, value, task, ns)
            line, duration = row[4], row[9]
            data.update(message_id=row[5], queue=row[6], value=decode_value(row[7]))
            if row[8] is not None:
                data["task"] = row[8]
        return Event(
            event_id=event_id, session_id=self.session_id, type=KIND_NAMES[kind],
            source=info.get("source", "runtime"), timestamp=self.wall0 + (t - self.perf0),
            monotonic_time=t,
            thread_id=tid, thread_name=self.threads.get(str(tid), str(tid)),
            module=info["module"], function=info["function"], arity=info["arity"],
            file=info["file"], line=line, data=data, call_stack=call_stack,
            sequence_number=self.seq, parent_event_id=parent, duration_ns=duration,
            metadata={"keys": keys} if keys else {})
