"""The cost model: a calibration measured on this machine, cached, and the estimates priced
with it. No timing is asserted: figures are checked for what physics (or construction)
guarantees, estimates for how they follow their inputs."""

from __future__ import annotations

import dataclasses
import json
import os
import platform
import subprocess
import sys
import time
import types
from pathlib import Path

import pytest
from scopeline import engine
from scopeline.engine import config
from scopeline.engine.errors import ScopelineError
from scopeline.engine.runtime.select import choose_backend_name, get_backend
from scopeline.engine.selection import calibration, costmodel
from scopeline.engine.selection import calibration_sample as sample
from scopeline.engine.selection.analysis import analyze_target_complexity

FIXTURE = Path(__file__).parent / "fixtures" / "costmodel_sample.py"
ROOT = Path(engine.__file__).resolve().parents[1]


@pytest.fixture
def cal() -> calibration.Calibration:
    return costmodel.calibrate()


@pytest.fixture(autouse=True)
def default_config():
    yield
    config.reset_to_defaults()


def profile_of(name: str, **changes):
    profile = next(p for p in analyze_target_complexity(f"{FIXTURE}:{name}").functions
                   if p.qualname == name)
    return dataclasses.replace(profile, **changes)


# -- the calibration ---------------------------------------------------------------------------
def test_calibration_figures_are_positive_and_ordered(cal, backend_name):
    assert cal.complete, f"a calibration block lost events: {cal.checks}"
    assert cal.backend == backend_name
    assert cal.python == f"{platform.python_implementation()} {platform.python_version()}"
    assert cal.measured_on == time.strftime("%Y-%m-%d")
    for name in ("untraced_call_ns", "runtime_call_ns", "runtime_skipped_call_ns",
                 "runtime_line_ns", "injected_call_ns", "injected_skipped_call_ns",
                 "injected_line_ns", "rewrite_ns_per_source_line", "flush_record_ns",
                 "call_record_bytes",
                 "line_record_bytes"):
        assert getattr(cal, name) > 0, name
    for name in ("runtime_local_ns", "injected_local_ns", "runtime_unwanted_line_ns",
                 "runtime_line_setup_ns", "local_bytes"):
        assert getattr(cal, name) >= 0, name
    # a captured line costs more than a line the hooks let pass; more locals never cost less
    assert cal.runtime_line_ns > cal.runtime_unwanted_line_ns
    assert costmodel.runtime_line_ns(cal, 3) >= costmodel.runtime_line_ns(cal, 1)
    assert costmodel.injected_line_ns(cal, 3) >= costmodel.injected_line_ns(cal, 1)
    assert cal.hybrid_call_ns > max(cal.runtime_call_ns, cal.injected_call_ns)
    # an event sampling skips never costs more than one captured
    assert cal.runtime_skipped_call_ns <= cal.runtime_call_ns
    assert cal.runtime_unwanted_line_ns <= cal.runtime_skipped_line_ns <= cal.runtime_line_ns
    assert cal.injected_skipped_call_ns <= cal.injected_call_ns
    assert cal.injected_skipped_line_ns <= cal.injected_line_ns
    # a record with locals in it is larger than none
    assert cal.line_record_bytes + 2 * cal.local_bytes > cal.local_bytes
    row = cal.to_dict()
    assert row["hybrid_call_ns"] == cal.hybrid_call_ns and row["complete"] is True
    assert json.loads(json.dumps(row)) == row


def test_calibration_leaves_every_sample_function_untouched():
    codes = {name: fn.__code__ for name, fn in vars(sample).items()
             if isinstance(fn, types.FunctionType)}
    costmodel.calibrate(force=True)
    backend = get_backend()
    assert not [c for c in getattr(backend, "subs", {}) if c.co_filename == sample.__file__]
    for name, code in codes.items():
        fn = getattr(sample, name)
        assert fn.__code__ is code, f"{name} still runs swapped code"
        base = sample.loop_base if name.startswith("loop") else \
            sample.guard_base if name.startswith("guard") else sample.call_base
        assert fn.__code__.co_code == base.__code__.co_code, name
    # and nothing is stored as a session
    assert not (Path(os.environ["SCOPELINE_DATA_DIR"]) / "sessions").exists()


def test_calibrate_is_cached_in_process(cal):
    before = calibration.measurements
    assert costmodel.calibrate() is cal
    assert calibration.measurements == before


def test_force_measures_again(cal):
    before = calibration.measurements
    fresh = costmodel.calibrate(force=True)
    assert fresh is not cal and calibration.measurements == before + 1
    assert costmodel.calibrate() is fresh


