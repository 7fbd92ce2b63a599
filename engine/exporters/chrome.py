"""Chrome Trace Event Format: one complete ("X") event per call, instants for lines.

Opens in Perfetto (ui.perfetto.dev) and chrome://tracing. Times are microseconds; each thread
is a track named after the thread.
"""

from __future__ import annotations

from typing import Any

from scopeline.engine.cli.tree import CallNode, build_forest
from scopeline.engine.events import Event


def _call(node: CallNode, pid: int, out: list[dict[str, Any]]) -> None:
    entry = node.entry
    args: dict[str, Any] = {"arguments": entry.data.get("arguments", {}),
                            "file": entry.file, "line": entry.line}
    end = node.exit
    if end is not None:
        key = "return_value" if end.type == "function_exit" else "exception"
        args[key] = end.data.get(key)
    if node.join is not None:
        args["joined"] = node.join
    event = {"name": f"{entry.module}:{entry.function}", "cat": entry.source, "ph": "X",
             "ts": entry.timestamp / 1000, "pid": pid, "tid": entry.thread_id, "args": args}
    if node.duration_ns is not None:
        event["dur"] = node.duration_ns / 1000
    out.append(event)
    for line in node.lines:
        out.append({"name": f"line {line.line}", "cat": line.type, "ph": "i", "s": "t",
                    "ts": line.timestamp / 1000, "pid": pid, "tid": line.thread_id,
                    "args": line.data})
    for child in node.children:
        _call(child, pid, out)


def to_chrome(meta: dict[str, Any], events: list[Event]) -> dict[str, Any]:
    pid = 1
    out: list[dict[str, Any]] = []
    threads: dict[int, str] = {}
    for roots in build_forest(events).values():
        for node in roots:
            threads.setdefault(node.entry.thread_id, node.entry.thread_name)
            _call(node, pid, out)
    for message in (e for e in events if e.category == "message"):
        out.append({"name": message.type, "cat": "message", "ph": "i", "s": "t",
                    "ts": message.timestamp / 1000, "pid": pid, "tid": message.thread_id,
                    "args": message.data})
    out += [{"name": "thread_name", "ph": "M", "pid": pid, "tid": tid, "args": {"name": name}}
            for tid, name in threads.items()]
    out.append({"name": "process_name", "ph": "M", "pid": pid, "tid": 0,
                "args": {"name": f"scopeline session {meta.get('session_id', '')[:8]} "
                                 f"({meta.get('mode', '')})"}})
    return {"traceEvents": out, "displayTimeUnit": "ns",
            "otherData": {"session_id": meta.get("session_id"), "mode": meta.get("mode"),
                          "targets": meta.get("targets", [])}}
