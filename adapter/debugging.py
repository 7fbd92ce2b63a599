"""Ordinary debugging, only while it is needed: debugpy brought into the running program.

A session with only tracepoints runs without debugpy (on 3.11 a program merely running under
debugpy is several times slower). The first ordinary breakpoint, pause or exception filter
asks the agent to start debugpy inside the program (``debugpy.listen`` on loopback); the
adapter then attaches as debugpy's client, replays the breakpoints and filters, and from then
on passes the editor's debugging requests through. When the last one is removed the adapter
disconnects and the agent switches debugpy's tracing off (see ``agent.debugger``).
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

from .debugpy_link import DebugpyLink

# debugpy's events the editor must not see from a debugpy we attach and detach ourselves
HIDDEN_EVENTS = frozenset({"initialized", "terminated", "exited", "process",
                           "debugpyWaitingForServer", "debugpySockets"})


# As a plain debugpy session: only the user's code (justMyCode, overridable in launch.json);
# never a stop inside Scopeline's own agent, whatever the settings; the program's output is
# already piped to the editor, so debugpy must not repeat it.
ATTACH_DEFAULTS: dict[str, Any] = {
    "justMyCode": True, "redirectOutput": False,
    "rules": [{"module": "scopeline", "include": False}],
}


def agent_rules() -> list[dict[str, Any]]:
    """Frames debugpy must neither stop in nor show: the agent's modules, and its folder (the
    launcher runs as ``__main__``, so its module name does not say it is ours)."""
    from scopeline.engine.agent.path import agent_path

    return [*ATTACH_DEFAULTS["rules"], {"path": f"{agent_path()}/**", "include": False}]


class OrdinaryDebugging:
    def __init__(self, ask_agent: Callable[[str, float], dict[str, Any] | None],
                 send_event: Callable[[dict[str, Any]], None],
                 log: Callable[[str], None]) -> None:
        self.ask_agent = ask_agent  # (action, timeout) -> the agent's reply
        self.send_event = send_event
        self.log = log
        self.link: DebugpyLink | None = None
        self.breakpoints: dict[str, tuple[dict[str, Any], list[dict[str, Any]]]] = {}
        self.exception_filters: dict[str, Any] = {"filters": []}
        self.attach_args: dict[str, Any] = {}
        self.lock = threading.RLock()
        self.initialized = threading.Event()
        self.times_started = 0
        # debugpy is not taken out while the program is stopped in it (detaching would let
        # the program run on): the release waits for the next continue or step
        self.stopped = False
        self.release_pending = False

    @property
    def active(self) -> bool:
        return self.link is not None and not self.link.closed

    def needed(self) -> bool:
        return any(bps for _, bps in self.breakpoints.values()) or bool(
            self.exception_filters.get("filters") or self.exception_filters.get("filterOptions"))

    # -- in --------------------------------------------------------------------------------
    def ensure(self) -> str | None:
        """Bring debugpy in if it is not; None when ready, else why it could not."""
        with self.lock:
            if self.active:
                return None
            reply = self.ask_agent("start", 60.0)
            if not reply or not reply.get("port"):
                return (reply or {}).get("error") or "the program did not start debugpy"
            self.initialized.clear()
            try:
                self.link = DebugpyLink(int(reply["port"]), self._on_event, self._on_closed)
            except OSError as exc:
                return f"cannot connect to debugpy in the program: {exc}"
            link = self.link
            init = link.request("initialize", {"adapterID": "scopeline", "clientID": "scopeline",
                                               "linesStartAt1": True, "columnsStartAt1": True,
                                               "pathFormat": "path"})
            if not init.get("success"):
                return f"debugpy refused initialize: {init.get('message')}"
            attached: list[dict[str, Any]] = []
            done = threading.Event()
            link.send("attach", {**ATTACH_DEFAULTS, "rules": agent_rules(),
                                 **self.attach_args},
                      lambda r: (attached.append(r), done.set()))
            self.initialized.wait(15)
            for source, bps in self.breakpoints.values():
                link.request("setBreakpoints", {"source": source, "breakpoints": bps})
            link.request("setExceptionBreakpoints", self.exception_filters)
            link.request("configurationDone")
            done.wait(15)
            if attached and not attached[0].get("success"):
                return f"debugpy refused attach: {attached[0].get('message')}"
            self.times_started += 1
            self.log(f"debugpy brought into the program (port {reply['port']}): ordinary "
                     "breakpoints are live")
            return None

    def attach_to(self, host: str, port: int, args: dict[str, Any]) -> str | None:
        """Attach to a debugpy already listening in the program (no agent there)."""
        with self.lock:
            try:
                self.link = DebugpyLink(port, self._on_event, self._on_closed, host=host)
            except OSError as exc:
                return f"cannot connect to debugpy at {host}:{port}: {exc}"
            init = self.link.request("initialize", {
                "adapterID": "scopeline", "clientID": "scopeline", "linesStartAt1": True,
                "columnsStartAt1": True, "pathFormat": "path"})
            if not init.get("success"):
                return f"debugpy refused initialize: {init.get('message')}"
            self.initialized.clear()
            self.link.send("attach", {**ATTACH_DEFAULTS, **args}, lambda r: None)
            if not self.initialized.wait(15):
                return "debugpy did not get ready to attach in 15 s"
            return None

    def _on_event(self, event: dict[str, Any]) -> None:
        name = event.get("event")
        if name == "initialized":
            self.initialized.set()
        elif name == "stopped":
            self.stopped = True
        elif name == "continued":
            self.stopped = False
        if event.get("event") in HIDDEN_EVENTS:
            return
        self.send_event(event)

    def _on_closed(self) -> None:
        self.link = None

    # -- out -------------------------------------------------------------------------------
    def resumed(self) -> None:
        """The editor continued or stepped: a release held back while stopped happens now."""
        self.stopped = False
        if self.release_pending:
            self.release_pending = False
            threading.Thread(target=self.release_if_unneeded, daemon=True,
                             name="scopeline-debugpy-release").start()

    def release_if_unneeded(self) -> None:
        with self.lock:
            if not self.active or self.needed():
                return
            if self.stopped:
                self.release_pending = True
                return
            link = self.link
            assert link is not None
            link.request("disconnect", {"terminateDebuggee": False}, timeout=5)
            link.close()
            self.link = None
            reply = self.ask_agent("stop", 10.0) or {}
            self.log("last ordinary breakpoint removed: debugpy detached; "
                     + reply.get("note", "the program did not answer (it has ended, or is "
                                         "ending)"))

    def tracepoints_only(self) -> None:
        """Drop every ordinary breakpoint and filter, then debugpy (tracing off)."""
        self.breakpoints.clear()
        self.exception_filters = {"filters": []}
        self.release_if_unneeded()

    def close(self) -> None:
        link, self.link = self.link, None
        if link is not None:
            link.close()
