"""What sessions captured, per file: values by line and call statistics by function.

Hover, inlay hints and inline values all ask "what was seen at this line of this file?". The
answer comes from the latest session that captured anything in the file, stored or live.
Reading a session means rebuilding its events from batch files, which for 100,000 events
takes about a second, so each session is read once: a ``SessionValues`` keeps its ``Reader``
(which carries call stacks across batches) and the batch numbers it consumed, and a refresh
reads only the batches written since. Listing a session's folder is all a warm hover costs.

Protocol-free on purpose: unit tests drive it with real sessions and no LSP.
"""

from __future__ import annotations

import json
import marshal
import os
import threading
from collections import OrderedDict, deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from scopeline.engine.events import Event
from scopeline.engine.reader import Reader
from scopeline.engine.store import SPOOL_MAGIC, Store

HISTORY = 200  # hits kept per line (the count goes on past it)
FRAMES = 8  # recent calls kept per file, for inline values of a stopped frame
LIVE = ("active", "paused")


@dataclass(slots=True)
class Hit:
    """One execution of a line: the values seen there, by whom and when."""

    values: dict[str, str]
    thread: str
    time_ns: int
    frame: str | None  # the call it belongs to (its entry event id)
    kind: str  # line_execution | variable_assignment | expression_evaluation


@dataclass(slots=True)
class LineValues:
    hits: deque[Hit] = field(default_factory=lambda: deque(maxlen=HISTORY))
    count: int = 0

    def latest(self) -> dict[str, str]:
        """The newest value of every name seen at this line (within the kept history)."""
        out: dict[str, str] = {}
        for hit in reversed(self.hits):
            for name, value in hit.values.items():
                out.setdefault(name, value)
        return out

    def history(self, name: str | None = None) -> list[Hit]:
        """Hits, newest first; with ``name``, only those that saw it."""
        return [h for h in reversed(self.hits) if name is None or name in h.values]


@dataclass(slots=True)
class FunctionStats:
    qualname: str
    module: str
    file: str
    first_line: int | None
    calls: int = 0
    timed: int = 0
    total_ns: int = 0
    last_args: dict[str, str] | None = None
    last_return: str | None = None
    last_exception: str | None = None
    last_thread: str = ""
    last_time_ns: int = 0

    @property
    def name(self) -> str:
        return self.qualname.rsplit(".", 1)[-1]

    @property
    def mean_ns(self) -> float | None:
        return self.total_ns / self.timed if self.timed else None


@dataclass(slots=True)
class FileValues:
    path: str
    session_id: str
    lines: dict[int, LineValues] = field(default_factory=dict)
    functions: dict[str, FunctionStats] = field(default_factory=dict)  # by qualname
    # the last few calls that ran lines here: frame -> line -> its latest hit in that call
    frames: OrderedDict[str, dict[int, Hit]] = field(default_factory=OrderedDict)

    def function_named(self, name: str) -> FunctionStats | None:
        """A function by qualname or by its last part (the word under the cursor)."""
        if name in self.functions:
            return self.functions[name]
        matches = [f for f in self.functions.values() if f.name == name]
        return max(matches, key=lambda f: f.last_time_ns) if matches else None

    def function_at(self, line: int) -> FunctionStats | None:
        """The function defined on ``line`` (its ``def`` or first decorator)."""
        for stats in self.functions.values():
            if stats.first_line == line:
                return stats
        return None

    def latest_frame(self) -> dict[int, Hit] | None:
        return next(reversed(self.frames.values()), None) if self.frames else None

    @property
    def empty(self) -> bool:
        return not self.lines and not self.functions


def norm(path: str) -> str:
    return os.path.realpath(path) if path and not path.startswith("<") else path


