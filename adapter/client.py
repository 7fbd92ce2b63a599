"""A small DAP client over any pair of byte streams: what the tests and benchmarks speak.

Responses are kept by the request's seq (and all of them in order, also those answering a
message that could not be read), events in arrival order; waiting is on a condition, never a
sleep. Subclasses watch every message through ``on_message``.
"""

from __future__ import annotations

import itertools
import json
import threading
from typing import Any, BinaryIO

from .wire import DapStream


class DapClient:
    def __init__(self, reader: BinaryIO, writer: BinaryIO) -> None:
        self.stream = DapStream(reader, writer)
        self.seq = itertools.count(1)
        self.responses: dict[int, dict[str, Any]] = {}
        self.all_responses: list[dict[str, Any]] = []
        self.events: list[dict[str, Any]] = []
        self.cond = threading.Condition()
        self.closed = False
        threading.Thread(target=self._read, daemon=True, name="dap-client").start()

    def on_message(self, message: dict[str, Any]) -> None:
        """Called for each message, under the lock, before waiters wake."""

    def _read(self) -> None:
        while True:
            try:
                message = self.stream.read()
            except Exception:
                message = None
            with self.cond:
                if message is None:
                    self.closed = True
                    self.cond.notify_all()
                    return
                if message.get("type") == "response":
                    self.responses[message["request_seq"]] = message
                    self.all_responses.append(message)
                elif message.get("type") == "event":
                    self.events.append(message)
                self.on_message(message)
                self.cond.notify_all()

    def send_raw(self, data: bytes) -> None:
        self.stream.writer.write(data)
        self.stream.writer.flush()

    def send(self, command: str, arguments: dict[str, Any] | None = None) -> int:
        seq = next(self.seq)
        message: dict[str, Any] = {"seq": seq, "type": "request", "command": command}
        if arguments is not None:
            message["arguments"] = arguments
        body = json.dumps(message).encode()
        self.send_raw(b"Content-Length: %d\r\n\r\n" % len(body) + body)
        return seq

    def response(self, seq: int, timeout: float = 30) -> dict[str, Any]:
        with self.cond:
            if not self.cond.wait_for(lambda: seq in self.responses or self.closed, timeout):
                raise TimeoutError(f"no response to request {seq} in {timeout} s")
            if seq not in self.responses:
                raise EOFError("the adapter closed the stream")
            return self.responses[seq]

    def request(self, command: str, arguments: dict[str, Any] | None = None,
                timeout: float = 30) -> dict[str, Any]:
        return self.response(self.send(command, arguments), timeout)

    def wait_event(self, name: str, timeout: float = 30, after: int = 0,
                   where: Any = None) -> dict[str, Any]:
        """The first event called ``name`` (past the first ``after`` events, matching
        ``where`` if given)."""
        def found() -> dict[str, Any] | None:
            for event in self.events[after:]:
                if event["event"] == name and (where is None or where(event)):
                    return event
            return None

        with self.cond:
            if not self.cond.wait_for(lambda: found() is not None or self.closed, timeout):
                raise TimeoutError(f"no {name!r} event; got "
                                   f"{[e['event'] for e in self.events]}")
            event = found()
            if event is None:
                raise EOFError(f"the adapter closed before a {name!r} event")
            return event

    def output(self, category: str | None = None) -> str:
        with self.cond:
            return "".join(e["body"].get("output", "") for e in self.events
                           if e["event"] == "output"
                           and (category is None or e["body"].get("category") == category))

    def count_events(self, name: str) -> int:
        with self.cond:
            return sum(1 for e in self.events if e["event"] == name)
