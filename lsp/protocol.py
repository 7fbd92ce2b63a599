"""Scopeline's additions to LSP (INTERFACES §5): custom requests, their payloads and errors.

* ``scopeline/traceTree {session_id?}`` → a session's call tree as JSON (latest session when
  no id is given);
* ``scopeline/sessions`` → stored sessions, newest last, with which are live in this server;
* ``scopeline/explainMode {uri, line}`` → the mode decision for the function at ``line``
  (0-based), as markdown (see ``server.py``: it needs the open documents);
* notification ``scopeline/eventsChanged {session_id, count}`` (server → client).

Payload builders are plain functions over engine objects, so they are tested without a client.
"""

from __future__ import annotations

from typing import Any

from pygls.exceptions import JsonRpcException, JsonRpcInvalidParams
from scopeline.engine.cli.tree import CallNode, build_forest, format_duration
from scopeline.engine.errors import ScopelineError
from scopeline.engine.events import Event

TRACE_TREE = "scopeline/traceTree"
SESSIONS = "scopeline/sessions"
EXPLAIN_MODE = "scopeline/explainMode"
EVENTS_CHANGED = "scopeline/eventsChanged"
DEBUG_ADAPTER = "scopeline/debugAdapter"  # where the DAP listener beside this server is
CUSTOM_REQUESTS = (TRACE_TREE, SESSIONS, EXPLAIN_MODE, DEBUG_ADAPTER)

REQUEST_FAILED = -32803  # LSP 3.17: the request was valid but could not be carried out
MAX_TREE_NODES = 5_000


class RequestFailed(JsonRpcException):
    CODE = REQUEST_FAILED
    MESSAGE = "Request failed"


def engine_error(exc: ScopelineError) -> RequestFailed:
    """A ScopelineError as a JSON-RPC error: its one line (with what to do) and its details."""
    return RequestFailed(exc.one_line(), data=exc.to_dict())


def invalid(method: str, problem: str, expected: str) -> JsonRpcInvalidParams:
    return JsonRpcInvalidParams(f"{method}: {problem}; expected params {expected}")


def params_dict(method: str, params: Any, expected: str) -> dict[str, Any]:
    """``params`` as a dict (None → {}), or an InvalidParams error saying what to send."""
    params = plain(params)
    if params is None:
        return {}
    if isinstance(params, dict):
        return params
    raise invalid(method, f"params must be an object, not {type(params).__name__}", expected)


def plain(value: Any) -> Any:
    """JSON values back from pygls' form: it hands custom params over as namedtuples."""
    if isinstance(value, tuple) and hasattr(value, "_asdict"):
        return {k: plain(v) for k, v in value._asdict().items()}
    if isinstance(value, dict):
        return {k: plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [plain(v) for v in value]
    return value


def field(method: str, params: dict[str, Any], name: str, kind: type | tuple[type, ...],
          expected: str, *, required: bool = True) -> Any:
    value = params.get(name)
    if value is None:
        if required:
            raise invalid(method, f"missing {name!r}", expected)
        return None
    if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
        raise invalid(method, f"{name!r} has the wrong type ({type(value).__name__})", expected)
    return value


# -- scopeline/traceTree ---------------------------------------------------------------------
def node_json(node: CallNode, budget: list[int]) -> dict[str, Any]:
    budget[0] -= 1
    entry, exit_ = node.entry, node.exit
    out: dict[str, Any] = {
        "event_id": entry.event_id, "function": entry.function, "module": entry.module,
        "file": entry.file, "line": entry.line, "thread": entry.thread_name,
        "args": dict(entry.data.get("arguments", {})),
        "duration_ns": node.duration_ns, "duration": format_duration(node.duration_ns),
        "lines": len(node.lines),
    }
    if exit_ is None:
        out["status"] = "running"
    elif exit_.type == "function_exit":
        out["status"] = "returned"
        out["return_value"] = exit_.data.get("return_value")
    else:
        out["status"] = "raised"
        out["exception"] = exit_.data.get("exception")
    join = node.join
    if join is not None:  # hybrid: the injected half joined to this runtime call
        out["merged"] = {**join, "events": len(node.merged)}
    children = []
    for child in node.children:
        if budget[0] <= 0:
            out["truncated_children"] = len(node.children) - len(children)
            break
        children.append(node_json(child, budget))
    out["children"] = children
    return out


def tree_json(meta: dict[str, Any], events: list[Event],
              max_nodes: int = MAX_TREE_NODES) -> dict[str, Any]:
    forest = build_forest(events)
    budget = [max_nodes]
    threads = []
    for thread, roots in forest.items():
        calls = []
        for root in roots:
            if budget[0] <= 0:
                break
            calls.append(node_json(root, budget))
        threads.append({"thread": thread, "calls": calls, "total_calls": len(roots)})
    return {"session": session_json(meta), "threads": threads, "events": len(events),
            "truncated": budget[0] <= 0}


# -- scopeline/sessions ----------------------------------------------------------------------
def session_json(meta: dict[str, Any], *, live: bool = False,
                 count: int | None = None) -> dict[str, Any]:
    out = {k: meta.get(k) for k in ("session_id", "mode", "mode_reason", "status", "targets",
                                     "started_at", "stopped_at", "backend")}
    out["live_in_server"] = live
    if count is not None:
        out["events"] = count
    return out
