"""What a trace will cost, priced with figures measured on this machine (``calibration.py``).

A function's profile (``analysis.FunctionProfile``) says how big it is, how deeply it loops and
how often it runs; the options say what is captured (``workload.py`` turns both into what one
call does, assuming where nothing was measured); the calibration says what each captured event
costs here. The ``basis`` of every estimate says which figures were measured and which assumed.
"""

from __future__ import annotations

import dataclasses
import math
import re
from dataclasses import dataclass
from typing import Any

from scopeline.engine import config
from scopeline.engine.errors import ScopelineError
from scopeline.engine.selection.calibration import Calibration, calibrate
from scopeline.engine.selection.workload import Workload, as_options, workload

__all__ = ["Calibration", "LocalsComparison", "calibrate", "compare_locals_capture",
           "estimate_live_overhead", "estimate_performance_impact", "workload"]

MODES = ("runtime", "compile_time", "hybrid")
SESSION_SECONDS = 60.0  # a session's length, over which the one-off rewrite is spread
PROBES_PER_LINE = {"function": 1, "line": 1, "variable": 1, "expression": 2}
_LINE_TARGET = re.compile(r"\.pyw?:(\d+)$")


@dataclass(frozen=True)
class LocalsComparison:
    runtime_us: float  # runtime line capture of the locals, per call
    injected_us: float  # injected line probes, per call, the one-off rewrite spread in
    cheaper: str  # "runtime" | "compile_time"
    explanation: str


def _check_mode(mode: str) -> None:
    if mode not in MODES:
        raise ScopelineError("invalid_config", f"mode={mode!r} cannot be priced",
                             details={"allowed": list(MODES)},
                             suggestions=["Price one of runtime, compile_time, hybrid; for "
                                          "'auto' ask determine_mode() first."])


# -- the prices --------------------------------------------------------------------------------
def runtime_line_ns(cal: Calibration, k: int) -> float:
    return cal.runtime_line_ns + (k - 1) * cal.runtime_local_ns


def injected_line_ns(cal: Calibration, k: int) -> float:
    return cal.injected_line_ns + (k - 1) * cal.injected_local_ns


def _sampled(s: float, full: float, skipped: float) -> float:
    return s * full + (1 - s) * skipped


def runtime_lines_ns(w: Workload, cal: Calibration) -> float:
    """Runtime line capture per call: switching it on, every line run, each captured one."""
    if not w.lines_on:
        return 0.0
    unwanted = max(0.0, w.lines_per_call - w.captured_lines)
    return (cal.runtime_line_setup_ns + unwanted * cal.runtime_unwanted_line_ns
            + w.captured_lines * _sampled(w.sampling_rate, runtime_line_ns(cal, w.locals_per_line),
                                          cal.runtime_skipped_line_ns))


def injected_lines_ns(w: Workload, cal: Calibration) -> float:
    probes = w.captured_lines * PROBES_PER_LINE.get(w.granularity, 1)
    return probes * _sampled(w.sampling_rate, injected_line_ns(cal, w.locals_per_line),
                             cal.injected_skipped_line_ns)


def rewrite_ns(w: Workload, cal: Calibration) -> float:
    return (w.file_lines or 0) * cal.rewrite_ns_per_source_line


def _probes_calls(w: Workload) -> bool:
    """Injected entry/exit probes: at function granularity, or with calls asked for."""
    return w.granularity == "function" or w.calls


def records_per_call(w: Workload, mode: str) -> tuple[float, float]:
    """(call records, line records) one call leaves in the buffer, before sampling."""
    calls = 0.0
    if mode in ("runtime", "hybrid") and w.calls:
        calls += 1 if w.leaf else 2  # a leaf call's entry and exit merge into one record
    if mode == "hybrid" or (mode == "compile_time" and _probes_calls(w)):
        calls += 2
    probes = 1 if mode == "runtime" else PROBES_PER_LINE.get(w.granularity, 1)
    return calls, w.captured_lines * probes


def per_call_ns(w: Workload, mode: str, cal: Calibration) -> float:
    """Added per call: the hooks or probes on the traced thread, and the flusher's work on
    the records they leave."""
    s = w.sampling_rate
    runtime_call = _sampled(s, cal.runtime_call_ns, cal.runtime_skipped_call_ns)
    injected_call = _sampled(s, cal.injected_call_ns, cal.injected_skipped_call_ns)
    if mode == "runtime":
        capture = (runtime_call if w.calls else 0.0) + runtime_lines_ns(w, cal)
    elif mode == "compile_time":
        fn_probes = injected_call if _probes_calls(w) else 0.0
        capture = fn_probes + injected_lines_ns(w, cal)
    else:  # hybrid: runtime hooks time every call, injected entry/exit probes carry the
        # join keys, and the locals come from injected line probes
        capture = runtime_call + injected_call + injected_lines_ns(w, cal)
    return capture + s * sum(records_per_call(w, mode)) * cal.flush_record_ns


def _bytes_per_second(w: Workload, mode: str, cal: Calibration) -> float:
    line_bytes = cal.line_record_bytes + (w.locals_per_line - 1) * cal.local_bytes
    calls, lines = records_per_call(w, mode)
    return w.calls_per_second * w.sampling_rate * (calls * cal.call_record_bytes
                                                   + lines * line_bytes)


