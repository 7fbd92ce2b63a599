"""``trace()`` options: checked once, with one clear error naming what is allowed."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

from scopeline.engine.errors import ScopelineError

MODES = ("auto", "runtime", "compile_time", "hybrid")
GRANULARITIES = ("function", "line", "expression", "variable")
INCLUDE_KINDS = ("calls", "returns", "exceptions", "lines", "state_changes", "messages")


@dataclass
class TraceOptions:
    mode: str = "auto"
    force_runtime: bool = False
    force_compile_time: bool = False
    granularity: str | None = None  # None: "function", or compile_time.default_level
    capture_locals: tuple[str, ...] = ()
    trace_lines: tuple[int, ...] = ()
    include: tuple[str, ...] | None = None  # None: runtime.tracing.default_flags
    sampling_rate: float = 1.0
    custom_injections: tuple[Any, ...] = ()
    conditional_compilation: Any = None
    correlation_window: int | None = None  # ms; None: hybrid.correlation.window_ms
    auto_escalate: bool = True
    timeout: float | None = None
    metadata: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        out = asdict(self)
        for key in ("capture_locals", "trace_lines", "include", "custom_injections"):
            out[key] = list(out[key])
        return out


def _bad(message: str, allowed: Any) -> ScopelineError:
    return ScopelineError("invalid_config", message, details={"allowed": allowed},
                          suggestions=[f"Use one of: {allowed}"])


def parse_options(**raw: Any) -> TraceOptions:
    known = TraceOptions.__dataclass_fields__
    unknown = sorted(set(raw) - set(known))
    if unknown:
        raise _bad(f"unknown trace option(s): {', '.join(unknown)}", sorted(known))
    opts = TraceOptions(**{k: v for k, v in raw.items() if v is not None or k == "timeout"})
    if opts.mode not in MODES:
        raise _bad(f"mode={opts.mode!r} is not a mode", list(MODES))
    if opts.granularity is not None and opts.granularity not in GRANULARITIES:
        raise _bad(f"granularity={opts.granularity!r} is not a granularity", list(GRANULARITIES))
    if opts.include is None:
        from scopeline.engine import config

        opts.include = tuple(config.get_with_fallback("runtime.tracing.default_flags",
                                                      ["calls", "returns"]))
    if isinstance(opts.include, str):
        opts.include = (opts.include,)
    opts.include = tuple(opts.include)
    bad = [k for k in opts.include if k not in INCLUDE_KINDS]
    if bad:
        raise _bad(f"include={bad!r}: unknown event kind(s)", list(INCLUDE_KINDS))
    if isinstance(opts.capture_locals, str):
        opts.capture_locals = tuple(n.strip() for n in opts.capture_locals.split(",") if n)
    opts.capture_locals = tuple(opts.capture_locals)
    opts.trace_lines = tuple(int(n) for n in opts.trace_lines)
    rate = opts.sampling_rate
    if isinstance(rate, bool) or not isinstance(rate, int | float) or not 0.0 < rate <= 1.0:
        raise _bad(f"sampling_rate={rate!r} must be a number in (0, 1]", "0 < rate <= 1")
    opts.sampling_rate = float(rate)
    if opts.force_runtime and opts.force_compile_time:
        raise _bad("force_runtime and force_compile_time cannot both be set",
                   "one force flag at most")
    if opts.timeout is not None and (isinstance(opts.timeout, bool) or opts.timeout <= 0):
        raise _bad(f"timeout={opts.timeout!r} must be a positive number of seconds",
                   "timeout > 0")
    opts.metadata = dict(opts.metadata or {})
    _check_feature_flags(opts)
    return opts


# Granularities that rely on an optional feature, and the flag that switches it on.
_FLAG_FOR_GRANULARITY = {"expression": "enable_expression_tracing",
                         "variable": "enable_ast_local_variables"}


def settle_granularity(opts: TraceOptions, mode: str) -> None:
    """The granularity once the mode is known: compile-time sessions default to
    compile_time.instrumentation.default_level, runtime ones to "function"."""
    if opts.granularity is None:
        from scopeline.engine import config

        if mode in ("compile_time", "hybrid") and (opts.trace_lines or opts.capture_locals):
            opts.granularity = "line"  # lines or locals asked for: a function probe won't do
        elif mode in ("compile_time", "hybrid"):
            opts.granularity = config.get_with_fallback(
                "compile_time.instrumentation.default_level", "function")
        else:
            opts.granularity = "function"
        _check_feature_flags(opts)


def _check_feature_flags(opts: TraceOptions) -> None:
    flag = _FLAG_FOR_GRANULARITY.get(opts.granularity)
    if flag is None:
        return
    from scopeline.engine import config

    if not config.get_with_fallback(f"unified.feature_flags.{flag}", True):
        raise ScopelineError("feature_disabled", f"granularity={opts.granularity!r} needs the "
                             f"feature flag {flag}, which is off in this environment "
                             f"({config.current_environment()})",
                             details={"flag": flag},
                             suggestions=[f"scopeline.set_feature_flag({flag!r}, True), or use "
                                          "granularity='line'."])
