"""The agent injected into a process that is already running (DAP ``attach`` by process id).

The adapter has gdb run ``start(ticket)`` inside the process (debugpy's own injector, as
``debugpy --pid`` does). The ticket is a file only this user can read, holding the engine's
address and the session's secret: they never appear on a command line. ``start`` returns at
once; the agent connects from its own thread and places tracepoints on the live code.
"""

from __future__ import annotations

import json
import os
import sys
import threading

from .channel import hide_from_debugger


def start(ticket: str) -> None:
    with open(ticket, encoding="utf-8") as fh:
        info = json.load(fh)
    os.unlink(ticket)
    thread = threading.Thread(target=_run, args=(info,), daemon=True,
                              name="scopeline-agent-attach")
    hide_from_debugger(thread)
    thread.start()


def _run(info: dict[str, str]) -> None:
    from . import children
    from .launch import _close_once, connect
    from .tracepoints import Tracepoints

    main = sys.modules.get("__main__")
    main_file = getattr(main, "__file__", None)
    tracepoints = Tracepoints(main_code=None,
                              main_file=os.path.abspath(main_file) if main_file else None)
    tracepoints.started = True  # the program runs already: its functions are live
    agent = connect(info["address"], info["secret"], info["session"], tracepoints, child=False,
                    program=list(sys.argv))
    if agent is None:
        return
    tracepoints.notify = lambda text: agent.channel.send("note", message=text)
    agent.go.set()
    children.at_exit(_close_once(agent.channel, tracepoints))
