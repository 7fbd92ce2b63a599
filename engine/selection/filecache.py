"""Source metrics by file hash: a file is parsed once, until its bytes change.

The key is sha256 of the analysis version and the file's bytes, so the cached metrics are
independent of where the file lives (module and path are attached by the caller). Rows
live in tinydb under the data dir (``analysis/metrics.json``), and the last few hundred in
this process's memory. The tinydb file is read once per cache object and written once per
``save()``: a project of many files costs one read and one write, not one per file.
"""

from __future__ import annotations

import hashlib
import time
from collections import OrderedDict
from pathlib import Path
from typing import Any

from scopeline.engine.errors import ScopelineError
from scopeline.engine.selection.metrics import FileMetrics, file_metrics
from scopeline.engine.store import AtomicJSONStorage, default_data_dir
from tinydb import TinyDB

# Bumped whenever what metrics.py measures changes: older cached rows are then unused.
ANALYSIS_VERSION = 2
MAX_ROWS = 5_000  # oldest rows beyond this are dropped when the cache is saved
_MEMORY: OrderedDict[str, FileMetrics] = OrderedDict()
_MEMORY_SIZE = 512


def file_key(data: bytes) -> str:
    digest = hashlib.sha256(f"scopeline-analysis-{ANALYSIS_VERSION}\0".encode())
    digest.update(data)
    return digest.hexdigest()


def cache_path() -> Path:
    return default_data_dir() / "analysis" / "metrics.json"


class MetricsCache:
    """Metrics of source files by content hash; counts what it really had to parse."""

    def __init__(self, path: Path | None = None, *, use_memory: bool = True) -> None:
        self.path = path or cache_path()
        self.use_memory = use_memory
        self.parsed = 0  # files parsed by this object
        self.cached = 0  # files served from the cache
        self._rows: dict[str, dict[str, Any]] | None = None
        self._new: dict[str, dict[str, Any]] = {}

    def _load(self) -> dict[str, dict[str, Any]]:
        if self._rows is None:
            try:
                rows = TinyDB(str(self.path), storage=AtomicJSONStorage).table("files").all()
            except (ValueError, OSError):  # unreadable cache: start afresh, it is only a cache
                rows = []
            self._rows = {r["key"]: dict(r) for r in rows if "key" in r}
        return self._rows

    def metrics(self, file: str) -> FileMetrics:
        """The metrics of ``file``; a file that does not parse raises compilation_failed."""
        try:
            data = Path(file).read_bytes()
        except OSError as exc:
            raise ScopelineError("permission_denied", f"cannot read {file}: {exc}",
                                 details={"path": file}) from exc
        key = file_key(data)
        found = _MEMORY.get(key) if self.use_memory else None
        if found is None:
            row = self._new.get(key) or self._load().get(key)
            if row is not None:
                if "error" in row:
                    self.cached += 1
                    raise _syntax_error(file, row["error"])
                found = FileMetrics.from_row(row["metrics"])
        if found is not None:
            self.cached += 1
            self._remember(key, found)
            return found
        self.parsed += 1
        try:
            found = file_metrics(data)
        except (SyntaxError, ValueError, RecursionError, UnicodeDecodeError) as exc:
            lines = [line.strip() for line in str(exc).strip().splitlines()[:2]]
            message = " ".join(lines) or type(exc).__name__
            self._new[key] = {"key": key, "error": message, "seen": time.time()}
            raise _syntax_error(file, message) from exc
        self._new[key] = {"key": key, "metrics": found.to_row(), "seen": time.time()}
        self._remember(key, found)
        return found

    def _remember(self, key: str, found: FileMetrics) -> None:
        if not self.use_memory:
            return
        _MEMORY[key] = found
        _MEMORY.move_to_end(key)
        while len(_MEMORY) > _MEMORY_SIZE:
            _MEMORY.popitem(last=False)

    def save(self) -> None:
        """Write what was parsed since the last save (one write); never fails the caller."""
        if not self._new:
            return
        rows = self._load()
        rows.update(self._new)
        self._new = {}
        keep = sorted(rows.values(), key=lambda r: r.get("seen", 0))[-MAX_ROWS:]
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            AtomicJSONStorage(str(self.path)).write(
                {"files": {str(i + 1): row for i, row in enumerate(keep)}})
        except OSError:  # a read-only data dir costs speed, not results
            pass


def _syntax_error(file: str, message: str) -> ScopelineError:
    return ScopelineError("compilation_failed", f"{file} does not parse: {message}",
                          details={"path": file},
                          suggestions=["Fix the syntax error; the other files are analysed "
                                       "as usual."])


def clear_memory() -> None:
    """Forget the in-process copies (tests use it to see the on-disk cache at work)."""
    _MEMORY.clear()
