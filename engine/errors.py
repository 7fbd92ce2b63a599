"""Structured errors (seed §6): every failure a user sees carries a code, a message and what to do.

Standard library only: the agent inside the user's program raises these too.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any


class ErrorCategory(StrEnum):
    CONFIGURATION = "configuration"
    MODE_SELECTION = "mode_selection"
    COMPILATION = "compilation"
    RUNTIME = "runtime"
    CORRELATION = "correlation"
    SYSTEM = "system"


class Severity(StrEnum):
    INFO = "info"
    WARNING = "warning"
    ERROR = "error"
    CRITICAL = "critical"


@dataclass(frozen=True)
class ErrorSpec:
    category: ErrorCategory
    severity: Severity
    recoverable: bool
    suggestions: tuple[str, ...]


_C = ErrorCategory
_S = Severity

# The seed's error codes, each with where it belongs and what a user can do about it.
ERROR_CODES: dict[str, ErrorSpec] = {
    "mode_unavailable": ErrorSpec(_C.MODE_SELECTION, _S.ERROR, True, (
        "Use mode='runtime', which needs no source changes.",
        "Call scopeline.get_mode_capabilities(target) to see what each mode can do.",
    )),
    "compilation_required": ErrorSpec(_C.MODE_SELECTION, _S.ERROR, True, (
        "Re-run with mode='compile_time' so the source can be instrumented.",
    )),
    "target_invalid": ErrorSpec(_C.MODE_SELECTION, _S.ERROR, False, (
        "Check the target's spelling: 'pkg.mod:func', 'pkg.mod:Class.method', "
        "'file.py:LINE' or 'thread:NAME'.",
    )),
    "invalid_config": ErrorSpec(_C.CONFIGURATION, _S.ERROR, False, (
        "Run `scopeline config --validate` to list every problem with the configuration.",
    )),
    "config_validation_failed": ErrorSpec(_C.CONFIGURATION, _S.ERROR, False, (
        "Fix the values listed in details['problems'] in [tool.scopeline] of pyproject.toml.",
    )),
    "feature_disabled": ErrorSpec(_C.CONFIGURATION, _S.WARNING, True, (
        "Enable the feature flag with scopeline.set_feature_flag(name, True).",
    )),
    "trace_limit_exceeded": ErrorSpec(_C.RUNTIME, _S.WARNING, True, (
        "Stop another session or raise hybrid.session_management.max_concurrent_sessions.",
    )),
    "resource_exhausted": ErrorSpec(_C.RUNTIME, _S.ERROR, True, (
        "Lower sampling_rate or raise runtime.safety_limits.memory_limit_mb.",
    )),
    "permission_denied": ErrorSpec(_C.RUNTIME, _S.ERROR, False, (
        "Check that you may read the file and write to the Scopeline data directory.",
    )),
    "compilation_failed": ErrorSpec(_C.COMPILATION, _S.ERROR, True, (
        "Fix the syntax error in the file, or trace it with mode='runtime'.",
    )),
    "ast_transformation_failed": ErrorSpec(_C.COMPILATION, _S.ERROR, True, (
        "Simplify the custom injection, or trace the target with mode='runtime'.",
    )),
    "module_not_found": ErrorSpec(_C.COMPILATION, _S.ERROR, False, (
        "Check that the module is importable from this interpreter (python -c 'import X').",
    )),
    "correlation_timeout": ErrorSpec(_C.CORRELATION, _S.WARNING, True, (
        "Raise correlation_window (ms) or hybrid.correlation.window_ms.",
    )),
    "correlation_failed": ErrorSpec(_C.CORRELATION, _S.WARNING, True, (
        "Trace the target in a single mode, or try another correlation strategy.",
    )),
    "session_not_found": ErrorSpec(_C.CORRELATION, _S.ERROR, False, (
        "Run `scopeline sessions` to list the sessions that exist.",
    )),
    "system_overload": ErrorSpec(_C.SYSTEM, _S.CRITICAL, True, (
        "Lower sampling_rate or runtime.safety_limits.max_events_per_second.",
    )),
    "dependency_unavailable": ErrorSpec(_C.SYSTEM, _S.ERROR, False, (
        "Reinstall Scopeline with its dependencies: pip install scopeline.",
    )),
    "internal_error": ErrorSpec(_C.SYSTEM, _S.CRITICAL, False, (
        "Re-run with --debug and report the traceback.",
    )),
    # Python-specific additions
    "tracer_conflict": ErrorSpec(_C.RUNTIME, _S.ERROR, True, (
        "Stop the other tracer or debugger first, or use Python 3.12+ where tools coexist.",
    )),
    "script_not_found": ErrorSpec(_C.SYSTEM, _S.ERROR, False, (
        "Check the path of the script to run: `scopeline run -- path/to/script.py`.",
    )),
}


class ScopelineError(Exception):
    """The one exception type Scopeline raises on purpose."""

    def __init__(
        self,
        code: str,
        message: str,
        *,
        details: dict[str, Any] | None = None,
        suggestions: list[str] | tuple[str, ...] | None = None,
        severity: Severity | str | None = None,
        category: ErrorCategory | str | None = None,
    ) -> None:
        spec = ERROR_CODES.get(code) or ERROR_CODES["internal_error"]
        self.code = code
        self.message = message
        self.category = ErrorCategory(category) if category else spec.category
        self.severity = Severity(severity) if severity else spec.severity
        self.details: dict[str, Any] = dict(details or {})
        self.recovery_suggestions: list[str] = list(suggestions or ()) + [
            s for s in spec.suggestions if s not in (suggestions or ())
        ]
        self.timestamp = time.time()
        super().__init__(message)

    @property
    def recoverable(self) -> bool:
        return recoverable(self)

    def one_line(self) -> str:
        """The single line the CLI prints: code, message, first suggestion."""
        hint = f" — {self.recovery_suggestions[0]}" if self.recovery_suggestions else ""
        return f"error[{self.code}]: {self.message}{hint}"

    def to_dict(self) -> dict[str, Any]:
        return {
            "category": self.category.value,
            "severity": self.severity.value,
            "code": self.code,
            "message": self.message,
            "details": self.details,
            "recovery_suggestions": self.recovery_suggestions,
            "timestamp": self.timestamp,
            "recoverable": self.recoverable,
        }

    def __str__(self) -> str:
        return f"[{self.code}] {self.message}"


def create_error(
    category: ErrorCategory | str, code: str, message: str, details: dict[str, Any] | None = None
) -> ScopelineError:
    return ScopelineError(code, message, details=details, category=category)


def get_recovery_suggestions(code: str) -> list[str]:
    spec = ERROR_CODES.get(code)
    return list(spec.suggestions) if spec else []


def recoverable(error: ScopelineError) -> bool:
    spec = ERROR_CODES.get(error.code)
    if spec is None:
        return False
    return spec.recoverable and error.severity is not Severity.CRITICAL or error.code in (
        "system_overload",
    )


@dataclass
class Fallback:
    """handle_error's answer when the work can go on another way (e.g. runtime capture)."""

    to: Any
    reason: str = field(default="")


def handle_error(error: ScopelineError) -> str | Fallback:
    """What to do about an error: "ok", "retry", Fallback(...) or "abort" (seed `handle_error`)."""
    if error.severity is Severity.INFO:
        return "ok"
    if error.code in ("mode_unavailable", "compilation_failed", "ast_transformation_failed",
                      "compilation_required"):
        return Fallback("runtime", f"{error.code}: falling back to runtime capture")
    if error.code in ("correlation_timeout", "system_overload"):
        return "retry"
    if error.code in ("trace_limit_exceeded", "resource_exhausted"):
        return Fallback("sampled", f"{error.code}: stepping down to sampled capture")
    return "abort"
