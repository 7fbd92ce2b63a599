"""Which breakpoints are tracepoints, and how each is placed.

A DAP logpoint (``logMessage``) and a breakpoint whose condition starts with ``#trace`` are
tracepoints: they never reach debugpy as stopping breakpoints. ``#trace`` takes options —
``#trace mode=hybrid capture=x,y message="i={i}" if=<condition>`` — and a logpoint's own
condition becomes the tracepoint's condition. The engine decides the mode exactly as the code
lens over the function does (``decide_file``: source analysis, nothing of the program runs).
"""

from __future__ import annotations

import os
import shlex
from dataclasses import dataclass, field
from typing import Any

from scopeline.engine.agent.safeexpr import UnsafeExpression, check, parse_hit_condition
from scopeline.engine.agent.safeexpr import parse_template as check_template
from scopeline.engine.errors import ScopelineError

TRACE_PREFIX = "#trace"
MODES = ("auto", "runtime", "compile_time", "hybrid")
ICONS = {"runtime": "⚡", "compile_time": "🔬", "hybrid": "🔀"}


@dataclass
class Routed:
    """One breakpoint of a setBreakpoints request, sorted into ordinary or tracepoint."""

    index: int
    source: dict[str, Any]
    ordinary: bool
    tracepoint: dict[str, Any] | None = None
    error: str | None = None  # a tracepoint that cannot be placed: why
    decision: dict[str, Any] = field(default_factory=dict)


def is_tracepoint(bp: dict[str, Any]) -> bool:
    condition = (bp.get("condition") or "").strip()
    return bool(bp.get("logMessage")) or condition.startswith(TRACE_PREFIX)


def parse_trace_condition(text: str) -> dict[str, Any]:
    """``#trace mode=hybrid capture=x,y`` -> {"mode": "hybrid", "capture": ["x", "y"]}."""
    body = text.strip()[len(TRACE_PREFIX):]
    options: dict[str, Any] = {}
    try:
        words = shlex.split(body)
    except ValueError as exc:
        raise UnsafeExpression(f"#trace options cannot be read: {exc}") from None
    for word in words:
        key, eq, value = word.partition("=")
        if not eq:
            raise UnsafeExpression(f"#trace option {word!r} needs a value (key=value)")
        if key == "mode":
            if value not in MODES:
                raise UnsafeExpression(f"#trace mode={value!r}: use one of {', '.join(MODES)}")
            options["mode"] = value
        elif key == "capture":
            options["capture"] = [n.strip() for n in value.split(",") if n.strip()]
        elif key == "message":
            options["message"] = value
        elif key == "if":
            options["condition"] = value
        else:
            raise UnsafeExpression(f"unknown #trace option {key!r}: mode, capture, message, if")
    return options


def route(path: str, breakpoints: list[dict[str, Any]], next_id: Any,
          default_mode: str = "auto") -> list[Routed]:
    out: list[Routed] = []
    for index, bp in enumerate(breakpoints):
        if not is_tracepoint(bp):
            out.append(Routed(index, bp, ordinary=True))
            continue
        routed = Routed(index, bp, ordinary=False)
        out.append(routed)
        try:
            options: dict[str, Any] = {"mode": default_mode}
            condition = (bp.get("condition") or "").strip()
            if condition.startswith(TRACE_PREFIX):
                options.update(parse_trace_condition(condition))
            elif condition:
                options["condition"] = condition
            message = bp.get("logMessage") or options.get("message")
            if message:
                check_template(message)
            if options.get("condition"):
                check(options["condition"])
            parse_hit_condition(bp.get("hitCondition"))
        except UnsafeExpression as exc:
            routed.error = str(exc)
            continue
        routed.tracepoint = {
            "id": next(next_id), "file": os.path.abspath(path), "line": int(bp["line"]),
            "message": message, "capture": options.get("capture") or [],
            "hit_condition": bp.get("hitCondition"), "condition": options.get("condition"),
            "requested_mode": options["mode"],
        }
    _decide(path, [r for r in out if r.tracepoint is not None])
    return out


def _decide(path: str, routed: list[Routed]) -> None:
    """The mode for each tracepoint's function, from the same decision as its code lens."""
    if not routed:
        return
    try:
        from scopeline.engine.selection.perfile import decide_file

        decisions = decide_file(path, {"granularity": "line"})
    except (ScopelineError, OSError) as exc:
        for r in routed:
            r.error = f"{os.path.basename(path)}: {getattr(exc, 'message', exc)}"
            r.tracepoint = None
        return
    for r in routed:
        assert r.tracepoint is not None
        line = r.tracepoint["line"]
        inside = [(p, d) for p, d in decisions if p.first_line <= line <= p.last_line]
        if not inside:
            r.error = (f"{os.path.basename(path)}:{line} is not inside a function: put the "
                       "tracepoint on a line inside a def")
            r.tracepoint = None
            continue
        profile, decision = max(inside, key=lambda pd: pd[0].first_line)  # innermost def
        requested = r.tracepoint.pop("requested_mode")
        recommended = decision.mode
        mode = recommended if requested == "auto" else requested
        # the decision's own words on the backend describe the engine's interpreter; the
        # agent's placement names the program's (it may run another Python)
        reason = (decision.reason.split(" Backend:")[0] if requested == "auto"
                  else f"requested in the breakpoint (#trace mode={requested})")
        r.decision = {"function": f"{os.path.basename(path)}:{profile.qualname}",
                      "recommended": recommended, "mode": mode,
                      "confidence": decision.confidence, "reason": reason}
        r.tracepoint["mode"] = mode
        r.tracepoint["qualname"] = profile.qualname
