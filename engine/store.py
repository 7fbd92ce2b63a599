"""Sessions and events on disk, in tinydb: one folder per session, one file per flushed batch.

A batch file is written once, atomically (temp file + rename), so a traced program that
crashes loses at most the batch it had not flushed yet, and a reader never sees half a file.
Keeping every session in its own folder means two traced programs never write the same file.
"""

from __future__ import annotations

import difflib
import json
import marshal
import os
import shutil
import tempfile
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from scopeline.engine.errors import ScopelineError
from scopeline.engine.events import Event
from tinydb import Query, TinyDB
from tinydb.storages import Storage


class AtomicJSONStorage(Storage):
    """tinydb storage that replaces the file in one step instead of rewriting it in place."""

    def __init__(self, path: str, **_: Any) -> None:
        self.path = Path(path)

    def read(self) -> dict[str, Any] | None:
        try:
            text = self.path.read_text(encoding="utf-8")
        except FileNotFoundError:
            return None
        return json.loads(text) if text.strip() else None

    def write(self, data: dict[str, Any]) -> None:
        try:
            text = json.dumps(data, check_circular=False, separators=(",", ":"))
        except ValueError:  # an int too long to print: bound it, then write
            from scopeline.engine.drain import bound_huge_ints

            text = json.dumps(bound_huge_ints(data), separators=(",", ":"))
        write_atomic(self.path, text.encode("utf-8"))

    def close(self) -> None:
        pass


SPOOL_MAGIC = b"SLSPOOL" + bytes([marshal.version])


