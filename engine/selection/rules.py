"""The rules engine (seed §4.2): the seven default rules, custom rules, every rule's verdict.

A rule's condition takes a :class:`SelectionContext` and returns a bool, or a :class:`Check`
that also says, in words, which facts made it match (or not), and may adjust the mode or add
options (the locals rule picks the cheaper mode by the measured cost model; the high-frequency
rule adds a sampling rate). Higher priority wins; force flags (priority 1000) outrank all.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from scopeline.engine.errors import ScopelineError
from scopeline.engine.selection.context import MODES, SelectionContext
from scopeline.engine.targets_code import close_names

FORCE_PRIORITY = 1000
DETAIL_NAMES = {1: "function", 2: "line", 3: "expression", 4: "variable"}
# Performance sensitivity of a call-frequency estimate, on the 0..1 scale of
# unified.auto_mode_thresholds.performance_threshold_for_runtime.
FREQUENCY_SENSITIVITY = {"low": 0.2, "medium": 0.5, "high": 0.9}


@dataclass(frozen=True)
class Check:
    matched: bool
    facts: str
    mode: str | None = None  # the mode this verdict recommends, when not the rule's own
    options: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Rule:
    name: str
    condition: Callable[[SelectionContext], bool | Check]
    recommendation: str
    priority: int
    reasoning: str
    confidence: float = 0.8


@dataclass(frozen=True)
class RuleResult:
    rule: Rule
    matched: bool
    confidence: float
    mode: str  # what this verdict recommends
    reasoning: str  # the rule's reasoning and the facts that decided the verdict
    available: bool
    options: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {"rule": self.rule.name, "priority": self.rule.priority, "mode": self.mode,
                "matched": self.matched, "available": self.available,
                "confidence": round(self.confidence, 2), "reasoning": self.reasoning,
                "options": dict(self.options)}


# ------------------------------------------------------------------ the seven default rules

def _force(ctx: SelectionContext) -> Check:
    opts = ctx.options
    if opts.force_runtime:
        return Check(True, "force_runtime=True", mode="runtime")
    if opts.force_compile_time:
        return Check(True, "force_compile_time=True", mode="compile_time")
    return Check(False, "no force flag is set")


def _production(ctx: SelectionContext) -> Check:
    if ctx.environment == "prod":
        return Check(True, "the environment is prod (SCOPELINE_ENV)")
    return Check(False, f"the environment is {ctx.environment}, not prod")


def _thread(ctx: SelectionContext) -> Check:
    if ctx.threads:
        return Check(True, f"{', '.join(ctx.threads)} is a thread target")
    return Check(False, f"the target is a {ctx.kind}, not a thread")


def _complex(ctx: SelectionContext) -> Check:
    s = ctx.settings
    if not s["complexity_analysis"]:
        return Check(False, "complexity analysis is off "
                            "(ai.instrumentation_planning.complexity_analysis = false)")
    cc, limit = ctx.complexity, s["complexity_for_ast"]
    level, need = ctx.detail_level, s["detail_level_for_hybrid"]
    facts = (f"cyclomatic complexity {cc} {'>=' if cc >= limit else '<'} complexity_for_ast "
             f"{limit}, detail {level} ({DETAIL_NAMES[level]}) "
             f"{'>=' if level >= need else '<'} detail_level_for_hybrid {need}")
    return Check(cc >= limit and level >= need, facts)


def _granular(ctx: SelectionContext) -> Check:
    opts = ctx.options
    if ctx.granularity in ("expression", "variable"):
        return Check(True, f"granularity={ctx.granularity!r} asks for values only injected "
                           "probes record")
    if opts.custom_injections:
        return Check(True, f"{len(opts.custom_injections)} custom injection(s) asked for")
    if opts.conditional_compilation is not None:
        return Check(True, "conditional_compilation was given")
    return Check(False, f"granularity={ctx.granularity!r}, no custom injections")


def _sensitivity(ctx: SelectionContext) -> tuple[float, str, float | None]:
    """(score 0..1, where the frequency estimate comes from, measured calls/s or None)."""
    prof = ctx.profile
    if prof is None:
        return 0.0, "no function to estimate", None
    score = FREQUENCY_SENSITIVITY.get(prof.frequency, 0.0)
    rate = prof.calls_per_second
    if rate:
        score = max(score, min(1.0, rate * _events_per_call(ctx)
                               / ctx.settings["max_events_per_second"]))
    return round(score, 2), f"{prof.frequency} frequency ({prof.frequency_source})", rate


def _events_per_call(ctx: SelectionContext) -> int:
    prof = ctx.profile
    lines = prof.size_lines if prof is not None and ctx.detail_level >= 2 else 0
    return 2 + lines  # entry + exit, and a line event per line when lines are traced


def _sampling_rate(rate: float, per_call: int, limit: int) -> float | None:
    """The largest 1-significant-digit rate that keeps events under the limit; None if all
    calls fit."""
    wanted = limit / (rate * per_call)
    if wanted >= 1.0:
        return None
    step = 1.0
    while step > wanted:
        step /= 10
    return round(int(wanted / step) * step, 6)


def _high_frequency(ctx: SelectionContext) -> Check:
    score, source, rate = _sensitivity(ctx)
    need = ctx.settings["performance_threshold_for_runtime"]
    facts = (f"performance sensitivity {score:.2f} {'>=' if score >= need else '<'} "
             f"performance_threshold_for_runtime {need} from {source}")
    if score < need:
        return Check(False, facts)
    limit = ctx.settings["max_events_per_second"]
    if rate is None:
        return Check(True, facts + "; no measured rate, so the session samples down by itself "
                                   f"past max_events_per_second {limit:,}")
    per_call = _events_per_call(ctx)
    sampled = _sampling_rate(rate, per_call, limit)
    if sampled is None:
        return Check(True, facts + f"; {rate:,.0f} calls/s × {per_call} events fits under "
                                   f"max_events_per_second {limit:,}: no sampling needed")
    return Check(True, facts + f"; {rate:,.0f} calls/s × {per_call} events per call against "
                               f"max_events_per_second {limit:,} gives sampling_rate {sampled}",
                 options={"sampling_rate": sampled})


def _locals(ctx: SelectionContext) -> Check:
    if not ctx.locals_asked:
        return Check(False, "no locals asked for (capture_locals is empty)")
    from scopeline.engine.selection.costmodel import compare_locals_capture

    asked = ", ".join(ctx.options.capture_locals)
    measured = [p for p in ctx.profiles if p.has_source]
    if not measured:
        return Check(True, f"locals {asked} asked for; no function source to weigh costs on",
                     mode="compile_time")
    calibration = ctx.get_calibration()
    comparisons = [compare_locals_capture(p, ctx.options, calibration) for p in measured]
    runtime_us = round(sum(c.runtime_us for c in comparisons), 2)
    injected_us = round(sum(c.injected_us for c in comparisons), 2)
    mode = "runtime" if runtime_us < injected_us else "compile_time"
    if len(comparisons) == 1:
        why = comparisons[0].explanation.rstrip(".")
    else:
        cheaper = "runtime line capture" if mode == "runtime" else "injected probes"
        why = (f"over {len(comparisons)} functions, runtime line capture {runtime_us} µs vs "
               f"injected probes {injected_us} µs per call: {cheaper} cost less")
    return Check(True, f"locals {asked} asked for; measured cost model: {why}", mode=mode)


def default_rules() -> list[Rule]:
    """The seed's seven rules, highest priority first."""
    return [
        Rule("force_flags", _force, "runtime", FORCE_PRIORITY,
             "a force flag overrides every other rule", 1.0),
        Rule("production_environment", _production, "runtime", 90,
             "in production only runtime hooks run: no source is rewritten", 0.95),
        Rule("thread_monitoring", _thread, "runtime", 80,
             "only runtime hooks follow everything a thread runs", 0.95),
        Rule("complex_algorithm", _complex, "hybrid", 70,
             "a complex algorithm being debugged gets runtime timing of every call and "
             "injected probes for the detail", 0.8),
        Rule("granular_debugging", _granular, "compile_time", 60,
             "detail finer than runtime hooks see needs injected probes", 0.85),
        Rule("high_frequency", _high_frequency, "runtime", 50,
             "a hot function is traced with runtime hooks, sampled to stay within the event "
             "limit", 0.8),
        Rule("locals_needed", _locals, "compile_time", 40,
             "locals are captured by whichever of injected probes and runtime line capture "
             "costs less here", 0.75),
    ]


