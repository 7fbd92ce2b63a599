"""Turn a session's raw records into rows for the store, cheaply.

This runs inside the traced program (a background flusher, or at flush/stop), and under the
GIL every microsecond here is one the program waits. So a row is the raw record itself:
kept scalars stay as they are (JSON holds ints, floats, bools, None and short strings), values
rendered at capture time are ``Rendered`` 1-tuples (JSON: ``["repr"]``). Only long strings and
the keys of thread targets' functions need work. ``Event`` objects are built by whoever reads
the rows (see ``reader``).
"""

from __future__ import annotations

import types
from collections import Counter
from typing import Any

from scopeline.engine.runtime.codeswap import Signature
from scopeline.engine.runtime.recorder import (
    ENTRY,
    EXCEPTION,
    EXIT,
    KIND_NAMES,
    LINE,
    RAISE,
    Recorder,
    Rendered,
)
from scopeline.engine.runtime.units import Unit
from scopeline.engine.saferepr import SafeRepr


def unit_table(units: list[Unit]) -> list[dict[str, Any]]:
    """What a reader needs to name a static unit's events (saved with the session)."""
    return [{"uid": u.uid, "module": u.module, "function": u.qualname, "file": u.file,
             "first_line": u.first_line, "argnames": list(u.argnames), "arity": u.arity,
             "generator": bool(u.code.co_flags & 0xA0)} for u in units]


class Drain:
    def __init__(self, recorder: Recorder, saferepr: SafeRepr) -> None:
        self.recorder = recorder
        self.render = saferepr
        self.max_str = max(8, saferepr.maxstring if hasattr(saferepr, "maxstring") else 200)
        self.dynamic: dict[tuple[types.CodeType, str], str] = {}  # thread targets' functions
        self.counts: Counter[str] = Counter()

    def _bounded(self, v: Any) -> Any:
        """A kept value as it may be stored: long strings and huge ints become reprs."""
        if type(v) is str:
            return v if len(v) <= self.max_str else Rendered(self.render(v))
        if type(v) is int and v.bit_length() > 256:
            return Rendered(self.render(v))
        return v

    def _values(self, values: tuple[Any, ...]) -> tuple[Any, ...]:
        for v in values:
            if type(v) is str and len(v) > self.max_str or type(v) is int and v.bit_length() > 256:
                return tuple(map(self._bounded, values))
        return values

    def _key(self, key: Any, new_dynamic: dict[str, Any]) -> str:
        name = self.dynamic.get(key)
        if name is None:
            code, module = key
            name = self.dynamic[key] = f"d{len(self.dynamic)}"
            new_dynamic[name] = {
                "module": module, "function": code.co_qualname, "file": code.co_filename,
                "first_line": code.co_firstlineno, "argnames": list(Signature.of(code).all_names),
                "arity": code.co_argcount, "generator": bool(code.co_flags & 0xA0)}
        return name

    def encode(self, records: list[tuple[Any, ...]]) -> dict[str, Any]:
        """One batch: the rows, plus the names and threads first seen in it."""
        rows: list[Any] = []
        new_dynamic: dict[str, Any] = {}
        for rec in records:
            if type(rec[1]) is not int:
                rec = (rec[0], self._key(rec[1], new_dynamic), *rec[2:])
            kind = rec[0]
            if kind == ENTRY:
                values = self._values(rec[4])
                if values is not rec[4]:
                    rec = (*rec[:4], values)
            elif kind in (EXIT, EXCEPTION, RAISE):
                v = rec[4]
                if type(v) is str or type(v) is int:
                    rec = (*rec[:4], self._bounded(v), *rec[5:])
            elif kind == LINE:
                rec = (*rec[:5], {n: self._bounded(v) for n, v in rec[5].items()})
            rows.append(rec)
        self.counts.update(KIND_NAMES[r[0]] for r in records)
        names = self.recorder.thread_names
        return {"rows": rows, "dynamic": new_dynamic,
                "threads": {str(tid): names.get(tid, str(tid)) for tid in
                            {r[2] for r in records}}}


def decode_value(v: Any) -> str:
    """A stored value as the repr a user reads."""
    if type(v) is list:
        return v[0]
    return repr(v)


