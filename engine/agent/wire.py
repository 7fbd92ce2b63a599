"""The agent <-> engine message format: one JSON object per line, versioned.

Every message is ``{"v": VERSION, "t": TYPE, ...}``. The agent opens with ``hello`` carrying
the session's secret; the engine answers ``welcome`` or ``refused`` and closes. A reader that
meets a message of a newer version, or a line that is not JSON, reports it rather than
guessing.
"""

from __future__ import annotations

import hmac
import json
import socket
from typing import Any

VERSION = 1
SECRET_ENV = "SCOPELINE_AGENT_SECRET"
ADDRESS_ENV = "SCOPELINE_AGENT_ADDRESS"  # "host:port" of the engine's agent listener
SESSION_ENV = "SCOPELINE_AGENT_SESSION"
MAX_LINE = 64 << 20  # a batch bigger than this is a bug, not data


class WireError(Exception):
    """A message that cannot be read: not JSON, not an object, or from a newer version."""


def encode(kind: str, **fields: Any) -> bytes:
    return (json.dumps({"v": VERSION, "t": kind, **fields}, separators=(",", ":"),
                       default=repr) + "\n").encode()


def decode(line: bytes) -> dict[str, Any]:
    try:
        message = json.loads(line)
    except ValueError as exc:
        raise WireError(f"not a JSON message: {line[:80]!r}") from exc
    if not isinstance(message, dict) or "t" not in message:
        raise WireError(f"not a Scopeline agent message: {line[:80]!r}")
    if message.get("v") != VERSION:
        raise WireError(f"agent protocol version {message.get('v')!r}; this side speaks "
                        f"{VERSION}: use the same Scopeline for the editor and the program")
    return message


def secret_matches(given: Any, expected: str) -> bool:
    return isinstance(given, str) and hmac.compare_digest(given.encode(), expected.encode())


class LineReader:
    """Whole lines from a socket (a message may arrive in pieces, or several in one read)."""

    def __init__(self, sock: socket.socket) -> None:
        self.sock = sock
        self.buffer = b""

    def read(self) -> bytes | None:
        """The next line, or None when the other side closed."""
        while b"\n" not in self.buffer:
            if len(self.buffer) > MAX_LINE:
                raise WireError("a message longer than 64 MiB")
            chunk = self.sock.recv(1 << 16)
            if not chunk:
                return None
            self.buffer += chunk
        line, _, self.buffer = self.buffer.partition(b"\n")
        return line