# ------------------------------------------------------------------ the registry

_lock = threading.Lock()
_rules: dict[str, Rule] | None = None


def _registry() -> dict[str, Rule]:
    global _rules
    if _rules is None:
        _rules = {r.name: r for r in default_rules()}
    return _rules


def rules() -> list[Rule]:
    """The rules in force, highest priority first (ties by name)."""
    with _lock:
        return sorted(_registry().values(), key=lambda r: (-r.priority, r.name))


def reset_rules() -> None:
    """Back to the seven default rules."""
    global _rules
    with _lock:
        _rules = None


def _as_rule(rule: Any) -> tuple[Rule | None, list[str]]:
    if isinstance(rule, dict):
        known = set(Rule.__dataclass_fields__)
        unknown = sorted(set(rule) - known)
        if unknown:
            return None, [f"unknown field(s) {', '.join(unknown)} (a rule has "
                          f"{', '.join(sorted(known))})"]
        rule = Rule(**{"name": "", "condition": None, "recommendation": "", "priority": 0,
                       "reasoning": "", **rule})
    if not isinstance(rule, Rule):
        return None, [f"a rule is a Rule or a dict, not {type(rule).__name__}"]
    problems = []
    if not isinstance(rule.name, str) or not rule.name.strip():
        problems.append("the rule has no name")
    if not callable(rule.condition):
        problems.append(f"condition must be callable (context -> bool), got "
                        f"{type(rule.condition).__name__}")
    if rule.recommendation not in MODES:
        problems.append(f"recommendation {rule.recommendation!r} is not a mode "
                        f"({', '.join(MODES)})")
    if isinstance(rule.priority, bool) or not isinstance(rule.priority, int) or \
            rule.priority < 1:
        problems.append(f"priority must be a positive int, got {rule.priority!r}")
    elif rule.priority >= FORCE_PRIORITY:
        problems.append(f"priority {rule.priority} would outrank the force flags "
                        f"({FORCE_PRIORITY}); use a lower one")
    if not isinstance(rule.reasoning, str):
        problems.append("reasoning must be a string (why the rule recommends its mode)")
    conf = rule.confidence
    if isinstance(conf, bool) or not isinstance(conf, int | float) or not 0 < conf <= 1:
        problems.append(f"confidence must be a number in (0, 1], got {conf!r}")
    return rule, problems


