"""The agent <-> engine channel: secret, versioned messages, batching, reconnecting."""

from __future__ import annotations

import socket
import threading

import pytest
from dap_client import wait_until
from scopeline.engine.agent import wire
from scopeline.engine.agent.channel import AgentChannel, RefusedError
from scopeline.engine.agent.listener import AgentListener


class Recording:
    def __init__(self) -> None:
        self.rows: list = []
        self.messages: list = []
        self.links: list = []
        self.gone = threading.Event()

    def agent_connected(self, link, hello):
        self.links.append((link, hello))

    def agent_message(self, link, message):
        self.messages.append(message)
        if message["t"] == "events":
            self.rows.extend(message["rows"])

    def agent_gone(self, link):
        self.gone.set()


class Source:
    """Rows as the tracepoints produce them, handed to the channel in batches."""

    def __init__(self) -> None:
        self.rows: list = []
        self.lock = threading.Lock()

    def add(self, n: int, start: int = 0) -> None:
        with self.lock:
            self.rows += [[3, 0, 1, i, 7, {"i": i}] for i in range(start, start + n)]

    def pull(self, max_rows: int):
        with self.lock:
            taken, self.rows = self.rows[:max_rows], self.rows[max_rows:]
        return {"rows": taken, "threads": {"1": "MainThread"}, "units": []} if taken else None


def test_a_wrong_secret_is_refused_and_nothing_is_delivered():
    listener = AgentListener()
    handler = Recording()
    listener.register(handler, secret="right")
    channel = AgentChannel(listener.address, "wrong")
    with pytest.raises(RefusedError, match="wrong secret"):
        channel.connect()
    assert listener.refused == 1 and handler.links == []
    # a raw connection that skips the hello is refused too
    sock = socket.create_connection(listener.address)
    sock.sendall(wire.encode("events", rows=[[1]]))
    reply = wire.decode(wire.LineReader(sock).read())
    assert reply["t"] == "refused" and "hello" in reply["reason"]
    assert listener.refused == 2 and handler.messages == []
    listener.close()


def test_a_newer_protocol_version_is_reported_not_guessed():
    with pytest.raises(wire.WireError, match="version 2"):
        wire.decode(b'{"v": 2, "t": "events"}')
    with pytest.raises(wire.WireError, match="not a JSON"):
        wire.decode(b"{nope")


def test_events_arrive_in_batches_and_in_order():
    listener = AgentListener()
    handler = Recording()
    secret = listener.register(handler)
    source = Source()
    channel = AgentChannel(listener.address, secret, batch_rows=1000)
    channel.pull_events = source.pull
    channel.connect()
    channel.start()
    source.add(5_500)
    assert channel.flush()
    assert wait_until(lambda: len(handler.rows) == 5_500)
    assert [r[3] for r in handler.rows] == list(range(5_500))
    batches = [m for m in handler.messages if m["t"] == "events"]
    assert len(batches) >= 6 and all(len(b["rows"]) <= 1000 for b in batches)
    channel.close(exit_code=0)
    assert wait_until(lambda: any(m["t"] == "bye" for m in handler.messages))
    bye = [m for m in handler.messages if m["t"] == "bye"][0]
    assert bye["dropped"] == 0 and bye["exit_code"] == 0
    listener.close()


def test_the_agent_reconnects_to_a_restarted_engine_and_counts_what_it_dropped():
    first = AgentListener()
    port = first.address[1]
    handler = Recording()
    first.register(handler, secret="s3cret")
    source = Source()
    channel = AgentChannel(first.address, "s3cret", max_buffered=300)
    channel.pull_events = source.pull
    channel.connect()
    channel.start()
    source.add(100)
    assert channel.flush() and wait_until(lambda: len(handler.rows) == 100)
    first.close()  # the engine goes away: its listener and its live links close
    assert wait_until(lambda: channel.sock is None)
    source.add(500, start=100)  # 300 fit the buffer while nobody listens; 200 are dropped
    assert wait_until(lambda: channel.dropped == 200, timeout=10)
    # the engine restarts on the same port with the same secret
    second = AgentListener(port=port)
    again = Recording()
    second.register(again, secret="s3cret")
    assert wait_until(lambda: len(again.rows) == 300, timeout=15)
    assert channel.reconnects >= 1
    assert [r[3] for r in again.rows] == list(range(100, 400))
    channel.close()
    assert wait_until(lambda: any(m["t"] == "bye" for m in again.messages))
    bye = [m for m in again.messages if m["t"] == "bye"][0]
    assert bye["dropped"] == 200  # said, not hidden
    second.close()
