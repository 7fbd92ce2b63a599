"""What a runtime backend hooks: one code object of one session, with what to capture from it."""

from __future__ import annotations

import types
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any


@dataclass(eq=False)
class Unit:
    """One traced code object in one session. ``uid`` indexes it in the session's records."""

    uid: int
    code: types.CodeType
    function: types.FunctionType | None
    module: str
    qualname: str
    file: str
    first_line: int
    argnames: tuple[str, ...]
    arity: int
    calls: bool = True  # entry/exit/exception events
    exceptions: bool = False  # also exceptions raised (and maybe handled) inside
    lines: frozenset[int] | None = None  # None: no line events; empty: every line
    capture_locals: tuple[str, ...] = ()  # names to capture at lines; empty with lines: all
    hit_condition: str | None = None
    meta: dict[str, object] = field(default_factory=dict)
    # A tracepoint's own handler for its lines, called (line, f_locals) instead of the plain
    # line recorder: it renders the log message and records the hit itself.
    probe: Callable[[int, dict[str, Any]], None] | None = None

    @property
    def wants_lines(self) -> bool:
        return self.lines is not None

    @property
    def display(self) -> str:
        return f"{self.module}:{self.qualname}"


@dataclass(eq=False)
class ThreadUnit:
    """A ``thread:`` target: everything that thread runs, in runtime mode only."""

    uid: int
    ident: int | None
    name: str
    thread: object | None  # threading.Thread; None when given by ident only
    meta: dict[str, object] = field(default_factory=dict)
