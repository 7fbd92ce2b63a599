"""SIGTERM skips ``atexit``: flush what was captured first, then die of SIGTERM as the program
would have. Standard library only (the agent uses it inside debuggees)."""

from __future__ import annotations

import os
import signal
import threading
from collections.abc import Callable
from typing import Any


def flush_on_sigterm(flush: Callable[[], None]) -> None:
    """Install the handler, unless the program handles SIGTERM itself (then it exits through
    ``atexit``, which flushes) or this is not the main thread."""
    if threading.current_thread() is not threading.main_thread():
        return
    try:
        if signal.getsignal(signal.SIGTERM) is not signal.SIG_DFL:
            return

        def on_sigterm(signum: int, frame: Any) -> None:
            flush()
            signal.signal(signal.SIGTERM, signal.SIG_DFL)
            os.kill(os.getpid(), signal.SIGTERM)

        signal.signal(signal.SIGTERM, on_sigterm)
    except (ValueError, OSError):  # not the main interpreter, or signals unavailable
        pass
