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

from scopeline.engine.runtime.recorder import CALL, KIND_NAMES, Recorder, rendered
from scopeline.engine.runtime.units import Unit
from scopeline.engine.saferepr import SafeRepr


def unit_table(units: list[Unit]) -> list[dict[str, Any]]:
    """What a reader needs to name a static unit's events (saved with the session)."""
    return [{"uid": u.uid, "module": u.module, "function": u.qualname, "file": u.file,
             "first_line": u.first_line, "argnames": list(u.argnames), "arity": u.arity,
             "generator": bool(u.code.co_flags & 0xA0),
             "source": u.meta.get("source", "runtime")} for u in units]


class Drain:
    def __init__(self, recorder: Recorder, saferepr: SafeRepr) -> None:
        self.recorder = recorder
        self.render = saferepr
        self.kind_counts: Counter[int] = Counter()

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
        self.kind_counts.update(map(_first, records))  # counted in C
        names = self.recorder.thread_names
        threads = {str(tid): names.get(tid, str(tid)) for tid in set(map(_third, records))}
        return {"rows": records, "dynamic": self.recorder.take_new_dynamic(),
                "threads": threads}


_first = itemgetter(0)
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