def test_cache_key_names_interpreter_backend_and_machine():
    key = calibration.cache_key()
    for part in (platform.python_implementation(), platform.python_version(),
                 choose_backend_name()[0], platform.node(), f"{os.cpu_count()} cpus",
                 f"v{calibration.CALIBRATION_VERSION}"):
        assert part in key


SCRIPT = """
import json, sys
from scopeline.engine.selection import calibration
calibration.CALIBRATION_VERSION += int(sys.argv[1])
cal = calibration.calibrate()
print(json.dumps({"measured": calibration.measurements, "at": cal.measured_at,
                  "source": cal.source, "key": cal.key}))
"""


def run_calibration(bump: int = 0) -> dict:
    out = subprocess.run([sys.executable, "-c", SCRIPT, str(bump)], capture_output=True,
                         text=True, check=True, cwd=ROOT, env=dict(os.environ))
    return json.loads(out.stdout.strip().splitlines()[-1])


def test_disk_cache_is_reused_across_processes_and_keyed(isolated_store):
    first = run_calibration()
    assert first["measured"] == 1 and first["source"] == "measured"
    assert (isolated_store / "calibration.json").exists()
    second = run_calibration()
    assert second["measured"] == 0 and second["at"] == first["at"]
    assert second["source"].startswith("disk cache")
    other = run_calibration(bump=1)  # another calibration version: another key
    assert other["measured"] == 1 and other["key"] != first["key"]


def test_old_calibration_is_measured_again(cal, monkeypatch):
    old = time.time() - (calibration.MAX_AGE_DAYS + 1) * 86400
    calibration._save(dataclasses.replace(cal, measured_at=old))
    monkeypatch.setattr(cal, "measured_at", old)  # the in-process copy is as old
    before = calibration.measurements
    fresh = costmodel.calibrate()
    assert calibration.measurements == before + 1 and fresh.age_days < 1
    # a fresh entry on disk is what the next process reads
    monkeypatch.setattr(calibration, "_cached", None)
    assert costmodel.calibrate().measured_at == fresh.measured_at


# -- estimate_performance_impact ----------------------------------------------------------------
def estimate(cal, mode="runtime", options=None, **changes):
    return costmodel.estimate_performance_impact(
        f"{FIXTURE}:scan", mode, options, profile=profile_of("scan", **changes),
        calibration=cal)


def test_estimate_has_the_seed_keys_and_says_what_it_used(cal):
    est = estimate(cal, calls_per_second=500.0)
    assert set(est) >= {"cpu_overhead_percent", "memory_overhead_mb", "latency_impact_ms",
                        "throughput_impact_percent", "added_us_per_call", "basis"}
    assert "measured on this machine" in est["basis"] and "500 calls/s measured" in est["basis"]
    assert est["cpu_overhead_percent"] > est["throughput_impact_percent"] > 0


def test_cpu_scales_with_call_rate(cal):
    for mode in ("runtime", "compile_time", "hybrid"):
        slow = estimate(cal, mode, {"capture_locals": ("total",)}, calls_per_second=100.0)
        fast = estimate(cal, mode, {"capture_locals": ("total",)}, calls_per_second=1000.0)
        assert fast["cpu_overhead_percent"] == pytest.approx(
            10 * slow["cpu_overhead_percent"], rel=1e-3)
        assert fast["added_us_per_call"] == slow["added_us_per_call"]


def test_unmeasured_rate_follows_the_frequency_class(cal):
    cpu = [estimate(cal, frequency=f, calls_per_second=None)["cpu_overhead_percent"]
           for f in ("low", "medium", "high")]
    assert cpu[0] < cpu[1] < cpu[2]
    assert "assumed for 'high' frequency" in estimate(
        cal, frequency="high", calls_per_second=None)["basis"]


def test_line_capture_grows_with_size_and_loops(cal):
    opts = {"granularity": "line"}
    small = estimate(cal, "runtime", opts, size_lines=8, loop_depth=0, calls_per_second=10.0)
    big = estimate(cal, "runtime", opts, size_lines=40, loop_depth=0, calls_per_second=10.0)
    loopy = estimate(cal, "runtime", opts, size_lines=40, loop_depth=2, calls_per_second=10.0)
    assert small["added_us_per_call"] < big["added_us_per_call"] < loopy["added_us_per_call"]
    # at function granularity the size does not matter: one call, two hooks
    fn_small = estimate(cal, size_lines=8, calls_per_second=10.0)
    fn_big = estimate(cal, size_lines=40, calls_per_second=10.0)
    assert fn_small["added_us_per_call"] == fn_big["added_us_per_call"]


