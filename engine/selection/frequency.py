"""How often a function runs: measured by a session that traced it, else guessed from source.

Measured: every stored session's meta carries ``stats.calls`` ({"module:qualname": calls
recorded}) and its time span (started_at, stopped_at); the latest session that recorded a
function gives its calls per second. Sessions live in this process count too, up to now.

Static: call sites are matched by name (``f(...)`` and ``obj.f(...)`` both call "f"), so
this is an estimate and says so. A call inside a loop, recursion, a property read in a
loop or a special method Python calls on its own make a function run often.
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from scopeline.engine.selection.metrics import FileMetrics, FunctionMetrics
from scopeline.engine.store import Store

# Measured calls per second at or above which a function counts as medium / high frequency.
# A runtime hook costs about a microsecond a call: at 1,000 calls/s that is ~0.1% of a core.
MEDIUM_RATE = 10.0
HIGH_RATE = 1_000.0

# Special methods the interpreter calls implicitly, often many times per statement.
HOT_DUNDERS = frozenset({"__next__", "__anext__", "__iter__", "__getitem__", "__setitem__",
                         "__contains__", "__len__", "__hash__", "__eq__", "__lt__", "__le__",
                         "__gt__", "__ge__", "__getattr__", "__getattribute__", "__get__",
                         "__call__"})
_PROPERTY = ("property", "functools.cached_property", "cached_property")
_LEVELS = ("low", "medium", "high")


def level_of_rate(rate: float) -> str:
    return "high" if rate >= HIGH_RATE else "medium" if rate >= MEDIUM_RATE else "low"


def highest(levels: Iterable[str]) -> str:
    return max(levels, key=_LEVELS.index, default="low")


# --------------------------------------------------------------------------- static


class CallIndex:
    """Call sites by called name over one module or a whole project."""

    def __init__(self, files: Iterable[FileMetrics], scope: str) -> None:
        self.scope = scope  # "its module" | "the project": said in the reasons
        self.sites: dict[str, list[tuple[str, int]]] = {}  # name -> [(caller, loop depth)]
        self.loop_attrs: set[str] = set()
        for fm in files:
            for func in fm.functions:
                for name, depth in func.calls:
                    self.sites.setdefault(name, []).append((func.qualname, depth))
            for name, depth in fm.outer_calls:
                self.sites.setdefault(name, []).append(("<module>", depth))
            self.loop_attrs.update(fm.loop_attrs)


def _places(n: int) -> str:
    return f"{n} place" + ("" if n == 1 else "s")


def static_frequency(func: FunctionMetrics, index: CallIndex) -> tuple[str, str]:
    """(level, words) for a function no session has measured."""
    where = f"in {index.scope}"
    sites = [(caller, depth) for caller, depth in index.sites.get(func.name, [])
             if caller != func.qualname]
    in_loop = [depth for _, depth in sites if depth >= 1]
    nested = [depth for depth in in_loop if depth >= 2]
    is_property = any(d in _PROPERTY or d.endswith((".setter", ".getter", ".deleter"))
                      for d in func.decorators)
    if any(name == func.name for name, _ in func.calls):
        return "high", "static: recursive (it calls itself)"
    if nested:
        return "high", f"static: called inside nested loops in {_places(len(nested))} {where}"
    if len(in_loop) >= 3:
        return "high", f"static: called inside a loop in {_places(len(in_loop))} {where}"
    if in_loop:
        return "medium", f"static: called inside a loop in {_places(len(in_loop))} {where}"
    if is_property and func.name in index.loop_attrs:
        return "high", f"static: a property, read inside a loop {where}"
    if is_property:
        return "medium", "static: a property, run on every attribute read"
    if func.name in HOT_DUNDERS:
        return "medium", f"static: {func.name} is called implicitly by Python"
    if len(sites) >= 5:
        return "medium", f"static: called from {_places(len(sites))} {where}, none in a loop"
    if sites:
        return "low", f"static: called in {_places(len(sites))} {where}, none in a loop"
    return "low", f"static: no call site {where}"


# --------------------------------------------------------------------------- measured


@dataclass(frozen=True)
class Measured:
    calls: int  # estimated calls in the span (recorded, scaled up for skipped calls)
    recorded: int
    seconds: float
    session_id: str
    live: bool = False

    @property
    def rate(self) -> float:
        return self.calls / max(self.seconds, 1e-3)

    def words(self) -> str:
        count = (f"{self.calls:,} calls" if self.calls == self.recorded else
                 f"~{self.calls:,} calls ({self.recorded:,} recorded, scaled for skipped "
                 "calls)")
        state = "live session" if self.live else "session"
        return (f"runtime counters: {count} in {self.seconds:,.2f} s ({self.rate:,.0f}/s) "
                f"in {state} {self.session_id[:8]}")


class RuntimeCounters:
    """The latest measurement of each function, from stored and live sessions."""

    def __init__(self, metas: Iterable[tuple[dict[str, Any], bool]]) -> None:
        self.by_file: dict[tuple[str, str], Measured] = {}
        self.by_name: dict[str, Measured] = {}
        for meta, live in metas:  # oldest first: a later session replaces an earlier one
            self._add(meta, live)

    def _add(self, meta: dict[str, Any], live: bool) -> None:
        stats = meta.get("stats") or {}
        calls: dict[str, int] = stats.get("calls") or {}
        started, stopped = meta.get("started_at"), meta.get("stopped_at")
        if not calls or started is None or (stopped is None and not live):
            return  # nothing counted, or no span to divide by (crashed before stopping)
        seconds = (stopped if stopped is not None else time.time()) - started
        recorded_total = sum(calls.values())
        dropped = (stats.get("dropped") or {}).get("function_entry", 0)
        scale = (recorded_total + dropped) / recorded_total if recorded_total else 1.0
        files = {f"{u['module']}:{u['function']}": u.get("file")
                 for u in meta.get("units", [])}
        for name, n in calls.items():
            if n <= 0:
                continue
            measured = Measured(round(n * scale), n, seconds, meta["session_id"], live)
            self.by_name[name] = measured
            file = files.get(name)
            if file:
                qualname = name.split(":", 1)[1]
                self.by_file[(os.path.normcase(os.path.abspath(file)), qualname)] = measured

    def lookup(self, file: str | None, module: str | None, qualname: str) -> Measured | None:
        if file:
            found = self.by_file.get((os.path.normcase(os.path.abspath(file)), qualname))
            if found is not None:
                return found
        return self.by_name.get(f"{module}:{qualname}") if module else None


_stored_memo: dict[str, tuple[tuple[Any, ...], list[dict[str, Any]]]] = {}


def _stored_metas(store: Store) -> list[dict[str, Any]]:
    """Stored session metas, re-read only when a session file changed."""
    folder = Path(store.sessions_dir)
    try:
        signature = tuple(sorted((e.name, e.stat().st_mtime_ns) for e in os.scandir(folder)
                                 if (Path(e.path) / "session.json").exists()))
    except OSError:
        return []
    key = str(folder)
    memo = _stored_memo.get(key)
    if memo is None or memo[0] != signature:
        memo = (signature, store.sessions())
        _stored_memo[key] = memo
    return memo[1]


def runtime_counters() -> RuntimeCounters:
    from scopeline.engine import api

    stored = [m for m in _stored_metas(Store()) if m.get("stopped_at") is not None]
    live = {}
    for session in api.list_traces():
        meta = {"session_id": session.session_id, "started_at": session.started_at,
                "stopped_at": None, "stats": session.stats(),
                "units": [{"module": u.module, "function": u.qualname, "file": u.file}
                          for u in session.units]}
        live[session.session_id] = meta
    metas = [(m, False) for m in stored if m["session_id"] not in live]
    metas += [(m, True) for m in live.values()]
    metas.sort(key=lambda pair: pair[0].get("started_at") or 0)
    return RuntimeCounters(metas)
