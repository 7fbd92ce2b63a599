"""The correlator on real events: exact keys, and the scored strategies under clock skew and delay.

Paired streams come from ONE real traced run: every event is taken twice, once as the runtime
event and once as the injected ("ast") one, so the right join is known by construction. Then
the exact keys are stripped, the injected copy's clock is skewed by +37 ms, and every event of
both copies is delayed by a seeded random 0-2 ms: far more than the gap between two calls of
the tight loop, so the window alone cannot say which call is which.
"""

from __future__ import annotations

import functools
import random
import statistics

import corr_workload as w
import pytest
import scopeline
from scopeline.engine import config
from scopeline.engine.correlation import (
    CorrelationConfig,
    Pending,
    calculate_confidence,
    correlate_by_call_stack,
    correlate_by_message,
    correlate_by_thread,
    correlate_by_timestamp,
    correlate_event,
    correlate_session,
    flush_pending_correlations,
    generate_correlation_id,
    get_correlated_events,
    start_correlation_session,
    stop_correlation_session,
)
from scopeline.engine.errors import ScopelineError
from scopeline.engine.events import Event

SKEW_NS = 37_000_000
JITTER_NS = 2_000_000


@functools.lru_cache(maxsize=1)
def real_run() -> tuple[dict, ...]:
    """Runtime events of a real traced run: two threads and the main thread in tight loops."""
    with scopeline.trace([w.step, w.loop], mode="runtime") as session:
        w.workload()
    return tuple(e.to_dict() for e in session.events())


def twins(skew_ns: int = SKEW_NS, jitter_ns: int = JITTER_NS, seed: int = 7, *,
          keys: bool = False, stretch: int = 1) -> tuple[list[Event], list[Event]]:
    """(runtime, ast): each real event twice, the ast copy's id 'a-' + the runtime id."""
    rnd = random.Random(seed)
    rows = real_run()
    t0 = min(r["timestamp"] for r in rows)
    runtime, ast = [], []
    for row in rows:
        r, a = Event.from_dict(row), Event.from_dict(row)
        r.metadata, a.metadata = {}, {}  # no exact keys
        r.timestamp = a.timestamp = t0 + (row["timestamp"] - t0) * stretch
        a.source, a.event_id = "ast", "a-" + r.event_id
        a.parent_event_id = "a-" + r.parent_event_id if r.parent_event_id else None
        r.timestamp += rnd.randint(0, jitter_ns)
        a.timestamp += skew_ns + rnd.randint(0, jitter_ns)
        if keys:  # what the reader gives a hybrid call's events: one key for both halves
            frame = r.event_id if r.type == "function_entry" else r.parent_event_id
            r.metadata["keys"] = {"thread": r.thread_id, "code": r.qualified_name,
                                  "frame": frame, "call": 1}
            a.metadata["keys"] = dict(r.metadata["keys"])
        runtime.append(r)
        ast.append(a)
    return runtime, ast


def feed(runtime: list[Event], ast: list[Event]) -> list[Event]:
    """Both sources interleaved, as a session's reader yields them."""
    return [e for pair in zip(runtime, ast, strict=True) for e in pair]


def correct_share(groups_by_event: dict, ast: list[Event]) -> float:
    right = sum(1 for a in ast if a.event_id in groups_by_event and any(
        e.event_id == a.event_id[2:] for e in groups_by_event[a.event_id].events))
    return right / len(ast)


@pytest.fixture
def settings():
    yield config
    config.reset_to_defaults()


def test_skewed_and_delayed_streams_join_99_percent_with_confidence_below_1():
    runtime, ast = twins()
    entries = sorted(e.timestamp for e in runtime if e.type == "function_entry"
                     and e.function == "step" and e.thread_name == "MainThread")
    gap = statistics.median(b - a for a, b in zip(entries, entries[1:], strict=False))
    assert 10 * gap < JITTER_NS  # the delay hides the order of calls: the window cannot

    result = correlate_session(feed(runtime, ast))

    assert correct_share(result.by_event(), ast) >= 0.99
    assert result.groups and all(g.strategy == "timestamp_window" for g in result.groups)
    assert all(0.7 <= g.confidence < 1.0 for g in result.groups)
    assert all(e.correlation_id == g.correlation_id for g in result.groups for e in g.events)
    assert all(e.metadata["correlation"] == {"strategy": "timestamp_window",
                                             "confidence": g.confidence}
               for g in result.groups for e in g.events)
    # the skew was found, and each call had many candidates inside the window
    offsets = [g.metadata["offset_ms"] for g in result.groups]
    assert abs(statistics.median(offsets) - SKEW_NS / 1e6) < 1.0
    assert statistics.median(g.metadata["crowd"] for g in result.groups) > 10
    # one group per call, the runtime entry as primary, the call's exits with it
    calls = [e for e in runtime if e.type == "function_entry"]
    assert len(result.groups) == len(calls)
    assert {g.primary_event.event_id for g in result.groups} == {e.event_id for e in calls}
    assert all(len(g.events) == 4 for g in result.groups)


