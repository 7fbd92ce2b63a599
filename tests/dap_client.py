"""The tests' DAP client: ``scopeline.adapter.client.DapClient`` on a real adapter process
(``python -m scopeline.adapter``, stdio) or on a loopback port (``scopeline serve``)."""

from __future__ import annotations

import socket
import subprocess
import sys
import time
from typing import Any

from scopeline.adapter import client


class DapClient(client.DapClient):
    def __init__(self, env: dict[str, str] | None = None, port: int | None = None) -> None:
        self.proc: Any = None
        self.sock: socket.socket | None = None
        if port is None:
            self.proc = subprocess.Popen([sys.executable, "-m", "scopeline.adapter"],
                                         stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                         stderr=subprocess.PIPE, env=env)
            super().__init__(self.proc.stdout, self.proc.stdin)
        else:
            self.sock = socket.create_connection(("127.0.0.1", port))
            super().__init__(self.sock.makefile("rb"), self.sock.makefile("wb"))

    def close(self) -> None:
        if self.proc is None:
            if self.sock is not None:
                self.sock.close()
            return
        if self.proc.poll() is None:
            try:
                self.proc.stdin.close()
            except OSError:
                pass
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)

    def start(self, launch: dict[str, Any]) -> dict[str, Any]:
        """initialize + launch; returns the launch response (the initialized event seen)."""
        init = self.request("initialize", {"adapterID": "scopeline", "clientID": "tests",
                                           "linesStartAt1": True, "columnsStartAt1": True,
                                           "pathFormat": "path",
                                           "supportsRunInTerminalRequest": False})
        assert init["success"], init
        response = self.request("launch", launch, timeout=60)
        if response["success"]:
            self.wait_event("initialized")
        return response


def wait_until(predicate: Any, timeout: float = 30, step: float = 0.02) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(step)
    return predicate()
