"""Where the adapter listens: stdio (one session) or a loopback TCP port (one per connection).

``scopeline serve`` runs ``serve_tcp`` beside the language server, over the same store;
VS Code connects with a ``DebugAdapterServer`` on the port the engine announces.
"""

from __future__ import annotations

import logging
import socket
import sys
import threading
from collections.abc import Callable

from .engine import AdapterEngine
from .session import DebugSession
from .wire import DapStream

log = logging.getLogger("scopeline.adapter")


def serve_stdio(engine: AdapterEngine | None = None) -> int:
    engine = engine or AdapterEngine()
    stdin, stdout = sys.stdin.buffer, sys.stdout.buffer
    sys.stdout = sys.stderr  # nothing but DAP on stdout
    DebugSession(DapStream(stdin, stdout), engine).serve()
    engine.close()
    return 0


def serve_tcp(engine: AdapterEngine, port: int = 0, host: str = "127.0.0.1"
              ) -> tuple[int, Callable[[], None]]:
    """Listen on ``host:port`` (0: any free port); returns the port and a stop callable."""
    server = socket.create_server((host, port))
    bound = server.getsockname()[1]

    def accept() -> None:
        while True:
            try:
                conn, _ = server.accept()
            except OSError:
                return
            threading.Thread(target=_session, args=(conn,), daemon=True,
                             name="scopeline-dap-session").start()

    def _session(conn: socket.socket) -> None:
        try:
            DebugSession(DapStream(conn.makefile("rb"), conn.makefile("wb")), engine).serve()
        except Exception:
            log.exception("debug session failed")
        finally:
            conn.close()

    threading.Thread(target=accept, daemon=True, name="scopeline-dap-listener").start()
    log.info("DAP adapter listening on %s:%s", host, bound)

    def stop() -> None:
        server.close()
        engine.close()

    return bound, stop