def test_two_real_runs_runtime_and_compile_time_join_in_order():
    """Real injected events: the same workload run once with runtime hooks, once with
    injected probes; the second run's clock moved to start 37 ms after the first's."""
    def run(mode: str) -> list[Event]:
        with scopeline.trace([w.step, w.loop], mode=mode, granularity="function") as s:
            w.workload(600)
        return list(s.events())

    runtime, ast = run("runtime"), run("compile_time")
    assert {e.source for e in ast} == {"ast"}
    start_r, start_a = min(e.timestamp for e in runtime), min(e.timestamp for e in ast)
    for e in ast:
        e.timestamp += start_r - start_a + SKEW_NS

    def rank(events: list[Event]) -> dict[str, tuple]:
        seen: dict[tuple, int] = {}
        out = {}
        for e in events:
            key = (e.function, e.type, e.thread_name)
            out[e.event_id] = (key, seen.setdefault(key, 0))
            seen[key] += 1
        return out

    truth_r, truth_a = rank(runtime), rank(ast)
    result = correlate_session(runtime + ast)
    by_event = result.by_event()
    right = 0
    for a in ast:
        group = by_event.get(a.event_id)
        right += group is not None and any(e.source == "runtime" and truth_r[e.event_id]
                                           == truth_a[a.event_id] for e in group.events)
    assert right / len(ast) >= 0.99
    assert all(g.confidence < 1.0 for g in result.groups)


def test_exact_keys_join_everything_with_confidence_1_even_far_apart():
    runtime, ast = twins(skew_ns=500_000_000, keys=True)  # 5 windows apart: keys don't care
    result = correlate_session(feed(runtime, ast))
    assert correct_share(result.by_event(), ast) == 1.0
    assert result.unmatched == []
    assert {g.strategy for g in result.groups} == {"exact_keys"}
    assert {g.confidence for g in result.groups} == {1.0}
    # the id is the keys' id: both halves, every event of the call
    for g in result.groups:
        assert {generate_correlation_id(e) for e in g.events} == {g.correlation_id}
    # live: the first half waits under the id its call will carry; the second joins at once
    runtime, ast = twins(keys=True)
    session = start_correlation_session(None)
    waiting = correlate_event(session, runtime[0])
    joined = correlate_event(session, ast[0])
    assert isinstance(waiting, Pending) and joined.correlation_id == waiting.correlation_id
    assert (joined.confidence, joined.strategy) == (1.0, "exact_keys")
    assert get_correlated_events(waiting.correlation_id) == [joined]
    stop_correlation_session(session)


def test_events_beyond_the_window_stay_pending_and_flush_reports_them():
    runtime, ast = twins(skew_ns=150_000_000, jitter_ns=0)  # default window: 100 ms
    session = start_correlation_session(None)
    answers = [correlate_event(session, e) for e in feed(runtime, ast)]
    assert all(isinstance(a, Pending) for a in answers)
    flushed = flush_pending_correlations(session)
    assert list(flushed) == []
    assert flushed.unmatched_count == len(runtime) + len(ast)
    assert {e.event_id for e in flushed.unmatched} == {e.event_id for e in runtime + ast}
    assert get_correlated_events(answers[0].correlation_id) == []
    stop_correlation_session(session)


def test_window_setting_and_session_option_are_read(settings):
    runtime, ast = twins(skew_ns=30_000_000, jitter_ns=0)
    assert correlate_session(feed(runtime, ast)).unmatched == []
    settings.update_config("hybrid.correlation.window_ms", 20)
    assert len(correlate_session(feed(*twins(30_000_000, 0))).unmatched) == 2 * len(runtime)
    settings.reset_to_defaults()
    # the trace session's correlation_window option (ms) sets a session's window
    with scopeline.trace(w.step, mode="runtime", correlation_window=20) as traced:
        pass
    session = start_correlation_session(traced)
    assert session.config.window_ms == 20
    for e in feed(*twins(30_000_000, 0)):
        correlate_event(session, e)
    assert list(flush_pending_correlations(session)) == []
    stop_correlation_session(session)


