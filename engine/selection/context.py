"""What a mode decision is made from (the seed's ``selection_context``).

Everything a rule or a strategy reads is gathered here once — the target's analysis, what each
mode can do for it, the environment, the settings, the user's preferences — so that a decision
is a function of this context alone, and the same context always gives the same decision.
"""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass, field
from typing import Any

from scopeline.engine import config
from scopeline.engine.errors import ScopelineError
from scopeline.engine.options import TraceOptions, parse_options

MODES = ("runtime", "compile_time", "hybrid")
# Requested detail, as unified.auto_mode_thresholds.detail_level_for_hybrid counts it.
DETAIL_LEVELS = {"function": 1, "line": 2, "expression": 3, "variable": 4}

# Every setting a rule or strategy reads; copied into the context so a decision can show
# (and a test can vary) exactly what it was made from.
SETTINGS = {
    "default_mode": ("unified.default_mode", "auto"),
    "complexity_for_ast": ("unified.auto_mode_thresholds.complexity_for_ast", 10),
    "detail_level_for_hybrid": ("unified.auto_mode_thresholds.detail_level_for_hybrid", 3),
    "performance_threshold_for_runtime": (
        "unified.auto_mode_thresholds.performance_threshold_for_runtime", 0.8),
    "max_events_per_second": ("runtime.safety_limits.max_events_per_second", 100_000),
    "enable_ai_mode_selection": ("unified.feature_flags.enable_ai_mode_selection", True),
    "ai_enabled": ("ai.mode_selection.enabled", True),
    "ai_provider": ("ai.mode_selection.provider", "local"),
    "ai_timeout_ms": ("ai.mode_selection.analysis_timeout_ms", 100),
    "ai_confidence_threshold": ("ai.mode_selection.confidence_threshold", 0.6),
    "planning_enabled": ("ai.instrumentation_planning.enabled", True),
    "complexity_analysis": ("ai.instrumentation_planning.complexity_analysis", True),
    "historical_data_weight": ("ai.instrumentation_planning.historical_data_weight", 0.3),
    "user_preference_weight": ("ai.instrumentation_planning.user_preference_weight", 0.7),
}


@dataclass
class SelectionContext:
    target: Any
    target_text: str
    options: TraceOptions
    environment: str
    kind: str  # what the analysis says the target is: function, line, module, thread, ...
    analysis: Any  # analysis.TargetAnalysis
    capabilities: dict[str, Any]  # analyze_mode_capabilities(target)
    available: dict[str, bool]
    unavailable_why: dict[str, str]
    user_preferences: dict[str, Any]
    settings: dict[str, Any]
    system_resources: dict[str, Any]
    threads: list[str] = field(default_factory=list)  # the targets that are threads
    calibration: Any = None  # costmodel.Calibration, measured on first use
    warnings: list[str] = field(default_factory=list)

    @property
    def profiles(self) -> list[Any]:
        return list(getattr(self.analysis, "functions", []) or [])

    @property
    def profile(self) -> Any:
        """The function that dominates the decision: the most complex one (ties: largest,
        then by name, so the choice never depends on order)."""
        profiles = self.profiles
        if not profiles:
            return None
        return max(profiles, key=lambda p: (p.cyclomatic, p.size_lines, p.loop_depth,
                                            _neg(p.qualname)))

    @property
    def complexity(self) -> int:
        return max((p.cyclomatic for p in self.profiles), default=0)

    @property
    def granularity(self) -> str:
        return self.options.granularity or "function"

    @property
    def locals_asked(self) -> bool:
        return bool(self.options.capture_locals)

    @property
    def detail_level(self) -> int:
        """1 function, 2 line, 3 expression, 4 variable; asking for locals or lines means 2."""
        level = DETAIL_LEVELS.get(self.granularity, 1)
        if self.locals_asked or self.options.trace_lines or "lines" in self.options.include:
            level = max(level, 2)
        return level

    def get_calibration(self) -> Any:
        if self.calibration is None:
            from scopeline.engine.selection.costmodel import calibrate

            self.calibration = calibrate()
        return self.calibration

    def summary(self) -> dict[str, Any]:
        return {"target": self.target_text, "kind": self.kind, "environment": self.environment,
                "granularity": self.granularity, "detail_level": self.detail_level,
                "complexity": self.complexity, "available": dict(self.available)}