def _memory_mb(workloads: list[Workload], mode: str, cal: Calibration) -> float:
    """Records wait in the buffer until the flusher drains them, once per flush interval; the
    buffer never holds more than ``runtime.tracing.buffer_size`` records."""
    interval_s = float(config.get_with_fallback("runtime.tracing.flush_interval_ms", 200)) / 1000
    buffer_size = int(config.get_with_fallback("runtime.tracing.buffer_size", 200_000))
    held = sum(_bytes_per_second(w, mode, cal) for w in workloads) * interval_s
    largest = max(cal.call_record_bytes, cal.line_record_bytes
                  + (max((w.locals_per_line for w in workloads), default=1) - 1)
                  * cal.local_bytes)
    return min(held, buffer_size * largest) / 2**20


def _sig(x: float, digits: int = 4) -> float:
    return float(f"{x:.{digits}g}") if math.isfinite(x) else x


def _us(ns: float) -> str:
    us = ns / 1000
    return f"{us:.2f} µs" if us < 100 else f"{us:,.0f} µs"


def _profiles(target: Any) -> list[Any]:
    from scopeline.engine.selection.analysis import analyze_target_complexity

    return list(analyze_target_complexity(target).functions)


def estimate_performance_impact(target: Any, mode: str, options: Any = None, *,
                                profile: Any = None, calibration: Calibration | None = None,
                                ) -> dict[str, Any]:
    """The seed's estimate for tracing ``target`` in ``mode``, from this machine's calibration.

    ``cpu_overhead_percent``: capture time added per second of the untraced program (over 100
    means the traced program runs more than twice as long); ``throughput_impact_percent``: the
    share of throughput lost; ``latency_impact_ms``: added to one call; ``memory_overhead_mb``:
    records waiting in the buffer. ``profile`` (one or a list) skips the target's analysis.
    """
    _check_mode(mode)
    opts = as_options(options)
    cal = calibration or calibrate()
    profiles = (list(profile) if isinstance(profile, list | tuple) else [profile]) \
        if profile is not None else _profiles(target)
    if not profiles:  # a thread target, an empty module: nothing known before it runs
        per_call = {"runtime": cal.runtime_call_ns, "compile_time": cal.injected_call_ns,
                    "hybrid": cal.hybrid_call_ns}[mode]
        return {"cpu_overhead_percent": 0.0, "memory_overhead_mb": 0.0,
                "latency_impact_ms": _sig(per_call / 1e6), "throughput_impact_percent": 0.0,
                "added_us_per_call": _sig(per_call / 1000), "one_off_ms": 0.0,
                "basis": f"{target!s} names no function before it runs, so only the cost of "
                         f"a traced call is known: {_us(per_call)} ({mode}, {cal.where()}); "
                         "how often calls come is not"}
    found = _LINE_TARGET.search(target.strip()) if isinstance(target, str) else None
    if found:  # a tracepoint: its line is captured (as planning.build_units does)
        opts = dataclasses.replace(opts, trace_lines=tuple(opts.trace_lines)
                                   + (int(found.group(1)),))
    loads = [workload(p, opts, mode, line_target=bool(found)) for p in profiles]
    costs = [per_call_ns(w, mode, cal) for w in loads]
    added_per_s = sum(w.calls_per_second * c for w, c in zip(loads, costs, strict=True))
    calls_per_s = sum(w.calls_per_second for w in loads)
    fraction = added_per_s / 1e9
    per_call = added_per_s / calls_per_s if calls_per_s else max(costs)
    files = {getattr(p, "file", None): w for p, w in zip(profiles, loads, strict=True)}
    one_off = sum(rewrite_ns(w, cal) for w in files.values()) if mode != "runtime" else 0.0
    costliest = max(range(len(loads)), key=lambda i: loads[i].calls_per_second * costs[i])
    w = loads[costliest]
    captured = (f"{w.captured_lines:,.0f} of ~{w.lines_per_call:,.0f} lines run per call "
                f"captured ({w.lines_source}), {w.locals_source}" if w.captured_lines
                else "no line capture")
    basis = (f"{mode} priced with figures {cal.where()}: {_us(costs[costliest])} a call of "
             f"{w.qualname} ({w.rate_source}; {captured}"
             + (f"; sampling rate {w.sampling_rate:g}" if w.sampling_rate < 1 else "") + ")")
    if len(loads) > 1:
        basis += f"; {len(loads)} functions, {w.qualname} the costliest"
    if one_off:
        basis += f"; one-off source rewrite {one_off / 1e6:,.0f} ms"
    return {
        "cpu_overhead_percent": _sig(100 * fraction),
        "memory_overhead_mb": _sig(_memory_mb(loads, mode, cal)),
        "latency_impact_ms": _sig(per_call / 1e6),
        "throughput_impact_percent": _sig(100 * fraction / (1 + fraction)),
        "added_us_per_call": _sig(per_call / 1000),
        "one_off_ms": _sig(one_off / 1e6),
        "basis": basis,
    }


