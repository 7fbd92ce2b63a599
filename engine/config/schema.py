"""The declarative schema of every Scopeline setting (seed §3.1, ``Config.Unified``'s type).

The schema is a tree of plain dicts whose leaves are :class:`Setting`. Two dict subclasses mark
the one irregular spot, ``unified.environment_overrides``: an :class:`Overrides` table holds one
:class:`Partial` per environment, and a partial accepts any subset of the whole schema.

Standard library only: this module is imported inside users' programs.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any, Literal

Kind = Literal["bool", "int", "float", "str", "enum", "list"]

ENVIRONMENTS: tuple[str, ...] = ("dev", "test", "prod")
MODES: tuple[str, ...] = ("runtime", "compile_time", "hybrid")
TRACE_MODES: tuple[str, ...] = ("auto", *MODES)
INCLUDE_KINDS: tuple[str, ...] = (
    "calls", "returns", "exceptions", "lines", "state_changes", "messages",
)
GRANULARITIES: tuple[str, ...] = ("function", "expression", "line", "variable")
CORRELATION_STRATEGIES: tuple[str, ...] = (
    "timestamp_window", "call_stack_matching", "thread_correlation", "message_sequence",
)
# "pkg.mod.Name" or "pkg.mod:Name.attr": how a custom transformation is named.
_DOTTED = re.compile(r"^[A-Za-z_]\w*(\.[A-Za-z_]\w*)*(:[A-Za-z_]\w*(\.[A-Za-z_]\w*)*)?$")

Path = tuple[str, ...]


@dataclass(frozen=True)
class Setting:
    """One leaf: its type, constraints, default and a one-line doc."""

    kind: Kind
    default: Any
    doc: str
    minimum: float | None = None
    maximum: float | None = None
    choices: tuple[str, ...] = ()  # enum values, or allowed list items
    pattern: re.Pattern[str] | None = field(default=None, compare=False)
    zero_is_unlimited: bool = False  # None is accepted and stored as 0
    allow_empty: bool = True  # for "str"

    def expected(self) -> str:
        """What a valid value looks like, for error messages."""
        if self.kind == "bool":
            return "true or false"
        if self.kind == "enum":
            return "one of " + ", ".join(repr(c) for c in self.choices)
        if self.kind == "str":
            return "a string" if self.allow_empty else "a non-empty string"
        if self.kind == "list":
            if self.choices:
                return "a list of strings from " + ", ".join(repr(c) for c in self.choices)
            return "a list of dotted names" if self.pattern else "a list of strings"
        noun = "an integer" if self.kind == "int" else "a number"
        lo, hi = self.minimum, self.maximum
        if lo is not None and hi is not None:
            text = f"{noun} between {lo} and {hi}"
        elif lo is not None:
            text = f"{noun} >= {lo}"
        else:
            text = noun
        return text + (" (0 = no limit)" if self.zero_is_unlimited else "")

    def check(self, value: Any, path: str) -> tuple[Any, str | None]:
        """Return (normalized value, None) or (None, problem message)."""
        bad = f"{path}: expected {self.expected()}, got {value!r} ({type(value).__name__})"
        if self.kind == "bool":
            return (value, None) if isinstance(value, bool) else (None, bad)
        if self.kind in ("int", "float"):
            if value is None and self.zero_is_unlimited:
                value = 0
            # bool is an int subclass, but `True` for a buffer size is always a mistake.
            numeric = (int,) if self.kind == "int" else (int, float)
            if isinstance(value, bool) or not isinstance(value, numeric):
                return None, bad
            if self.kind == "float":
                value = float(value)
            unlimited = self.zero_is_unlimited and value == 0
            if not unlimited and (
                (self.minimum is not None and value < self.minimum)
                or (self.maximum is not None and value > self.maximum)
            ):
                return None, bad
            return value, None
        if self.kind == "enum":
            return (value, None) if isinstance(value, str) and value in self.choices else (
                None, bad)
        if self.kind == "str":
            if not isinstance(value, str) or (not self.allow_empty and not value.strip()):
                return None, bad
            return value, None
        # list of str: a tuple is fine from Python, TOML always gives a list.
        if isinstance(value, str) or not isinstance(value, (list, tuple)):
            return None, bad
        items = list(value)
        for item in items:
            if not isinstance(item, str):
                return None, bad
            if self.choices and item not in self.choices:
                return None, f"{path}: {item!r} is not one of " + ", ".join(
                    repr(c) for c in self.choices)
            if self.pattern and not self.pattern.match(item):
                return None, f"{path}: {item!r} is not a dotted name like 'pkg.mod.Name'"
        return items, None


class Partial(dict):  # type: ignore[type-arg]
    """A schema section where any subset of settings may be given (an environment override)."""


class Overrides(dict):  # type: ignore[type-arg]
    """``unified.environment_overrides``: one Partial per environment."""


def _bool(default: bool, doc: str) -> Setting:
    return Setting("bool", default, doc)


def _int(default: int, doc: str, lo: int = 1, hi: int | None = None,
         unlimited: bool = False) -> Setting:
    return Setting("int", default, doc, minimum=lo, maximum=hi, zero_is_unlimited=unlimited)


def _float(default: float, doc: str, lo: float = 0.0, hi: float | None = 1.0) -> Setting:
    return Setting("float", default, doc, minimum=lo, maximum=hi)


def _enum(default: str, choices: tuple[str, ...], doc: str) -> Setting:
    return Setting("enum", default, doc, choices=choices)


def _list(default: list[str], doc: str, choices: tuple[str, ...] = (),
          pattern: re.Pattern[str] | None = None) -> Setting:
    return Setting("list", default, doc, choices=choices, pattern=pattern)


_UNIFIED_COMMON: dict[str, Any] = {
    "default_mode": _enum("auto", TRACE_MODES, "Mode used when trace() is called with mode='auto'"
                          " and no rule decides otherwise."),
    "auto_mode_thresholds": {
        "complexity_for_ast": _int(10, "Cyclomatic complexity at or above which auto mode"
                                       " prefers compile-time instrumentation."),
        "detail_level_for_hybrid": _int(3, "Requested detail (1 function, 2 line, 3 expression,"
                                           " 4 variable) at or above which auto picks hybrid.",
                                        hi=4),
        "performance_threshold_for_runtime": _float(0.8, "Performance-sensitivity score (0..1)"
                                                         " at or above which auto picks runtime"
                                                         " (low 0.2, medium 0.5, high 0.9 call"
                                                         " frequency, or the measured event rate"
                                                         " over max_events_per_second)."),
    },
    "feature_flags": {
        "enable_ast_local_variables": _bool(True, "Compile-time mode may capture local"
                                                  " variables."),
        "enable_expression_tracing": _bool(True, "Compile-time mode may record individual"
                                                 " expression values."),
        "enable_on_demand_compilation": _bool(True, "Modules may be re-instrumented while the"
                                                    " program runs."),
        "enable_ai_mode_selection": _bool(True, "The learned selector may weigh in on auto mode"
                                                " decisions."),
    },
    "values": {
        "max_repr_length": _int(200, "Captured value reprs are cut to this many characters.",
                                lo=8),
        "max_depth": _int(3, "Nesting depth shown inside containers before '...'.", lo=0),
        "max_items": _int(10, "Items shown per container before '...'.", lo=0),
        "repr_timeout_ms": _int(50, "Time allowed for one repr() before it is abandoned.",
                                unlimited=True),
    },
    "storage": {
        "data_dir": Setting("str", "", "Where sessions are stored; empty means the platform"
                                       " user-data dir, resolved by the store."),
        "flush_batch_size": _int(50_000, "Most events written to the store in one batch"
                                         " (one file each)."),
        "keep_sessions": _int(200, "Stored sessions kept; older ones are pruned.",
                              unlimited=True),
    },
}

_MODE_SECTIONS: dict[str, Any] = {
    "runtime": {
        "safety_limits": {
            # The seed's max_traced_processes: in Python the traced unit is a thread.
            "max_traced_threads": _int(64, "Threads traced at once; more are left untraced."),
            "max_events_per_second": _int(100_000, "Above this rate capture steps down to"
                                                   " sampling."),
            "memory_limit_mb": _int(256, "Memory the event buffers may use before capture"
                                         " steps down."),
            "cpu_threshold_percent": _int(80, "Process CPU use above which capture steps"
                                              " down.", hi=100),
        },
        "tracing": {
            "default_flags": _list(["calls", "returns"], "What trace() captures when include"
                                                         " is not given.",
                                   choices=INCLUDE_KINDS),
            "sampling_rate": _float(1.0, "Fraction of calls recorded (1.0 = every call)."),
            "buffer_size": _int(200_000, "Events held in memory before they are flushed.",
                                lo=16),
            "flush_interval_ms": _int(200, "How often buffered events are flushed."),
        },
        "coordination": {
            "coordinate_with_ast": _bool(True, "Runtime hooks may share functions with"
                                               " injected probes (hybrid mode, and mode"
                                               " switches through it); off: hybrid is"
                                               " unavailable."),
            "shared_session_management": _bool(True, "Pausing a hybrid session pauses both"
                                                     " halves; off: only the runtime half, the"
                                                     " injected half keeps recording."),
            "event_correlation_enabled": _bool(True, "Both halves of a hybrid call carry exact"
                                                     " keys (thread, code, frame, call) and"
                                                     " join with confidence 1.0; off: the"
                                                     " correlator's scored strategies join"
                                                     " them."),
        },
    },
    "compile_time": {
        "instrumentation": {
            "default_level": _enum("function", GRANULARITIES, "Granularity used when trace()"
                                                              " does not give one."),
            "environments": _list(["dev", "test"], "Environments where compile-time"
                                                   " instrumentation is allowed.",
                                  choices=ENVIRONMENTS),
            "custom_transformations": _list([], "Extra AST transformers, as 'pkg.mod.Name'.",
                                            pattern=_DOTTED),
            "optimization_level": _enum("basic", ("none", "basic", "aggressive"),
                                        "Reuse of instrumentation: none = rewrite afresh"
                                        " every time; basic = reuse cached results within"
                                        " plan_cache_ttl_seconds; aggressive = reuse them"
                                        " while the source is unchanged, past the TTL."),
        },
        "compilation": {
            "plan_storage_path": Setting("str", "", "Where instrumentation plans are kept;"
                                                    " empty means '<data_dir>/plans'."),
            "plan_cache_ttl_seconds": _int(3600, "How long a stored plan stays valid.",
                                           unlimited=True),
            "enable_targeted_recompilation": _bool(True, "Only modules holding targets are"
                                                         " re-instrumented."),
            "recompile_timeout_ms": _int(5000, "Time allowed to re-instrument one module.",
                                         unlimited=True),
            "parallel_compilation": _bool(False, "Instrument several modules in worker"
                                                 " threads."),
        },
        "runtime_integration": {
            "register_with_runtime": _bool(True, "Compile-time sessions answer to the"
                                                 " runtime's global switch"
                                                 " (set_tracing_enabled); off: their injected"
                                                 " code keeps recording when it is off."),
            "shared_correlation_ids": _bool(True, "Instrumented events reuse runtime"
                                                  " correlation ids."),
            "runtime_control_enabled": _bool(True, "Runtime may pause/resume instrumented"
                                                   " code."),
        },
    },
    "hybrid": {
        "correlation": {
            "strategy": _enum("timestamp_window", CORRELATION_STRATEGIES,
                              "How runtime and compile-time events are matched."),
            "window_ms": _int(100, "Events this close in time may correlate."),
            "max_events_per_correlation": _int(1000, "Events grouped under one correlation"
                                                     " at most."),
            "confidence_threshold": _float(0.7, "Matches below this confidence are"
                                                " discarded."),
        },
        "session_management": {
            "max_concurrent_sessions": _int(16, "Sessions active at once."),
            "session_timeout_ms": _int(0, "A session that captured nothing for this long is"
                                          " stopped (0: never).",
                                       unlimited=True),
            "auto_cleanup_enabled": _bool(True, "When a session stops, stored sessions beyond"
                                                " unified.storage.keep_sessions are deleted."),
        },
        "mode_switching": {
            "enable_auto_escalation": _bool(True, "A session may change mode by itself: up to"
                                                  " hybrid when more detail is asked for, down"
                                                  " (hybrid → runtime → sampled) when it costs"
                                                  " too much."),
            "overhead_budget_percent": _int(25, "Estimated share of the program's time that"
                                                " capture may take before the session steps"
                                                " down.", lo=1),
            "escalation_thresholds": {
                "events_per_second": _int(10_000, "A hybrid session capturing more events per"
                                                  " second than this steps down to runtime."),
                "correlation_failures": _int(10, "Calls per second seen by one half of a"
                                                 " hybrid session only, past which it steps"
                                                 " down to runtime."),
                "detail_requests": _int(3, "Requests for locals or expressions a runtime"
                                           " session cannot answer, after which it"
                                           " escalates to hybrid."),
            },
        },
    },
}

_AI: dict[str, Any] = {
    "mode_selection": {
        "enabled": _bool(True, "The learned selector advises auto mode."),
        "provider": Setting("str", "local", "Which selector advises ('local' = the built-in"
                                            " one; any other is skipped with a warning).",
                            allow_empty=False),
        "analysis_timeout_ms": _int(100, "Time the selector may take per decision.",
                                    unlimited=True),
        "confidence_threshold": _float(0.6, "Advice below this confidence is ignored."),
    },
    "instrumentation_planning": {
        "enabled": _bool(True, "Mode decisions suggest a granularity (suggested_granularity)"
                               " when none is given."),
        "complexity_analysis": _bool(True, "Cyclomatic complexity feeds the mode rules (the"
                                           " complex-algorithm rule picks hybrid)."),
        "historical_data_weight": _float(0.3, "Weight of feedback on similar targets"
                                              " (train_with_feedback) in auto mode decisions."),
        "user_preference_weight": _float(0.7, "Weight of a mode preferred in trace(metadata="
                                              "{'preferred_mode': ...}) in auto decisions."),
    },
}

# What an environment override may contain: everything except more environment overrides.
PARTIAL_ROOT = Partial(unified=_UNIFIED_COMMON, **_MODE_SECTIONS, ai=_AI)

SCHEMA: dict[str, Any] = {
    "unified": {
        "default_mode": _UNIFIED_COMMON["default_mode"],
        "environment_overrides": Overrides({env: PARTIAL_ROOT for env in ENVIRONMENTS}),
        **{k: v for k, v in _UNIFIED_COMMON.items() if k != "default_mode"},
    },
    **_MODE_SECTIONS,
    "ai": _AI,
}

FEATURE_FLAGS: tuple[str, ...] = tuple(SCHEMA["unified"]["feature_flags"])
