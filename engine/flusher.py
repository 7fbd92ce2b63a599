"""The background thread that moves captured records to the store and watches the limits."""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable
from typing import Any

from scopeline.engine import config


def rss_mb() -> float | None:
    try:
        with open("/proc/self/statm") as fh:
            pages = int(fh.read().split()[1])
        return pages * os.sysconf("SC_PAGE_SIZE") / 2**20
    except (OSError, ValueError, IndexError):
        return None


class Flusher:
    def __init__(self, sessions: Callable[[], list[Any]]) -> None:
        self.sessions = sessions
        self._stop = threading.Event()
        self.thread = threading.Thread(target=self._run, name="scopeline-flusher", daemon=True)
        self.base_rss = rss_mb()

    def start(self) -> None:
        self.thread.start()

    def alive(self) -> bool:
        return self.thread.is_alive()

    def stop(self) -> None:
        self._stop.set()

    def _run(self) -> None:
        cpu0, wall0 = time.thread_time(), time.monotonic()
        next_window = wall0 + 1.0
        while not self._stop.wait(config.get_with_fallback("runtime.tracing.flush_interval_ms",
                                                           200) / 1000):
            for session in self.sessions():
                try:
                    self._check_memory(session)
                    if session.status in ("active", "paused"):
                        if session.flush():
                            session.last_capture = time.monotonic()
                        self._check_idle(session)
                except Exception as exc:  # keep flushing the other sessions
                    session.recorder.note(f"flush failed: {exc!r}")
            cpu1, wall1 = time.thread_time(), time.monotonic()
            if wall1 >= next_window:  # a new events-per-second window for every session
                next_window = wall1 + 1.0
                for session in self.sessions():
                    session.recorder.roll_window()
                    try:
                        session.governor.tick()  # auto_escalate: step down if too costly
                    except Exception as exc:
                        session.recorder.note(f"mode check failed: {exc!r}")
            if wall1 - wall0 >= 1.0:
                self._check_cpu((cpu1 - cpu0) / (wall1 - wall0) * 100)
                cpu0, wall0 = cpu1, wall1

    def _check_idle(self, session: Any) -> None:
        timeout_ms = config.get_with_fallback("hybrid.session_management.session_timeout_ms", 0)
        if timeout_ms and time.monotonic() - session.last_capture > timeout_ms / 1000:
            from scopeline.engine import api

            session.recorder.note(f"nothing captured for {timeout_ms} ms "
                                  "(session_timeout_ms): stopped")
            api.stop_trace(session)

    def _check_memory(self, session: Any) -> None:
        rec = session.recorder
        current = rss_mb()
        if current is None or self.base_rss is None:
            return
        over = current - self.base_rss > rec.limits.memory_limit_mb
        if over and rec.on:
            rec.hold("memory_limit")  # hooks count what they skip meanwhile
            rec.note(f"memory grew {current - self.base_rss:.0f} MB over the start "
                     f"(memory_limit_mb={rec.limits.memory_limit_mb}): capture held back")
        elif not over and not rec.on:
            rec.release()
            rec.note("memory back under the limit: capture resumed")

    def _check_cpu(self, percent: float) -> None:
        # Our own thread's share of a core: past the threshold, capture costs too much.
        for session in self.sessions():
            rec = session.recorder
            if percent > rec.limits.cpu_threshold_percent and rec.rate > 0.01:
                rec.set_effective_rate(max(0.01, rec.rate / 2))
                rec.note(f"flusher used {percent:.0f}% CPU (cpu_threshold_percent="
                         f"{rec.limits.cpu_threshold_percent}): sampling down to {rec.rate:.3f}")
