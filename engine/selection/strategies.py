"""Selection strategies (seed §4.1, §4.3): rule-based, performance-optimized, user preference,
the learned selector, and the combined one that weighs them (the default).

Combined scoring, for each mode available here (unavailable modes are never chosen)::

    score(m) = (rules(m) + h·learned(m) + u·preference(m)) / (1 + h + u)

``rules(m)``: the primary rule's confidence for its mode, a lower-priority matching rule's
confidence × 0.9 for its mode (never above the primary), and half the primary's confidence
for any other mode (with no rule matching: 0.7 for the fallback mode, 0.63 for the others).
``learned(m)`` in -1..1 from feedback on similar targets, counted only when there is confident
feedback (h = ai.instrumentation_planning.historical_data_weight, else 0). ``preference(m)``
is 1 for a mode preferred in ``metadata["preferred_mode"]`` (u = ai.instrumentation_planning.
user_preference_weight when given, else 0). The measured cost enters through rules 4 and 5.
Scores are rounded before they are compared; ties go to the rules' order, then to the simpler
mode, so the same inputs always give the same decision.
"""

from __future__ import annotations

from typing import Any

from scopeline.engine.errors import ScopelineError
from scopeline.engine.modes import HYBRID_REASON, ModeDecision, runtime_reason
from scopeline.engine.selection.context import MODES, SelectionContext
from scopeline.engine.selection.learned import Advice, analyze_for_mode_selection
from scopeline.engine.selection.rules import RuleResult, evaluate_rules

RUNNER_UP = 0.9  # a lower-priority matching rule's weight against the primary
OTHER = 0.5  # a mode no matching rule names
FALLBACK_CONFIDENCE = 0.7  # the fallback mode when no rule matches


def capability_gap(ctx: SelectionContext, mode: str) -> str | None:
    """What the user asked for that ``mode`` cannot capture, in words (None: nothing)."""
    if mode != "runtime":
        return None
    opts = ctx.options
    if ctx.granularity in ("expression", "variable"):
        return (f"granularity={ctx.granularity!r} needs source injection: runtime mode "
                "captures the locals at every line instead")
    if opts.custom_injections:
        return "custom_injections need source injection: runtime mode does not run them"
    if opts.conditional_compilation is not None:
        return "conditional_compilation needs source injection: runtime mode ignores it"
    return None


def _available(ctx: SelectionContext) -> list[str]:
    modes = [m for m in MODES if ctx.available.get(m)]
    if not modes:
        why = "; ".join(f"{m}: {ctx.unavailable_why.get(m, '?')}" for m in MODES)
        raise ScopelineError("mode_unavailable", f"no mode can trace {ctx.target_text} here "
                             f"({why})", details={"unavailable": dict(ctx.unavailable_why)})
    return modes


def _fallback(ctx: SelectionContext) -> tuple[str, str]:
    default = ctx.settings["default_mode"]
    if default != "auto" and ctx.available.get(default):
        return default, f"no rule applies, so unified.default_mode: {default}"
    for mode in MODES:  # runtime first: built-in hooks before rewriting source
        if ctx.available.get(mode):
            why = f"no rule applies, so {mode}" + (
                f" (unified.default_mode {default} is unavailable here)" if default != "auto"
                else ", the first choice when nothing asks for injection" if mode == "runtime"
                else f" (runtime is unavailable here: {ctx.unavailable_why.get('runtime')})")
            return mode, why
    _available(ctx)  # raises: nothing is available
    raise AssertionError("unreachable")


def _unavailable_warnings(ctx: SelectionContext, results: list[RuleResult]) -> list[str]:
    return [f"rule {r.rule.name} recommends {r.mode}, but {r.mode} is unavailable here "
            f"({ctx.unavailable_why.get(r.mode, 'unavailable')}): the next rule decides"
            for r in results if r.matched and not r.available]


def _explain(mode: str) -> str:
    if mode == "runtime":
        return runtime_reason()
    if mode == "hybrid":
        return HYBRID_REASON
    from scopeline.engine.compile_time.backend import REASON

    return REASON[0].upper() + REASON[1:]


def _finish(ctx: SelectionContext, mode: str, confidence: float, reason: str, *,
            strategy: str, alternatives: list[str], warnings: list[str],
            results: list[RuleResult], options: dict[str, Any] | None = None,
            evidence: dict[str, Any] | None = None) -> ModeDecision:
    gap = capability_gap(ctx, mode)
    warnings = list(warnings) + ([gap] if gap else []) + list(ctx.warnings)
    opts = dict(options or {})
    s = ctx.settings
    if s["planning_enabled"] and ctx.options.granularity is None and ctx.analysis is not None:
        suggested = getattr(ctx.analysis, "recommended_granularity", "function")
        if suggested != "function":
            opts["suggested_granularity"] = suggested
    return ModeDecision(mode, round(max(0.05, min(1.0, confidence)), 2),
                        f"{reason.rstrip('.')}. {_explain(mode)}",
                        alternatives=alternatives, warnings=list(dict.fromkeys(warnings)),
                        rules=[r.to_dict() for r in results], evidence=evidence or {},
                        strategy=strategy, options=opts)


