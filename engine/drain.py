"""Turn a session's raw records into rows for the store, cheaply.

This runs inside the traced program (a background flusher, or at flush/stop), and under the
GIL every microsecond here is one the program waits. So a row is the raw record itself:
kept scalars stay as they are (JSON holds ints, floats, bools, None and short strings), values
rendered at capture time are 1-tuples ``(repr,)``. ``Event`` objects are
built by whoever reads the rows (see ``reader``).
"""

from __future__ import annotations

from collections import Counter
from operator import itemgetter
from typing import Any

from scopeline.engine.runtime.recorder import CALL, ENTRY, KIND_NAMES, Recorder, rendered
from scopeline.engine.runtime.units import Unit
from scopeline.engine.saferepr import SafeRepr


def unit_table(units: list[Unit]) -> list[dict[str, Any]]:
    """What a reader needs to name a static unit's events (saved with the session). A unit
    that was ever injected also records under ``a<uid>`` (its injected probes)."""
    rows = []
    for u in units:
        row = {"uid": u.uid, "module": u.module, "function": u.qualname, "file": u.file,
               "first_line": u.first_line, "argnames": list(u.argnames), "arity": u.arity,
               "generator": bool(u.code.co_flags & 0xA0), "source": "runtime"}
        rows.append(row)
        if u.meta.get("injected"):
            rows.append({**row, "uid": f"a{u.uid}", "source": "ast", "mirror_of": u.uid})
    return rows


class Drain:
    def __init__(self, recorder: Recorder, saferepr: SafeRepr) -> None:
        self.recorder = recorder
        self.render = saferepr
        # Records per (kind, unit key): event counts by type and call counts by function
        # both come from it. Unit keys are uids (static units) or "dN" (a thread's functions).
        self.unit_counts: Counter[tuple[int, Any]] = Counter()
        self.dynamic_names: dict[str, str] = {}

    @property
    def kind_counts(self) -> Counter[int]:
        out: Counter[int] = Counter()
        for (kind, _), n in self.unit_counts.items():
            out[kind] += n
        return out

    def call_counts(self, names: dict[Any, str]) -> dict[str, int]:
        """Calls recorded per function ("module:qualname"): entries plus leaf CALL records.
        ``names`` maps the session's static unit ids to their names.

        A unit's injected probes record under "a<uid>" (hybrid.ast_key): in hybrid mode both
        sides see every call, so a unit counts the larger of its two sides, never their sum.
        """
        per_key: dict[Any, int] = {}
        for (kind, key), n in self.unit_counts.items():
            if kind in (ENTRY, CALL):
                per_key[key] = per_key.get(key, 0) + n
        out: dict[str, int] = {}
        for key, n in per_key.items():
            if type(key) is str and key[:1] == "a" and key[1:].isdigit():
                uid = int(key[1:])
                if uid in per_key:
                    continue  # its runtime side is counted below, with this as the floor
                key = uid
            elif type(key) is int:
                n = max(n, per_key.get(f"a{key}", 0))
            name = names.get(key) or self.dynamic_names.get(key) or str(key)
            out[name] = out.get(name, 0) + n
        return out

    @property
    def counts(self) -> dict[str, int]:
        """Events captured, by type (a CALL record is an entry and an exit)."""
        out: dict[str, int] = {}
        for kind, n in self.kind_counts.items():
            names = ("function_entry", "function_exit") if kind == CALL else (KIND_NAMES[kind],)
            for name in names:
                out[name] = out.get(name, 0) + n
        return out

    def encode(self, records: list[tuple[Any, ...]]) -> dict[str, Any]:
        """One batch: the records as rows, plus the names and threads first seen in it.

        No Python-level loop over the records: counting and collecting thread ids run in C,
        and the rows are the record tuples themselves.
        """
        self.unit_counts.update(map(_kind_and_unit, records))  # counted in C
        names = self.recorder.thread_names
        threads = {str(tid): names.get(tid, str(tid)) for tid in set(map(_third, records))}
        dynamic = self.recorder.take_new_dynamic()
        for key, info in dynamic.items():  # once per function a thread target first ran
            self.dynamic_names[key] = f"{info['module']}:{info['function']}"
        return {"rows": records, "dynamic": dynamic, "threads": threads}


_kind_and_unit = itemgetter(0, 1)
_third = itemgetter(2)


def bound_huge_ints(value: Any) -> Any:
    """JSON cannot print ints past ~4300 digits: a batch holding one is fixed up here (rare)."""
    if type(value) is int and value.bit_length() > 13_000:
        return rendered(f"<int with {value.bit_length()} bits>")
    if type(value) in (list, tuple):
        return type(value)(map(bound_huge_ints, value))
    if type(value) is dict:
        return {k: bound_huge_ints(v) for k, v in value.items()}
    return value


def decode_value(v: Any) -> str:
    """A stored value as the repr a user reads: a 1-sequence is a repr made at capture."""
    if type(v) is list or type(v) is tuple:
        return v[0]
    return repr(v)