def test_confidence_threshold_discards_weaker_joins(settings):
    runtime, ast = twins()
    confidences = sorted(g.confidence for g in correlate_session(feed(runtime, ast)).groups)
    middle = confidences[len(confidences) // 2]
    settings.update_config("hybrid.correlation.confidence_threshold", middle)
    result = correlate_session(feed(*twins()))
    assert result.groups and all(g.confidence >= middle for g in result.groups)
    assert len(result.groups) < len(confidences)
    joined = sum(len(g.events) for g in result.groups)
    assert joined + len(result.unmatched) == 2 * len(runtime)  # the rest reported unmatched
    settings.update_config("hybrid.correlation.confidence_threshold", 0.99)
    result = correlate_session(feed(*twins()))
    assert result.groups == [] and len(result.unmatched) == 2 * len(runtime)


def _two_and_one() -> list[Event]:
    """Two runtime calls 50 ms apart, one injected call 1 ms before the second."""
    def ev(eid: str, source: str, t_ms: float, seq: int) -> Event:
        return Event(event_id=eid, session_id="s", type="function_entry", source=source,
                     timestamp=int(t_ms * 1e6), module="m", function="f", thread_id=1,
                     thread_name="MainThread", sequence_number=seq, call_stack=["m:f"])
    return [ev("r1", "runtime", 0, 1), ev("r2", "runtime", 50, 2), ev("a1", "ast", 49, 3)]


@pytest.mark.parametrize(("strategy", "joined"), [("timestamp_window", "r2"),
                                                  ("thread_correlation", "r1"),
                                                  ("call_stack_matching", "r2")])
def test_strategy_setting_decides_who_goes_first(settings, strategy, joined):
    settings.update_config("hybrid.correlation.confidence_threshold", 0.3)
    settings.update_config("hybrid.correlation.strategy", strategy)
    result = correlate_session(_two_and_one())
    (group,) = result.groups
    assert group.strategy == strategy
    assert {e.event_id for e in group.events} == {joined, "a1"}
    assert 0.3 <= group.confidence < 1.0


def test_every_strategy_alone_joins_the_skewed_streams(settings):
    for strategy in ("call_stack_matching", "thread_correlation"):
        settings.update_config("hybrid.correlation.strategy", strategy)
        runtime, ast = twins()
        result = correlate_session(feed(runtime, ast))
        assert {g.strategy for g in result.groups} == {strategy}
        assert correct_share(result.by_event(), ast) >= 0.99


def test_max_events_per_correlation_caps_a_group(settings):
    """A call's injected line events join its group; past the cap they are counted and
    listed, keep the call's correlation id, and are not carried in the group."""
    with scopeline.trace(w.loop, mode="runtime") as rt_session:
        w.loop(30, 3)
    with scopeline.trace(w.loop, mode="compile_time", granularity="line") as ast_session:
        w.loop(30, 3)

    def events() -> tuple[list[Event], list[Event]]:
        runtime, ast = list(rt_session.events()), list(ast_session.events())
        start = min(e.timestamp for e in ast)
        for e in ast:  # the second run, as if it had run 1 ms after the first started
            e.timestamp += runtime[0].timestamp + 1_000_000 - start
        return runtime, ast

    runtime, ast = events()
    lines = [e for e in ast if e.type == "line_execution"]
    assert len(lines) > 20 and all(e.data["locals"] for e in lines)

    (whole,) = correlate_session(runtime + ast).groups
    assert len(whole.events) == len(runtime) + len(ast) and whole.metadata["overflow"] == 0

    settings.update_config("hybrid.correlation.max_events_per_correlation", 10)
    runtime, ast = events()
    result = correlate_session(runtime + ast)
    (group,) = result.groups
    assert len(group.events) == 10
    assert group.metadata["overflow"] == len(runtime) + len(ast) - 10 == len(result.overflow)
    assert all(e.correlation_id == group.correlation_id and e.metadata["correlation"]["overflow"]
               for e in result.overflow)
    assert result.unmatched == []


def test_streaming_commits_old_joins_before_the_flush():
    # real order and spacing, stretched 10x so the run spans many 5 ms windows
    runtime, ast = twins(skew_ns=3_000_000, jitter_ns=500_000, stretch=10)
    arrival = sorted(runtime + ast, key=lambda e: e.timestamp)  # out of order within a source
    session = start_correlation_session(None, {"window_ms": 5})
    session.auto_settle = session.settle_at = 300
    answers = [correlate_event(session, e) for e in arrival]
    before = len(session.groups)
    assert before > 0
    pending = next(a for a in answers if isinstance(a, Pending))
    flush_pending_correlations(session)
    # a provisional id given at arrival still finds the event's group after it joined
    (found,) = get_correlated_events(pending.correlation_id)
    assert pending.event in found.events
    result = stop_correlation_session(session)
    assert len(result.groups) > before
    assert correct_share(result.by_event(), ast) >= 0.99


def test_generate_correlation_id_is_deterministic():
    runtime, ast = twins(keys=True)
    assert generate_correlation_id(runtime[0]) == generate_correlation_id(ast[0])
    frame = runtime[0].metadata["keys"]["frame"]
    other_call = next(e for e in runtime if e.metadata["keys"]["frame"] != frame)
    assert generate_correlation_id(runtime[0]) != generate_correlation_id(other_call)
    plain_r, plain_a = twins()
    assert generate_correlation_id(plain_r[0]) == generate_correlation_id(plain_r[0])
    assert generate_correlation_id(plain_r[0]) != generate_correlation_id(plain_a[0])


def test_calculate_confidence():
    keyed_r, keyed_a = twins(keys=True)
    assert calculate_confidence(keyed_r[0], keyed_a[0]) == 1.0
    frame = keyed_r[0].metadata["keys"]["frame"]
    other_call = next(e for e in keyed_a if e.metadata["keys"]["frame"] != frame)
    assert calculate_confidence(keyed_r[0], other_call) == 0.0
    runtime, ast = twins(skew_ns=5_000_000, jitter_ns=0)
    near = calculate_confidence(runtime[0], ast[0])
    assert 0.5 < near < 1.0
    far = calculate_confidence(runtime[0], twins(skew_ns=60_000_000, jitter_ns=0)[1][0])
    assert 0.0 < far < near  # falls with distance
    assert calculate_confidence(runtime[0], twins(skew_ns=150_000_000)[1][0]) == 0.0
    other = next(e for e in ast if e.function != runtime[0].function)
    assert calculate_confidence(runtime[0], other) == 0.0
    changed = Event.from_dict(ast[0].to_dict())
    changed.data = {"arguments": {"x": "not the same"}}
    assert calculate_confidence(runtime[0], changed) < near


def test_bad_correlation_config_is_one_clear_error():
    with pytest.raises(ScopelineError) as err:
        start_correlation_session(None, {"strategy": "by_vibes"})
    assert err.value.code == "invalid_config" and err.value.recovery_suggestions
    with pytest.raises(ScopelineError):
        CorrelationConfig.resolve({"confidence_threshold": 1.5})
    with pytest.raises(ScopelineError):
        CorrelationConfig.resolve({"windw_ms": 5})
    with pytest.raises(ScopelineError) as err:
        correlate_event("corr-nope", twins()[0][0])
    assert err.value.code == "session_not_found"


def test_the_seed_single_event_forms_rank_candidates():
    runtime, ast = twins(skew_ns=10_000, jitter_ns=0)
    target = next(e for e in runtime if e.function == "step" and e.thread_name == "worker-0")
    twin = next(a for a in ast if a.event_id == "a-" + target.event_id)
    same_kind = [a for a in ast if a.function == "step" and a.type == target.type]

    best = correlate_by_timestamp(target, same_kind, 100)[0]
    assert best.events == [target, twin] and best.strategy == "timestamp_window"
    assert 0.9 < best.confidence < 1.0

    elsewhere = next(a for a in same_kind if a.thread_name != "worker-0")
    ranked = correlate_by_thread(target, [elsewhere, twin])
    assert [g.related_events[0] for g in ranked] == [twin]  # another thread is no candidate

    moved = Event.from_dict(twin.to_dict())
    moved.call_stack = ["corr_workload:other", "corr_workload:step"]
    ranked = correlate_by_call_stack(target, [moved, twin])
    assert [g.related_events[0].call_stack for g in ranked] == [twin.call_stack,
                                                                moved.call_stack]

    send = Event.new("message_send", {"message_id": "m-1", "queue": "q", "value": "1"})
    other = Event.new("message_receive", {"message_id": "m-2", "queue": "q", "value": "1"})
    receive = Event.new("message_receive", {"message_id": "m-1", "queue": "q", "value": "1"})
    ranked = correlate_by_message(send, [other, receive])
    assert [(g.related_events[0], g.confidence) for g in ranked] == [(receive, 1.0)]
