"""What every debug session of one adapter process shares: the agent listener and the store."""

from __future__ import annotations

from scopeline.engine.agent.listener import AgentListener
from scopeline.engine.store import Store


class AdapterEngine:
    def __init__(self, store: Store | None = None) -> None:
        self.store = store or Store()
        self.listener = AgentListener()

    def close(self) -> None:
        self.listener.close()
