"""Attach by process id: put the agent into a running Python process with debugpy's injector.

``debugpy --pid`` loads a small library into the process with gdb and has it run Python code;
the same injector runs ``scopeline.engine.agent.attach.start(ticket)`` here. It runs in a
subprocess of its own so gdb's chatter never reaches the DAP stream on our stdout.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile

from scopeline.engine.agent.path import agent_path
from scopeline.engine.errors import ScopelineError

INJECTOR = """
import sys
sys.path.insert(0, sys.argv[1])
import add_code_to_python_process as injector
injector.run_python_code(int(sys.argv[2]), sys.argv[3], connect_debugger_tracing=False,
                         show_debug_info=0)
"""


def inject_agent(pid: int, address: tuple[str, int], secret: str, session: str) -> None:
    if shutil.which("gdb") is None:
        raise ScopelineError("mode_unavailable", "attach by process id needs gdb, which is not "
                             "installed", suggestions=["Install gdb (apt install gdb), or start "
                                                       "the program with a launch session."])
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        raise ScopelineError("target_invalid", f"no process {pid}") from None
    import debugpy

    tools = os.path.join(os.path.dirname(debugpy.__file__), "_vendored", "pydevd",
                         "pydevd_attach_to_process")
    fd, ticket = tempfile.mkstemp(prefix="scopeline-attach-", suffix=".json")  # mode 0600
    with os.fdopen(fd, "w") as fh:
        json.dump({"address": f"{address[0]}:{address[1]}", "secret": secret,
                   "session": session}, fh)
    code = (f"import sys;sys.path.insert(0,{agent_path()!r});"
            f"from scopeline.engine.agent.attach import start;start({ticket!r})")
    # the injector passes the code inside quotes to gdb: spelled as bytes, it has none
    code = f"exec(bytes({list(code.encode())}).decode())"
    done = subprocess.run([sys.executable, "-c", INJECTOR, tools, str(pid), code],
                          capture_output=True, text=True, timeout=60)
    if done.returncode != 0:
        if os.path.exists(ticket):
            os.unlink(ticket)
        tail = (done.stderr or done.stdout).strip().splitlines()[-1:] or ["no output"]
        raise ScopelineError("mode_unavailable", f"could not inject the agent into process "
                             f"{pid}: {tail[0]}",
                             suggestions=["Check that ptrace is allowed (kernel.yama."
                                          "ptrace_scope=0, or run as the same user with "
                                          "CAP_SYS_PTRACE)."])
