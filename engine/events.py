"""The event model (INTERFACES §3): what every capture mode produces, with a JSON round trip."""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field, fields
from enum import Enum, StrEnum
from typing import Any


class EventType(StrEnum):
    FUNCTION_ENTRY = "function_entry"
    FUNCTION_EXIT = "function_exit"
    FUNCTION_EXCEPTION = "function_exception"
    LINE_EXECUTION = "line_execution"
    VARIABLE_ASSIGNMENT = "variable_assignment"
    EXPRESSION_EVALUATION = "expression_evaluation"
    STATE_CHANGE = "state_change"
    MESSAGE_SEND = "message_send"
    MESSAGE_RECEIVE = "message_receive"
    PROCESS_SPAWN = "process_spawn"
    PROCESS_EXIT = "process_exit"
    CUSTOM = "custom"


class EventCategory(StrEnum):
    FUNCTION_CALL = "function_call"
    VARIABLE_CHANGE = "variable_change"
    MESSAGE = "message"
    STATE_CHANGE = "state_change"
    PROCESS_LIFECYCLE = "process_lifecycle"
    CUSTOM = "custom"


CATEGORY_OF: dict[str, str] = {
    "function_entry": "function_call",
    "function_exit": "function_call",
    "function_exception": "function_call",
    "line_execution": "variable_change",
    "variable_assignment": "variable_change",
    "expression_evaluation": "variable_change",
    "state_change": "state_change",
    "message_send": "message",
    "message_receive": "message",
    "process_spawn": "process_lifecycle",
    "process_exit": "process_lifecycle",
    "custom": "custom",
}


@dataclass(slots=True)
class Event:
    """One captured fact. Values inside ``data`` are bounded repr strings, never live objects."""

    event_id: str
    session_id: str
    type: str
    source: str = "runtime"
    correlation_id: str | None = None
    timestamp: int = 0  # wall clock, ns since the epoch
    monotonic_time: int = 0  # perf_counter_ns, comparable within one process
    category: str = ""
    thread_id: int = 0
    thread_name: str = ""
    module: str = ""
    function: str = ""
    arity: int = 0
    file: str = ""
    line: int | None = None
    data: dict[str, Any] = field(default_factory=dict)
    metadata: dict[str, Any] = field(default_factory=dict)
    call_stack: list[str] = field(default_factory=list)
    sequence_number: int = 0
    parent_event_id: str | None = None
    duration_ns: int | None = None
    memory_delta: int | None = None

    def __post_init__(self) -> None:
        if isinstance(self.type, Enum):
            self.type = self.type.value
        if not self.category:
            self.category = CATEGORY_OF.get(self.type, "custom")

    # -- the seed's Event helpers ---------------------------------------------------------
    @classmethod
    def new(cls, type: str, data: dict[str, Any], **fields_: Any) -> Event:
        fields_.setdefault("event_id", new_event_id())
        fields_.setdefault("session_id", "")
        fields_.setdefault("timestamp", time.time_ns())
        fields_.setdefault("monotonic_time", time.perf_counter_ns())
        return cls(type=type, data=dict(data), **fields_)

    def add_correlation_metadata(self, metadata: dict[str, Any]) -> Event:
        self.metadata = {**self.metadata, "correlation": {
            **self.metadata.get("correlation", {}), **metadata}}
        return self

    def correlatable(self, other: Event) -> bool:
        """Two events can describe the same call: same session, thread and function."""
        return (self.session_id == other.session_id and self.thread_id == other.thread_id
                and self.module == other.module and self.function == other.function)

    @property
    def qualified_name(self) -> str:
        return f"{self.module}:{self.function}" if self.module else self.function

    # -- JSON --------------------------------------------------------------------------------
    def to_dict(self) -> dict[str, Any]:
        # Shallow on purpose (dataclasses.asdict deep-copies, 10x slower): values are strings.
        out = {name: getattr(self, name) for name in _FIELD_NAMES}
        out["data"] = dict(self.data)
        out["metadata"] = dict(self.metadata)
        out["call_stack"] = list(self.call_stack)
        return out

    @classmethod
    def from_dict(cls, raw: dict[str, Any]) -> Event:
        return cls(**{k: v for k, v in raw.items() if k in _FIELD_NAMES})

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), sort_keys=True)

    @classmethod
    def from_json(cls, text: str) -> Event:
        return cls.from_dict(json.loads(text))


_FIELD_NAMES = tuple(f.name for f in fields(Event))
_counter = iter(range(1, 1 << 62))


def new_event_id(prefix: str = "ev") -> str:
    # Unique in the process and cheap: no uuid per event on the hot path.
    return f"{prefix}-{time.time_ns():x}-{next(_counter):x}"