def _others(ctx: SelectionContext, mode: str, ranked: list[str] | None = None) -> list[str]:
    return [m for m in (ranked or MODES) if m != mode and ctx.available.get(m)]


# ------------------------------------------------------------------ rule-based


def rule_scores(ctx: SelectionContext, results: list[RuleResult]
                ) -> tuple[dict[str, float], RuleResult | None, str]:
    """Each available mode's score from the rules, the primary rule, and the fallback reason
    when no rule matched."""
    modes = _available(ctx)
    matched = [r for r in results if r.matched and r.available]
    if not matched:
        mode, why = _fallback(ctx)
        return ({m: round(FALLBACK_CONFIDENCE * (1.0 if m == mode else RUNNER_UP), 3)
                 for m in modes}, None, why)
    primary = matched[0]
    scores = dict.fromkeys(modes, round(primary.confidence * OTHER, 3))
    for r in reversed(matched[1:]):  # higher priority last, so it sets the score
        scores[r.mode] = round(min(r.confidence, primary.confidence) * RUNNER_UP, 3)
    scores[primary.mode] = primary.confidence
    return scores, primary, ""


def _ranked(scores: dict[str, float]) -> list[str]:
    return sorted(scores, key=lambda m: (-round(scores[m], 3), MODES.index(m)))


def rule_based_selection(ctx: SelectionContext,
                         results: list[RuleResult] | None = None) -> ModeDecision:
    results = evaluate_rules(ctx) if results is None else results
    scores, primary, why = rule_scores(ctx, results)
    ranked = _ranked(scores)
    mode = primary.mode if primary else ranked[0]
    reason = f"rule {primary.rule.name}: {primary.reasoning}" if primary else why
    return _finish(ctx, mode, primary.confidence if primary else FALLBACK_CONFIDENCE, reason,
                   strategy="rule_based", alternatives=_others(ctx, mode, ranked),
                   warnings=_unavailable_warnings(ctx, results), results=results,
                   options=primary.options if primary else None)


# ------------------------------------------------------------------ performance


def performance_optimized_selection(ctx: SelectionContext) -> ModeDecision:
    """The mode that costs least by the measured cost model, among those that can capture
    what was asked for."""
    from scopeline.engine.selection.costmodel import estimate_performance_impact

    modes = [m for m in _available(ctx) if capability_gap(ctx, m) is None] or _available(ctx)
    calibration = ctx.get_calibration()
    profile = ctx.profile if len(ctx.profiles) == 1 else None
    cost = {m: estimate_performance_impact(ctx.target, m, ctx.options, profile=profile,
                                           calibration=calibration) for m in modes}
    cpu = {m: round(float(cost[m]["cpu_overhead_percent"]), 1) for m in modes}
    ranked = sorted(modes, key=lambda m: (cpu[m], MODES.index(m)))
    mode = ranked[0]
    figures = ", ".join(f"{m} {cpu[m]}%" for m in ranked)
    reason = (f"{mode} costs the least CPU by the measured cost model ({figures}; "
              f"{cost[mode].get('basis', '')})")
    return _finish(ctx, mode, 0.7 if len(ranked) > 1 else 0.5, reason,
                   strategy="performance_optimized", alternatives=ranked[1:], warnings=[],
                   results=[], evidence={"cost": {m: dict(cost[m]) for m in ranked}})


# ------------------------------------------------------------------ user preference


def user_preference_selection(ctx: SelectionContext,
                              results: list[RuleResult] | None = None) -> ModeDecision:
    """An explicit mode, else metadata["preferred_mode"], else unified.default_mode; when the
    preferred mode is unavailable (or none is given), the rules decide."""
    prefs = ctx.user_preferences
    warnings = []
    for key, what, confidence in (("mode", "was asked for", 1.0),
                                  ("preferred_mode", "is preferred (metadata)", 0.9),
                                  ("default_mode", "is unified.default_mode", 0.7)):
        mode = prefs.get(key)
        if mode is None:
            continue
        if ctx.available.get(mode):
            results = evaluate_rules(ctx) if results is None else results
            return _finish(ctx, mode, confidence, f"{mode} {what}", strategy="user_preference",
                           alternatives=_others(ctx, mode), warnings=warnings,
                           results=results)
        warnings.append(f"{mode} {what} but is unavailable here "
                        f"({ctx.unavailable_why.get(mode, 'unavailable')})")
    decision = rule_based_selection(ctx, results)
    decision.strategy = "user_preference"
    decision.warnings = warnings + decision.warnings
    return decision


