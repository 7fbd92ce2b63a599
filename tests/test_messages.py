"""include=("messages",): queue.Queue / asyncio.Queue put and get between traced code, as
message_send / message_receive events whose ids join each send to its receive."""

from __future__ import annotations

import asyncio
import queue
import threading

import msg_workload as m
import pytest
import scopeline
from helpers import by_type, traceback_of
from scopeline.engine.correlation import correlate_session, messages

MESSAGES = ("calls", "returns", "messages")
PATCHED = [(queue.Queue, "put"), (queue.Queue, "get"),
           (asyncio.Queue, "put_nowait"), (asyncio.Queue, "get_nowait")]
ORIGINALS = {(cls, name): cls.__dict__[name] for cls, name in PATCHED}


def unpatched() -> bool:
    return all(cls.__dict__[name] is ORIGINALS[cls, name] for cls, name in PATCHED)


def pairs(events):
    sends = by_type(events, "message_send")
    receives = by_type(events, "message_receive")
    return sends, receives, {e.data["message_id"]: e for e in sends}


def message_groups(events):
    result = correlate_session(events)
    groups = [g for g in result.groups if g.primary_event.category == "message"]
    return groups, [e for e in result.unmatched if e.category == "message"]


@pytest.mark.parametrize("mode", ["runtime", "compile_time"])
def test_producer_and_consumer_threads_every_send_joins_its_receive(mode):
    with scopeline.trace([m.produce, m.consume], mode=mode, include=MESSAGES) as session:
        out = m.threaded(40)
    assert out == [("job", i) for i in range(40)]
    events = list(session.events())
    sends, receives, sent = pairs(events)
    assert len(sends) == len(receives) == 41  # 40 jobs and the stop marker
    assert len(sent) == 41 and None not in sent
    assert {e.data["message_id"] for e in receives} == set(sent)
    for receive in receives:
        send = sent[receive.data["message_id"]]
        assert receive.data["value"] == send.data["value"]
        assert receive.timestamp >= send.timestamp
        assert (send.function, receive.function) == ("produce", "consume")
        assert send.thread_id != receive.thread_id
        assert send.data["queue"] == receive.data["queue"]
    assert sends[0].data["queue"].startswith("queue.Queue@")
    assert [e.data["value"] for e in receives][:2] == ["('job', 0)", "('job', 1)"]
    # each message event sits in the traced call that sent or received it
    entries = {e.event_id: e for e in by_type(events, "function_entry")}
    assert {entries[e.parent_event_id].function for e in sends} == {"produce"}

    groups, unmatched = message_groups(events)
    assert len(groups) == 41 and unmatched == []
    for g in groups:
        assert (g.strategy, g.confidence) == ("message_sequence", 1.0)
        assert [e.type for e in g.events] == ["message_send", "message_receive"]
        assert len({e.data["message_id"] for e in g.events}) == 1


def test_priority_queue_ids_follow_the_items_not_the_order():
    items = [(5, "e"), (1, "a"), (3, "c"), (2, "b"), (4, "d")]
    with scopeline.trace([m.fill, m.drain], mode="runtime", include=MESSAGES) as session:
        assert m.prioritized(items) == sorted(items)
    sends, receives, sent = pairs(list(session.events()))
    assert [e.data["value"] for e in sends] == [repr(i) for i in items]
    assert [e.data["value"] for e in receives] == [repr(i) for i in sorted(items)]
    for receive in receives:
        assert sent[receive.data["message_id"]].data["value"] == receive.data["value"]
    assert {e.function for e in receives} == {"drain"}  # a comprehension names its function
    groups, unmatched = message_groups(list(session.events()))
    assert len(groups) == 5 and unmatched == []


def test_asyncio_producer_and_consumer_tasks():
    with scopeline.trace([m.aproduce, m.aconsume], mode="runtime", include=MESSAGES) as session:
        got = asyncio.run(m.tasks(20))
    assert got == [i * 10 for i in range(20)]
    events = list(session.events())
    sends, receives, sent = pairs(events)
    assert len(sends) == len(receives) == 21
    assert {e.data["task"] for e in sends} == {"producer"}
    assert {e.data["task"] for e in receives} == {"consumer"}
    assert {(e.function, e.data["queue"].split("@")[0]) for e in sends} == {
        ("aproduce", "asyncio.Queue")}
    for receive in receives:
        assert sent[receive.data["message_id"]].data["value"] == receive.data["value"]
    groups, unmatched = message_groups(events)
    assert len(groups) == 21 and unmatched == [] and {g.confidence for g in groups} == {1.0}


