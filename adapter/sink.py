"""A debug session's captured events: into the store as a Scopeline session, out as DAP.

The store session is what the LSP side reads (hover, inlay hints, trace tree), through the
same watcher as any other session, while the debug session runs. Each batch also gives the
editor its tracepoint messages as ``output`` events and one ``scopeline.events`` event.
"""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Callable
from typing import Any

from scopeline.engine.store import Store

Emit = Callable[[str, dict[str, Any]], None]  # (event name, body)


class SessionSink:
    def __init__(self, store: Store, emit: Emit, program: list[str]) -> None:
        self.store = store
        self.emit = emit
        self.session_id = uuid.uuid4().hex
        self.lock = threading.Lock()
        self.units: list[dict[str, Any]] = []
        self.batches = 0
        self.count = 0
        self.dropped = 0
        self.log: list[str] = []
        self.meta: dict[str, Any] = {
            "session_id": self.session_id, "mode": "runtime",
            "mode_reason": "tracepoints of a scopeline debug session", "backend": "",
            "backend_reason": "", "targets": [], "options": {}, "started_at": time.time(),
            "stopped_at": None, "runtime_refs": [], "compile_time_refs": [],
            "status": "active", "stats": {"captured": {}}, "log": self.log, "units": self.units,
            "clock": {}, "exact_keys": True, "sites": [], "fallbacks": [],
            "metadata": {"program": program, "debug_session": True},
        }

    def ready(self, message: dict[str, Any]) -> None:
        with self.lock:
            self.meta["backend"] = message.get("backend", "")
            self.meta["backend_reason"] = message.get("backend_reason", "")
            self.meta["clock"] = message.get("clock", {})
            self.store.save_session(self.meta)

    def placed(self, targets: list[str]) -> None:
        with self.lock:
            self.meta["targets"] = sorted(set(self.meta["targets"]) | set(targets))
            self.meta["runtime_refs"] = self.meta["targets"]

    def events(self, message: dict[str, Any]) -> None:
        rows = message.get("rows") or []
        with self.lock:
            if message.get("units"):
                self.units.extend(message["units"])
                self.store.save_session(self.meta)
            if not rows:
                return
            self.batches += 1
            self.store.append_batch(self.session_id, {
                "rows": rows, "dynamic": {}, "threads": message.get("threads", {})},
                self.batches)
            self.count += len(rows)
            captured = self.meta["stats"]["captured"]
            captured["line_execution"] = captured.get("line_execution", 0) + len(rows)
        for row in rows:
            extra = row[6] if len(row) > 6 else {}
            if "message" in extra:
                self.emit("output", {"category": "console", "output": extra["message"] + "\n"})
        self.emit("scopeline.events", {"sessionId": self.session_id, "count": len(rows),
                                       "total": self.count})

    def stop(self, bye: dict[str, Any] | None) -> None:
        with self.lock:
            if self.meta["status"] == "stopped":
                return
            if bye:
                self.dropped = int(bye.get("dropped", 0))
                if self.dropped:
                    self.log.append(f"the program dropped {self.dropped} events "
                                    "(the engine was unreachable and the buffer was full)")
                skipped = bye.get("skipped") or {}
                self.meta["stats"]["skipped_lines"] = skipped
            else:
                self.log.append("the program ended without flushing (killed?): events after "
                                "the last batch are lost")
            self.meta["status"] = "stopped"
            self.meta["stopped_at"] = time.time()
            self.meta["stats"]["dropped"] = {"line_execution": self.dropped}
            self.store.save_session(self.meta)