# ------------------------------------------------------------------ learned


def ai_assisted_selection(ctx: SelectionContext, advice: Advice | None = None) -> ModeDecision:
    """The learned selector alone: the best-rated mode for targets like this one."""
    advice = analyze_for_mode_selection(ctx) if advice is None else advice
    modes = _available(ctx)
    votes = {m: advice.votes.get(m, 0.0) for m in modes}
    if not advice.used or max(votes.values()) <= 0:
        mode, why = _fallback(ctx)
        skipped = advice.skipped or "no mode was rated well"
        reason = f"the learned selector has no advice ({skipped}); {why}"
        confidence = FALLBACK_CONFIDENCE
    else:
        mode = sorted(modes, key=lambda m: (-votes[m], MODES.index(m)))[0]
        reason = "; ".join(advice.statements)
        confidence = advice.confidence.get(mode, FALLBACK_CONFIDENCE)
    return _finish(ctx, mode, confidence, reason, strategy="ai_assisted",
                   alternatives=_others(ctx, mode), warnings=list(advice.warnings),
                   results=[], evidence=advice.to_dict())


# ------------------------------------------------------------------ combined (the default)


def combined_selection(ctx: SelectionContext) -> ModeDecision:
    """Rules, learned evidence and user preference weighed together (see the module doc)."""
    results = evaluate_rules(ctx)
    prefs = ctx.user_preferences
    if "mode" in prefs and not (ctx.options.force_runtime or ctx.options.force_compile_time):
        decision = user_preference_selection(ctx, results)
        decision.strategy = "combined"
        return decision
    scores, primary, fallback_why = rule_scores(ctx, results)
    rule_mode = primary.mode if primary else _ranked(scores)[0]
    if primary is not None and primary.rule.name == "force_flags":
        return _finish(ctx, primary.mode, 1.0, f"rule force_flags: {primary.reasoning}",
                       strategy="combined", alternatives=_others(ctx, primary.mode),
                       warnings=[], results=results, options=primary.options)
    advice = analyze_for_mode_selection(ctx)
    h = float(ctx.settings["historical_data_weight"]) if advice.used else 0.0
    preferred = prefs.get("preferred_mode")
    u = float(ctx.settings["user_preference_weight"]) if preferred in scores else 0.0
    total = {m: round((scores[m] + h * advice.votes.get(m, 0.0)
                       + u * (1.0 if m == preferred else 0.0)) / (1 + h + u), 3)
             for m in scores}
    # ties: the rules' order, then the simpler mode
    rule_rank = _ranked(scores)
    ranked = sorted(total, key=lambda m: (-total[m], rule_rank.index(m)))
    mode = ranked[0]
    base = (f"rule {primary.rule.name}: {primary.reasoning}" if primary else fallback_why)
    parts = []
    if mode != rule_mode:
        if advice.used and advice.votes.get(rule_mode, 0.0) < 0:
            parts.append(f"{_statement(advice, rule_mode)}, so {mode} instead of {rule_mode}, "
                         f"which the rules chose ({base})")
        elif u and mode == preferred:
            parts.append(f"you prefer {mode} (metadata preferred_mode, weight {u}), so {mode} "
                         f"instead of {rule_mode}, which the rules chose ({base})")
        else:
            parts.append(f"{mode} scores above {rule_mode}, which the rules chose ({base})")
        why_mode = [r for r in results if r.matched and r.available and r.mode == mode]
        if why_mode:
            parts.append(f"for {mode}: rule {why_mode[0].rule.name}: {why_mode[0].reasoning}")
    else:
        parts.append(base)
    parts += [f"feedback: {s}" for s in advice.statements
              if mode == rule_mode or s != _statement(advice, rule_mode)]
    parts += [f"feedback ignored: {s}" for s in advice.ignored]
    options = primary.options if primary is not None and mode == primary.mode else {}
    warnings = _unavailable_warnings(ctx, results) + list(advice.warnings)
    evidence = advice.to_dict()
    evidence["scores"] = {m: total[m] for m in ranked}
    return _finish(ctx, mode, total[mode], "; ".join(parts), strategy="combined",
                   alternatives=ranked[1:], warnings=warnings, results=results,
                   options=options, evidence=evidence)


def _statement(advice: Advice, mode: str) -> str:
    return next((s for s in advice.statements if s.startswith(f"{mode} was marked")), "")
