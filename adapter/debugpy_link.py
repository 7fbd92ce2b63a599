"""The adapter's client side toward debugpy, once it has been brought into the debuggee.

Requests the editor sends for ordinary debugging are forwarded with this side's own sequence
numbers; debugpy's responses come back with the editor's ``request_seq`` restored. Requests the
adapter makes itself (attach, replaying breakpoints) wait for their response here.
"""

from __future__ import annotations

import itertools
import socket
import threading
from collections.abc import Callable
from typing import Any

from .wire import DapStream, DapWireError

Send = Callable[[dict[str, Any]], None]


class DebugpyLink:
    def __init__(self, port: int, on_event: Callable[[dict[str, Any]], None],
                 on_closed: Callable[[], None], host: str = "127.0.0.1") -> None:
        self.sock = socket.create_connection((host, port), timeout=15)
        self.sock.settimeout(None)
        self.stream = DapStream(self.sock.makefile("rb"), self.sock.makefile("wb"))
        self.on_event = on_event
        self.on_closed = on_closed
        self.seq = itertools.count(1)
        # our seq -> (callback for the response)
        self.waiting: dict[int, Callable[[dict[str, Any]], None]] = {}
        self.lock = threading.Lock()
        self.closed = False
        threading.Thread(target=self._read, daemon=True, name="scopeline-debugpy-link").start()

    def _read(self) -> None:
        try:
            while True:
                try:
                    message = self.stream.read()
                except DapWireError:
                    continue
                if message is None:
                    break
                if message.get("type") == "response":
                    with self.lock:
                        callback = self.waiting.pop(message.get("request_seq", -1), None)
                    if callback is not None:
                        callback(message)
                elif message.get("type") == "event":
                    self.on_event(message)
        except OSError:
            pass
        finally:
            self.closed = True
            with self.lock:
                pending, self.waiting = self.waiting, {}
            for callback in pending.values():
                callback({"type": "response", "success": False,
                          "message": "debugpy closed the connection"})
            self.on_closed()

    def send(self, command: str, arguments: dict[str, Any] | None,
             callback: Callable[[dict[str, Any]], None]) -> None:
        seq = next(self.seq)
        with self.lock:
            self.waiting[seq] = callback
        message = {"seq": seq, "type": "request", "command": command}
        if arguments is not None:
            message["arguments"] = arguments
        try:
            self.stream.write(message)
        except OSError:
            with self.lock:
                self.waiting.pop(seq, None)
            callback({"type": "response", "success": False,
                      "message": "debugpy is not connected"})

    def request(self, command: str, arguments: dict[str, Any] | None = None,
                timeout: float = 15.0) -> dict[str, Any]:
        """Send and wait for the response (never from the reader thread)."""
        done = threading.Event()
        box: list[dict[str, Any]] = []

        def got(response: dict[str, Any]) -> None:
            box.append(response)
            done.set()

        self.send(command, arguments, got)
        if not done.wait(timeout):
            return {"type": "response", "success": False,
                    "message": f"debugpy did not answer {command!r} in {timeout:.0f} s"}
        return box[0]

    def forward(self, request: dict[str, Any], reply: Send) -> None:
        """Pass an editor's request through; its response goes back under the editor's seq."""
        def back(response: dict[str, Any]) -> None:
            response = dict(response)
            response["request_seq"] = request["seq"]
            response["command"] = request["command"]
            reply(response)

        self.send(request["command"], request.get("arguments"), back)

    def close(self) -> None:
        self.closed = True
        try:
            self.sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        self.sock.close()
