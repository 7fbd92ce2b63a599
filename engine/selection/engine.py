"""``determine_mode`` (seed ``ModeSelection.Engine``): the mode for a target, with its reasons.

The decision is a function of its inputs alone — target, options, configuration, stored
feedback and the machine's cost calibration — so the same inputs give the same decision.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from scopeline.engine.errors import ScopelineError
from scopeline.engine.modes import ModeDecision, injection_refusal
from scopeline.engine.options import TraceOptions, parse_options
from scopeline.engine.selection.context import MODES, SelectionContext, Shared, build_context
from scopeline.engine.selection.strategies import (
    ai_assisted_selection,
    combined_selection,
    performance_optimized_selection,
    rule_based_selection,
    user_preference_selection,
)

STRATEGIES: dict[str, Callable[[SelectionContext], ModeDecision]] = {
    "combined": combined_selection,
    "hybrid_strategy": combined_selection,  # the seed's name for the combined strategy
    "rule_based": rule_based_selection,
    "performance_optimized": performance_optimized_selection,
    "user_preference": user_preference_selection,
    "ai_assisted": ai_assisted_selection,
}


def _unavailable(ctx: SelectionContext, mode: str, why: str) -> ScopelineError:
    others = [m for m in MODES if m != mode and ctx.available.get(m)]
    return ScopelineError("mode_unavailable", f"{mode} mode cannot trace {ctx.target_text} "
                          f"here: {why}", details={"mode": mode, "available": others},
                          suggestions=[f"Use mode={others[0]!r} (or 'auto')." if others else
                                       "Check the target: no mode can trace it here."])


def validate_mode_availability(target: Any, mode: str, *,
                               context: SelectionContext | None = None) -> None:
    """Raise ScopelineError when ``mode`` cannot trace ``target`` here (the seed's
    ``{:error, :unavailable}``); return None when it can."""
    if mode not in MODES:
        raise ScopelineError("invalid_config", f"mode={mode!r} is not a mode",
                             details={"allowed": list(MODES)},
                             suggestions=[f"Use one of: {', '.join(MODES)}"])
    if mode != "runtime":
        refusal = injection_refusal(mode)  # the flag and environment checks, with their code
        if refusal is not None:
            raise refusal
    ctx = context if context is not None else build_context(target)
    if not ctx.available.get(mode):
        raise _unavailable(ctx, mode, ctx.unavailable_why.get(mode, "unavailable"))


def select_mode(context: SelectionContext, strategy: str = "combined") -> ModeDecision:
    """The decision for ``context`` by one strategy. A force flag or an explicit mode is
    checked first: when it cannot run here, that is an error, never another mode."""
    chosen = STRATEGIES.get(strategy)
    if chosen is None:
        raise ScopelineError("invalid_config", f"strategy={strategy!r} is not a strategy",
                             details={"allowed": sorted(STRATEGIES)},
                             suggestions=[f"Use one of: {', '.join(sorted(STRATEGIES))}"])
    opts = context.options
    forced = ("compile_time" if opts.force_compile_time else
              "runtime" if opts.force_runtime else None)
    asked = forced or (opts.mode if opts.mode != "auto" else None)
    if asked is not None:
        validate_mode_availability(context.target, asked, context=context)
        # the force_flags rule (or the explicit mode) decides whatever the strategy
        decision = (combined_selection if forced else user_preference_selection)(context)
        decision.strategy = strategy
        return decision
    return chosen(context)


def determine_mode(target: Any, options: TraceOptions | dict[str, Any] | None = None, *,
                   strategy: str = "combined", calibration: Any = None, analysis: Any = None,
                   profile: Any = None, capabilities: dict[str, Any] | None = None,
                   shared: Shared | None = None) -> ModeDecision:
    """The mode for ``target`` traced with ``options``: mode, confidence, reason, alternatives,
    warnings, every rule's verdict and the learned evidence.

    A caller that has them already passes ``profile`` (the target is this one function: its
    ``FunctionProfile``, e.g. with project-wide call frequency), ``analysis``,
    ``capabilities`` or ``shared`` (``context.read_shared()``, read once for many targets; see
    ``context.build_context``); the target is then not resolved again."""
    if options is None:
        options = parse_options()
    elif isinstance(options, dict):
        options = parse_options(**options)
    context = build_context(target, options, calibration=calibration, analysis=analysis,
                            profile=profile, capabilities=capabilities, shared=shared)
    return select_mode(context, strategy)
