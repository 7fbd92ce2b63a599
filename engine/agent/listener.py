"""The engine's end of the agent channel: a loopback listener that checks each secret.

Each debug session registers a fresh secret and a handler. An agent's first line must be a
``hello`` whose secret matches one registered; anything else is answered ``refused`` and
closed, and the attempt is logged. One listener serves every session of the engine.
"""

from __future__ import annotations

import logging
import secrets
import socket
import threading
from typing import Any, Protocol

from . import wire

log = logging.getLogger("scopeline.agent")


class AgentHandler(Protocol):
    def agent_connected(self, link: AgentLink, hello: dict[str, Any]) -> None: ...
    def agent_message(self, link: AgentLink, message: dict[str, Any]) -> None: ...
    def agent_gone(self, link: AgentLink) -> None: ...


class AgentLink:
    """One connected agent: send it commands; its messages go to the handler."""

    def __init__(self, sock: socket.socket, reader: wire.LineReader, handler: AgentHandler,
                 pid: int | None) -> None:
        self.sock = sock
        self.reader = reader
        self.handler = handler
        self.pid = pid
        self.lock = threading.Lock()
        self.closed = False

    def send(self, kind: str, **fields: Any) -> bool:
        try:
            with self.lock:
                self.sock.sendall(wire.encode(kind, **fields))
            return True
        except OSError:
            return False

    def serve(self) -> None:
        try:
            while True:
                line = self.reader.read()
                if line is None:
                    break
                try:
                    message = wire.decode(line)
                except wire.WireError as exc:
                    log.warning("agent %s sent a bad message: %s", self.pid, exc)
                    continue
                try:
                    self.handler.agent_message(self, message)
                except Exception:
                    log.exception("handling agent message %s", message.get("t"))
        except (OSError, wire.WireError):
            pass
        finally:
            self.close()
            self.handler.agent_gone(self)

    def close(self) -> None:
        self.closed = True
        try:
            self.sock.shutdown(socket.SHUT_RDWR)  # wakes the reader blocked on this socket
        except OSError:
            pass
        try:
            self.sock.close()
        except OSError:
            pass


class AgentListener:
    def __init__(self, host: str = "127.0.0.1", port: int = 0) -> None:
        self.server = socket.create_server((host, port))
        self.address: tuple[str, int] = self.server.getsockname()[:2]
        self.handlers: dict[str, AgentHandler] = {}  # secret -> handler
        self.refused = 0
        self.links: list[AgentLink] = []
        self.lock = threading.Lock()
        self.thread = threading.Thread(target=self._accept, daemon=True,
                                       name="scopeline-agent-listener")
        self.thread.start()

    def register(self, handler: AgentHandler, secret: str | None = None) -> str:
        secret = secret or secrets.token_urlsafe(32)
        with self.lock:
            self.handlers[secret] = handler
        return secret

    def unregister(self, secret: str) -> None:
        with self.lock:
            self.handlers.pop(secret, None)

    def _accept(self) -> None:
        while True:
            try:
                sock, _ = self.server.accept()
            except OSError:
                return
            threading.Thread(target=self._handshake, args=(sock,), daemon=True,
                             name="scopeline-agent-link").start()

    def _handshake(self, sock: socket.socket) -> None:
        sock.settimeout(10.0)
        reader = wire.LineReader(sock)
        try:
            line = reader.read()
            hello = wire.decode(line) if line else None
        except (OSError, wire.WireError) as exc:
            self._refuse(sock, f"bad handshake: {exc}")
            return
        if hello is None or hello.get("t") != "hello":
            self._refuse(sock, "the first message must be hello")
            return
        handler = None
        with self.lock:
            for secret, candidate in self.handlers.items():
                if wire.secret_matches(hello.get("secret"), secret):
                    handler = candidate
        if handler is None:
            self._refuse(sock, "wrong secret: this agent was not started by this engine")
            return
        sock.settimeout(None)
        link = AgentLink(sock, reader, handler, hello.get("pid"))
        with self.lock:
            self.links = [x for x in self.links if not x.closed] + [link]
        link.send("welcome")
        handler.agent_connected(link, hello)
        threading.Thread(target=link.serve, daemon=True, name="scopeline-agent-serve").start()

    def _refuse(self, sock: socket.socket, reason: str) -> None:
        self.refused += 1
        log.warning("agent connection refused: %s", reason)
        try:
            sock.sendall(wire.encode("refused", reason=reason))
        except OSError:
            pass
        sock.close()

    def close(self) -> None:
        """Stop listening and drop every live agent (as an engine that exits would)."""
        try:
            self.server.shutdown(socket.SHUT_RDWR)  # wakes the accepting thread on Linux
        except OSError:
            pass
        self.server.close()
        with self.lock:
            links, self.links = self.links, []
        for link in links:
            link.close()
