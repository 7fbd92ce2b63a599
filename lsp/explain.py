"""The "why" behind a function's lens, as markdown: the decision, every rule, the feedback."""

from __future__ import annotations

from typing import Any

from scopeline.engine.modes import ModeDecision
from scopeline.engine.selection.analysis import FunctionProfile

from .lenses import ICONS, LABELS


def _cell(text: Any) -> str:
    return str(text).replace("|", "\\|").replace("\n", " ")


def explain_markdown(profile: FunctionProfile, decision: ModeDecision,
                     *, stale: bool = False) -> str:
    icon = ICONS.get(decision.mode, "•")
    label = LABELS.get(decision.mode, decision.mode)
    out = [f"### {icon} `{profile.qualname}`: {label}"]
    if decision.mode != "unavailable":
        out[0] += f" ({round(decision.confidence * 100)}% confidence)"
    if stale:
        out.append("_The file does not parse now: this is the decision for its last text "
                   "that did._")
    out += ["", decision.reason, ""]
    error = decision.evidence.get("error")
    if error:
        out += [f"**Error** `{error.get('code')}`: {error.get('message')}", ""]
    if decision.warnings:
        out += ["**Warnings**", *[f"- {_cell(w)}" for w in decision.warnings], ""]
    if decision.alternatives:
        alts = ", ".join(LABELS.get(m, m) for m in decision.alternatives)
        out += [f"**Alternatives**: {alts}", ""]
    out += _feedback(decision.evidence)
    if decision.rules:
        out += ["| rule | mode | verdict |", "|---|---|---|"]
        for rule in decision.rules:
            verdict = "✔ " if rule.get("matched") else ""
            out.append(f"| {_cell(rule.get('rule'))} | {_cell(LABELS.get(rule.get('mode'), ''))}"
                       f" | {verdict}{_cell(rule.get('reasoning', ''))} |")
        out.append("")
    out.append(f"_{profile.size_lines} lines, cyclomatic complexity {profile.cyclomatic}, "
               f"call frequency {profile.frequency} ({profile.frequency_source})._")
    return "\n".join(out).rstrip() + "\n"


def _feedback(evidence: dict[str, Any]) -> list[str]:
    """What recorded feedback said about functions like this one, weighed or not."""
    statements = list(evidence.get("statements") or [])
    ignored = list(evidence.get("ignored") or [])
    if not statements and not ignored:
        return []
    out = ["**Feedback**"]
    out += [f"- {_cell(s)}" for s in statements]
    out += [f"- (not weighed) {_cell(s)}" for s in ignored]
    return [*out, ""]
