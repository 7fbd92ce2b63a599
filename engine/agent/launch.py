"""The debuggee's entry point: ``python -m scopeline.engine.agent.launch [-m MOD | FILE] ARGS``.

It connects to the engine (address and secret from the environment, never the command line,
so they do not show in ``ps``), compiles the program, waits for the engine's tracepoints and
its ``run``, then runs the program as ``__main__`` exactly as ``python FILE ARGS`` would. On
the way out — normal exit, uncaught exception or SIGTERM — it flushes what it captured and
says how much it had to drop.
"""

from __future__ import annotations

import os
import signal
import sys
import threading
import time
from typing import Any

from scopeline.engine.errors import ScopelineError
from scopeline.engine.sigterm import flush_on_sigterm

from . import children, wire
from .channel import AgentChannel, RefusedError
from .tracepoints import Tracepoints

FOLLOW_ENV = "SCOPELINE_AGENT_FOLLOW"  # "1": tracepoints follow into child processes


class Agent:
    def __init__(self, channel: AgentChannel, tracepoints: Tracepoints) -> None:
        self.channel = channel
        self.tracepoints = tracepoints
        self.go = threading.Event()
        self.debugger: Any = None

    def on_message(self, message: dict[str, Any]) -> None:
        kind = message["t"]
        if kind == "tracepoints":
            results = self.tracepoints.set_file(message["file"], message.get("items", []),
                                                message.get("inject"))
            self.channel.send("placed", request=message.get("request"), file=message["file"],
                              results=[r.to_dict() for r in results])
        elif kind == "run":
            self.go.set()
        elif kind == "debugpy":
            from .debugger import Debugger

            if self.debugger is None:
                self.debugger = Debugger(self.channel)
            self.debugger.handle(message)
        elif kind == "detach":  # the editor detached: the program runs on, untraced
            self.tracepoints.clear()
            self.channel.close(detached=True)
        elif kind == "ping":
            self.channel.send("pong", request=message.get("request"))
        else:
            self.channel.send("error", message=f"unknown agent command {kind!r}")


def main(argv: list[str] | None = None) -> int:
    from scopeline.engine.runner import load_program, make_main_module, run_code

    argv = list(sys.argv[1:] if argv is None else argv)
    module = None
    if argv[:1] == ["-m"] and len(argv) > 1:
        module, argv = argv[1], argv[2:]
    elif argv[:1] == ["--"]:
        argv = argv[1:]
    address = os.environ.pop(wire.ADDRESS_ENV, "")
    secret = os.environ.pop(wire.SECRET_ENV, "")
    session = os.environ.pop(wire.SESSION_ENV, "")
    follow = os.environ.pop(FOLLOW_ENV, "") == "1"
    inherited = children.from_environment()
    is_child = not address and inherited is not None
    if is_child:
        assert inherited is not None
        address, secret, session = inherited
    try:
        program = load_program(None if module else (argv[0] if argv else None), module,
                               argv if module else argv[1:])
    except ScopelineError as exc:
        print(f"scopeline: {exc.code}: {exc}", file=sys.stderr)
        return 2
    tracepoints = Tracepoints(main_code=program.code, main_file=program.file)
    agent = connect(address, secret, session, tracepoints, child=is_child,
                    program=program.argv)
    if agent is None:
        return 2
    channel = agent.channel
    tracepoints.notify = lambda text: agent.channel.send("note", message=text)
    if follow or is_child:
        children.enable(address, secret, session,
                        lambda: _forked(address, secret, session, tracepoints, channel))
    exit_code = 1
    closing = _close_once(channel, tracepoints)
    # before debugpy can be in (signal() raises inside, caught: a 'raised' filter would stop)
    flush_on_sigterm(lambda: closing(exit_code=-signal.SIGTERM, signal="SIGTERM"))
    agent.go.wait()
    binder = None
    if tracepoints.backend.needs_function and tracepoints.pending:
        from scopeline.engine.binder import MainBinder

        binder = MainBinder(tracepoints, program.code)  # type: ignore[arg-type]
        binder.start()
    tracepoints.started = True
    if tracepoints.main_injected is not None:  # compile-time tracepoints in the program itself
        program.code = tracepoints.main_injected
    try:
        exit_code = run_code(program, make_main_module(program))
    finally:
        if binder is not None:
            binder.stop()
        closing(exit_code=exit_code)
    return exit_code


def connect(address: str, secret: str, session: str, tracepoints: Tracepoints, *,
            child: bool, program: list[str]) -> Agent | None:
    host, _, port = address.rpartition(":")
    channel = AgentChannel((host, int(port or 0)), secret, session=session)
    agent = Agent(channel, tracepoints)
    channel.on_message = agent.on_message
    channel.pull_events = tracepoints.pull
    try:
        channel.connect()
    except (OSError, ValueError, RefusedError, wire.WireError) as exc:
        print(f"scopeline: agent_connect_failed: cannot reach the engine at {address}: {exc}",
              file=sys.stderr)
        return None
    channel.start()
    channel.send("ready", program=program, backend=tracepoints.backend.name,
                 backend_reason=tracepoints.backend.reason, child=child, pid=os.getpid(),
                 clock={"wall0": time.time_ns(), "perf0": time.perf_counter_ns()})
    return agent


def _forked(address: str, secret: str, session: str, tracepoints: Tracepoints,
            parent: AgentChannel) -> None:
    """In a forked child: the hooks came along; the channel's threads did not."""
    parent.closing = True  # its socket is the parent's: never write to it from here
    parent.sock = None
    tracepoints.recorder.queue.clear()  # the parent's unsent rows are the parent's to send
    agent = connect(address, secret, session, tracepoints, child=True, program=sys.argv)
    if agent is not None:
        agent.go.set()
        children.at_exit(_close_once(agent.channel, tracepoints))


def _close_once(channel: AgentChannel, tracepoints: Tracepoints) -> Any:
    done = threading.Lock()

    def close(**bye: Any) -> None:
        if done.acquire(blocking=False):
            skipped = tracepoints.recorder.skipped_line_counts()
            channel.close(skipped=skipped, **bye)

    return close


if __name__ == "__main__":
    sys.exit(main())
