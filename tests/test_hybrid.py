"""Issue 4 point 6: hybrid sessions join runtime timing and injected locals, one node per call."""

from __future__ import annotations

import threading

import hybrid_sample as hs
import pytest
import scopeline
from helpers import call_nodes

pytestmark = pytest.mark.usefixtures("no_governor")


def test_n_calls_give_n_merged_nodes_none_unmatched_none_duplicated() -> None:
    n = 300
    expected = [hs.work(i % 17) for i in range(n)]
    original = hs.work.__code__
    with scopeline.trace("hybrid_sample:work", mode="hybrid", granularity="line") as s:
        got = [hs.work(i % 17) for i in range(n)]
    assert got == expected
    assert hs.work.__code__ is original  # both halves removed, the very code object back
    events = list(s.events())
    nodes = call_nodes(events, "work")
    assert len(nodes) == n
    for i, node in enumerate(nodes):
        assert node.entry.source == "runtime" and node.exit is not None
        assert node.duration_ns is not None and node.duration_ns > 0  # runtime timing
        assert [e.type for e in node.merged] == ["function_entry", "function_exit"]
        assert node.entry.data["arguments"] == {"n": repr(i % 17)}
        assert node.lines and all(line.source == "ast" for line in node.lines)  # locals
        assert node.lines[-1].data["locals"]["total"] == repr(expected[i]) or i % 17 < 2
        assert node.join == {"strategy": "exact_keys", "confidence": 1.0}
    by_source = {src: [e for e in events if e.source == src and e.type == "function_entry"]
                 for src in ("runtime", "ast")}
    assert len(by_source["runtime"]) == len(by_source["ast"]) == n
    assert s.runtime_refs == s.compile_time_refs == ["hybrid_sample:work"]


def test_threads_recursion_exceptions_and_generators_join_exactly() -> None:
    with scopeline.trace(["hybrid_sample:fact", "hybrid_sample:risky",
                          "hybrid_sample:countdown"], mode="hybrid", granularity="line") as s:
        threads = [threading.Thread(target=lambda: [hs.fact(6) for _ in range(20)])
                   for _ in range(4)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert hs.driver(9) == [str(ValueError("bad 0")), 2, 4, "bad 3", 8, 10, "bad 6", 14, 16]
        assert list(hs.countdown(4)) == [4, 3, 2, 1]
    events = list(s.events())
    facts = call_nodes(events, "fact")
    assert len(facts) == 4 * 20 * 6
    assert all(len(n.merged) == 2 for n in facts)
    risky = call_nodes(events, "risky")
    assert len(risky) == 9
    failed = [n for n in risky if n.exit.type == "function_exception"]
    assert len(failed) == 3
    assert all([e.type for e in n.merged] == ["function_entry", "function_exception"]
               for n in failed)
    gens = call_nodes(events, "countdown")
    assert len(gens) == 1 and gens[0].merged
    unjoined = [e for e in events if e.source == "ast" and "keys" not in e.metadata]
    assert unjoined == []


def test_hybrid_without_source_falls_back_to_runtime_and_says_so() -> None:
    namespace: dict = {}
    exec(compile("def made(x):\n    return x + 1\n", "<generated>", "exec"), namespace)
    made = namespace["made"]
    with scopeline.trace(made, mode="hybrid", granularity="line") as s:
        assert made(1) == 2
    assert s.compile_time_refs == []
    assert any("falling back to runtime" in line for line in s.recorder.log)
    assert [e.type for e in s.events()][:1] == ["function_entry"]


def test_pause_and_resume_keep_both_halves() -> None:
    with scopeline.trace("hybrid_sample:work", mode="hybrid", granularity="line") as s:
        hs.work(3)
        s.pause()
        hs.work(4)
        s.resume()
        hs.work(5)
    nodes = call_nodes(list(s.events()), "work")
    assert [n.entry.data["arguments"]["n"] for n in nodes] == ["3", "5"]
    assert all(len(n.merged) == 2 for n in nodes)


@pytest.mark.parametrize("granularity", ["expression", "variable"])
def test_finer_granularities_attach_to_the_call(granularity: str) -> None:
    with scopeline.trace("hybrid_sample:work", mode="hybrid", granularity=granularity) as s:
        assert hs.work(4) == 14
    (node,) = call_nodes(list(s.events()), "work")
    assert len(node.merged) == 2
    kind = "expression_evaluation" if granularity == "expression" else "variable_assignment"
    assert node.lines and {e.type for e in node.lines} == {kind}


def test_without_exact_keys_the_correlator_joins_the_halves_despite_skew_and_delay() -> None:
    """Keys stripped, the injected clock moved +37 ms and each event delayed up to 2 ms (far
    more than the gap between calls): the timestamp strategy still gives one node per call."""
    import random

    from scopeline.engine.hybrid import correlate_view

    n = 400
    with scopeline.trace("hybrid_sample:work", mode="hybrid", granularity="line") as s:
        for i in range(n):
            hs.work(i % 5)
    meta = s.to_meta()
    truth = {e.event_id: e.metadata["keys"]["frame"] for e in s.events()
             if e.source == "ast" and e.type == "function_entry"}
    assert len(truth) == n
    events = list(s.store.events(s.session_id, {**meta, "exact_keys": False}))
    assert not any("keys" in e.metadata for e in events)
    rng = random.Random(7)
    for e in events:
        e.correlation_id = None
        e.metadata.pop("correlation", None)
        if e.source == "ast":
            shift = 37_000_000 + rng.randrange(2_000_000)
            e.timestamp += shift
            e.monotonic_time += shift
    correlate_view(events, meta)
    nodes = call_nodes(events, "work")
    assert len(nodes) == n
    joined = [node for node in nodes if len(node.merged) == 2]
    assert len(joined) >= 0.99 * n
    for node in joined:
        assert node.join["strategy"] != "exact_keys" and node.join["confidence"] < 1.0
        ast_entry = node.merged[0]
        assert ast_entry.type == "function_entry"
        # the same call as exact keys would have joined (ids are stable across reads)
        assert truth[ast_entry.event_id] == node.entry.event_id


@pytest.mark.parametrize("shared", [True, False])
def test_shared_correlation_ids_decides_whose_id_the_injected_half_carries(
        shared: bool) -> None:
    from scopeline.engine import config

    config.update_config("compile_time.runtime_integration.shared_correlation_ids", shared)
    try:
        with scopeline.trace("hybrid_sample:work", mode="hybrid", granularity="line") as s:
            hs.work(3)
        events = list(s.events())
    finally:
        config.reset_to_defaults()
    runtime_id = next(e.correlation_id for e in events if e.source == "runtime")
    ast_ids = {e.correlation_id for e in events if e.source == "ast"}
    assert runtime_id
    if shared:
        assert ast_ids == {runtime_id}
    else:
        assert ast_ids == {f"{runtime_id}:ast"}
        assert all(e.metadata["correlation"]["joined_to"] == runtime_id
                   for e in events if e.source == "ast")


@pytest.mark.parametrize("mode", ["runtime", "compile_time", "hybrid"])
def test_arguments_are_named_right_in_every_mode(mode: str) -> None:
    with scopeline.trace("hybrid_sample:combine", mode=mode, granularity="function") as s:
        assert hs.combine(1, 2, 3, scale=4, note="x") == 25
    entries = [e for e in s.events() if e.type == "function_entry"]
    assert entries
    for entry in entries:
        assert entry.data["arguments"] == {"a": "1", "rest": "(2, 3)", "scale": "4",
                                           "extra": "{'note': 'x'}"}
