"""DAP framing: ``Content-Length: N\\r\\n\\r\\n`` then N bytes of JSON, both directions."""

from __future__ import annotations

import json
import threading
from typing import Any, BinaryIO

MAX_BODY = 256 << 20


class DapWireError(Exception):
    """A message that cannot be read. ``fatal``: the stream itself is lost (no way to find
    where the next message starts), else only this message was bad."""

    def __init__(self, message: str, *, fatal: bool = False, seq: int | None = None,
                 command: str | None = None) -> None:
        super().__init__(message)
        self.fatal = fatal
        self.seq = seq
        self.command = command


class DapStream:
    def __init__(self, reader: BinaryIO, writer: BinaryIO) -> None:
        self.reader = reader
        self.writer = writer
        self.write_lock = threading.Lock()

    def read(self) -> dict[str, Any] | None:
        """The next message; None at end of stream; DapWireError for a bad one."""
        length = None
        while True:
            line = self.reader.readline()
            if not line:
                return None
            line = line.strip()
            if not line:
                if length is None:
                    continue  # stray blank line between messages
                break
            name, _, value = line.decode("ascii", "replace").partition(":")
            if name.strip().lower() == "content-length":
                try:
                    length = int(value.strip())
                except ValueError:
                    raise DapWireError(f"bad Content-Length {value.strip()!r}",
                                       fatal=True) from None
        if length < 0 or length > MAX_BODY:
            raise DapWireError(f"Content-Length {length} out of range", fatal=True)
        body = self.reader.read(length)
        if len(body) < length:
            return None
        try:
            message = json.loads(body)
        except ValueError as exc:
            raise DapWireError(f"the message is not JSON: {exc}") from None
        if not isinstance(message, dict):
            raise DapWireError("a DAP message must be a JSON object")
        if message.get("type") == "request" and not isinstance(message.get("command"), str):
            raise DapWireError("a request without a command", seq=_int(message.get("seq")))
        if message.get("type") not in ("request", "response", "event"):
            raise DapWireError(f"unknown message type {message.get('type')!r}",
                               seq=_int(message.get("seq")), command=message.get("command"))
        return message

    def write(self, message: dict[str, Any]) -> None:
        body = json.dumps(message, separators=(",", ":")).encode()
        with self.write_lock:
            self.writer.write(b"Content-Length: %d\r\n\r\n" % len(body) + body)
            self.writer.flush()


def _int(value: Any) -> int | None:
    return value if isinstance(value, int) else None
