"""The capture side of a session: hot-path hooks append raw records; limits are enforced here.

Hooks run inside the user's program on every traced call, so they do as little as possible:
a few comparisons, a clock read, one ``deque.append`` of a tuple. Values that cannot change
(ints, strs, ...) are kept as they are and rendered later by the drain; anything mutable is
rendered at once, so a record shows the value as it was at that moment.

The events-per-second limit costs the hot path nothing: it is folded into the buffer's
capacity. Each drain counts what was admitted in the current one-second window, and sets the
capacity to what the window still allows (or the buffer size, if smaller); a hook that finds
the buffer "full" counts the skip under the reason the capacity was set for.
"""

from __future__ import annotations

import itertools
import threading
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from scopeline.engine.saferepr import SafeRepr

# Record kinds (first item of every raw record tuple).
ENTRY, EXIT, EXCEPTION, LINE, RAISE, SUSPEND, RESUME, CALL, ASSIGN, EXPRESSION, CUSTOM = range(11)
MESSAGE_SEND, MESSAGE_RECEIVE = 11, 12
KIND_NAMES = ("function_entry", "function_exit", "function_exception", "line_execution",
              "function_exception", "suspend", "resume", "call", "variable_assignment",
              "expression_evaluation", "custom", "message_send", "message_receive")
# ASSIGN, EXPRESSION, CUSTOM: only injected (compile-time) probes make them
# CALL: a leaf call's entry and exit in one record, (CALL, uid, tid, t0, values, t1, value)
# MESSAGE_*: a queue put/get by traced code (correlation/messages.py),
# (kind, key, tid, t, line, message_id, queue, value, task, duration_ns)

# Kept as they are (immutable, and JSON can hold them): rendered later, off the hot path.
SCALARS = frozenset({int, float, bool, type(None), str})
SKIP_REASONS = ("sampling", "rate_limit", "buffer_full", "thread_limit", "memory_limit",
                "paused")


Rendered = tuple[str]


def rendered(text: str) -> Rendered:
    """A value rendered to its bounded repr at capture time: the 1-tuple ``(repr,)``.

    Kept values are never tuples, so a stored row tells the two apart with no marker, in any
    serialization (JSON writes ``["repr"]``, marshal keeps the tuple).
    """
    return (text,)


class Counter:
    """A thread-safe counter: ``itertools.count.__next__`` is one atomic C call under the GIL."""

    __slots__ = ("_count", "inc")

    def __init__(self) -> None:
        self._count = itertools.count()
        self.inc: Callable[[], int] = self._count.__next__

    @property
    def value(self) -> int:
        return int(repr(self._count)[6:-1])  # "count(N)": reading it must not advance it


@dataclass
class Limits:
    sampling_rate: float = 1.0
    max_events_per_second: int = 100_000
    buffer_size: int = 200_000
    max_traced_threads: int = 64
    memory_limit_mb: int = 256
    cpu_threshold_percent: int = 80


