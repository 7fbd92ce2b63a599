"""``scopeline serve``: the language server on stdio, over one engine instance.

stdout carries the protocol and nothing else: logs go to a file (``--log-file``, default
``<data dir>/logs/serve.log``), and the traced code's own prints are redirected to stderr
while the server runs. The server stops on ``shutdown``/``exit``, when stdin closes, and when
the client's process (``processId`` of ``initialize``) is gone.

Beside the LSP server runs the debug adapter (``start_dap``): a loopback TCP listener, one
DAP session per connection, over the same store. Its port (``--dap-port``, default any free
one) is printed on stderr and answered by the ``scopeline/debugAdapter`` request.
"""

from __future__ import annotations

import argparse
import gc
import json
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
    # pygls logs every message body at INFO (~200 KB per lens answer on a big file): only
    # at DEBUG is that wanted
    logging.getLogger("pygls").setLevel(max(logging.getLevelName(level), logging.WARNING))
    return logging.getLogger("scopeline.lsp")


def start_dap(state: EngineState, port: int = 0) -> Callable[[], None] | None:
    """The debug adapter beside the LSP server, on loopback, over the same store: events
    of a debug session reach hover, inlay hints and the trace tree through it."""
    from scopeline.adapter.engine import AdapterEngine
    from scopeline.adapter.server import serve_tcp

    bound, stop = serve_tcp(AdapterEngine(store=state.store), port)
    state.dap_port = bound  # type: ignore[attr-defined]
    state.log.info("scopeline serve: DAP adapter on 127.0.0.1:%s", bound)
    print(f"scopeline serve: DAP on 127.0.0.1:{bound}", file=sys.stderr, flush=True)
    return stop


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


def warm_up(log: logging.Logger, server: ScopelineServer | None = None) -> None:
    """Make the first file opened cost what any file costs, before the first request arrives:
    import and exercise the decision path once (the engine's imports, ~100 ms), have pygls'
    converter build the code that reads and writes the messages of opening and editing a
    file (cattrs generates it per type on first use: ~10 ms), then move what start-up
    created out of the garbage collector's sight (``gc.freeze``)."""
    try:
        import tempfile

        import scopeline.engine.compile_time.backend  # noqa: F401 — named in reasons
        import scopeline.engine.runtime.hooks  # noqa: F401
        from scopeline.engine.selection.perfile import decide_file

        with tempfile.TemporaryDirectory() as folder:
            sample = os.path.join(folder, "warm_up.py")
            decide_file(sample, source="def warm_up(n):\n    for i in range(n):\n"
                                       "        n += i\n    return n\n")
        if server is not None:
            _warm_protocol(server)
    except Exception:  # a warm-up never stops the server
        log.exception("warm-up failed")
    # The ~80,000 objects of the imported modules live as long as the server: without this,
    # every collection of the oldest generation walks them again, and reading a large file
    # (a 5,000-line file's syntax tree alone is ~45,000 objects) triggers several: ~50 ms of
    # its first lenses on 3.11. Frozen objects are never collected; these never would be.
    gc.collect()
    gc.freeze()


def _warm_protocol(server: ScopelineServer) -> None:
    """Read and write (nowhere) one message of each kind a file's opening and editing
    exchange: didOpen, didChange, codeLens and its answer, publishDiagnostics."""
    from lsprotocol import types
    from pygls.protocol import JsonRPCResponseMessage

    from .diagnostics import SOURCE
    from .lenses import EXPLAIN_COMMAND

    protocol = server.protocol
    uri = "file:///scopeline-warm-up.py"
    doc = {"uri": uri, "version": 2}
    start = {"line": 0, "character": 0}
    for method, params in (
            (types.TEXT_DOCUMENT_DID_OPEN, {"textDocument": {
                "uri": uri, "languageId": "python", "version": 1, "text": "x = 1\n"}}),
            (types.TEXT_DOCUMENT_DID_CHANGE, {"textDocument": doc, "contentChanges": [
                {"range": {"start": start, "end": start}, "text": "y = 2\n"}, {"text": ""}]}),
            (types.TEXT_DOCUMENT_CODE_LENS, {"textDocument": {"uri": uri}})):
        message = {"jsonrpc": "2.0", "method": method, "params": params}
        if method == types.TEXT_DOCUMENT_CODE_LENS:
            message["id"] = 0
        protocol.structure_message(message)
    where = types.Range(types.Position(0, 0), types.Position(0, 5))
    lens = types.CodeLens(where, types.Command("why", EXPLAIN_COMMAND, tooltip="why",
                                               arguments=[{"uri": uri, "line": 0}]))
    diagnostic = types.Diagnostic(where, "warm-up", severity=types.DiagnosticSeverity.Error,
                                  code="compilation_failed", source=SOURCE)
    # A response goes out as pygls' generic message, its result inside. Twice: cattrs empties
    # its cache of built hooks when it builds one for a new kind of list, as the first pass
    # does; the second pass leaves every hook built and cached.
    for answer in 2 * (types.PublishDiagnosticsNotification(
                           params=types.PublishDiagnosticsParams(uri, [diagnostic])),
                       JsonRPCResponseMessage(id=0, jsonrpc="2.0", result=[lens])):
        json.dumps(answer, default=protocol._serialize_message)


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
    warm_up(log, server)
    stop_dap = start_dap(state, getattr(args, "dap_port", 0) or 0)
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