class SessionValues:
    """One session's captured values, read incrementally from its batch files."""

    def __init__(self, store: Store, session_id: str, meta: dict[str, Any]) -> None:
        self.store = store
        self.session_id = session_id
        self.meta = meta
        self.reader = Reader(session_id, meta)
        self.files: dict[str, FileValues] = {}
        self.next_batch = 1  # batches are numbered from 1, written in order
        self.events_read = 0
        self.pending: dict[str, Hit] = {}  # frame -> its last line hit, awaiting "after" values
        self.runtime_names = {(u["module"], u["function"]) for u in meta.get("units", [])
                              if u.get("source", "runtime") == "runtime"}
        # both halves of a hybrid call are recorded; only the runtime one is counted
        self.hybrid = meta.get("mode") == "hybrid"
        self._norm: dict[str, str] = {}
        self.lock = threading.Lock()

    # -- reading ----------------------------------------------------------------------------
    def update_meta(self, meta: dict[str, Any]) -> None:
        """A later save of the session (a stop, a mode switch) may name more units and sites."""
        self.meta = meta
        self.reader.units.update({str(u["uid"]): u for u in meta.get("units", [])})
        self.reader.sites.update({str(s["site_id"]): s for s in meta.get("sites", [])})
        self.reader.mirror.update({str(u["uid"]): str(u["mirror_of"])
                                   for u in meta.get("units", []) if "mirror_of" in u})
        self.runtime_names |= {(u["module"], u["function"]) for u in meta.get("units", [])
                               if u.get("source", "runtime") == "runtime"}
        self.hybrid = meta.get("mode") == "hybrid"

    def refresh(self) -> int:
        """Read the batches written since last time; returns how many events that added."""
        with self.lock:
            before = self.events_read
            for batch in self._new_batches():
                self.add_events(self.reader.events([batch]))
            return self.events_read - before

    def _new_batches(self) -> Iterable[dict[str, Any]]:
        folder = self.store.sessions_dir / self.session_id / "events"
        try:
            names = os.listdir(folder)
        except FileNotFoundError:
            return
        numbers: dict[int, list[str]] = {}
        for name in names:
            if name.startswith(("batch-", "spool-")):
                stem = name.split(".", 1)[0]
                try:
                    numbers.setdefault(int(stem.split("-", 1)[1]), []).append(name)
                except ValueError:
                    continue
        while self.next_batch in numbers:
            batch = None
            # a spool may be adopted (renamed to batch-N.json) by another reader meanwhile
            for name in sorted(numbers[self.next_batch], reverse=True) + [
                    f"batch-{self.next_batch:06d}.json"]:
                batch = _read_batch(folder / name)
                if batch is not None:
                    break
            if batch is None:
                return  # being written: the next refresh takes it
            self.next_batch += 1
            yield batch

    # -- indexing ---------------------------------------------------------------------------
    def file(self, path: str) -> FileValues:
        key = self._norm.get(path)
        if key is None:
            key = self._norm[path] = norm(path)
        values = self.files.get(key)
        if values is None:
            values = self.files[key] = FileValues(key, self.session_id)
        return values

    def add_events(self, events: Iterable[Event]) -> None:
        for event in events:
            self.events_read += 1
            kind = event.type
            if kind == "line_execution":
                self._line(event)
            elif kind in ("variable_assignment", "expression_evaluation"):
                self._value(event)
            elif kind in ("function_entry", "function_exit", "function_exception"):
                self._call(event)

    def _hit(self, event: Event, values: dict[str, str]) -> Hit:
        fv = self.file(event.file)
        line = event.line or 0
        hit = Hit(values, event.thread_name, event.timestamp, event.parent_event_id, event.type)
        record = fv.lines.get(line)
        if record is None:
            record = fv.lines[line] = LineValues()
        record.hits.append(hit)
        record.count += 1
        if hit.frame is not None:
            frame = fv.frames.get(hit.frame)
            if frame is None:
                frame = fv.frames[hit.frame] = {}
                if len(fv.frames) > FRAMES:
                    fv.frames.popitem(last=False)
            else:
                fv.frames.move_to_end(hit.frame)
            frame[line] = hit
        return hit

    def _line(self, event: Event) -> None:
        local_values = dict(event.data.get("locals") or {})
        frame = event.parent_event_id
        # A line event shows the locals as the line starts; the next line of the same call
        # shows what the previous one did, which is what a user wants beside that line.
        previous = self.pending.get(frame) if frame else None
        if previous is not None and previous.kind == "line_execution":
            previous.values = dict(local_values)
        hit = self._hit(event, local_values)
        if frame:
            self.pending[frame] = hit

    def _value(self, event: Event) -> None:
        if event.type == "variable_assignment":
            name, value = event.data.get("variable_name", "?"), event.data.get("new_value")
        else:
            name, value = event.data.get("expression", "?"), event.data.get("value")
        frame = event.parent_event_id
        previous = self.pending.get(frame) if frame else None
        if (previous is not None and previous.kind == event.type
                and previous is self._last_hit_at(event) and name not in previous.values):
            previous.values[name] = str(value)  # one statement binding several names
            return
        hit = self._hit(event, {name: str(value)})
        if frame:
            self.pending[frame] = hit

    def _last_hit_at(self, event: Event) -> Hit | None:
        record = self.file(event.file).lines.get(event.line or 0)
        return record.hits[-1] if record and record.hits else None

    def _call(self, event: Event) -> None:
        if self.hybrid and event.source != "runtime" and \
                (event.module, event.function) in self.runtime_names:
            return  # the injected half of a call its runtime half already counts
        fv = self.file(event.file)
        stats = fv.functions.get(event.function)
        if stats is None:
            stats = fv.functions[event.function] = FunctionStats(
                event.function, event.module, fv.path, event.line)
        stats.last_thread, stats.last_time_ns = event.thread_name, event.timestamp
        if event.type == "function_entry":
            stats.calls += 1
            stats.last_args = dict(event.data.get("arguments") or {})
            stats.last_return = stats.last_exception = None
            return
        self.pending.pop(event.parent_event_id or "", None)  # that call is over
        if event.duration_ns is not None:
            stats.timed += 1
            stats.total_ns += event.duration_ns
        if event.type == "function_exit":
            stats.last_return = str(event.data.get("return_value"))
        else:
            stats.last_exception = str(event.data.get("exception"))


