"""``scopeline serve``: the language server on stdio, over one engine instance.

stdout carries the protocol and nothing else: logs go to a file (``--log-file``, default
``<data dir>/logs/serve.log``), and the traced code's own prints are redirected to stderr
while the server runs. The server stops on ``shutdown``/``exit``, when stdin closes, and when
the client's process (``processId`` of ``initialize``) is gone.

Seam for issue 6 (DAP): ``scopeline serve`` will also run the debug-adapter listener, over
the same ``EngineState``. It plugs in at ``start_dap`` below: called with the state before
the LSP loop starts, it returns a stop callable that ``run`` calls on the way out.
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
import threading
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, BinaryIO

from scopeline.engine.store import default_data_dir

from .state import EngineState

if TYPE_CHECKING:
    from .server import ScopelineServer

CLIENT_POLL_SECONDS = 1.0


def default_log_file() -> Path:
    return default_data_dir() / "logs" / "serve.log"


def setup_logging(path: Path, level: str = "INFO") -> logging.Logger:
    path.parent.mkdir(parents=True, exist_ok=True)
    handler = logging.FileHandler(path, encoding="utf-8")
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    root = logging.getLogger()
    for old in list(root.handlers):  # nothing may log to stdout (or the default stderr)
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(level)
    logging.getLogger("pygls").setLevel(max(logging.getLevelName(level), logging.INFO))
    return logging.getLogger("scopeline.lsp")


def start_dap(state: EngineState) -> Callable[[], None] | None:
    """Issue 6 fills this: start the DAP listener beside the LSP server, over ``state``."""
    return None


def client_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # exists, owned by someone else
        return True
    return True


def watch_client(server: ScopelineServer) -> threading.Thread | None:
    """Stop the server when the editor that started it is gone (its process id from
    ``initialize``): an editor that crashes sends no ``exit``, and may leave stdin open."""
    pid = server.process_id
    if not pid:
        return None

    def watch() -> None:
        stop = server._stop_event
        while not (stop is not None and stop.is_set()):
            if not client_alive(pid):
                server.state.log.warning("client process %s is gone: stopping", pid)
                shutdown_now(server)
                return
            threading.Event().wait(CLIENT_POLL_SECONDS)

    thread = threading.Thread(target=watch, name="scopeline-client-watch", daemon=True)
    thread.start()
    return thread


def shutdown_now(server: ScopelineServer) -> None:
    """Flush live sessions and leave: the read loop may be blocked on a stdin nobody closes."""
    from .features import stop_engine

    try:
        stop_engine(server)
    finally:
        logging.shutdown()
        os._exit(0)


def warm_up(log: logging.Logger) -> None:
    """Import and exercise the decision path once at start, so the first file opened gets
    its lenses without paying for the engine's imports (~100 ms of them)."""
    try:
        import tempfile

        import scopeline.engine.compile_time.backend  # noqa: F401 — named in reasons
        import scopeline.engine.runtime.hooks  # noqa: F401
        from scopeline.engine.selection.perfile import decide_file

        with tempfile.TemporaryDirectory() as folder:
            sample = os.path.join(folder, "warm_up.py")
            decide_file(sample, source="def warm_up(n):\n    for i in range(n):\n"
                                       "        n += i\n    return n\n")
    except Exception:  # a warm-up never stops the server
        log.exception("warm-up failed")


def run(args: argparse.Namespace, stdin: BinaryIO | None = None,
        stdout: BinaryIO | None = None) -> int:
    from .server import build_server

    log_file = Path(args.log_file) if getattr(args, "log_file", None) else default_log_file()
    log = setup_logging(log_file, getattr(args, "log_level", "INFO"))
    protocol_out = stdout or sys.stdout.buffer
    # the traced code's prints must not corrupt the protocol stream
    sys.stdout = sys.stderr
    state = EngineState(log=log)
    server = build_server(state)
    warm_up(log)
    stop_dap = start_dap(state)
    log.info("scopeline serve: pid %s, store %s, log %s", os.getpid(), state.store.root,
             log_file)
    try:
        server.start_io(stdin or sys.stdin.buffer, protocol_out)
    finally:
        from .features import stop_engine

        stop_engine(server)
        if stop_dap is not None:
            stop_dap()
        log.info("scopeline serve: stopped")
    return 0
