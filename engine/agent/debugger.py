"""debugpy inside the program, on the engine's request (ordinary breakpoints, pause).

``start`` calls ``debugpy.listen`` on loopback once per process (debugpy allows one listen;
a later client reconnects to the same port) and answers with the port. ``stop`` runs after
the adapter detached: it switches debugpy's tracing off so the program is back at full speed.
On 3.12 debugpy traces with ``sys.monitoring`` and costs ~nothing without breakpoints, but it
is still stopped. On 3.11 debugpy's ``sys.settrace`` tracer makes every call several times
slower and debugpy offers no public way to remove it, so it is removed from every thread here
through pydevd's own thread-tracing helpers, and put back (``_retrace``) before the next
attach. Measured (bench notes in docs/debugging.md): 3.11 from ~8x to ~1.0x after ``stop``.
"""

from __future__ import annotations

import os
import sys
import threading
from typing import Any

from .channel import AgentChannel, hide_from_debugger

OFF_NOTE = "debugpy's tracing switched off: the program runs at full speed again"


class Debugger:
    def __init__(self, channel: AgentChannel) -> None:
        self.channel = channel
        self.port: int | None = None
        self.traced = False
        self.lock = threading.Lock()

    def handle(self, message: dict[str, Any]) -> None:
        # off the receive thread: listen() takes ~0.1–1 s (imports, and the GIL is shared)
        thread = threading.Thread(target=self._handle, args=(message,), daemon=True,
                                  name="scopeline-agent-debugpy")
        hide_from_debugger(thread)
        thread.start()

    def _handle(self, message: dict[str, Any]) -> None:
        request = message.get("request")
        action = message.get("action")
        try:
            with self.lock:
                if action == "start":
                    self.channel.send("debugpy", request=request, port=self._start(message))
                elif action == "stop":
                    self.channel.send("debugpy", request=request, note=self._stop())
                else:
                    self.channel.send("debugpy", request=request,
                                      error=f"unknown debugpy action {action!r}")
        except Exception as exc:
            self.channel.send("debugpy", request=request,
                              error=f"debugpy failed: {type(exc).__name__}: {exc}")

    def _start(self, message: dict[str, Any]) -> int:
        if self.port is None:
            os.environ.setdefault("PYDEVD_DISABLE_FILE_VALIDATION", "1")  # no frozen warning
            import debugpy

            debugpy.configure(subProcess=bool(message.get("subProcess")))
            interval = sys.getswitchinterval()
            sys.setswitchinterval(0.0005)  # the program's threads hold the GIL: get turns
            try:
                # pydevd serves DAP itself: no adapter process to start and wait for
                _, self.port = debugpy.listen(("127.0.0.1", 0), in_process_debug_adapter=True)
            finally:
                sys.setswitchinterval(interval)
        elif not self.traced:
            _retrace()
        self.traced = True
        return self.port

    def _stop(self) -> str:
        if not self.traced:
            return OFF_NOTE
        try:
            _untrace()
        except Exception as exc:  # pydevd internals moved: say so, keep the session going
            return (f"debugpy's tracing could not be switched off ({type(exc).__name__}: "
                    f"{exc}): the program keeps debugpy's cost until it ends")
        self.traced = False
        return OFF_NOTE


def _untrace() -> None:
    if sys.version_info >= (3, 12):
        from _pydevd_sys_monitoring import pydevd_sys_monitoring

        pydevd_sys_monitoring.stop_monitoring(all_threads=True)
        return
    import pydevd_tracing
    from _pydev_bundle import pydev_monkey

    real = pydevd_tracing.TracingFunctionHolder._original_tracing or sys.settrace

    def off(frame: Any, event: str, arg: Any) -> None:  # runs once inside each thread
        real(None)

    me = threading.get_ident()
    frames = sys._current_frames()
    for frame in frames.values():
        while frame is not None:  # per-frame tracers of frames already running
            frame.f_trace = None
            frame = frame.f_back
    others = [tid for tid in frames if tid != me]
    if others:
        pydevd_tracing.set_trace_to_threads(off, thread_idents=others,
                                            create_dummy_thread=False)
    pydevd_tracing.SetTrace(None)
    threading.settrace(None)
    pydev_monkey.disable_trace_thread_modules()  # threads started later stay untraced


def _retrace() -> None:
    import pydevd

    debugger = pydevd.get_global_debugger()
    if sys.version_info < (3, 12):
        from _pydev_bundle import pydev_monkey

        pydev_monkey.enable_trace_thread_modules()
        debugger.patch_threads()
    debugger.enable_tracing(debugger.trace_dispatch if sys.version_info < (3, 12) else None,
                            apply_to_all_threads=True)
    if sys.version_info < (3, 12):
        debugger.set_tracing_for_untraced_contexts()
