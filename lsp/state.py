"""The one engine instance the editor features share (F and G): documents, store, sessions.

Protocol-free on purpose: nothing here imports pygls, so features can be unit-tested with a
plain ``EngineState``. New events reach the editor through the store: a session live in this
process and a program run with ``scopeline run`` both flush batches into the store's session
folders, so one watcher on that folder sees both. Changes are debounced (~200 ms) and
reported per session id to the callbacks registered with ``on_events_changed``; every
second without changes the whole store is counted again, so nothing missed stays missed.
"""

from __future__ import annotations

import logging
import marshal
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlparse

from scopeline.engine.store import SPOOL_MAGIC, Store

EventsCallback = Callable[[str], None]
DEBOUNCE_MS = 200
RESCAN_MS = 1_000


def uri_to_path(uri: str) -> str:
    """``file:///a/b.py`` → ``/a/b.py``; anything not a file URI is returned unchanged."""
    parsed = urlparse(uri)
    if parsed.scheme != "file":
        return uri
    return unquote(parsed.path)


class EngineState:
    def __init__(self, store: Store | None = None, log: logging.Logger | None = None) -> None:
        self.documents: dict[str, str] = {}
        self.store = store or Store()
        self.log = log or logging.getLogger("scopeline.lsp")
        self._callbacks: list[EventsCallback] = []
        self._counts: dict[str, int] = {}  # session id -> events stored, as last reported
        self._batch_rows: dict[tuple[str, str], int] = {}  # (session, batch number) -> events
        self._stop = threading.Event()
        self._watcher: threading.Thread | None = None

    # -- documents ---------------------------------------------------------------------------
    def path_of(self, uri: str) -> str:
        return uri_to_path(uri)

    def text_of(self, uri: str) -> str | None:
        return self.documents.get(uri)

    # -- sessions ----------------------------------------------------------------------------
    def live_sessions(self) -> list[Any]:
        """Sessions live in this process (``TraceSession`` objects)."""
        from scopeline.engine import api

        return list(api.list_traces())

    def event_count(self, session_id: str) -> int:
        """Events stored so far for a session, counted from its batches (each read once)."""
        folder = self.store.sessions_dir / session_id / "events"
        if not folder.is_dir():
            return 0
        total = 0
        for path in folder.iterdir():
            if not path.name.startswith(("batch-", "spool-")) or path.name.startswith(".tmp"):
                continue
            number = path.stem.split("-", 1)[1]
            key = (session_id, number)
            if key not in self._batch_rows:
                rows = _rows_in(path)
                if rows is None:  # being written or being adopted: count it next time
                    continue
                self._batch_rows[key] = rows
            total += self._batch_rows[key]
        return total

    # -- change notifications ----------------------------------------------------------------
    def on_events_changed(self, callback: EventsCallback) -> None:
        """``callback(session_id)`` runs (on the watcher thread) when a session has new events."""
        self._callbacks.append(callback)

    def check_sessions(self, session_ids: set[str] | None = None) -> list[str]:
        """Report sessions whose stored event count changed since last time; returns them."""
        if session_ids is None:
            if not self.store.sessions_dir.is_dir():
                return []
            session_ids = {p.name for p in self.store.sessions_dir.iterdir() if p.is_dir()}
        changed = []
        for sid in sorted(session_ids):
            count = self.event_count(sid)
            if count != self._counts.get(sid, 0):
                self._counts[sid] = count
                changed.append(sid)
        for sid in changed:
            for callback in list(self._callbacks):
                try:
                    callback(sid)
                except Exception:  # one failing feature must not silence the others
                    self.log.exception("events-changed callback failed for %s", sid)
        return changed

    def last_count(self, session_id: str) -> int:
        return self._counts.get(session_id, 0)

    def start_watching(self) -> None:
        """Watch the store's session folders on a thread; idempotent."""
        if self._watcher is not None:
            return
        self.store.sessions_dir.mkdir(parents=True, exist_ok=True)
        # what is already stored is history, not news
        for sid in (p.name for p in self.store.sessions_dir.iterdir() if p.is_dir()):
            self._counts[sid] = self.event_count(sid)
        self._stop.clear()
        self._watcher = threading.Thread(target=self._watch, name="scopeline-lsp-watch",
                                         daemon=True)
        self._watcher.start()

    def stop_watching(self) -> None:
        self._stop.set()
        if self._watcher is not None:
            self._watcher.join(timeout=2)
            self._watcher = None

    def _watch(self) -> None:
        import watchfiles

        root = self.store.sessions_dir
        try:
            # yield_on_timeout: an empty set every RESCAN_MS, on which everything is counted
            # again: what changed while the watch was being set up, or was missed, shows up
            for changes in watchfiles.watch(root, debounce=DEBOUNCE_MS, step=50,
                                            stop_event=self._stop, yield_on_timeout=True,
                                            rust_timeout=RESCAN_MS, raise_interrupt=False):
                if not changes:
                    self.check_sessions()
                    continue
                touched = set()
                for _, raw in changes:
                    path = Path(raw)
                    if path.is_relative_to(root) and path != root:
                        touched.add(path.relative_to(root).parts[0])
                self.check_sessions(touched)
        except Exception:
            self.log.exception("the store watcher stopped")


def _rows_in(path: Path) -> int | None:
    """Events in one batch file (a leaf-call record holds two: entry and exit)."""
    try:
        if path.suffix == ".bin":
            data = path.read_bytes()
            if not data.startswith(SPOOL_MAGIC[:-1]):
                return None
            batches = [marshal.loads(data[len(SPOOL_MAGIC):])]
        else:
            import json

            doc = json.loads(path.read_text(encoding="utf-8"))
            batches = list(doc.get("batches", {}).values())
    except (OSError, ValueError, EOFError, TypeError):
        return None
    from scopeline.engine.runtime.recorder import CALL

    return sum(len(b["rows"]) + sum(1 for r in b["rows"] if r[0] == CALL) for b in batches)
