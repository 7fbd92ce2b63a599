"""Tracepoints follow the program into its child processes (DAP ``subProcess``, default on).

* ``fork`` (``multiprocessing``'s default on Linux, ``os.fork``): the child inherits the
  hooks; after the fork it drops the parent's unsent rows, opens its own channel to the
  engine (a new ``hello`` with its pid) and flushes when it ends — also through
  ``multiprocessing``'s exit path, which skips ``atexit``.
* a new Python started with ``subprocess`` (``python script.py`` / ``python -m mod``): the
  command is rewritten to start under the agent's launcher, which places the session's
  tracepoints before the child's program runs — as for the program itself. Other forms
  (``python -c``, a shell line) run untraced.
"""

from __future__ import annotations

import atexit
import os
import subprocess
import sys
import threading
from collections.abc import Callable
from typing import Any

CHILD_ENV = "SCOPELINE_AGENT_CHILD"  # "host:port|secret|session", inherited by children
LAUNCHER = "scopeline.engine.agent.launch"

_original_execute_child: Any = None


def enable(address: str, secret: str, session: str, on_fork: Callable[[], None]) -> None:
    os.environ[CHILD_ENV] = f"{address}|{secret}|{session}"
    os.register_at_fork(after_in_child=on_fork)
    _patch_subprocess()


def from_environment() -> tuple[str, str, str] | None:
    """A child started under the launcher finds the engine here (its parent's session)."""
    raw = os.environ.get(CHILD_ENV)
    if not raw or raw.count("|") != 2:
        return None
    address, secret, session = raw.split("|")
    return address, secret, session


def at_exit(close: Callable[[], None]) -> None:
    atexit.register(close)
    # multiprocessing's children leave through os._exit, after threading._shutdown(): the
    # threading module's own exit hooks (as concurrent.futures uses) still run there
    register = getattr(threading, "_register_atexit", None)
    if register is not None:
        register(close)


def is_python(path: str) -> bool:
    name = os.path.basename(path)
    return name.startswith("python") or os.path.realpath(path) == os.path.realpath(
        sys.executable)


def rewrite(argv: list[str]) -> list[str] | None:
    """``[python, script.py, *args]`` or ``[python, -m, mod, *args]`` under the launcher."""
    if len(argv) < 2 or not is_python(argv[0]):
        return None
    i = 1
    while i < len(argv) and argv[i] in ("-u", "-B", "-E", "-s", "-S", "-O", "-OO"):
        i += 1
    if i >= len(argv):
        return None
    if argv[i] == "-m" and i + 1 < len(argv):
        return [*argv[:i], "-m", LAUNCHER, "-m", *argv[i + 1:]]
    if argv[i].startswith("-"):
        return None  # -c code, -X options...: not followed
    return [*argv[:i], "-m", LAUNCHER, "--", *argv[i:]]


def _patch_subprocess() -> None:
    global _original_execute_child
    if _original_execute_child is not None:
        return
    original = _original_execute_child = subprocess.Popen._execute_child  # type: ignore[attr-defined]

    def execute_child(self: Any, args: Any, executable: Any, *rest: Any) -> Any:
        # rest: preexec_fn, close_fds, pass_fds, cwd, env, startupinfo, creationflags, shell..
        shell = rest[7] if len(rest) > 7 else False
        if not shell and isinstance(args, list | tuple) and executable is None:
            argv = [os.fspath(a) for a in args]
            new = rewrite(argv)
            if new is not None:
                rest = list(rest)
                env = rest[4]
                if env is not None and CHILD_ENV not in env:
                    env = {**env, CHILD_ENV: os.environ.get(CHILD_ENV, ""),
                           "PYTHONPATH": os.pathsep.join(
                               p for p in (os.environ.get("PYTHONPATH"),
                                           env.get("PYTHONPATH")) if p)}
                    rest[4] = env
                args = new
        return original(self, args, executable, *rest)

    subprocess.Popen._execute_child = execute_child  # type: ignore[attr-defined]

