"""What each capture path adds per event, measured in this process on this machine, cached.

The cost model (``costmodel.py``) prices a trace with these figures instead of constants. They
are measured with the real parts — ``planning.build_units``/``build_recorder``, the runtime
backend of this interpreter and ``CompileTimeInjector`` — on the sample functions of
``calibration_sample.py``, never through a stored session (``measuring.py`` does it). Each
figure is the median of paired, back-to-back blocks timed in this thread's CPU time: an
untraced copy of a function, then an identical copy carrying one kind of capture, so the
difference is what the capture adds. Every hook is removed before ``calibrate`` returns.

Cached in this process and on disk (``<data dir>/calibration.json``), keyed by Python
implementation and version, runtime backend, machine (host name, CPU count) and
``CALIBRATION_VERSION``. A calibration older than ``MAX_AGE_DAYS`` is measured again.
"""

from __future__ import annotations

import os
import platform
import threading
import time
from dataclasses import asdict, dataclass, field, fields
from typing import Any

# Bump when the hooks, the sample code or the way figures are derived change: older cached
# calibrations then no longer match the key and are measured again.
CALIBRATION_VERSION = 4
# Machine load, interpreter updates and Scopeline's own hooks drift; a week keeps figures
# current while costing one ~1 s measurement per week per interpreter.
MAX_AGE_DAYS = 7.0

measurements = 0  # calibrations measured by this process: the caches' observable counter
_cached: Calibration | None = None
_lock = threading.Lock()


@dataclass
class Calibration:
    """Added nanoseconds per event of each capture path (``*_ns``), and bytes per record."""

    key: str
    python: str
    backend: str
    machine: str
    measured_at: float  # time.time() when measured
    duration_ms: float  # how long measuring took (rewrites, installs, rounds)
    rounds: int
    untraced_call_ns: float  # a plain call of a two-argument function, untraced
    runtime_call_ns: float  # runtime function hooks: entry and exit of one call
    runtime_skipped_call_ns: float  # a call the runtime hooks see but sampling skips
    runtime_line_ns: float  # one captured line event, one local captured
    runtime_skipped_line_ns: float  # a line event asked for that sampling skips
    runtime_local_ns: float  # each further local captured at a runtime line event
    runtime_unwanted_line_ns: float  # a line run in a line-traced function, not asked for
    runtime_line_setup_ns: float  # per call of a function whose lines are traced
    injected_call_ns: float  # injected entry/exit probes of one call
    injected_skipped_call_ns: float  # an injected call probe that sampling skips
    injected_line_ns: float  # one injected line probe, one local captured
    injected_skipped_line_ns: float  # an injected line probe that sampling skips
    injected_local_ns: float  # each further local an injected line probe captures
    rewrite_ns_per_source_line: float  # one-off libcst rewrite + compile, per line of the file
    flush_record_ns: float  # the flusher's drain + encode + marshal of one record
    call_record_bytes: float  # a call's record as held in the buffer
    line_record_bytes: float  # a line event's record with one local
    local_bytes: float  # each further local in a line record
    checks: dict[str, list[int]] = field(default_factory=dict)  # variant: [captured, expected]
    clamped: list[str] = field(default_factory=list)  # figures raised to their floor
    source: str = "measured"  # or "disk cache <path>"

    @property
    def hybrid_call_ns(self) -> float:
        """Both sources on one call: runtime hooks (timing) plus injected entry/exit probes
        (the join keys)."""
        return self.runtime_call_ns + self.injected_call_ns

    @property
    def hybrid_line_ns(self) -> float:
        """In a hybrid session the locals at a line come from the injected probe only."""
        return self.injected_line_ns

    @property
    def complete(self) -> bool:
        """Every traced block captured exactly what it should have (nothing skipped)."""
        return all(got == want for got, want in self.checks.values())

    @property
    def measured_on(self) -> str:
        return time.strftime("%Y-%m-%d", time.localtime(self.measured_at))

    @property
    def age_days(self) -> float:
        return (time.time() - self.measured_at) / 86400

    def where(self) -> str:
        """'measured on this machine 2026-11-22 (sys.monitoring, CPython 3.12.3)'."""
        return f"measured on this machine {self.measured_on} ({self.backend}, {self.python})"

    def to_dict(self) -> dict[str, Any]:
        out = asdict(self)
        out.update(hybrid_call_ns=self.hybrid_call_ns, hybrid_line_ns=self.hybrid_line_ns,
                   complete=self.complete, measured_on=self.measured_on)
        return out

    @classmethod
    def from_dict(cls, row: dict[str, Any]) -> Calibration:
        names = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in row.items() if k in names})


def cache_key() -> str:
    from scopeline.engine.runtime.select import choose_backend_name

    return (f"v{CALIBRATION_VERSION}|{platform.python_implementation()} "
            f"{platform.python_version()}|{choose_backend_name()[0]}|{platform.node()}|"
            f"{os.cpu_count()} cpus")


def cache_path() -> Any:
    from scopeline.engine.store import default_data_dir

    return default_data_dir() / "calibration.json"


def calibrate(force: bool = False) -> Calibration:
    """This machine's calibration: from this process's cache, else the disk cache, else
    measured now (about a second) and cached. ``force`` measures again in any case."""
    global _cached, measurements
    with _lock:
        key = cache_key()
        cached = _cached
        if (not force and cached is not None and cached.key == key
                and cached.age_days <= MAX_AGE_DAYS):
            return cached
        if not force:
            stored = _load(key)
            if stored is not None:
                _cached = stored
                return stored
        from scopeline.engine.selection.measuring import measure

        calibration = measure(key)
        measurements += 1
        _save(calibration)
        _cached = calibration
        return calibration


def _db() -> Any:
    from scopeline.engine.store import AtomicJSONStorage
    from tinydb import TinyDB

    return TinyDB(str(cache_path()), storage=AtomicJSONStorage)


def _load(key: str) -> Calibration | None:
    from tinydb import Query

    try:
        rows = _db().search(Query().key == key)
        if not rows:
            return None
        calibration = Calibration.from_dict(dict(rows[0]))
    except (OSError, ValueError, TypeError):  # unreadable or from another layout: measure
        return None
    if calibration.age_days > MAX_AGE_DAYS:
        return None
    calibration.source = f"disk cache {cache_path()}"
    return calibration


def _save(calibration: Calibration) -> None:
    from tinydb import Query

    row = asdict(calibration)
    row["source"] = "measured"
    try:
        path = cache_path()
        path.parent.mkdir(parents=True, exist_ok=True)
        _db().upsert(row, Query().key == calibration.key)
    except OSError:
        pass  # a read-only data dir: the in-process cache still holds it
