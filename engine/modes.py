"""Which capture mode a session uses, and why. Until injection exists, that is runtime."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from scopeline.engine import config
from scopeline.engine.errors import ScopelineError
from scopeline.engine.options import TraceOptions
from scopeline.engine.runtime.select import choose_backend_name

RUNTIME_CAPABILITIES = ["calls", "returns", "exceptions", "lines", "locals_at_lines",
                        "threads", "sampling", "no_source_needed"]


@dataclass
class ModeDecision:
    mode: str
    confidence: float
    reason: str
    alternatives: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {"mode": self.mode, "confidence": self.confidence, "reason": self.reason,
                "alternatives": self.alternatives, "warnings": self.warnings}


def _unavailable(mode: str, why: str) -> ScopelineError:
    return ScopelineError(
        "mode_unavailable", f"{mode} mode is not available in this version of Scopeline ({why})",
        details={"mode": mode},
        suggestions=["Use mode='runtime' (or 'auto'): runtime hooks capture calls, returns, "
                     "exceptions and lines with locals without changing your code."])


def injection_available() -> bool:
    import importlib.util

    return importlib.util.find_spec("scopeline.engine.instrument") is not None


def resolve_mode(target: Any, opts: TraceOptions) -> ModeDecision:
    requested = opts.mode
    if requested == "auto":
        requested = config.get_with_fallback("unified.default_mode", "auto")
    if opts.force_compile_time:
        requested = "compile_time"
    if requested == "compile_time" and injection_available():
        from scopeline.engine.compile_time.backend import REASON

        if not config.get_with_fallback(
                "unified.feature_flags.enable_on_demand_compilation", True):
            raise ScopelineError("feature_disabled", "compile-time injection needs the feature "
                                 "flag enable_on_demand_compilation, which is off",
                                 suggestions=["scopeline.set_feature_flag("
                                              "'enable_on_demand_compilation', True), or use "
                                              "mode='runtime'."])
        env = config.current_environment()
        allowed = config.get_with_fallback("compile_time.instrumentation.environments",
                                           ["dev", "test"])
        if env not in allowed:
            raise ScopelineError(
                "mode_unavailable", f"compile-time injection is off in the {env!r} environment "
                f"(compile_time.instrumentation.environments = {allowed})",
                details={"environment": env, "allowed": allowed},
                suggestions=["Use mode='runtime', or add the environment to "
                             "compile_time.instrumentation.environments."])
        why = "force_compile_time was set" if opts.force_compile_time else \
            "compile-time mode was asked for"
        return ModeDecision("compile_time", 1.0, f"{why}: {REASON}", alternatives=["runtime"])
    if requested in ("compile_time", "hybrid"):
        raise _unavailable(requested, "source injection is not built yet"
                           if requested == "compile_time" else "hybrid correlation is not "
                           "built yet")
    backend, backend_reason = choose_backend_name()
    if opts.force_runtime:
        reason = "force_runtime was set."
        confidence = 1.0
    elif opts.mode == "runtime" or requested == "runtime":
        reason = "runtime mode was asked for."
        confidence = 1.0
    else:
        reason = ("runtime hooks capture calls, returns, exceptions and lines with locals "
                  "without changing your code; injection is not needed for these options.")
        confidence = 0.9
    warnings = []
    if opts.granularity in ("expression", "variable"):
        warnings.append(f"granularity={opts.granularity!r} needs source injection: runtime "
                        "mode captures the locals at every line instead.")
    return ModeDecision("runtime", confidence, f"{reason} Backend: {backend}. {backend_reason}",
                        alternatives=[], warnings=warnings)


def capabilities(target: Any) -> dict[str, list[str]]:
    return {"runtime": list(RUNTIME_CAPABILITIES), "compile_time": [], "hybrid": []}
