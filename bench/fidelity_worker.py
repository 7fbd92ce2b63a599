"""One fidelity run in a fresh interpreter: ``python bench/fidelity_worker.py MODULE TESTS ARM``.

ARM is ``plain`` (the suite as is) or ``instrumented`` (the suite inside a compile-time session
on MODULE at line granularity, all locals). Prints one JSON line: the unittest outcome (counts
and the ids of the tests that failed, errored or were skipped, with tracebacks) and, when
instrumented, what the session captured and how it loaded.
"""

from __future__ import annotations

import importlib
import io
import json
import sys
import time
import unittest
from typing import Any

# Scopeline's safety limits would drop or sample events on a busy suite; fidelity is about
# "every line, every local", so they are lifted (same values as the overhead benchmark's
# full-capture variants).
FULL_CAPTURE: dict[str, int] = {
    "runtime.safety_limits.max_events_per_second": 1_000_000_000,
    "runtime.tracing.buffer_size": 10_000_000,
    "runtime.safety_limits.memory_limit_mb": 8_192,
    "runtime.safety_limits.cpu_threshold_percent": 100,
}


def _outcome(result: unittest.TestResult) -> dict[str, Any]:
    return {
        "tests_run": result.testsRun,
        "failures": [[t.id(), tb] for t, tb in result.failures],
        "errors": [[t.id(), tb] for t, tb in result.errors],
        "skipped": [[t.id(), why] for t, why in result.skipped],
        "expected_failures": len(result.expectedFailures),
        "unexpected_successes": [t.id() for t in result.unexpectedSuccesses],
    }


def _run_suite(tests: Any) -> tuple[dict[str, Any], float]:
    suite = unittest.defaultTestLoader.loadTestsFromModule(tests)
    stream = io.StringIO()  # the suite's own output would drown the JSON line
    t0 = time.perf_counter()
    result = unittest.TextTestRunner(stream=stream, verbosity=0).run(suite)
    return _outcome(result), time.perf_counter() - t0


def run(module_name: str, tests_name: str, arm: str) -> dict[str, Any]:
    importlib.import_module(module_name)
    tests = importlib.import_module(tests_name)
    if arm == "plain":
        outcome, seconds = _run_suite(tests)
        return {**outcome, "seconds": seconds}
    if arm != "instrumented":
        raise SystemExit(f"unknown arm {arm!r}: plain | instrumented")

    import scopeline

    for path, value in FULL_CAPTURE.items():
        scopeline.update_config(path, value)
    # Instrumented after the imports: the live functions get their __code__ swapped, so the
    # references the test module already holds (from textwrap import dedent, ...) run it too.
    session = scopeline.trace(module_name, mode="compile_time", granularity="line")
    try:
        outcome, seconds = _run_suite(tests)
    finally:
        scopeline.stop_trace(session)
    stats = session.stats()
    meta = session.to_meta()
    sources: dict[str, int] = {}
    for event in session.events():  # read back from the store: the events are really there
        sources[f"{event.type}/{event.source}"] = sources.get(f"{event.type}/{event.source}",
                                                               0) + 1
    return {**outcome, "seconds": seconds, "session_mode": session.mode,
            "captured": stats["captured"], "stored": sources,
            "skipped_lines": stats["skipped_lines"], "skipped_calls": stats["skipped_calls"],
            "sampling_rate": stats["effective_sampling_rate"],
            "injected_functions": len(meta["compile_time_refs"]),
            "runtime_functions": len(meta["runtime_refs"]),
            "fallbacks": meta["fallbacks"], "log": meta["log"][:20]}


if __name__ == "__main__":
    print(json.dumps(run(*sys.argv[1:4])))
