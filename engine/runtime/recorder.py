"""The capture side of a session: hot-path hooks append raw records; limits are enforced here.

Hooks run inside the user's program on every traced call, so they do as little as possible:
a clock read, the limit checks, one ``deque.append`` of a tuple. Values that cannot change
(ints, strs, ...) are kept as they are and rendered later by the drain; anything mutable is
rendered at once, so a record shows the value as it was at that moment.
"""

from __future__ import annotations

import itertools
import random
import threading
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from time import perf_counter_ns
from typing import Any

from scopeline.engine.saferepr import SafeRepr, is_immutable_scalar

# Record kinds (first item of every raw record tuple).
ENTRY, EXIT, EXCEPTION, LINE, RAISE = range(5)
KIND_NAMES = ("function_entry", "function_exit", "function_exception", "line_execution",
              "function_exception")

_SCALARS = frozenset({int, float, complex, bool, type(None), str, bytes, range})


class Rendered(str):
    """A value rendered to its bounded repr at capture time (as opposed to a kept scalar)."""

    __slots__ = ()


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
    buffer_size: int = 65_536
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
        self.recording = True  # False while paused, or held back by the memory limit
        self.rate = limits.sampling_rate  # the effective rate: may step below the configured one
        self.capacity = limits.buffer_size
        self.max_eps = limits.max_events_per_second
        self.window_end = 0
        self.window_count = 0
        self.last_window_rate = 0
        self.windows_over_limit = 0
        self.thread_names: dict[int, str] = {}
        self.refused_threads: set[int] = set()
        # why things were skipped -> counter; a skipped call counts once per event kind it hides
        self.skipped: dict[str, Counter] = {
            "sampling": Counter(), "rate_limit": Counter(), "buffer_full": Counter(),
            "thread_limit": Counter(), "memory_limit": Counter(), "paused": Counter(),
        }
        self.skipped_lines: dict[str, Counter] = {k: Counter() for k in self.skipped}
        self.log: list[str] = []

    # -- the hot path ------------------------------------------------------------------------
    def admit(self, t: int, tid: int) -> str | None:
        """None if an event at time ``t`` on thread ``tid`` may be recorded, else why not."""
        if not self.recording:
            return "paused" if self.recording is False else "memory_limit"
        if tid not in self.thread_names and not self._register_thread(tid):
            return "thread_limit"
        if self.rate < 1.0 and random.random() >= self.rate:
            return "sampling"
        if t >= self.window_end:
            self._roll_window(t)
        self.window_count += 1
        if self.window_count > self.max_eps:
            if self.window_count == self.max_eps + 1:
                self._limit_reached()
            return "rate_limit"
        if len(self.queue) >= self.capacity:
            return "buffer_full"
        return None

    def capture(self, values: tuple[Any, ...]) -> tuple[Any, ...]:
        for v in values:
            if type(v) not in _SCALARS:
                render = self.saferepr
                return tuple(v if type(v) in _SCALARS else Rendered(render(v)) for v in values)
        return values

    def capture_mapping(self, names: tuple[str, ...], mapping: dict[str, Any]) -> dict[str, Any]:
        render = self.saferepr
        out: dict[str, Any] = {}
        for name in names or mapping:
            if name in mapping:
                v = mapping[name]
                out[name] = v if type(v) in _SCALARS else Rendered(render(v))
        return out

    # -- the slow path -----------------------------------------------------------------------
    def _register_thread(self, tid: int) -> bool:
        if tid in self.refused_threads:
            return False
        if len(self.thread_names) >= self.limits.max_traced_threads:
            self.refused_threads.add(tid)
            self.note(f"thread {tid} not traced: max_traced_threads "
                      f"({self.limits.max_traced_threads}) reached")
            return False
        self.thread_names[tid] = threading.current_thread().name
        return True

    def _roll_window(self, t: int) -> None:
        seen = self.window_count
        self.last_window_rate = seen
        configured = self.limits.sampling_rate
        if seen > self.max_eps:
            # Sample the next second down to what the limit allows, and say so once.
            new_rate = max(0.001, min(configured, self.rate * self.max_eps / seen))
            if new_rate < self.rate:
                self.note(f"event rate {seen}/s over max_events_per_second={self.max_eps}: "
                          f"sampling down to {new_rate:.3f}")
            self.rate = new_rate
        elif self.rate < configured and seen < self.max_eps // 2:
            self.rate = min(configured, self.rate * 2)
        self.window_end = t + 1_000_000_000
        self.window_count = 0

    def _limit_reached(self) -> None:
        self.windows_over_limit += 1
        if self.windows_over_limit <= 3:
            self.note(f"max_events_per_second={self.max_eps} reached: skipping (and counting) "
                      "events for the rest of this second, sampling down after it")

    def skip(self, reason: str) -> None:
        self.skipped[reason].inc()

    def skip_line(self, reason: str) -> None:
        self.skipped_lines[reason].inc()

    def note(self, message: str) -> None:
        if len(self.log) < 1000:
            self.log.append(message)

    def skipped_counts(self) -> dict[str, int]:
        return {k: c.value for k, c in self.skipped.items() if c.value}

    def skipped_line_counts(self) -> dict[str, int]:
        return {k: c.value for k, c in self.skipped_lines.items() if c.value}

    def set_sampling_rate(self, rate: float) -> None:
        self.limits.sampling_rate = rate
        self.rate = rate

    def drain(self, limit: int | None = None) -> list[tuple[Any, ...]]:
        q = self.queue
        n = len(q) if limit is None else min(limit, len(q))
        pop = q.popleft
        return [pop() for _ in range(n)]


def clock() -> int:
    return perf_counter_ns()


__all__ = ["ENTRY", "EXCEPTION", "EXIT", "KIND_NAMES", "LINE", "RAISE", "Counter", "Limits",
           "Recorder", "Rendered", "clock", "is_immutable_scalar"]
