"""The program's life in a debug session: launch, attach (by port or process id), watching it
end, terminate, disconnect and detach."""

from __future__ import annotations

import os
import signal
import subprocess
import threading
import time
from typing import Any

from scopeline.engine.errors import ScopelineError

from . import process
from .sink import SessionSink


class ProgramLifecycle:
    """Mixed into DebugSession (its state: proc, agent, sink, debugging, engine)."""

    def on_launch(self, request: dict[str, Any], args: dict[str, Any]) -> None:
        self.launch_args = args
        # (the program's output is already piped to the editor: debugpy must not repeat it)
        self.debugging.attach_args = {k: args[k] for k in ("justMyCode", "subProcess")
                                      if k in args}
        self.secret = self.engine.listener.register(self)
        self.sink = SessionSink(self.engine.store, self.event,
                                [args.get("program") or f"-m {args.get('module')}"])
        self.proc = process.start(args, self.engine.listener.address, self.secret,
                                  self.sink.session_id, self._output)
        threading.Thread(target=self._watch_exit, daemon=True,
                         name="scopeline-debuggee-exit").start()
        if not self.ready.wait(30) or self.agent is None:
            code = self.proc.poll()
            self.shutdown(terminate=True)
            raise ScopelineError("agent_connect_failed", "the program's agent did not connect"
                                 + (f" (the program exited with {code})" if code is not None
                                    else " in 30 s"),
                                 suggestions=["See the Debug Console for the program's "
                                              "errors."])
        self.event("process", {"name": args.get("program") or args.get("module"),
                               "systemProcessId": self.proc.pid, "isLocalProcess": True,
                               "startMethod": "launch"})
        self.respond(request)
        self.event("initialized")
        self._set_tracepoints_from_launch(args.get("tracepoints") or [])

    def on_attach(self, request: dict[str, Any], args: dict[str, Any]) -> None:
        """Attach to a program that runs debugpy (``python -m debugpy --listen PORT ...``):
        ordinary debugging passes through; it has no Scopeline agent, so tracepoints are
        handed to debugpy as its own logpoints (said in each breakpoint's message)."""
        if args.get("processId") and not (args.get("connect") or args.get("port")):
            self._attach_pid(int(args["processId"]))
            self.respond(request)
            self.event("initialized")
            return
        connect = args.get("connect") or {"host": args.get("host", "127.0.0.1"),
                                          "port": args.get("port")}
        if not connect.get("port"):
            raise ScopelineError("target_invalid", "attach needs connect.port (or port)",
                                 suggestions=['"connect": {"host": "127.0.0.1", "port": 5678}'])
        self.attached = True
        passed = {k: v for k, v in args.items() if k not in ("connect", "host", "port",
                                                              "tracepoints", "mode")}
        why = self.debugging.attach_to(connect.get("host") or "127.0.0.1", int(connect["port"]),
                                       passed)
        if why:
            raise ScopelineError("debugger_unavailable", why)
        self.respond(request)
        self.event("initialized")

    def _attach_pid(self, pid: int) -> None:
        """The agent injected into a running process: tracepoints as in a launch session;
        ordinary debugging brings debugpy in the same way."""
        from . import pid_attach

        self.secret = self.engine.listener.register(self)
        self.sink = SessionSink(self.engine.store, self.event, [f"process {pid}"])
        pid_attach.inject_agent(pid, self.engine.listener.address, self.secret,
                                self.sink.session_id)
        if not self.ready.wait(30) or self.agent is None:
            raise ScopelineError("agent_connect_failed", f"the agent injected into process "
                                 f"{pid} did not connect in 30 s")
        self.attached_pid = pid
        self.event("process", {"name": f"process {pid}", "systemProcessId": pid,
                               "isLocalProcess": True, "startMethod": "attach"})
        threading.Thread(target=self._watch_exit, daemon=True,
                         name="scopeline-debuggee-exit").start()

    def _set_tracepoints_from_launch(self, specs: list[dict[str, Any]]) -> None:
        """Tracepoints given in launch.json, placed once per file; they stay when the editor
        later sets that file's breakpoints (setBreakpoints replaces a file's whole set)."""
        for spec in specs:
            bp = {"line": spec["line"], "logMessage": spec.get("message") or None,
                  "condition": spec.get("condition")
                  or (None if spec.get("message") else "#trace")}
            self.launch_tracepoints.setdefault(file_key(spec["file"]), []).append(bp)
        for key, bps in self.launch_tracepoints.items():
            self._place({"path": key}, bps)

    def _output(self, category: str, text: str) -> None:
        self.event("output", {"category": category, "output": text})

    def on_terminate(self, request: dict[str, Any], args: dict[str, Any]) -> None:
        self.respond(request)
        self._stop_program()

    def on_disconnect(self, request: dict[str, Any], args: dict[str, Any]) -> None:
        if self.attached and self.debugging.active:
            self.debugging.link.request(  # type: ignore[union-attr]
                "disconnect", {"terminateDebuggee": args.get("terminateDebuggee", False)})
            self.debugging.close()
            self.respond(request)
            self.terminated = True
            return
        if self.attached_pid is not None and not args.get("terminateDebuggee", False):
            self._detach()
        else:
            self.shutdown(terminate=args.get("terminateDebuggee", True))
        self.respond(request)
        self.terminated = True

    # -- ending ------------------------------------------------------------------------------
    def _stop_program(self) -> None:
        self.debugging.close()
        if self.attached_pid is not None and self.proc is None:
            try:
                os.kill(self.attached_pid, signal.SIGTERM)  # the agent flushes, then it ends
            except ProcessLookupError:
                pass
            return
        proc = self.proc
        if proc is not None and proc.poll() is None:
            proc.terminate()  # SIGTERM: the agent flushes, then the program ends
            try:
                proc.wait(5)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(5)

    def _watch_exit(self) -> None:
        if self.proc is not None:
            code: int | None = self.proc.wait()
        else:  # attached by pid: not our child, so poll until it is gone (or we detach)
            while _alive(self.attached_pid) and not self.detached:
                time.sleep(0.25)
            if self.detached:
                return
            code = None
        self.agent_done.wait(3)  # the last batch and the goodbye
        if self.sink is not None:
            self.sink.stop(self.bye)
            if self.bye and self.bye.get("dropped"):
                self._note(f"{self.bye['dropped']} events were dropped in the program")
        if self.secret:
            self.engine.listener.unregister(self.secret)
        if code is not None:  # an attached process is not our child: its code is unknown
            self.event("exited", {"exitCode": code})
        self.event("terminated")

    def _detach(self) -> None:
        """Leave an attached process running, with every hook of ours removed."""
        self.detached = True
        self.debugging.tracepoints_only()
        if self.agent is not None:
            self.agent.send("detach")
            self.agent_done.wait(5)
        if self.sink is not None:
            self.sink.stop(self.bye)
        if self.secret:
            self.engine.listener.unregister(self.secret)

    def shutdown(self, terminate: bool) -> None:
        if terminate:
            self._stop_program()
        else:
            self.debugging.close()
        if self.proc is not None and self.proc.poll() is not None and self.sink is not None:
            self.agent_done.wait(3)
            self.sink.stop(self.bye)


def file_key(path: str) -> str:
    return os.path.normcase(os.path.abspath(path))


def _alive(pid: int | None) -> bool:
    if pid is None:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:  # a zombie has exited
        with open(f"/proc/{pid}/stat") as fh:
            return fh.read().rsplit(")", 1)[1].split()[0] != "Z"
    except (FileNotFoundError, IndexError):
        return True
