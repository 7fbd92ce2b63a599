"""``scopeline serve``: the debug adapter listens beside the language server, same store."""

from __future__ import annotations

import subprocess
import sys

from dap_client import DapClient
from scopeline.engine.store import Store


def test_serve_runs_the_adapter_on_loopback_over_the_same_store(program, isolated_store):
    path = program("""
        def work(n):
            for i in range(n):
                pass


        work(3)
    """)
    serve = subprocess.Popen([sys.executable, "-m", "scopeline.engine.cli.main", "serve"],
                             stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, text=True)
    try:
        assert serve.stderr is not None
        line = serve.stderr.readline()
        assert line.startswith("scopeline serve: DAP on 127.0.0.1:"), line
        dap = DapClient(port=int(line.rsplit(":", 1)[1]))
        assert dap.start({"program": path})["success"]
        dap.request("setBreakpoints", {"source": {"path": path},
                                       "breakpoints": [{"line": 3, "logMessage": "i={i}"}]})
        dap.request("configurationDone")
        dap.wait_event("terminated", timeout=60)
        assert dap.output("console").splitlines() == ["i=0", "i=1", "i=2"]
        session = dap.wait_event("scopeline.events")["body"]["sessionId"]
        # the session is in the store the language server reads (the same data dir)
        assert Store(isolated_store).find(session)["metadata"]["debug_session"] is True
        dap.close()
    finally:
        assert serve.stdin is not None
        serve.stdin.close()  # the editor goes away: serve stops
        serve.wait(20)
    assert serve.returncode == 0