class Recorder:
    """One per session: where its hooks put raw records, and what they had to skip."""

    def __init__(self, limits: Limits, saferepr: SafeRepr) -> None:
        self.limits = limits
        self.saferepr = saferepr
        self.limits_repr_length = 200
        self.queue: deque[tuple[Any, ...]] = deque()
        self.on = True  # False while capture is held back (memory limit)
        self.off_reason = "memory_limit"
        self.rate = limits.sampling_rate  # the effective rate: may step below the configured one
        self.fast = self.rate >= 1.0  # on, and no sampling: the hooks' one-attribute check
        self.max_eps = limits.max_events_per_second
        self.window_count = 0  # admitted (drained) in the current one-second window
        self.window_skipped0 = 0
        self.windows_over_limit = 0
        self.over_limit_noted = False
        self.capacity = 0
        self.full_reason = "buffer_full"
        self.thread_names: dict[int, str] = {}
        self.refused_threads: set[int] = set()
        # why things were skipped -> counter; a skipped call counts once per event kind it hides
        self.skipped: dict[str, Counter] = {k: Counter() for k in SKIP_REASONS}
        self.skipped_lines: dict[str, Counter] = {k: Counter() for k in SKIP_REASONS}
        self.log: list[str] = []
        self._set_capacity()
        self.max_str = 200  # longer strings are rendered (bounded) at capture time
        self.dynamic: dict[int, str] = {}
        self.new_dynamic: dict[str, Any] = {}
        self._codes: list[Any] = []

    def keep(self, v: Any) -> bool:
        """Can ``v`` be stored as it is? Immutable, JSON-native, and short if a string."""
        t = type(v)
        return t in SCALARS and (t is not str or len(v) <= self.max_str)

    def capture(self, values: tuple[Any, ...]) -> tuple[Any, ...]:
        render = self.saferepr
        keep = self.keep
        return tuple(v if keep(v) else rendered(render(v)) for v in values)

    def capture_mapping(self, names: tuple[str, ...], mapping: dict[str, Any]) -> dict[str, Any]:
        render = self.saferepr
        keep = self.keep
        out: dict[str, Any] = {}
        for name in names or mapping:
            if name in mapping:
                v = mapping[name]
                out[name] = v if keep(v) else rendered(render(v))
        return out

    def render_value(self, value: Any) -> Any:
        return value if self.keep(value) else rendered(self.saferepr(value))

    def dynamic_key(self, code: Any, module: str) -> str:
        """A short stored name for a function a thread target ran (named once per session)."""
        key = self.dynamic.get(id(code))
        if key is None:
            from scopeline.engine.runtime.codeswap import Signature

            key = self.dynamic[id(code)] = f"d{len(self.dynamic)}"
            self._codes.append(code)  # keeps id(code) from being reused while we know it
            self.new_dynamic[key] = {
                "module": module, "function": code.co_qualname, "file": code.co_filename,
                "first_line": code.co_firstlineno, "argnames": list(Signature.of(code).all_names),
                "arity": code.co_argcount, "generator": bool(code.co_flags & 0xA0)}
        return key

    def take_new_dynamic(self) -> dict[str, Any]:
        taken, self.new_dynamic = self.new_dynamic, {}
        return taken

    # -- the slow paths the hooks call now and then ------------------------------------------
    def register_thread(self, tid: int) -> bool:
        if tid in self.refused_threads:
            return False
        if len(self.thread_names) >= self.limits.max_traced_threads:
            self.refused_threads.add(tid)
            self.note(f"thread {tid} not traced: max_traced_threads "
                      f"({self.limits.max_traced_threads}) reached")
            return False
        self.thread_names[tid] = threading.current_thread().name
        return True

    def full(self, counters: dict[str, Counter]) -> None:
        """A hook found the buffer at capacity: count why, and say so once per window."""
        reason = self.full_reason
        counters[reason].inc()
        if reason == "rate_limit" and not self.over_limit_noted:
            self.over_limit_noted = True
            self.windows_over_limit += 1
            if self.windows_over_limit <= 3:
                self.note(f"max_events_per_second={self.max_eps} reached: skipping (and "
                          "counting) events for the rest of this second, then sampling down")

    def _set_capacity(self) -> None:
        allowed = max(0, self.max_eps - self.window_count)
        buffer = self.limits.buffer_size
        self.capacity = min(buffer, allowed)
        self.full_reason = "rate_limit" if allowed < buffer else "buffer_full"

    def _total_skipped(self) -> int:
        return sum(c.value for c in self.skipped.values())

    def roll_window(self) -> None:
        """Called by the flusher once a second: open a new window, adapt the sampling rate."""
        skipped = self._total_skipped()
        attempted = self.window_count + len(self.queue) + skipped - self.window_skipped0
        configured = self.limits.sampling_rate
        if attempted > self.max_eps and self.over_limit_noted:
            new_rate = max(0.001, min(configured, self.rate * self.max_eps / attempted))
            if new_rate < self.rate:
                self.note(f"event rate {attempted}/s over max_events_per_second={self.max_eps}:"
                          f" sampling down to {new_rate:.3f}")
            self.set_effective_rate(new_rate)
        elif self.rate < configured and attempted < self.max_eps // 2:
            self.set_effective_rate(min(configured, self.rate * 2))
        self.window_count = 0
        self.window_skipped0 = skipped
        self.over_limit_noted = False
        self._set_capacity()

    def hold(self, reason: str) -> None:
        self.off_reason = reason
        self.on = False
        self.fast = False

    def release(self) -> None:
        self.on = True
        self.fast = self.rate >= 1.0

    def set_effective_rate(self, rate: float) -> None:
        self.rate = rate
        self.fast = self.on and rate >= 1.0

    def skip(self, reason: str) -> None:
        self.skipped[reason].inc()

    def note(self, message: str) -> None:
        if len(self.log) < 1000:
            self.log.append(message)

    def skipped_counts(self) -> dict[str, int]:
        return {k: c.value for k, c in self.skipped.items() if c.value}

    def skipped_line_counts(self) -> dict[str, int]:
        return {k: c.value for k, c in self.skipped_lines.items() if c.value}

    def set_sampling_rate(self, rate: float) -> None:
        self.limits.sampling_rate = rate
        self.set_effective_rate(rate)

    def set_max_events_per_second(self, max_eps: int) -> None:
        self.max_eps = self.limits.max_events_per_second = max_eps
        self._set_capacity()

    def set_buffer_size(self, size: int) -> None:
        self.limits.buffer_size = size
        self._set_capacity()

    def drain(self, limit: int | None = None) -> list[tuple[Any, ...]]:
        q = self.queue
        n = len(q) if limit is None else min(limit, len(q))
        pop = q.popleft
        records = [pop() for _ in range(n)]
        self.window_count += n
        self._set_capacity()
        return records