def _neg(text: str) -> tuple[int, ...]:
    # max() with a name tie-break that prefers the alphabetically first name
    return tuple(-ord(c) for c in text)


def read_settings() -> dict[str, Any]:
    return {key: config.get_with_fallback(path, default)
            for key, (path, default) in SETTINGS.items()}


def user_preferences(opts: TraceOptions, settings: dict[str, Any]) -> dict[str, Any]:
    """The user's own say: an explicit mode, a preferred mode in ``metadata``, the configured
    default mode."""
    prefs: dict[str, Any] = {}
    if opts.mode != "auto":
        prefs["mode"] = opts.mode
    preferred = opts.metadata.get("preferred_mode")
    if preferred is not None:
        if preferred not in MODES:
            raise ScopelineError("invalid_config", f"metadata preferred_mode={preferred!r} is "
                                 "not a mode", details={"allowed": list(MODES)},
                                 suggestions=[f"Use one of: {', '.join(MODES)}"])
        prefs["preferred_mode"] = preferred
    if settings["default_mode"] != "auto":
        prefs["default_mode"] = settings["default_mode"]
    return prefs


def availability(capabilities: dict[str, Any]) -> tuple[dict[str, bool], dict[str, str]]:
    """Which modes can run for this target here (capabilities.analyze_mode_capabilities, which
    also applies the environment and feature-flag checks), and in words why not."""
    available = {m: bool((capabilities.get(m) or {}).get("available")) for m in MODES}
    why = {m: (capabilities.get(m) or {}).get("why_unavailable") or
           f"{m} mode cannot trace this target" for m in MODES if not available[m]}
    return available, why


@dataclass(frozen=True)
class Shared:
    """What every decision reads the same whatever the target — the settings and what this
    interpreter and its feature flags allow — read once when many targets are decided
    together (a file's functions for the editor, a project listing)."""

    settings: dict[str, Any]
    support: Any  # capabilities.Support


def read_shared() -> Shared:
    from scopeline.engine.selection.capabilities import current_support

    return Shared(read_settings(), current_support())


def build_context(target: Any, options: TraceOptions | None = None, *,
                  calibration: Any = None, analysis: Any = None, profile: Any = None,
                  capabilities: dict[str, Any] | None = None,
                  shared: Shared | None = None) -> SelectionContext:
    """Everything the decision for ``target`` with ``options`` depends on.

    What the caller already has is used as it is, not worked out again: ``profile`` (the
    target is this one function, profiled from its source: nothing is resolved), ``analysis``
    (``analyze_target_complexity(target)``), ``capabilities`` (``analyze_mode_capabilities``),
    ``shared`` (``read_shared()``, read once for many decisions). Otherwise the target is
    resolved once, and both the analysis and the capabilities are made from that."""
    from scopeline.engine.runtime.select import choose_backend_name
    from scopeline.engine.selection.analysis import (
        analysis_of_profile,
        analyze_target_complexity,
        resolve_items,
        target_kind,
        target_name,
    )
    from scopeline.engine.selection.capabilities import analyze_mode_capabilities

    opts = options if options is not None else parse_options()
    settings = shared.settings if shared is not None else read_settings()
    resolved = None
    if profile is not None:
        analysis = analysis if analysis is not None else analysis_of_profile(target, profile)
    elif analysis is None or capabilities is None:
        resolved = resolve_items(target)
        if analysis is None:
            analysis = analyze_target_complexity(target, resolved=resolved)
    if capabilities is None:
        capabilities = analyze_mode_capabilities(
            target, analysis=analysis, resolved=resolved, profile=profile,
            support=shared.support if shared is not None else None)
    available, why = availability(capabilities)
    items = target if isinstance(target, list | tuple | set | frozenset) else [target]
    threads = [] if profile is not None else sorted(
        target_name(i) for i in items if target_kind(i) == "thread")
    return SelectionContext(
        target=target, target_text=str(getattr(analysis, "target", target)), options=opts,
        environment=config.current_environment(), kind=getattr(analysis, "kind", "function"),
        analysis=analysis, capabilities=capabilities, available=available,
        unavailable_why=why, user_preferences=user_preferences(opts, settings),
        settings=settings, calibration=calibration, threads=threads,
        system_resources={"cpu_count": os.cpu_count() or 1,
                          "python": f"{sys.version_info.major}.{sys.version_info.minor}",
                          "runtime_backend": choose_backend_name()[0]})
