"""One debug session of type ``scopeline``: the editor's DAP requests, answered or routed.

Tracepoints go to the agent inside the debuggee; ordinary debugging goes to debugpy, brought
in only while an ordinary breakpoint, a pause or an exception filter needs it. A request the
adapter cannot read, or does not know, gets an error response and the session goes on.
"""

from __future__ import annotations

import itertools
import logging
import subprocess
import threading
from typing import Any

from scopeline.engine.errors import ScopelineError

from .breakpoints import BreakpointRequests
from .debugging import OrdinaryDebugging
from .engine import AdapterEngine
from .lifecycle import ProgramLifecycle
from .sink import SessionSink
from .wire import DapStream, DapWireError

log = logging.getLogger("scopeline.adapter")

CAPABILITIES = {
    "supportsConfigurationDoneRequest": True,
    "supportsConditionalBreakpoints": True,
    "supportsHitConditionalBreakpoints": True,
    "supportsLogPoints": True,
    "supportsEvaluateForHovers": True,
    "supportsSetVariable": True,
    "supportsTerminateRequest": True,
    "supportsExceptionInfoRequest": True,
    "supportsExceptionOptions": True,
    "supportsValueFormattingOptions": True,
    "supportTerminateDebuggee": True,
    "exceptionBreakpointFilters": [
        {"filter": "raised", "label": "Raised Exceptions", "default": False},
        # off by default, unlike debugpy: VS Code sends default filters with every session, and
        # a filter needs debugpy in the program — a tracepoint-only session must not load it
        {"filter": "uncaught", "label": "Uncaught Exceptions", "default": False},
        {"filter": "userUnhandled", "label": "User Uncaught Exceptions", "default": False},
    ],
}
RESUMING = frozenset({"next", "stepIn", "stepOut", "stepBack", "reverseContinue", "goto"})
# Requests that mean nothing while no ordinary debugging is going on (nothing is stopped).
NEEDS_STOPPED = frozenset({"stackTrace", "scopes", "variables", "evaluate", "setVariable",
                           "setExpression", "next", "stepIn", "stepOut", "stepBack",
                           "goto", "source", "exceptionInfo", "completions", "restartFrame"})


