"""What each mode can do for a target here, and in words what it cannot (seed
``analyze_mode_capabilities``, ``validate_mode_availability``).

Availability follows what a session would really do: runtime hooks need Python code (not C);
on Python 3.11 they also need a function object (a nested function named by text has none)
and cannot swap an async generator's code, and a thread already running elsewhere cannot be
given a tracer. Compile-time injection needs a source file, and is off where
``compile_time.instrumentation.environments`` or ``enable_on_demand_compilation`` say so.
Hybrid runs both, so it needs both.
"""

from __future__ import annotations

import inspect
import threading
from dataclasses import dataclass, field
from typing import Any

from scopeline.engine import config
from scopeline.engine.errors import ScopelineError
from scopeline.engine.runtime.select import choose_backend_name
from scopeline.engine.selection.analysis import (
    GRANULARITIES,
    THREAD_NOTE,
    FunctionProfile,
    ResolvedItem,
    TargetAnalysis,
    analysis_of_profile,
    analyze_target_complexity,
    has_python_source,
    resolve_items,
    target_name,
)
from scopeline.engine.targets import ResolvedTarget, TargetSpec

MODES = ("runtime", "compile_time", "hybrid")
RUNTIME_CAPABILITIES = ["calls", "returns", "exceptions", "lines", "locals_at_lines",
                        "sampling", "no_source_needed"]
COMPILE_TIME_CAPABILITIES = ["calls", "returns", "exceptions", "lines", "locals_at_lines",
                             "variable_assignments", "expressions", "custom_injections"]
HYBRID_EXTRA = ["correlated_events", "runtime_timing_with_injected_locals"]
# Capabilities a feature flag switches off, with the flag.
_FLAGGED = {"expressions": "enable_expression_tracing",
            "variable_assignments": "enable_ast_local_variables"}
_LEVELS = ("low", "medium", "high")


@dataclass(frozen=True)
class Support:
    """What this interpreter and the settings allow, the same for every target: read once
    (``current_support()``) and passed down when many targets are decided at once."""

    old_python: bool  # the 3.11 backend: code swap on function objects
    refusals: dict[str, str]  # compile_time / hybrid -> why injection may not run here
    compile_caps: tuple[str, ...]  # what injection captures with the feature flags in force
    flags_off: tuple[str, ...]  # in words: capabilities a feature flag switches off


def current_support() -> Support:
    caps, off = _compile_time_capabilities()
    refusals = {m: why for m in ("compile_time", "hybrid")
                if (why := _injection_refusal(m)) is not None}
    return Support(choose_backend_name()[0] == "sys.settrace", refusals, tuple(caps),
                   tuple(off))


@dataclass
class _Facts:
    """What availability depends on, gathered by resolving the target (nothing is run)."""

    name: str
    support: Support
    threads: list[ResolvedTarget] = field(default_factory=list)
    units: list[ResolvedTarget] = field(default_factory=list)
    native: list[str] = field(default_factory=list)  # C code: no Python code at all
    runtime_blockers: list[str] = field(default_factory=list)  # runtime cannot trace these
    runtime_skips: list[str] = field(default_factory=list)  # skipped inside a module target
    thread_notes: list[str] = field(default_factory=list)

    @property
    def injectable(self) -> list[ResolvedTarget]:
        return [u for u in self.units if has_python_source(u.file)]

    @property
    def sourceless(self) -> list[ResolvedTarget]:
        return [u for u in self.units if not has_python_source(u.file)]


def _facts(target: Any, resolved: list[ResolvedItem] | None = None,
           support: Support | None = None) -> _Facts:
    items = resolved if resolved is not None else resolve_items(target)
    facts = _Facts(", ".join(entry.name for entry in items), support or current_support())
    old_python = facts.support.old_python
    for entry in items:
        if entry.native is not None:
            facts.native.append(f"{entry.name}: {entry.native.message}")
            continue
        for rt in entry.units:
            if rt.kind == "thread":
                facts.threads.append(rt)
                _thread_facts(rt, facts, old_python)
                continue
            facts.units.append(rt)
            why = _runtime_obstacle(rt) if old_python else None
            if why is not None:
                whole_module = rt.spec.kind in ("module", "file")
                (facts.runtime_skips if whole_module else facts.runtime_blockers).append(why)
    return facts


