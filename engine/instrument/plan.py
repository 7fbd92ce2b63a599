"""What to inject (InjectionPlan) and what was injected (Site): plain data, standard library."""

from __future__ import annotations

from dataclasses import dataclass

GRANULARITIES = ("function", "line", "variable", "expression")

# Injected code reaches the hooks object through this string constant: compile() swaps it for
# the hooks object in co_consts, so the user's namespaces never gain a name.
PLACEHOLDER = "@sl:hooks"
# A line probe's own callable: "@sl:probe:N" becomes hooks.probe(N), made for that site alone,
# so the hot call needs no method lookup and no site lookup.
PROBE = "@sl:probe:"
# Every injected line ends with this comment naming the original line it belongs to.
MARKER = "# @sl:"


@dataclass(frozen=True)
class InjectionPlan:
    functions: tuple[str, ...] = ()
    granularity: str = "function"
    trace_lines: tuple[int, ...] = ()
    capture_locals: tuple[str, ...] = ()
    custom_injections: tuple[tuple[int, str, str], ...] = ()
    # Entry/exit probes as well, at a finer granularity (hybrid sessions join on them).
    with_calls: bool = False


@dataclass
class Site:
    """One injected probe; ``line`` is always the line in the ORIGINAL source."""

    site_id: int
    kind: str  # "entry" | "exit" | "exception" | "line" | "assign" | "expr" | "custom"
    qualname: str
    line: int
    names: tuple[str, ...] = ()
    detail: str = ""
