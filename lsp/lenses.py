"""Code lenses: every function's recommended mode, and a "why" lens that explains it.

``FileDecisions`` keeps, per open document, the decisions for its current text and the last
good ones: a text that does not parse keeps showing the lenses of the last text that did
(with the syntax error as a diagnostic) instead of blanking the editor while the user types.
Nothing here speaks the protocol beyond building lsprotocol values.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field

from lsprotocol import types
from scopeline.engine.errors import ScopelineError
from scopeline.engine.modes import ModeDecision
from scopeline.engine.selection.analysis import FunctionProfile

ICONS = {"runtime": "⚡", "compile_time": "🔬", "hybrid": "🔀", "unavailable": "⛔"}
LABELS = {"runtime": "runtime", "compile_time": "compile-time", "hybrid": "hybrid",
          "unavailable": "unavailable"}
EXPLAIN_COMMAND = "scopeline.explainMode"

Decisions = list[tuple[FunctionProfile, ModeDecision]]


@dataclass
class FileDecisions:
    """The decisions for one document: current (may be stale on a parse error) and why."""

    digest: str = ""
    decisions: Decisions = field(default_factory=list)
    error: ScopelineError | None = None  # the current text's parse error, if any

    @property
    def stale(self) -> bool:
        return self.error is not None


def _digest(text: str) -> str:
    return hashlib.blake2b(text.encode("utf-8", "surrogatepass"), digest_size=16).hexdigest()


def decide(path: str, text: str, previous: FileDecisions | None) -> tuple[FileDecisions, bool]:
    """Decisions for ``text`` (reusing ``previous`` when the text is unchanged).

    Returns the new record and whether anything a user sees changed (lenses or the error).
    """
    from scopeline.engine.selection.perfile import decide_file

    digest = _digest(text)
    if previous is not None and previous.digest == digest:
        return previous, False
    try:
        decisions = decide_file(path, source=text)
    except ScopelineError as exc:
        if exc.code != "compilation_failed":
            raise
        kept = previous.decisions if previous is not None else []
        record = FileDecisions(digest, kept, exc)
        changed = previous is None or previous.error is None or \
            previous.error.message != exc.message
        return record, changed
    record = FileDecisions(digest, decisions, None)
    return record, previous is None or previous.stale or \
        signature(previous.decisions) != signature(decisions)


def signature(decisions: Decisions) -> list[tuple[object, ...]]:
    """What the lenses show of each decision: changes here are worth a refresh."""
    return [(p.qualname, p.first_line, d.mode, round(d.confidence, 2), d.reason)
            for p, d in decisions]


def title(decision: ModeDecision) -> str:
    icon = ICONS.get(decision.mode, "•")
    label = LABELS.get(decision.mode, decision.mode)
    if decision.mode == "unavailable":
        return f"{icon} {label}"
    return f"{icon} {label} · {round(decision.confidence * 100)}%"


def code_lenses(uri: str, decisions: Decisions) -> list[types.CodeLens]:
    """Two lenses per function, above its first line (the first decorator, if any)."""
    out = []
    for profile, decision in decisions:
        line = max(profile.first_line - 1, 0)
        rng = types.Range(types.Position(line, 0), types.Position(line, 0))
        where = {"uri": uri, "line": max(profile.def_line or profile.first_line, 1) - 1}
        out.append(types.CodeLens(rng, types.Command(
            title(decision), EXPLAIN_COMMAND, tooltip=_tooltip(decision), arguments=[where])))
        out.append(types.CodeLens(rng, types.Command(
            "why", EXPLAIN_COMMAND, tooltip="why this mode: the reasoning, rule by rule",
            arguments=[where])))
    return out


def _tooltip(decision: ModeDecision) -> str:
    first = decision.reason.split(". ")[0]
    return first if len(first) <= 200 else first[:199] + "…"


def function_at(decisions: Decisions, line: int) -> tuple[FunctionProfile, ModeDecision] | None:
    """The innermost function whose lines hold ``line`` (0-based, as LSP counts)."""
    lineno = line + 1
    best = None
    for profile, decision in decisions:
        if profile.first_line <= lineno <= profile.last_line and (
                best is None or profile.first_line >= best[0].first_line):
            best = (profile, decision)
    return best