def _profile_facts(name: str, profile: FunctionProfile, support: Support) -> _Facts:
    """The facts of one function known by its profile (read from source, not resolved): as
    ``_facts`` finds them for the target ``file:qualname`` named by text."""
    facts = _Facts(name, support)
    spec = TargetSpec("function", path=profile.file, qualname=profile.qualname)
    facts.units.append(ResolvedTarget(spec=spec, kind="function", module=profile.module,
                                      qualname=profile.qualname, file=profile.file,
                                      first_line=profile.first_line,
                                      last_line=profile.last_line, display=profile.display))
    if support.old_python:
        # a function named by text has no function object when it is nested
        why = _obstacle(profile.display, "<locals>" in profile.qualname,
                        profile.is_async and profile.is_generator)
        if why is not None:
            facts.runtime_blockers.append(why)
    return facts


def _runtime_obstacle(rt: ResolvedTarget) -> str | None:
    """Why the 3.11 backend (code swap on function objects) cannot hook this unit."""
    assert rt.code is not None
    return _obstacle(rt.display, rt.function is None and "<locals>" in (rt.qualname or ""),
                     bool(rt.code.co_flags & inspect.CO_ASYNC_GENERATOR))


def _obstacle(display: str, nested_without_function: bool, async_generator: bool
              ) -> str | None:
    if nested_without_function:
        return (f"{display} is a nested function named by text: Python 3.11 runtime hooks "
                "need its function object (trace the enclosing function, pass the function "
                "object, or use Python 3.12+)")
    if async_generator:
        return f"{display} is an async generator: Python 3.11 runtime hooks cannot swap its code"
    return None


def _thread_facts(rt: ResolvedTarget, facts: _Facts, old_python: bool) -> None:
    thread = rt.thread
    facts.thread_notes.append(f"{rt.display} is runtime-only: {THREAD_NOTE}")
    running = thread is not None and thread.ident is not None
    if old_python and running and thread is not threading.current_thread():
        facts.runtime_blockers.append(
            f"{rt.display} is already running: on Python 3.11 a thread's tracer can only be "
            "set from inside it (pass the Thread before start(), or use Python 3.12+)")


# --------------------------------------------------------------------------- availability


def _injection_refusal(mode: str) -> str | None:
    from scopeline.engine.modes import injection_refusal

    refusal = injection_refusal(mode)
    return refusal.message if refusal is not None else None


def _why_not(facts: _Facts, mode: str) -> list[str]:
    """Why ``mode`` cannot trace the target here, in words; empty when it can."""
    why: list[str] = list(facts.native)
    if mode in ("runtime", "hybrid"):
        why += facts.runtime_blockers
    if mode in ("compile_time", "hybrid"):
        refusal = facts.support.refusals.get(mode)
        if refusal:
            why.insert(0, refusal)
        if facts.threads and not facts.units:
            why.append("a thread target is runtime-only: there is no source to inject into "
                       "before the thread runs")
        elif facts.units and not facts.injectable:
            why.append("no source means no injection: " + ", ".join(
                f"{u.display} ({u.file or 'built-in'})" for u in facts.sourceless))
    if not (facts.units or facts.threads or why):
        why.append("the target names no Python function")
    return list(dict.fromkeys(why))


def _available(facts: _Facts, mode: str) -> bool:
    return not _why_not(facts, mode)


def mode_available(target: Any, mode: str) -> bool:
    """Can ``target`` be traced in ``mode`` here? ("auto": in any mode.) A target that does
    not resolve is available in no mode."""
    if mode not in (*MODES, "auto"):
        raise ScopelineError("invalid_config", f"mode={mode!r} is not a mode",
                             details={"allowed": [*MODES, "auto"]},
                             suggestions=[f"Use one of: {', '.join((*MODES, 'auto'))}"])
    try:
        facts = _facts(target)
    except ScopelineError:
        return False
    modes = MODES if mode == "auto" else (mode,)
    return any(_available(facts, m) for m in modes)


# --------------------------------------------------------------------------- capabilities


def _compile_time_capabilities() -> tuple[list[str], list[str]]:
    caps, off = [], []
    for cap in COMPILE_TIME_CAPABILITIES:
        flag = _FLAGGED.get(cap)
        if flag and not config.get_with_fallback(f"unified.feature_flags.{flag}", True):
            granularity = "expression" if cap == "expressions" else "variable"
            off.append(f"{granularity} granularity is off here (feature flag {flag})")
            continue
        caps.append(cap)
    return caps, off


def _level(index: int) -> str:
    return _LEVELS[max(0, min(index, 2))]