class DebugSession(BreakpointRequests, ProgramLifecycle):
    def __init__(self, stream: DapStream, engine: AdapterEngine) -> None:
        self.stream = stream
        self.engine = engine
        self.seq = itertools.count(1)
        self.tracepoint_ids = itertools.count(1_000_000)
        self.proc: subprocess.Popen[bytes] | None = None
        self.agent: Any = None  # AgentLink once the program connected
        self.secret: str | None = None
        self.sink: SessionSink | None = None
        self.ready = threading.Event()
        self.replies: dict[int, dict[str, Any]] = {}
        self.reply_ready = threading.Condition()
        self.requests = itertools.count(1)
        self.bye: dict[str, Any] | None = None
        self.agent_done = threading.Event()
        self.terminated = False
        self.launch_args: dict[str, Any] = {}
        self.debugging = OrdinaryDebugging(self._ask_debugger, self._forward_event, self._note)
        # file -> (placed items, the engine's injection for them or None)
        self.tracepoint_items: dict[str, tuple[list[dict[str, Any]], Any]] = {}
        self.children: list[Any] = []  # agents of child processes
        self.launch_tracepoints: dict[str, list[dict[str, Any]]] = {}  # file -> launch.json's
        self.attached = False  # attach: debugpy only, no agent
        self.attached_pid: int | None = None  # attach by process id: the agent injected
        self.detached = False

    # -- the loop ----------------------------------------------------------------------------
    def serve(self) -> None:
        while not self.terminated:
            try:
                message = self.stream.read()
            except DapWireError as exc:
                self._respond_error({"seq": exc.seq or 0, "command": exc.command or "?"},
                                    "malformed_request", f"malformed DAP message: {exc}",
                                    "Send a JSON object with seq, type and command.")
                if exc.fatal:
                    break
                continue
            except (OSError, ValueError):
                break
            if message is None:
                break
            if message.get("type") == "request":
                self._dispatch(message)
        if self.attached_pid is not None:  # not ours to end: leave it running, untraced
            if not self.detached:
                self._detach()
        elif not self.attached:
            self.shutdown(terminate=True)

    def _dispatch(self, request: dict[str, Any]) -> None:
        command = request["command"]
        handler = getattr(self, f"on_{command}", None)
        try:
            if handler is not None:
                handler(request, request.get("arguments") or {})
            elif self.debugging.active:
                reply = self._send_then_resumed if command in RESUMING else self.send
                self.debugging.link.forward(request, reply)  # type: ignore[union-attr]
            elif command in NEEDS_STOPPED:
                self._respond_error(request, "not_stopped", f"{command}: nothing is stopped",
                                    "Set an ordinary breakpoint or pause; tracepoints never "
                                    "stop the program.")
            else:
                self._respond_error(request, "unknown_request", f"unknown request {command!r}",
                                    "See the Debug Adapter Protocol for the requests a "
                                    "scopeline session answers.")
        except ScopelineError as exc:
            self._respond_error(request, exc.code, exc.message,
                                exc.recovery_suggestions[0] if exc.recovery_suggestions
                                else "")
        except Exception as exc:  # a bug answers this request, it does not end the session
            log.exception("request %s failed", command)
            self._respond_error(request, "internal_error", f"{type(exc).__name__}: {exc}", "")

    # -- sending -----------------------------------------------------------------------------
    def send(self, message: dict[str, Any]) -> None:
        message = dict(message)
        message["seq"] = next(self.seq)
        try:
            self.stream.write(message)
        except (OSError, ValueError):
            pass  # the editor is gone; serve() ends at the next read

    def respond(self, request: dict[str, Any], body: dict[str, Any] | None = None) -> None:
        self.send({"type": "response", "request_seq": request.get("seq", 0), "success": True,
                   "command": request.get("command"), "body": body or {}})

    def _respond_error(self, request: dict[str, Any], code: str, message: str,
                       suggestion: str) -> None:
        text = f"{code}: {message}" + (f" — {suggestion}" if suggestion else "")
        self.send({"type": "response", "request_seq": request.get("seq", 0), "success": False,
                   "command": request.get("command", "?"), "message": text,
                   "body": {"error": {"id": 1, "format": text, "showUser": True}}})

    def _send_then_resumed(self, response: dict[str, Any]) -> None:
        """A continue/step answered: only now may debugpy be taken out (a release held back
        while the program was stopped), so that answer is never lost with the link."""
        self.send(response)
        self.debugging.resumed()

    def event(self, name: str, body: dict[str, Any] | None = None) -> None:
        self.send({"type": "event", "event": name, "body": body or {}})

    def _forward_event(self, event: dict[str, Any]) -> None:
        self.send(event)

    def _note(self, text: str) -> None:
        log.info(text)
        self.event("output", {"category": "console", "output": f"[scopeline] {text}\n"})
        if self.sink is not None:
            self.sink.log.append(text)

    # -- agent -------------------------------------------------------------------------------
    def agent_connected(self, link: Any, hello: dict[str, Any]) -> None:
        if self.agent is None:
            self.agent = link
        else:  # a child process of the program (fork or subprocess) joined the session
            self.children.append(link)

    def agent_message(self, link: Any, message: dict[str, Any]) -> None:
        kind = message["t"]
        if kind == "ready" and link is not self.agent:
            self._child_ready(link, message)
            return
        if link is not self.agent:  # a child's events and notes; its replies are not awaited
            if kind == "events" and self.sink is not None:
                self.sink.events(message)
            return
        if kind == "ready":
            if self.sink is not None:
                self.sink.ready(message)
            self.ready.set()
        elif kind == "events" and self.sink is not None:
            self.sink.events(message)
        elif kind == "bye":
            self.bye = message
            self.agent_done.set()
        elif kind == "error":
            self._note(f"agent: {message.get('message')}")
        elif kind == "note":
            self._note(str(message.get("message")))
        if "request" in message:
            with self.reply_ready:
                self.replies[message["request"]] = message
                self.reply_ready.notify_all()

    def agent_gone(self, link: Any) -> None:
        if link is self.agent:
            self.agent_done.set()

    def _child_ready(self, link: Any, message: dict[str, Any]) -> None:
        """A child gets every tracepoint of the session, then runs (a fork already runs)."""
        self._note(f"child process {message.get('pid')} joined: "
                   f"{' '.join(map(str, message.get('program') or []))}")
        if not message.get("child") or self.sink is None:
            return
        for file, (items, inject) in self.tracepoint_items.items():
            link.send("tracepoints", file=file, items=items, inject=inject)
        link.send("run")

    def _ask_agent(self, kind: str, timeout: float, **fields: Any) -> dict[str, Any] | None:
        if self.agent is None:
            return None
        request = next(self.requests)
        if not self.agent.send(kind, request=request, **fields):
            return None
        with self.reply_ready:
            self.reply_ready.wait_for(lambda: request in self.replies or self.agent_done.is_set(),
                                      timeout)
            return self.replies.pop(request, None)

    def _ask_debugger(self, action: str, timeout: float) -> dict[str, Any] | None:
        return self._ask_agent("debugpy", timeout, action=action,
                               subProcess=bool(self.launch_args.get("subProcess", False)))

    # -- requests ----------------------------------------------------------------------------
    def on_initialize(self, request: dict[str, Any], args: dict[str, Any]) -> None:
        self.respond(request, CAPABILITIES)

    def on_configurationDone(self, request: dict[str, Any], args: dict[str, Any]) -> None:
        if self.attached:
            self.debugging.link.forward(request, self.send)  # type: ignore[union-attr]
            return
        if self.agent is not None:
            self.agent.send("run")
        self.respond(request)

    def on_threads(self, request: dict[str, Any], args: dict[str, Any]) -> None:
        if self.debugging.active:
            self.debugging.link.forward(request, self.send)  # type: ignore[union-attr]
        else:
            self.respond(request, {"threads": [{"id": 1, "name": "MainThread"}]})

    def on_pause(self, request: dict[str, Any], args: dict[str, Any]) -> None:
        why = self.debugging.ensure()
        if why:
            raise ScopelineError("debugger_unavailable", f"cannot pause: {why}")
        self.debugging.link.forward(request, self.send)  # type: ignore[union-attr]

    def on_continue(self, request: dict[str, Any], args: dict[str, Any]) -> None:
        if self.debugging.active:
            self.debugging.link.forward(request, self._send_then_resumed)  # type: ignore[union-attr]
        else:
            self.respond(request, {"allThreadsContinued": True})
