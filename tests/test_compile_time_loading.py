"""Loading instrumented code into live functions, and the tinydb plan cache (issue 3 base)."""

from __future__ import annotations

import inspect
import time
import types

import pytest
import runtime_sample as rs
from scopeline import ScopelineError
from scopeline.engine import config
from scopeline.engine.compile_time.cache import PlanCache, cache_key
from scopeline.engine.compile_time.swap import prepare_swap
from scopeline.engine.runtime.codeswap import original_code


def recompiled(module: types.ModuleType, edit=lambda s: s) -> types.CodeType:
    source = inspect.getsource(module)
    return compile(edit(source), module.__file__, "exec")


def test_a_live_function_runs_new_code_and_gets_its_own_back_by_identity():
    original = rs.add.__code__
    marked = recompiled(rs, lambda s: s.replace("return total * scale", "return -1"))
    swap = prepare_swap(rs.add, marked)
    swap.install()
    try:
        alias = rs.add  # a reference held elsewhere sees the new code at its next call
        assert alias(1, 2) == -1
        assert original_code(rs.add.__code__) is original  # targets see the user's code
    finally:
        swap.restore()
    assert rs.add.__code__ is original
    assert rs.add(1, 2) == 3


def test_a_function_missing_from_the_new_source_is_one_clear_error():
    renamed = recompiled(rs, lambda s: s.replace("def hot(x):", "def cold(x):"))
    with pytest.raises(ScopelineError) as err:
        prepare_swap(rs.hot, renamed)
    assert err.value.code == "ast_transformation_failed" and "hot" in err.value.message


def test_plan_cache_round_trip_and_ttl(tmp_path):
    cache = PlanCache(tmp_path)
    code = recompiled(rs)
    key = cache_key("source", {"granularity": "line"})
    assert key != cache_key("source", {"granularity": "function"})
    cache.put(key, "rewritten", [{"site_id": 1}], code)
    row = PlanCache(tmp_path).get(key)  # a new instance reads the file back
    assert row is not None and row["source"] == "rewritten"
    assert PlanCache.code_of(row).co_consts == code.co_consts
    config.update_config("compile_time.compilation.plan_cache_ttl_seconds", 1)
    try:
        time.sleep(1.1)
        assert PlanCache(tmp_path).get(key) is None  # expired
    finally:
        config.reset_to_defaults()


def test_plan_storage_path_decides_where_plans_live(tmp_path):
    config.update_config("compile_time.compilation.plan_storage_path", str(tmp_path / "plans"))
    try:
        cache = PlanCache()
        cache.put("k", "src", [], recompiled(rs))
    finally:
        config.reset_to_defaults()
    assert (tmp_path / "plans" / "plans.json").exists()


def test_recording_hooks_append_records_the_reader_understands():
    from scopeline.engine.compile_time.recording import RecordingHooks
    from scopeline.engine.runtime.recorder import Limits, Recorder
    from scopeline.engine.saferepr import SafeRepr

    rec = Recorder(Limits(), SafeRepr())
    hooks = RecordingHooks(rec, {1: (0, 10, 1, ()), 2: (0, 11, 2, ())})
    hooks.enter(1, {"a": 1, "b": [2]})  # the call is kept by this frame
    assert hooks.expr(2, 41) == 41  # values pass through unchanged
    assert hooks.exit(1, "done") == "done"
    assert hooks.exit(1, "again") == "again"  # a second exit of the same call records nothing
    kinds = [r[0] for r in rec.queue]
    assert kinds == [0, 9, 1]  # entry, expression, exit
    assert rec.queue[0][4] == (1, ("[2]",))  # the mutable list rendered at capture time