def add_rule(rule: Rule | dict[str, Any]) -> None:
    """Add a custom rule; a bad rule raises one error that lists everything wrong with it."""
    checked, problems = _as_rule(rule)
    with _lock:
        registry = _registry()
        if checked is not None and isinstance(checked.name, str) and checked.name in registry:
            problems.append(f"a rule named {checked.name!r} exists already")
        if problems or checked is None:
            raise ScopelineError("invalid_config", "invalid rule: " + "; ".join(problems),
                                 details={"problems": problems},
                                 suggestions=["Rule(name, condition, recommendation "
                                              "('runtime'|'compile_time'|'hybrid'), priority "
                                              "(1..999), reasoning); remove_rule(name) first "
                                              "to replace one."])
        registry[checked.name] = checked


def remove_rule(name: str) -> None:
    with _lock:
        registry = _registry()
        if name == "force_flags":
            raise ScopelineError("invalid_config", "the force_flags rule cannot be removed: "
                                 "force_runtime / force_compile_time always win",
                                 suggestions=["Leave the force flags unset instead."])
        if name not in registry:
            near = close_names(str(name), registry)
            raise ScopelineError("invalid_config", f"no rule named {name!r}",
                                 details={"rules": sorted(registry)},
                                 suggestions=[f"Did you mean {', '.join(near)}?"])
        del registry[name]


# ------------------------------------------------------------------ evaluation

def _verdict(rule: Rule, ctx: SelectionContext) -> RuleResult:
    try:
        out = rule.condition(ctx)
    except ScopelineError:
        raise
    except Exception as exc:  # a broken custom rule must not break the decision
        out = Check(False, f"the condition raised {type(exc).__name__}: {exc}")
    check = out if isinstance(out, Check) else Check(bool(out), "the condition "
                                                     f"{'held' if out else 'did not hold'}")
    mode = check.mode or rule.recommendation
    if check.matched:
        reasoning = f"{check.facts} — {rule.reasoning}" if rule.reasoning else check.facts
    else:
        reasoning = f"not matched: {check.facts}"
    return RuleResult(rule, check.matched, rule.confidence if check.matched else 0.0, mode,
                      reasoning, ctx.available.get(mode, False), dict(check.options))


def evaluate_rules(context: SelectionContext | Any, **options: Any) -> list[RuleResult]:
    """Every rule's verdict, highest priority first, on a context or on a target traced with
    ``options`` (trace() keywords)."""
    if not isinstance(context, SelectionContext):
        from scopeline.engine.options import parse_options
        from scopeline.engine.selection.context import build_context

        context = build_context(context, parse_options(**options))
    return [_verdict(rule, context) for rule in rules()]


def get_primary_recommendation(context: SelectionContext,
                               results: list[RuleResult] | None = None) -> RuleResult | None:
    """The highest-priority matching rule whose mode is available here (None: no rule
    matches, the seed's ``{:error, :no_matching_rules}``)."""
    results = evaluate_rules(context) if results is None else results
    return next((r for r in results if r.matched and r.available), None)