def _read_batch(path: Path) -> dict[str, Any] | None:
    try:
        if path.suffix == ".bin":
            data = path.read_bytes()
            if not data.startswith(SPOOL_MAGIC[:-1]) or data[len(SPOOL_MAGIC) - 1] > \
                    marshal.version:
                return None
            return marshal.loads(data[len(SPOOL_MAGIC):])
        doc = json.loads(path.read_text(encoding="utf-8"))
        batches = list(doc.get("batches", {}).values())
        return batches[0] if batches else None
    except (OSError, ValueError, EOFError, TypeError):
        return None


class ValueIndex:
    """Captured values for any file, from the latest session that captured something there.

    ``live_sessions`` returns this process's live sessions: they are flushed before a lookup
    so what they hold in memory shows too. Sessions of other processes (``scopeline run``)
    reach the store on their own flushes.
    """

    def __init__(self, store: Store, live_sessions: Callable[[], list[Any]] | None = None
                 ) -> None:
        self.store = store
        self.live_sessions = live_sessions or (lambda: [])
        self.sessions: dict[str, SessionValues] = {}
        # id -> (mtime of session.json, meta, the files its units name, or None: any file)
        self._metas: dict[str, tuple[int, dict[str, Any], frozenset[str] | None]] = {}
        self.lock = threading.RLock()

    def session(self, session_id: str) -> SessionValues | None:
        """The session's values, brought up to date (read once, then only new batches)."""
        meta = self._meta(session_id)
        if meta is None:
            return None
        with self.lock:
            values = self.sessions.get(session_id)
            if values is None:
                values = self.sessions[session_id] = SessionValues(self.store, session_id, meta)
            elif values.meta is not meta:
                values.update_meta(meta)
        values.refresh()
        return values

    def _meta(self, session_id: str) -> dict[str, Any] | None:
        path = self.store.sessions_dir / session_id / "session.json"
        try:
            mtime = path.stat().st_mtime_ns
        except OSError:
            return None
        cached = self._metas.get(session_id)
        if cached and cached[0] == mtime:
            return cached[1]
        meta = self.store._read_meta(path.parent)
        if meta is None:
            return cached[1] if cached else None  # mid-write: keep what we had
        self._metas[session_id] = (mtime, meta, _unit_files(meta))
        return meta

    def _flush_live(self) -> None:
        for session in self.live_sessions():
            if getattr(session, "status", "") in LIVE:
                try:
                    session.flush()
                except Exception:  # a session stopping under us: its stop flushes anyway
                    pass

    def candidates(self) -> list[str]:
        """Stored session ids, newest first."""
        try:
            ids = [p.name for p in self.store.sessions_dir.iterdir() if p.is_dir()]
        except FileNotFoundError:
            return []
        metas = [(self._meta(i) or {}, i) for i in ids]
        metas.sort(key=lambda m: m[0].get("started_at") or 0, reverse=True)
        return [i for meta, i in metas if meta]

    def for_file(self, path: str) -> FileValues | None:
        """What the latest session that captured anything in ``path`` saw there."""
        self._flush_live()
        key = norm(path)
        for session_id in self.candidates():
            files = self._metas[session_id][2]
            if files is not None and key not in files:
                continue
            values = self.session(session_id)
            if values is not None:
                found = values.files.get(key)
                if found is not None and not found.empty:
                    return found
        return None

    def forget(self, session_id: str) -> None:
        with self.lock:
            self.sessions.pop(session_id, None)
            self._metas.pop(session_id, None)


def _unit_files(meta: dict[str, Any]) -> frozenset[str] | None:
    """The files a session may hold events of, from its metadata alone; None for a session
    with thread targets, whose functions are only known once their events are read."""
    if any(r.startswith("thread:") for r in meta.get("runtime_refs") or ()):
        return None
    return frozenset(norm(u.get("file", "")) for u in meta.get("units", []))