def test_estimate_is_priced_with_the_calibration_given(cal):
    # scan calls nothing: its entry and exit are one record, flushed once
    est = estimate(cal, calls_per_second=10.0)
    expected = cal.runtime_call_ns + cal.flush_record_ns
    assert est["added_us_per_call"] == pytest.approx(expected / 1000, rel=1e-3)
    dearer = dataclasses.replace(cal, runtime_call_ns=cal.runtime_call_ns * 3)
    assert estimate(dearer, calls_per_second=10.0)["added_us_per_call"] == pytest.approx(
        (expected + 2 * cal.runtime_call_ns) / 1000, rel=1e-3)
    calling = estimate(cal, calls_per_second=10.0, calls_out=2)  # entry and exit records
    assert calling["added_us_per_call"] == pytest.approx(
        (expected + cal.flush_record_ns) / 1000, rel=1e-3)


def test_compile_time_counts_the_one_off_rewrite(cal):
    est = estimate(cal, "compile_time", calls_per_second=10.0)
    lines = FIXTURE.read_text().count("\n")
    assert est["one_off_ms"] == pytest.approx(lines * cal.rewrite_ns_per_source_line / 1e6,
                                              rel=1e-3)
    assert estimate(cal, "runtime", calls_per_second=10.0)["one_off_ms"] == 0


def test_injected_entry_exit_probes_come_with_calls_asked_for(cal):
    opts = {"capture_locals": ("total",), "include": ("lines",)}
    lines_only = estimate(cal, "compile_time", opts, calls_per_second=10.0)
    with_calls = estimate(cal, "compile_time", {**opts, "include": ("calls", "lines")},
                          calls_per_second=10.0)
    added = with_calls["added_us_per_call"] - lines_only["added_us_per_call"]
    # (figures are given to 4 significant digits)
    assert added == pytest.approx((cal.injected_call_ns + 2 * cal.flush_record_ns) / 1000,
                                  abs=1e-3 * with_calls["added_us_per_call"])


def test_sampling_lowers_the_estimate_and_reads_the_configured_rate(cal):
    # skipped events priced well below captured ones, so the rate is what moves the figure
    cal = dataclasses.replace(cal, runtime_skipped_call_ns=cal.runtime_call_ns / 10,
                              runtime_skipped_line_ns=cal.runtime_line_ns / 10)
    opts = {"capture_locals": ("total",)}
    full = estimate(cal, "runtime", opts, calls_per_second=1000.0)
    halved = estimate(cal, "runtime", {**opts, "sampling_rate": 0.5}, calls_per_second=1000.0)
    assert halved["cpu_overhead_percent"] < full["cpu_overhead_percent"]
    config.update_config("runtime.tracing.sampling_rate", 0.1)
    configured = estimate(cal, "runtime", opts, calls_per_second=1000.0)
    assert configured["cpu_overhead_percent"] < halved["cpu_overhead_percent"]
    assert "sampling rate 0.1" in configured["basis"]


def test_memory_follows_rate_flush_interval_and_buffer_size(cal):
    opts = {"granularity": "line"}
    base = estimate(cal, "runtime", opts, calls_per_second=1000.0)["memory_overhead_mb"]
    assert estimate(cal, "runtime", opts, calls_per_second=2000.0)["memory_overhead_mb"] \
        == pytest.approx(2 * base, rel=1e-3)
    config.update_config("runtime.tracing.flush_interval_ms", 2000)  # 10 × the default
    assert estimate(cal, "runtime", opts, calls_per_second=1000.0)["memory_overhead_mb"] \
        == pytest.approx(10 * base, rel=1e-3)
    config.update_config("runtime.tracing.buffer_size", 16)  # the buffer caps what waits
    capped = estimate(cal, "runtime", opts, calls_per_second=1000.0)["memory_overhead_mb"]
    assert capped < base and capped * 2**20 <= 16 * (cal.line_record_bytes + 8 * cal.local_bytes)


def test_estimate_from_a_target_alone(cal):
    est = costmodel.estimate_performance_impact(f"{FIXTURE}:hot", "runtime", calibration=cal)
    # a leaf call: its entry and exit are one record
    assert est["added_us_per_call"] == pytest.approx(
        (cal.runtime_call_ns + cal.flush_record_ns) / 1000, rel=1e-3)
    module = costmodel.estimate_performance_impact(str(FIXTURE), "compile_time",
                                                   calibration=cal)
    assert "2 functions" in module["basis"]
    # one file, rewritten once however many of its functions are traced
    lines = FIXTURE.read_text().count("\n")
    assert module["one_off_ms"] == pytest.approx(lines * cal.rewrite_ns_per_source_line / 1e6,
                                                 rel=1e-3)


def test_a_thread_target_is_priced_per_call_only(cal):
    import threading

    thread = threading.Thread(target=time.sleep, args=(0.2,), name="costmodel-sleeper")
    thread.start()
    try:
        est = costmodel.estimate_performance_impact("thread:costmodel-sleeper", "runtime",
                                                    calibration=cal)
    finally:
        thread.join()
    assert est["cpu_overhead_percent"] == 0.0
    assert est["added_us_per_call"] == pytest.approx(cal.runtime_call_ns / 1000, rel=1e-3)
    assert "names no function before it runs" in est["basis"]