def _runtime_section(facts: _Facts, analysis: TargetAnalysis) -> dict[str, Any]:
    why = _why_not(facts, "runtime")
    caps = list(RUNTIME_CAPABILITIES) + (["everything_a_thread_runs"] if facts.threads else [])
    limits = why + [f"skipped inside the module: {w}" for w in facts.runtime_skips]
    limits.append("runtime hooks cannot record sub-expression values or each assignment as "
                  "it happens (they see the locals at lines)")
    frequent = analysis.estimated_execution_frequency == "high"
    return {"available": not why, "capabilities": [] if why else caps, "limitations": limits,
            "why_unavailable": "; ".join(why),
            "performance_impact": "high" if facts.threads else _level(int(frequent))}


def _compile_section(facts: _Facts, analysis: TargetAnalysis) -> dict[str, Any]:
    why = _why_not(facts, "compile_time")
    caps, flags_off = list(facts.support.compile_caps), list(facts.support.flags_off)
    limits = why + flags_off
    if facts.threads and facts.units:
        limits.append("the thread targets in the list are traced by runtime hooks only")
    if facts.injectable:
        limits += [f"{u.display} has no source ({u.file or 'built-in'}): it falls back to "
                   "runtime hooks" for u in facts.sourceless]
    granularity = GRANULARITIES.index(analysis.recommended_granularity)
    frequent = analysis.estimated_execution_frequency == "high"
    return {"available": not why, "capabilities": [] if why else caps, "limitations": limits,
            "why_unavailable": "; ".join(why), "compilation_required": not why,
            "performance_impact": _level(min(granularity, 2) + int(frequent))}


def _hybrid_section(facts: _Facts, runtime: dict[str, Any], compile_time: dict[str, Any],
                    analysis: TargetAnalysis) -> dict[str, Any]:
    why = _why_not(facts, "hybrid")
    limits = ([f"hybrid needs both runtime hooks and injection: {'; '.join(why)}"]
              if why else [])
    limits += [lim for lim in runtime["limitations"] + compile_time["limitations"]
               if lim not in why]
    limits.append("each call's two halves are joined by exact keys; events from before the "
                  "session, or from code only one side traces, are joined by scored strategies")
    caps = sorted(set(RUNTIME_CAPABILITIES) | set(facts.support.compile_caps))
    impacts = (runtime["performance_impact"], compile_time["performance_impact"])
    complexity = ("high" if analysis.estimated_execution_frequency == "high"
                  or analysis.function_count > 20
                  else "low" if analysis.function_count <= 1 else "medium")
    return {"available": not why, "capabilities": [] if why else caps + HYBRID_EXTRA,
            "limitations": list(dict.fromkeys(limits)), "why_unavailable": "; ".join(why),
            "complexity": complexity,
            "performance_impact": _level(max(_LEVELS.index(i) for i in impacts) + 1)}


def analyze_mode_capabilities(target: Any, *, analysis: TargetAnalysis | None = None,
                              resolved: list[ResolvedItem] | None = None,
                              profile: FunctionProfile | None = None,
                              support: Support | None = None) -> dict[str, Any]:
    """Per mode: available, capabilities, limitations (words), performance_impact; plus
    compile_time.compilation_required and hybrid.complexity (the seed's shape).

    What the caller has already saves redoing it: ``analysis`` (the target's analysis),
    ``resolved`` (``analysis.resolve_items(target)``), or ``profile`` — the target is this one
    function, known from its source (nothing is resolved then); ``support``
    (``current_support()``, the same for every target)."""
    support = support or current_support()
    if profile is not None:
        facts = _profile_facts(target_name(target), profile, support)
        if analysis is None:
            analysis = analysis_of_profile(target, profile)
    else:
        facts = _facts(target, resolved, support)
    if analysis is None:
        analysis = analyze_target_complexity(target, resolved=resolved)
    runtime = _runtime_section(facts, analysis)
    compile_time = _compile_section(facts, analysis)
    hybrid = _hybrid_section(facts, runtime, compile_time, analysis)
    return {"target": facts.name, "kind": analysis.kind, "notes": facts.thread_notes,
            "runtime": runtime, "compile_time": compile_time, "hybrid": hybrid,
            "basis": "performance impact from the call frequency "
                     f"({analysis.estimated_execution_frequency}) and the granularity the "
                     f"code calls for ({analysis.recommended_granularity})"}


def get_mode_capabilities(target: Any) -> dict[str, list[str]]:
    """What each mode can capture for ``target`` here; an unavailable mode lists nothing."""
    report = analyze_mode_capabilities(target)
    return {mode: list(report[mode]["capabilities"]) for mode in MODES}