def test_program_behaves_exactly_as_without_tracing():
    items = [(2, "b"), (1, "a"), (3, "c")]

    def run():
        edge = m.edge_cases()
        return (m.threaded(30), m.prioritized(items), asyncio.run(m.tasks(10)),
                [(type(x).__name__, str(x)) for x in edge], traceback_of(m.empty_get))

    plain = run()
    targets = [m.produce, m.consume, m.fill, m.drain, m.aproduce, m.aconsume, m.edge_cases,
               m.empty_get]
    with scopeline.trace(targets, mode="runtime", include=MESSAGES) as session:
        assert messages.installed()
        traced = run()
    assert traced == plain
    assert "messages.py" not in traced[-1]  # our wrapper leaves no frame in a traceback
    edge = [e for e in session.events() if e.function == "edge_cases"]
    # LIFO: the same object queued twice gets its ids back last in, first out
    lifo = [e for e in edge if e.data.get("queue", "").startswith("queue.LifoQueue")]
    lifo_sent = [e.data["message_id"] for e in lifo if e.type == "message_send"]
    lifo_got = [e.data["message_id"] for e in lifo if e.type == "message_receive"]
    assert lifo_got == [lifo_sent[2], lifo_sent[1], lifo_sent[0]]
    # a failed put (queue.Full) sends nothing; SimpleQueue (a C type) is not captured
    assert [e.data["value"] for e in edge if e.type == "message_send"
            and e.data["queue"].startswith("queue.Queue")] == ["'a'"]
    assert not any(e.data["queue"].startswith("_queue.SimpleQueue") for e in edge
                   if e.category == "message")


def test_nothing_left_patched_and_sessions_are_counted():
    assert unpatched() and not messages.installed()
    with scopeline.trace(m.produce, mode="runtime") as plain:
        assert unpatched()  # "messages" not asked for
        m.threaded(2)
    assert by_type(list(plain.events()), "message_send") == []

    first = scopeline.trace(m.produce, mode="runtime", include=MESSAGES)
    second = scopeline.trace(m.consume, mode="runtime", include=MESSAGES)
    assert not unpatched()
    first.stop()
    assert not unpatched()  # the second session still needs it
    m.threaded(3)
    assert len(by_type(list(second.events()), "message_receive")) == 4
    assert by_type(list(first.events()), "message_send") == []
    second.pause()
    assert unpatched()
    second.resume()
    assert not unpatched()
    second.stop()
    assert unpatched() and not messages.installed()


def test_untraced_senders_make_no_event_but_receivers_keep_the_id():
    q = queue.Queue()
    with scopeline.trace(m.drain, mode="runtime", include=MESSAGES) as session:
        m.untraced_put(q, "x")
        assert m.drain(q, 1) == ["x"]
    events = list(session.events())
    sends, receives, _ = pairs(events)
    assert sends == [] and len(receives) == 1 and receives[0].data["message_id"]
    groups, unmatched = message_groups(events)
    assert groups == [] and unmatched == receives  # reported, not joined to anything


def test_a_thread_target_records_its_messages():
    q = queue.Queue()
    producer = threading.Thread(target=m.produce, args=(q, [1, 2, 3]), name="producer-thread")
    with scopeline.trace(producer, mode="runtime", include=MESSAGES) as session:
        producer.start()
        producer.join()
    assert [q.get() for _ in range(4)] == [1, 2, 3, None]
    sends = by_type(list(session.events()), "message_send")
    assert [e.data["value"] for e in sends] == ["1", "2", "3", "None"]
    assert {e.thread_name for e in sends} == {"producer-thread"}


def test_messages_without_ids_are_joined_in_queue_order_with_less_confidence():
    """Events from elsewhere (another process, an older capture) may carry no message id:
    message_sequence then pairs sends and receives per queue in FIFO order."""
    with scopeline.trace([m.produce, m.consume], mode="runtime", include=MESSAGES) as session:
        m.threaded(10)
    events = list(session.events())
    truth = {e.event_id: e.data.pop("message_id") for e in events if e.category == "message"}
    groups, unmatched = message_groups(events)
    assert len(groups) == 11 and unmatched == []
    for g in groups:
        assert g.strategy == "message_sequence" and 0.7 <= g.confidence < 1.0
        send, receive = g.events
        assert truth[send.event_id] == truth[receive.event_id]
