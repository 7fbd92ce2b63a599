"""The runtime side of injected code: the protocol it calls, and a recorder for tests.

Standard library only: this runs inside the user's program.
"""

from __future__ import annotations

import sys
import threading
from typing import Any, Protocol


class InstrumentHooks(Protocol):
    """What injected code calls; birdseye-style generic hooks, products subscribe to them."""

    def enter(self, site_id: int, args: dict[str, Any]) -> None:
        """A call starts; keep what its exit needs by the caller's frame (sys._getframe(1))."""
        ...

    def exit(self, site_id: int, value: Any) -> Any:
        """Must return ``value`` unchanged: it is the function's return value."""
        ...

    def exception(self, site_id: int) -> None:
        """Called in an ``except`` block: the exception is ``sys.exc_info()[1]``."""
        ...

    def line(self, site_id: int, locals: dict[str, Any]) -> None: ...

    def values(self, site_id: int, *values: Any) -> None:
        """A line's captured locals, in the order of the site's ``names``."""
        ...

    def assign(self, site_id: int, name: str, value: Any) -> None: ...

    def expr(self, site_id: int, value: Any) -> Any:
        """Must return ``value`` unchanged: it replaces the expression in place."""
        ...


class RecordingHooks:
    """Records every call as a tuple ``(kind, site_id, *payload)``; tokens are call numbers."""

    def __init__(self) -> None:
        self.events: list[tuple[Any, ...]] = []
        self._lock = threading.Lock()
        self._calls = 0
        self._tokens: dict[int, int] = {}  # id(frame) -> its call's token

    def enter(self, site_id: int, args: dict[str, Any]) -> None:
        with self._lock:
            self._calls += 1
            token = self._calls
        self._tokens[id(sys._getframe(1))] = token
        self.events.append(("enter", site_id, token, dict(args)))

    def exit(self, site_id: int, value: Any) -> Any:
        token = self._tokens.pop(id(sys._getframe(1)), None)
        if token is not None:  # a second exit (return inside finally) is not a second call
            self.events.append(("exit", site_id, token, value))
        return value

    def exception(self, site_id: int) -> None:
        token = self._tokens.pop(id(sys._getframe(1)), None)
        self.events.append(("exception", site_id, token, sys.exc_info()[1]))

    def line(self, site_id: int, locals: dict[str, Any]) -> None:
        self.events.append(("line", site_id, dict(locals)))

    def values(self, site_id: int, *values: Any) -> None:
        self.events.append(("values", site_id, values))

    def probe(self, site_id: int) -> Any:
        return lambda *values: self.values(site_id, *values)

    def assign(self, site_id: int, name: str, value: Any) -> None:
        self.events.append(("assign", site_id, name, value))

    def expr(self, site_id: int, value: Any) -> Any:
        self.events.append(("expr", site_id, value))
        return value

    def kinds(self) -> list[str]:
        return [event[0] for event in self.events]