def test_bad_input_is_one_clear_error(cal):
    with pytest.raises(ScopelineError) as err:
        estimate(cal, "auto")
    assert err.value.code == "invalid_config"
    assert "determine_mode" in err.value.recovery_suggestions[0]
    with pytest.raises(ScopelineError) as err:
        estimate(cal, "runtime", options=["granularity"])
    assert err.value.code == "invalid_config"
    with pytest.raises(ScopelineError):
        costmodel.estimate_live_overhead({}, "runtime", -1.0, cal)


# -- compare_locals_capture -----------------------------------------------------------------
def test_locals_comparison_names_both_measured_numbers(cal):
    opts = {"capture_locals": ("total", "v")}
    result = costmodel.compare_locals_capture(profile_of("scan", calls_per_second=5000.0),
                                              opts, cal)
    injected = costmodel._us(costmodel.injected_line_ns(cal, 2))
    runtime = costmodel._us(costmodel.runtime_line_ns(cal, 2))
    assert f"injected line probes: {injected} per line vs runtime line events {runtime}" \
        in result.explanation
    assert f"measured on this machine {cal.measured_on}" in result.explanation
    assert result.cheaper in ("runtime", "compile_time")
    assert (result.cheaper == "runtime") == (result.runtime_us < result.injected_us)


def test_locals_comparison_follows_the_measured_costs(cal):
    hot = profile_of("scan", calls_per_second=100_000.0)
    opts = {"capture_locals": ("total",)}
    cheap_probes = dataclasses.replace(cal, injected_line_ns=cal.runtime_line_ns / 5)
    assert costmodel.compare_locals_capture(hot, opts, cheap_probes).cheaper == "compile_time"
    dear_probes = dataclasses.replace(cal, injected_line_ns=cal.runtime_line_ns * 5,
                                      runtime_line_setup_ns=0.0)
    assert costmodel.compare_locals_capture(hot, opts, dear_probes).cheaper == "runtime"


def test_rewrite_weighs_on_a_rarely_called_function(cal):
    rare = costmodel.compare_locals_capture(profile_of("scan", calls_per_second=0.1),
                                            {"capture_locals": ("total",)}, cal)
    assert rare.cheaper == "runtime" and "one-off rewrite" in rare.explanation
    no_source = costmodel.compare_locals_capture(profile_of("scan", has_source=False),
                                                 {"capture_locals": ("total",)}, cal)
    assert no_source.cheaper == "runtime" and "no source" in no_source.explanation


# -- estimate_live_overhead -----------------------------------------------------------------------
def test_live_overhead_follows_counts_and_time(cal):
    counts = {"function_entry": 10_000, "function_exit": 10_000}
    one = costmodel.estimate_live_overhead(counts, "runtime", 1.0, cal)
    per_call = cal.runtime_call_ns + cal.flush_record_ns  # hooks, and one record flushed
    assert one == pytest.approx(100 * 10_000 * per_call / 1e9, rel=1e-6)
    assert costmodel.estimate_live_overhead(counts, "runtime", 2.0, cal) == pytest.approx(one / 2)
    doubled = {k: 2 * v for k, v in counts.items()}
    assert costmodel.estimate_live_overhead(doubled, "runtime", 1.0, cal) == pytest.approx(2 * one)
    assert costmodel.estimate_live_overhead({}, "hybrid", 1.0, cal) == 0.0
    assert costmodel.estimate_live_overhead(counts, "runtime", 0.0, cal) == 0.0
    flood = {"line_execution": 10**12}
    assert costmodel.estimate_live_overhead(flood, "runtime", 1.0, cal) == 100.0
    skipped = costmodel.estimate_live_overhead(counts, "runtime", 1.0, cal, skipped_calls=5000,
                                               skipped_lines=5000)
    assert skipped == pytest.approx(one + 100 * 5000 * (cal.runtime_skipped_call_ns
                                                        + cal.runtime_skipped_line_ns) / 1e9)


def test_live_overhead_of_a_real_session(cal):
    import costmodel_sample
    import scopeline

    with scopeline.trace(costmodel_sample.hot, mode="runtime") as session:
        started = time.perf_counter()
        for i in range(2000):
            costmodel_sample.hot(i, 1)
        elapsed = time.perf_counter() - started
        session.flush()
        counts = session.stats()["captured"]
    assert counts["function_entry"] == 2000
    overhead = costmodel.estimate_live_overhead(counts, "runtime", elapsed, cal)
    assert 0 < overhead <= 100
