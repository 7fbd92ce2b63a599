"""Which capture mode a session uses, and why: explicit modes and force flags here, after
their checks; ``mode="auto"`` by the selection engine (``selection/engine.py``)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from scopeline.engine import config
from scopeline.engine.errors import ScopelineError
from scopeline.engine.options import TraceOptions
from scopeline.engine.runtime.select import choose_backend_name


@dataclass
class ModeDecision:
    """A mode choice and why. ``rules`` holds every rule's verdict, ``evidence`` what the learned
    selector found, ``options`` what the decision adds to the session (e.g. a sampling rate)."""

    mode: str
    confidence: float
    reason: str
    alternatives: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    rules: list[dict[str, Any]] = field(default_factory=list)
    evidence: dict[str, Any] = field(default_factory=dict)
    strategy: str = "explicit"
    options: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {"mode": self.mode, "confidence": round(self.confidence, 2), "reason": self.reason,
                "alternatives": list(self.alternatives), "warnings": list(self.warnings),
                "strategy": self.strategy, "options": dict(self.options),
                "rules": [dict(r) for r in self.rules], "evidence": dict(self.evidence)}


def injection_available() -> bool:
    import importlib.util

    return importlib.util.find_spec("scopeline.engine.instrument") is not None


def injection_refusal(mode: str) -> ScopelineError | None:
    """Why compile_time / hybrid (both rewrite source) may not run here, or None."""
    if not injection_available():
        return ScopelineError("mode_unavailable", f"{mode} mode needs the libcst instrumenter, "
                              "which is not installed")
    if not config.get_with_fallback("unified.feature_flags.enable_on_demand_compilation", True):
        return ScopelineError(
            "feature_disabled", f"{mode} mode rewrites source, which needs the feature flag "
            "enable_on_demand_compilation, which is off",
            suggestions=["scopeline.set_feature_flag('enable_on_demand_compilation', True), "
                         "or use mode='runtime'."])
    if mode == "hybrid" and not config.get_with_fallback(
            "runtime.coordination.coordinate_with_ast", True):
        return ScopelineError(
            "mode_unavailable", "hybrid mode puts runtime hooks and injected probes on the same "
            "functions, which runtime.coordination.coordinate_with_ast = false forbids",
            details={"mode": mode},
            suggestions=["Use mode='runtime' or mode='compile_time', or set "
                         "runtime.coordination.coordinate_with_ast = true."])
    env = config.current_environment()
    allowed = config.get_with_fallback("compile_time.instrumentation.environments",
                                       ["dev", "test"])
    if env not in allowed:
        return ScopelineError(
            "mode_unavailable", f"compile-time injection is off in the {env!r} environment "
            f"(compile_time.instrumentation.environments = {allowed})",
            details={"environment": env, "allowed": allowed, "mode": mode},
            suggestions=["Use mode='runtime', or add the environment to "
                         "compile_time.instrumentation.environments."])
    return None


HYBRID_REASON = ("runtime hooks time every call while injected probes record the locals and "
                 "expressions asked for; the two halves of each call are joined into one view.")


def runtime_reason() -> str:
    backend, backend_reason = choose_backend_name()
    return f"Backend: {backend}. {backend_reason}"


def explicit_decision(opts: TraceOptions) -> ModeDecision:
    """The mode a force flag or an explicit ``mode=`` names, after the checks it needs."""
    if opts.force_compile_time or opts.force_runtime:
        mode = "compile_time" if opts.force_compile_time else "runtime"
        why = f"force_{mode} was set"
    else:
        mode, why = opts.mode, f"{opts.mode} mode was asked for"
    if mode in ("compile_time", "hybrid"):
        refusal = injection_refusal(mode)
        if refusal is not None:
            raise refusal
        from scopeline.engine.compile_time.backend import REASON

        detail = REASON if mode == "compile_time" else HYBRID_REASON
        return ModeDecision(mode, 1.0, f"{why}: {detail}", alternatives=["runtime"])
    warnings = []
    if opts.granularity in ("expression", "variable"):
        warnings.append(f"granularity={opts.granularity!r} needs source injection: runtime "
                        "mode captures the locals at every line instead.")
    return ModeDecision("runtime", 1.0, f"{why}. {runtime_reason()}", warnings=warnings)


def resolve_mode(target: Any, opts: TraceOptions) -> ModeDecision:
    """The session's mode: force flags and explicit modes as asked (after their checks);
    ``mode="auto"`` by the selection engine, whose sampling rate applies unless one was given."""
    if opts.force_compile_time or opts.force_runtime or opts.mode != "auto":
        return explicit_decision(opts)
    from scopeline.engine.selection.engine import determine_mode

    decision = determine_mode(target, opts)
    rate = decision.options.get("sampling_rate")
    if rate is not None and opts.sampling_rate == 1.0:
        opts.sampling_rate = float(rate)
    return decision