def compare_locals_capture(profile: Any, options: Any,
                           calibration: Calibration | None = None) -> LocalsComparison:
    """Which costs less per call for this function with these options: runtime line events
    that read the locals, or injected line probes (with the one-off rewrite spread over the
    calls of a ``SESSION_SECONDS`` session)."""
    cal = calibration or calibrate()
    opts = as_options(options)
    w = workload(profile, opts, "compile_time")
    k = w.locals_per_line
    runtime = runtime_lines_ns(workload(profile, opts, "runtime"), cal)
    rt_line, inj_line = runtime_line_ns(cal, k), injected_line_ns(cal, k)
    head = (f"injected line probes: {_us(inj_line)} per line vs runtime line events "
            f"{_us(rt_line)} ({w.locals_source}), {cal.where()}")
    if not getattr(profile, "has_source", True) or w.file_lines is None:
        return LocalsComparison(_sig(runtime / 1000), math.inf, "runtime",
                                f"{w.qualname} has no source file to rewrite, so only runtime "
                                f"line events can read its locals ({_us(runtime)} per call); "
                                + head)
    calls = max(1.0, w.calls_per_second * SESSION_SECONDS)
    rewrite = rewrite_ns(w, cal)
    injected = injected_lines_ns(w, cal) + rewrite / calls
    cheaper = "runtime" if runtime < injected else "compile_time"
    parts = [head, f"{w.captured_lines:,.0f} of the ~{w.lines_per_call:,.0f} lines run per "
             f"call of {w.qualname} are captured ({w.lines_source})"]
    unwanted = max(0.0, w.lines_per_call - w.captured_lines)
    extra = [f"{_us(cal.runtime_line_setup_ns)} a call to switch line events on"]
    if unwanted and cal.runtime_unwanted_line_ns * unwanted >= 1:
        extra.append(f"{_us(cal.runtime_unwanted_line_ns)} on each of the other "
                     f"{unwanted:,.0f} lines it runs")
    parts.append("runtime line capture also pays " + " and ".join(extra))
    parts.append(f"the one-off rewrite of its file ({w.file_lines:,} lines, "
                 f"{rewrite / 1e6:,.0f} ms) spread over ~{calls:,.0f} calls "
                 f"({w.rate_source}, a {SESSION_SECONDS:.0f} s session) adds "
                 f"{_us(rewrite / calls)} a call")
    winner = "injected probes" if cheaper == "compile_time" else "runtime line events"
    parts.append(f"per call: injected {_us(injected)} vs runtime {_us(runtime)}, so {winner} "
                 "cost less")
    return LocalsComparison(_sig(runtime / 1000), _sig(injected / 1000), cheaper,
                            "; ".join(parts) + ".")


def estimate_live_overhead(counts_by_type: dict[str, int], mode: str, elapsed_s: float,
                           calibration: Calibration | None = None, *,
                           skipped_calls: int = 0, skipped_lines: int = 0) -> float:
    """Percent of ``elapsed_s`` wall time spent capturing the events a session counted
    (``TraceSession.stats()["captured"]``; in hybrid, each source's events counted), plus
    the calls and lines its hooks saw but skipped (sampling, limits: ``stats()``'s
    ``skipped_calls`` and ``skipped_lines``, summed)."""
    _check_mode(mode)
    if elapsed_s is None or elapsed_s < 0:
        raise ScopelineError("invalid_config", f"elapsed_s={elapsed_s!r} must be >= 0",
                             suggestions=["Pass the session's running time in seconds."])
    if elapsed_s == 0:
        return 0.0
    cal = calibration or calibrate()
    if mode == "runtime":
        call_event = cal.runtime_call_ns / 2
        line = cal.runtime_line_ns
        skip, skip_line = cal.runtime_skipped_call_ns, cal.runtime_skipped_line_ns
    elif mode == "compile_time":
        call_event = cal.injected_call_ns / 2
        line = cal.injected_line_ns
        skip, skip_line = cal.injected_skipped_call_ns, cal.injected_skipped_line_ns
    else:  # both sources count an entry and an exit for each call
        call_event = cal.hybrid_call_ns / 4
        line = cal.hybrid_line_ns
        skip = cal.runtime_skipped_call_ns + cal.injected_skipped_call_ns
        skip_line = cal.injected_skipped_line_ns
    prices = {"function_entry": call_event, "function_exit": call_event,
              "function_exception": call_event, "line_execution": line,
              "variable_assignment": cal.injected_line_ns,
              "expression_evaluation": cal.injected_line_ns}
    # and the flusher's work: a line is a record; a call's entry and exit are one record
    # (runtime leaf calls merge) or two
    per_call_event = cal.flush_record_ns / 2 if mode == "runtime" else cal.flush_record_ns
    prices = {k: v + (per_call_event if k.startswith("function_") else cal.flush_record_ns)
              for k, v in prices.items()}
    line += cal.flush_record_ns
    total = sum(n * prices.get(kind, line) for kind, n in counts_by_type.items() if n)
    total += skipped_calls * skip + skipped_lines * skip_line
    return min(100.0, 100 * total / (elapsed_s * 1e9))