def write_atomic(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` in one step (temp file + rename): never a torn file."""
    try:
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-")
    except FileNotFoundError:  # the first write into a new folder
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-")
    with os.fdopen(fd, "wb") as fh:
        fh.write(data)
    os.replace(tmp, path)


def default_data_dir() -> Path:
    env = os.environ.get("SCOPELINE_DATA_DIR")
    if env:
        return Path(env)
    try:
        from scopeline.engine.config import get_with_fallback

        configured = get_with_fallback("unified.storage.data_dir", "")
    except Exception:  # the config itself may be what is broken; the store still works
        configured = ""
    if configured:
        return Path(configured).expanduser()
    import platformdirs

    return Path(platformdirs.user_data_dir("scopeline", appauthor=False))


_save_lock = threading.Lock()


class Store:
    def __init__(self, data_dir: Path | str | None = None) -> None:
        self.root = Path(data_dir) if data_dir else default_data_dir()
        self.sessions_dir = self.root / "sessions"

    def _session_dir(self, session_id: str) -> Path:
        return self.sessions_dir / session_id

    def _db(self, path: Path) -> TinyDB:
        return TinyDB(str(path), storage=AtomicJSONStorage)

    # -- writing -------------------------------------------------------------------------------
    def save_session(self, meta: dict[str, Any]) -> None:
        try:
            # One writer at a time: a mode switch by the flusher's governor may save while the
            # program's thread stops the session (two truncate+insert would collide on ids).
            with _save_lock:
                db = self._db(self._session_dir(meta["session_id"]) / "session.json")
                # one write (upsert), so a reader never finds the table empty
                db.table("session").upsert(meta, Query().session_id == meta["session_id"])
        except OSError as exc:
            raise ScopelineError("permission_denied", f"cannot write the session store at "
                                 f"{self.root}: {exc}", details={"path": str(self.root)},
                                 suggestions=["Set SCOPELINE_DATA_DIR or "
                                              "unified.storage.data_dir to a writable folder."]
                                 ) from exc

    def append_batch(self, session_id: str, batch: dict[str, Any], batch_no: int) -> None:
        """One flushed batch of rows, spooled with marshal, written once, atomically.

        This runs inside the traced program, so it takes the cheapest encoding there is
        (marshal: ~5x faster than JSON here); whoever reads the session turns spooled batches
        into tinydb documents once (see ``batches``).
        """
        if not batch["rows"]:
            return
        folder = self._session_dir(session_id) / "events"
        write_atomic(folder / f"spool-{batch_no:06d}.bin", SPOOL_MAGIC + marshal.dumps(batch))

    # -- reading -------------------------------------------------------------------------------
    def sessions(self) -> list[dict[str, Any]]:
        out = []
        if not self.sessions_dir.is_dir():
            return out
        for folder in self.sessions_dir.iterdir():
            meta = self._read_meta(folder)
            if meta:
                out.append(meta)
        out.sort(key=lambda m: m.get("started_at", 0))
        return out

    def _read_meta(self, folder: Path) -> dict[str, Any] | None:
        path = folder / "session.json"
        if not path.exists():
            return None
        try:
            rows = self._db(path).table("session").all()
        except (ValueError, OSError):
            return None
        return dict(rows[0]) if rows else None

    def find(self, id_or_prefix: str) -> dict[str, Any]:
        sessions = self.sessions()
        if id_or_prefix == "latest" and sessions:
            return sessions[-1]
        matches = [m for m in sessions if m["session_id"].startswith(id_or_prefix)]
        if len(matches) == 1:
            return matches[0]
        ids = [m["session_id"] for m in sessions]
        if len(matches) > 1:
            raise ScopelineError("session_not_found", f"{id_or_prefix!r} matches "
                                 f"{len(matches)} sessions", details={"matches": ids},
                                 suggestions=["Give more characters of the session id."])
        nearest = difflib.get_close_matches(id_or_prefix, ids, n=3, cutoff=0.3)
        raise ScopelineError("session_not_found", f"no session {id_or_prefix!r} in {self.root}",
                             details={"nearest": nearest},
                             suggestions=[f"Did you mean {', '.join(nearest)}?"] if nearest
                             else None)

    def batches(self, session_id: str) -> Iterator[dict[str, Any]]:
        """Every batch in capture order; spooled ones become tinydb documents on the way."""
        folder = self._session_dir(session_id) / "events"
        if not folder.is_dir():
            return
        names = {p.name.split(".")[0]: p for p in folder.iterdir()
                 if p.name.startswith(("batch-", "spool-"))}
        for stem in sorted(names, key=lambda n: n.split("-", 1)[1]):
            path = names[stem]
            if path.suffix == ".bin":
                yield from self._adopt_spool(path)
            else:
                try:
                    yield from (dict(r) for r in self._db(path).table("batches").all())
                except ValueError:  # not ours: skip rather than fail the whole session
                    continue

    def _adopt_spool(self, path: Path) -> Iterator[dict[str, Any]]:
        data = path.read_bytes()
        if not data.startswith(SPOOL_MAGIC[:-1]):
            return
        if data[len(SPOOL_MAGIC) - 1] > marshal.version:
            raise ScopelineError("internal_error", f"{path} was written by a newer Python "
                                 "(marshal format): read it with that Python")
        batch = marshal.loads(data[len(SPOOL_MAGIC):])
        target = path.with_name(path.name.replace("spool-", "batch-")).with_suffix(".json")
        self._db(target).table("batches").insert(batch)
        try:
            path.unlink()
        except FileNotFoundError:  # another reader adopted it at the same time
            pass
        yield batch

    def events(self, session_id: str, meta: dict[str, Any] | None = None) -> Iterator[Event]:
        """The session's events, rebuilt from its stored rows in capture order."""
        from scopeline.engine.hybrid import correlate_view, needs_correlation
        from scopeline.engine.reader import Reader

        if meta is None:
            meta = self._read_meta(self._session_dir(session_id)) or {}
        events = Reader(session_id, meta).events(self.batches(session_id))
        if needs_correlation(meta):  # two sources, or messages: joined by the correlator
            yield from correlate_view(list(events), meta)
        else:
            yield from events

    def prune(self, keep: int) -> int:
        sessions = self.sessions()
        removed = 0
        for meta in sessions[: max(0, len(sessions) - keep)]:
            if meta.get("status") in ("stopped", "error"):
                shutil.rmtree(self._session_dir(meta["session_id"]), ignore_errors=True)
                removed += 1
        return removed
