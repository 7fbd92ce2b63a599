"""Starting the debuggee under the agent, and its output as DAP ``output`` events."""

from __future__ import annotations

import os
import shlex
import subprocess
import sys
import threading
from collections.abc import Callable
from typing import IO, Any

from scopeline.engine.agent import wire
from scopeline.engine.agent.launch import FOLLOW_ENV
from scopeline.engine.agent.path import agent_path
from scopeline.engine.errors import ScopelineError


def python_of(args: dict[str, Any]) -> list[str]:
    python = args.get("python") or args.get("pythonPath")
    if not python:
        return [sys.executable]
    return shlex.split(python) if isinstance(python, str) else [str(p) for p in python]


def launch_command(args: dict[str, Any]) -> list[str]:
    program, module = args.get("program"), args.get("module")
    if not program and not module:
        raise ScopelineError("script_not_found", "launch needs 'program' or 'module'",
                             suggestions=['Add "program": "${file}" to the launch '
                                          "configuration."])
    argv = args.get("args") or []
    if isinstance(argv, str):
        argv = shlex.split(argv)
    target = ["-m", module] if module else ["--", os.path.abspath(
        os.path.join(args.get("cwd") or os.getcwd(), program))]
    return [*python_of(args), "-m", "scopeline.engine.agent.launch", *target,
            *[str(a) for a in argv]]


def launch_env(args: dict[str, Any], address: tuple[str, int], secret: str,
               session_id: str) -> dict[str, str]:
    env = dict(os.environ)
    env.update({str(k): str(v) for k, v in (args.get("env") or {}).items() if v is not None})
    for key, value in (args.get("env") or {}).items():
        if value is None:
            env.pop(str(key), None)
    extra = agent_path()
    env["PYTHONPATH"] = os.pathsep.join(p for p in (extra, env.get("PYTHONPATH", "")) if p)
    env[wire.ADDRESS_ENV] = f"{address[0]}:{address[1]}"
    env[wire.SECRET_ENV] = secret
    env[wire.SESSION_ENV] = session_id
    if args.get("subProcess", True):  # as debugpy: child processes are followed by default
        env[FOLLOW_ENV] = "1"
    env["PYTHONUNBUFFERED"] = "1"  # the user's prints reach the console as they happen
    env.setdefault("PYDEVD_DISABLE_FILE_VALIDATION", "1")  # debugpy, if brought in: quiet
    return env


def start(args: dict[str, Any], address: tuple[str, int], secret: str, session_id: str,
          output: Callable[[str, str], None]) -> subprocess.Popen[bytes]:
    cmd = launch_command(args)
    cwd = args.get("cwd") or None
    if cwd and not os.path.isdir(cwd):
        raise ScopelineError("script_not_found", f"cwd {cwd!r} is not a folder")
    try:
        proc = subprocess.Popen(cmd, cwd=cwd, env=launch_env(args, address, secret, session_id),
                                stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE)
    except OSError as exc:
        raise ScopelineError("script_not_found", f"cannot start {cmd[0]}: {exc}",
                             suggestions=['Check "python" in the launch configuration.']
                             ) from exc
    for stream, category in ((proc.stdout, "stdout"), (proc.stderr, "stderr")):
        threading.Thread(target=_pump, args=(stream, category, output), daemon=True,
                         name=f"scopeline-debuggee-{category}").start()
    return proc


def _pump(stream: IO[bytes] | None, category: str, output: Callable[[str, str], None]) -> None:
    if stream is None:
        return
    for raw in iter(lambda: stream.read1(65536) if hasattr(stream, "read1") else b"", b""):
        output(category, raw.decode("utf-8", "replace"))
