"""The debuggee's line to the engine: loopback TCP, secret first, batched, reconnecting.

Two daemon threads: the sender wakes every ``interval`` seconds (or when asked to flush),
pulls captured rows from the program's recorder and sends them as ``events`` batches; the
receiver reads the engine's commands and hands each to ``on_message``. When the engine goes
away the sender keeps retrying the same address (an engine restarted on its port with the
same secret gets the rest); what does not fit the buffer meanwhile is dropped and counted.
"""

from __future__ import annotations

import collections
import os
import socket
import sys
import threading
import time
from collections.abc import Callable
from typing import Any

from . import wire

PullEvents = Callable[[int], dict[str, Any] | None]  # max rows -> {"rows": [...], ...} or None


def hide_from_debugger(thread: threading.Thread) -> None:
    """pydevd neither traces nor suspends (nor lists) threads marked like this: the agent
    keeps sending while the user's threads are stopped at a breakpoint."""
    thread.pydev_do_not_trace = True  # type: ignore[attr-defined]
    thread.is_pydev_daemon_thread = True  # type: ignore[attr-defined]


class RefusedError(ConnectionError):
    """The engine refused this agent (wrong secret or version)."""


class AgentChannel:
    def __init__(self, address: tuple[str, int], secret: str, *, session: str = "",
                 on_message: Callable[[dict[str, Any]], None] | None = None,
                 interval: float = 0.05, batch_rows: int = 5_000,
                 max_buffered: int = 200_000) -> None:
        self.address = address
        self.secret = secret
        self.session = session
        self.on_message = on_message or (lambda message: None)
        self.interval = interval
        self.batch_rows = batch_rows
        self.max_buffered = max_buffered
        self.pull_events: PullEvents | None = None
        self.outbox: collections.deque[bytes] = collections.deque()
        self.pending: collections.deque[tuple[bytes, int]] = collections.deque()  # (batch, rows)
        self.pending_rows = 0
        self.sent_rows = 0
        self.dropped = 0
        self.reconnects = 0
        self.sock: socket.socket | None = None
        self.wake = threading.Event()
        self.idle = threading.Event()
        self.closing = False
        self.lock = threading.Lock()
        self.send_lock = threading.Lock()
        self.collect_lock = threading.Lock()  # batches are queued in capture order
        self.sealed = False  # after bye: nothing more is collected
        self.sender: threading.Thread | None = None

    # -- connection --------------------------------------------------------------------------
    def connect(self, timeout: float = 10.0) -> None:
        sock = socket.create_connection(self.address, timeout=timeout)
        sock.sendall(wire.encode("hello", secret=self.secret, pid=os.getpid(),
                                 session=self.session, python=sys.version.split()[0]))
        reader = wire.LineReader(sock)
        line = reader.read()
        if line is None:
            sock.close()
            raise RefusedError("the engine closed the connection during the handshake")
        reply = wire.decode(line)
        if reply["t"] != "welcome":
            sock.close()
            raise RefusedError(reply.get("reason", "refused by the engine"))
        sock.settimeout(None)
        self.sock = sock
        receiver = threading.Thread(target=self._receive, args=(sock, reader), daemon=True,
                                    name="scopeline-agent-receive")
        hide_from_debugger(receiver)
        receiver.start()

    def start(self) -> None:
        self.sender = threading.Thread(target=self._send_loop, daemon=True,
                                       name="scopeline-agent-send")
        hide_from_debugger(self.sender)
        self.sender.start()

    def _receive(self, sock: socket.socket, reader: wire.LineReader) -> None:
        while True:
            try:
                line = reader.read()
            except (OSError, wire.WireError):
                line = None
            if line is None:
                break
            try:
                self.on_message(wire.decode(line))
            except Exception as exc:  # a bad command never takes the program down
                self.send("error", message=f"{type(exc).__name__}: {exc}")
        with self.lock:
            if self.sock is sock:
                self.sock = None
        self.wake.set()

    def _reconnect(self) -> bool:
        delay = 0.05
        while not self.closing:
            try:
                self.connect(timeout=2.0)
                self.reconnects += 1
                return True
            except RefusedError:
                return False  # a different engine holds the port: nobody to send to
            except OSError:
                self._collect()  # keep draining the program: the buffer bounds what waits
                time.sleep(delay)
                delay = min(delay * 2, 1.0)
        return False

    # -- sending -----------------------------------------------------------------------------
    def send(self, kind: str, **fields: Any) -> None:
        """Queue a control message (sent before the next batch of events)."""
        self.outbox.append(wire.encode(kind, **fields))
        self.wake.set()

    def _collect(self) -> None:
        """Move captured rows from the program into pending batches, bounded."""
        if self.pull_events is None:
            return
        with self.collect_lock:
            self._collect_locked()

    def _collect_locked(self) -> None:
        assert self.pull_events is not None
        while not self.sealed:
            batch = self.pull_events(self.batch_rows)
            if not batch:
                return
            n = len(batch.get("rows", ()))
            room = self.max_buffered - self.pending_rows
            if n > room:  # the engine is away and the buffer is full: keep the oldest
                self.dropped += n - max(room, 0)
                if room <= 0:
                    continue
                batch["rows"], n = batch["rows"][:room], room
            self.pending.append((wire.encode("events", **batch), n))
            self.pending_rows += n
            if not n:
                return

    def _send_loop(self) -> None:
        while True:
            self.wake.wait(self.interval)
            self.wake.clear()
            self.idle.clear()
            self._collect()
            if not self._flush_queues():
                if self.closing:
                    return
                if not self._reconnect():
                    self.idle.set()
                    if self.closing:
                        return
                    time.sleep(0.5)
                continue
            self.idle.set()
            if self.closing and not self.outbox and not self.pending:
                return

    def _flush_queues(self) -> bool:
        with self.send_lock:
            sock = self.sock
            if sock is None:
                return not self.outbox and not self.pending
            try:
                while self.outbox:
                    sock.sendall(self.outbox[0])
                    self.outbox.popleft()
                while self.pending:
                    data, rows = self.pending[0]
                    sock.sendall(data)
                    self.pending.popleft()
                    self.pending_rows = max(0, self.pending_rows - rows)
                    self.sent_rows += rows
            except OSError:
                with self.lock:
                    if self.sock is sock:
                        self.sock = None
                return False
            return True

    def flush(self, timeout: float = 5.0) -> bool:
        """Send everything captured so far; True if it all went out in time."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            self.idle.clear()
            self.wake.set()
            if not self.idle.wait(max(0.0, deadline - time.monotonic())):
                return False
            self._collect()
            if not self.outbox and not self.pending:
                return True
            if self.sock is None:
                return False
        return False

    def close(self, **bye: Any) -> None:
        """Flush, say goodbye with the counts, and close. Safe to call twice."""
        if self.closing:
            return
        self.flush()
        with self.collect_lock:  # the goodbye goes after the last batch, never before it
            self._collect_locked()
            self.sealed = True
            self.pending.append((wire.encode("bye", dropped=self.dropped, **bye), 0))
        self.wake.set()
        self.flush(timeout=2.0)
        self.closing = True
        self.wake.set()
        with self.lock:
            sock, self.sock = self.sock, None
        if sock is not None:
            try:
                sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            sock.close()
