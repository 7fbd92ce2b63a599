"""What tracing one function does per call, from its profile and the options (the cost
model's input; ``costmodel.py`` prices it).

Where a profile has no measurement the workload assumes, and says so in words:

* lines run per call: ``lines_per_call`` when a profile carries it, else the body's lines with
  ``ASSUMED_ITERATIONS`` per loop level for half of them; a traced line runs as often as the
  average line unless the profile carries ``hits_per_line`` ({line: runs per call}); injected
  probes at every line run once per statement, ``statements_per_call`` when known, else once
  per line run;
* calls per second: ``calls_per_second`` when a session measured it, else ``ASSUMED_RATES`` for
  the frequency class (between ``frequency.py``'s class thresholds);
* locals at a line: ``capture_locals`` when given, else ``ASSUMED_LOCALS`` (all of them).
"""

from __future__ import annotations

import dataclasses
import os
from dataclasses import dataclass
from typing import Any

from scopeline.engine import config
from scopeline.engine.errors import ScopelineError
from scopeline.engine.options import TraceOptions, parse_options, settle_granularity

ASSUMED_ITERATIONS = 10  # per loop level, when no session counted a function's lines
ASSUMED_RATES = {"low": 1.0, "medium": 100.0, "high": 10_000.0}  # calls/s by frequency class
ASSUMED_LOCALS = 4  # locals captured at a line when capture_locals is empty (all of them)


@dataclass(frozen=True)
class Workload:
    """What tracing one function does per call, from its profile and the options."""

    qualname: str
    calls_per_second: float
    rate_source: str  # words: measured, or assumed for a frequency class
    lines_per_call: float
    lines_source: str
    lines_on: bool  # line capture switched on for the function
    captured_lines: float  # line events (injected probes: lines probed) per call
    locals_per_line: int
    locals_source: str
    calls: bool  # call events asked for (runtime hooks; injected entry/exit probes)
    leaf: bool  # calls nothing: a runtime call is one record, not two
    sampling_rate: float
    granularity: str
    file_lines: int | None  # the source file's length: what a rewrite parses


def as_options(options: Any) -> TraceOptions:
    if options is None:
        return parse_options()
    if isinstance(options, TraceOptions):
        return options
    if isinstance(options, dict):
        return parse_options(**options)
    raise ScopelineError("invalid_config", f"options must be TraceOptions or a dict, not "
                         f"{type(options).__name__}",
                         suggestions=["Pass scopeline.engine.options.parse_options(...)."])


def _sampling_rate(opts: TraceOptions) -> float:
    rate = opts.sampling_rate
    if rate == 1.0:  # as planning.build_recorder: the configured rate applies
        rate = float(config.get_with_fallback("runtime.tracing.sampling_rate", 1.0))
    return rate


_file_lines: dict[tuple[str, float], int] = {}


def _count_file_lines(path: str | None) -> int | None:
    if not path:
        return None
    try:
        key = (path, os.path.getmtime(path))
        if key not in _file_lines:
            with open(path, encoding="utf-8", errors="replace") as fh:
                _file_lines[key] = sum(1 for _ in fh)
        return _file_lines[key]
    except OSError:
        return None


def workload(profile: Any, options: Any, mode: str = "runtime", *,
             line_target: bool = False) -> Workload:
    """Per call of ``profile``'s function: lines run, lines and locals captured, call events."""
    opts = dataclasses.replace(as_options(options))
    settle_granularity(opts, mode)
    granularity = opts.granularity or "function"
    body = max(1, int(profile.size_lines) - 1)  # the def line itself runs no statement
    measured_lines = getattr(profile, "lines_per_call", None)
    depth = max(0, int(getattr(profile, "loop_depth", 0) or 0))
    if measured_lines is not None:
        lines, lines_source = float(measured_lines), "lines per call measured"
    else:
        lines = body * (1 + ASSUMED_ITERATIONS ** depth) / 2 if depth else float(body)
        lines_source = (f"{body} body lines at loop depth {depth}, assumed "
                        f"{ASSUMED_ITERATIONS} iterations per loop level" if depth
                        else f"{body} body lines, no loop")
    rate = getattr(profile, "calls_per_second", None)
    if rate is not None:
        rate_source = f"{rate:,.0f} calls/s measured"
    else:
        freq = getattr(profile, "frequency", "medium")
        rate = ASSUMED_RATES.get(freq, ASSUMED_RATES["medium"])
        rate_source = f"{rate:,.0f} calls/s assumed for {freq!r} frequency"
    wants_calls = bool({"calls", "returns"} & set(opts.include or ()))
    all_lines = (granularity != "function" or "lines" in (opts.include or ())
                 or bool(opts.capture_locals))
    first = getattr(profile, "first_line", None)
    last = getattr(profile, "last_line", None)
    lines_on = bool(opts.trace_lines) or all_lines
    if opts.trace_lines:
        inside = [n for n in opts.trace_lines if first is None or first <= n <= (last or n)]
        hits = getattr(profile, "hits_per_line", None)  # {line: runs per call}, when counted
        # unmeasured, each traced line is taken to run as often as the average line
        captured = (sum(hits.get(n, 0.0) for n in inside) if hits
                    else len(inside) * lines / body)
    elif all_lines and mode != "runtime":
        # a probe sits before each statement: a loop header is probed once per loop, where a
        # runtime line event fires on it every iteration
        captured = float(getattr(profile, "statements_per_call", None) or lines)
    else:
        captured = lines if all_lines else 0.0
    if opts.capture_locals:
        k = len(opts.capture_locals)
        locals_source = f"{k} local{'s' if k != 1 else ''} asked"
    else:
        k = int(getattr(profile, "local_count", 0) or ASSUMED_LOCALS)
        locals_source = f"all locals (assumed {k})"
    return Workload(
        qualname=str(profile.qualname), calls_per_second=float(rate), rate_source=rate_source,
        lines_per_call=lines, lines_source=lines_source, lines_on=lines_on,
        captured_lines=captured, locals_per_line=max(1, k), locals_source=locals_source,
        # runtime hooks a function target's calls whatever is asked; injection only when asked
        calls=wants_calls or (mode != "compile_time" and not line_target),
        leaf=not getattr(profile, "calls_out", 0), sampling_rate=_sampling_rate(opts),
        granularity=granularity, file_lines=_count_file_lines(getattr(profile, "file", None)))
