"""Turn a session's raw records into Events: names, bounded reprs, call stacks, parents.

Runs off the hot path (a background flusher, or at flush/stop), so the hooks stay cheap.
"""

from __future__ import annotations

import time
import types
from typing import Any

from scopeline.engine.events import Event
from scopeline.engine.runtime.recorder import (
    ENTRY, EXCEPTION, EXIT, KIND_NAMES, LINE, RAISE, Recorder, Rendered,
)
from scopeline.engine.runtime.units import Unit
from scopeline.engine.saferepr import SafeRepr


class Drain:
    def __init__(self, session_id: str, recorder: Recorder, units: dict[int, Unit],
                 saferepr: SafeRepr) -> None:
        self.session_id = session_id
        self.recorder = recorder
        self.units = units
        self.render = saferepr
        self.seq = 0
        # One clock pair taken at the start turns perf_counter readings into wall-clock time.
        self.wall0 = time.time_ns()
        self.perf0 = time.perf_counter_ns()
        self.stacks: dict[int, list[tuple[str, str]]] = {}  # tid -> [(event_id, "mod:func")]
        self.dynamic: dict[tuple[types.CodeType, str], dict[str, Any]] = {}
        self.prefix = session_id[:8]
        self.counts: dict[str, int] = {}

    def value(self, v: Any) -> str:
        if type(v) is Rendered:
            return str(v)
        return self.render(v)

    def describe(self, key: Any) -> dict[str, Any]:
        if isinstance(key, int):
            u = self.units[key]
            return {"module": u.module, "function": u.qualname, "file": u.file,
                    "arity": u.arity, "argnames": u.argnames, "first_line": u.first_line}
        info = self.dynamic.get(key)
        if info is None:
            code, module = key
            from scopeline.engine.runtime.codeswap import Signature

            info = {"module": module, "function": code.co_qualname, "file": code.co_filename,
                    "arity": code.co_argcount, "argnames": Signature.of(code).all_names,
                    "first_line": code.co_firstlineno}
            self.dynamic[key] = info
        return info

    def convert(self, records: list[tuple[Any, ...]]) -> list[Event]:
        out: list[Event] = []
        names = self.recorder.thread_names
        for rec in records:
            kind, key, tid, t = rec[0], rec[1], rec[2], rec[3]
            info = self.describe(key)
            stack = self.stacks.setdefault(tid, [])
            self.seq += 1
            event_id = f"{self.prefix}-{self.seq}"
            label = f"{info['module']}:{info['function']}"
            parent = stack[-1][0] if stack else None
            data: dict[str, Any] = {}
            duration = None
            line = None
            if kind == ENTRY:
                data["arguments"] = {n: self.value(v) for n, v in zip(info["argnames"], rec[4],
                                                                     strict=False)}
                line = info["first_line"]
                call_stack = [s[1] for s in stack] + [label]
                stack.append((event_id, label))
            elif kind in (EXIT, EXCEPTION) and not (kind == EXCEPTION and rec[5] == -1):
                entry_id = None
                if stack and stack[-1][1] == label:
                    entry_id = stack.pop()[0]
                parent = entry_id
                call_stack = [s[1] for s in stack] + [label]
                duration = t - rec[5]
                if kind == EXIT:
                    data["return_value"] = self.value(rec[4])
                else:
                    data["exception"] = self.value(rec[4])
                line = info["first_line"]
            elif kind == LINE:
                line = rec[4]
                data["locals"] = {n: self.value(v) for n, v in rec[5].items()}
                call_stack = [s[1] for s in stack]
            else:  # RAISE inside a function, or a thread tracer's exception note
                data["exception"] = self.value(rec[4])
                data["propagated"] = False
                line = rec[5] if kind == RAISE else None
                call_stack = [s[1] for s in stack]
            type_name = KIND_NAMES[kind]
            self.counts[type_name] = self.counts.get(type_name, 0) + 1
            out.append(Event(
                event_id=event_id, session_id=self.session_id, type=type_name,
                source="runtime", timestamp=self.wall0 + (t - self.perf0), monotonic_time=t,
                thread_id=tid, thread_name=names.get(tid, str(tid)), module=info["module"],
                function=info["function"], arity=info["arity"], file=info["file"], line=line,
                data=data, call_stack=call_stack, sequence_number=self.seq,
                parent_event_id=parent, duration_ns=duration,
            ))
        return out
