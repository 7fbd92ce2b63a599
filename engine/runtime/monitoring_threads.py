"""``thread:`` targets on sys.monitoring: everything one thread runs, by its ident.

Global PY_START/PY_RETURN events are on while a thread target is traced; the callbacks look
the running thread up and record only for traced threads. Mixed into ``MonitoringBackend``,
whose lock, tool id, token table and event refresh these methods use.
"""

from __future__ import annotations

import threading
import types
from time import perf_counter_ns
from typing import Any

from scopeline.engine.runtime.hooks import make_gate, render_exception
from scopeline.engine.runtime.recorder import ENTRY, EXCEPTION, EXIT, Recorder
from scopeline.engine.runtime.threads import dynamic_key, frame_arguments
from scopeline.engine.runtime.units import ThreadUnit

get_ident = threading.get_ident


class ThreadTargets:
    lock: Any
    threads: dict[int, Any]
    pending_threads: dict[int, Any]
    tokens: dict[int, Any]

    def _ensure_tool(self) -> int: ...  # provided by the backend

    def _refresh_global(self) -> None: ...

    def _release_tool(self) -> None: ...

    def add_thread(self, unit: ThreadUnit, recorder: Recorder) -> None:
        with self.lock:
            self._ensure_tool()
            entry = (unit, recorder, make_gate(recorder, recorder.skipped))
            thread = unit.thread
            if isinstance(thread, threading.Thread) and thread.ident is None:
                # Not started yet: its ident is known only once it runs.
                original_run = thread.run

                def run() -> None:
                    with self.lock:
                        self.threads[get_ident()] = entry
                        self._refresh_global()
                    original_run()

                thread.run = run  # type: ignore[method-assign]
                self.pending_threads[unit.uid] = (unit, recorder, run)
            else:
                assert unit.ident is not None
                self.threads[unit.ident] = entry
            self._refresh_global()

    def remove_thread(self, unit: ThreadUnit, recorder: Recorder) -> None:
        with self.lock:
            pending = self.pending_threads.pop(unit.uid, None)
            thread = unit.thread
            if (pending is not None and isinstance(thread, threading.Thread)
                    and thread.__dict__.get("run") is pending[2]):
                del thread.run
            for tid, (u, _, _) in list(self.threads.items()):
                if u is unit:
                    del self.threads[tid]
            self._refresh_global()
            self._release_tool()

    def _thread_start(self, frame: types.FrameType) -> None:
        entry = self.threads.get(get_ident())
        if entry is None:
            return
        if frame.f_globals.get("__name__", "").startswith("scopeline.engine"):
            return
        unit, rec, gate = entry
        tid = gate()
        if tid is None:
            return
        t = perf_counter_ns()
        key = dynamic_key(frame, rec)
        rec.queue.append((ENTRY, key, tid, t, frame_arguments(frame, rec)))
        self.tokens[id(frame)] = (None, (t, key, rec))  # hooks None: a thread target's call

    def _thread_end(self, token: Any, value: Any, exc: BaseException | None) -> None:
        t0, key, rec = token
        if exc is None:
            rec.queue.append((EXIT, key, get_ident(), perf_counter_ns(),
                              rec.render_value(value), t0))
        else:
            rec.queue.append((EXCEPTION, key, get_ident(), perf_counter_ns(),
                              render_exception(rec, exc), t0))

