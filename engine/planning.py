"""From resolved targets and options to the units a backend hooks and the session's recorder."""

from __future__ import annotations

from typing import Any

from scopeline.engine import config
from scopeline.engine.options import TraceOptions
from scopeline.engine.runtime.codeswap import Signature
from scopeline.engine.runtime.recorder import Limits, Recorder
from scopeline.engine.runtime.units import ThreadUnit, Unit
from scopeline.engine.saferepr import SafeRepr
from scopeline.engine.targets import resolve


def build_units(target: Any, opts: TraceOptions, *, load: bool = True,
                ) -> tuple[list[Unit], list[ThreadUnit], list[str]]:
    """``load=False`` (compile-time): a module not imported yet is only read, and gets
    instrumented when the program imports it."""
    resolved = resolve(target, load=load)
    units: list[Unit] = []
    threads: list[ThreadUnit] = []
    names: list[str] = []
    wants_calls = bool({"calls", "returns"} & set(opts.include))
    all_lines = (opts.granularity != "function" or "lines" in opts.include
                 or bool(opts.capture_locals))
    by_code: dict[Any, Unit] = {}
    for r in resolved:
        names.append(r.display)
        if r.kind == "thread":
            thread = r.thread
            threads.append(ThreadUnit(uid=len(units) + len(threads), ident=getattr(
                thread, "ident", None), name=getattr(thread, "name", r.display), thread=thread))
            continue
        lines: frozenset[int] | None = None
        if r.kind == "line":
            lines = frozenset({r.line} | set(opts.trace_lines))
        elif all_lines:
            lines = frozenset(opts.trace_lines)
        unit = by_code.get(r.code)
        if unit is not None:  # same function named twice (e.g. two lines of it): merge
            if lines is not None:
                unit.lines = (lines if unit.lines is None
                              else frozenset() if not unit.lines or not lines
                              else unit.lines | lines)
            continue
        sig = Signature.of(r.code)
        unit = Unit(uid=len(units), code=r.code, function=r.function, module=r.module,
                    qualname=r.qualname, file=r.file, first_line=r.first_line,
                    argnames=sig.all_names, arity=r.code.co_argcount,
                    calls=wants_calls or r.kind != "line", exceptions="exceptions" in opts.include,
                    lines=lines, capture_locals=opts.capture_locals,
                    meta={"from_module": r.spec.kind in ("module", "file"),
                          "line_target": r.line if r.kind == "line" else None})
        by_code[r.code] = unit
        units.append(unit)
    return units, threads, names


def runtime_lines(unit: Unit, opts: TraceOptions) -> frozenset[int] | None:
    """The lines runtime hooks watch in ``unit`` under ``opts`` (None: calls only)."""
    target_line = unit.meta.get("line_target")
    if target_line is not None:
        return frozenset({int(target_line)} | set(opts.trace_lines))  # type: ignore[call-overload]
    if (opts.granularity or "function") != "function" or "lines" in opts.include \
            or opts.capture_locals:
        return frozenset(opts.trace_lines)
    return None


def build_recorder(opts: TraceOptions) -> Recorder:
    get = config.get_with_fallback
    rate = opts.sampling_rate
    if rate == 1.0:
        rate = float(get("runtime.tracing.sampling_rate", 1.0))
    limits = Limits(
        sampling_rate=rate,
        max_events_per_second=int(get("runtime.safety_limits.max_events_per_second", 100_000)),
        buffer_size=int(get("runtime.tracing.buffer_size", 200_000)),
        max_traced_threads=int(get("runtime.safety_limits.max_traced_threads", 64)),
        memory_limit_mb=int(get("runtime.safety_limits.memory_limit_mb", 256)),
        cpu_threshold_percent=int(get("runtime.safety_limits.cpu_threshold_percent", 80)),
    )
    saferepr = SafeRepr(
        max_length=int(get("unified.values.max_repr_length", 200)),
        max_depth=int(get("unified.values.max_depth", 3)),
        max_items=int(get("unified.values.max_items", 10)),
        timeout_ms=int(get("unified.values.repr_timeout_ms", 50)),
    )
    recorder = Recorder(limits, saferepr)
    recorder.limits_repr_length = saferepr_length(saferepr)
    return recorder


def saferepr_length(saferepr: SafeRepr) -> int:
    return int(getattr(saferepr, "max_length", 200))
