"""``workspace/executeCommand``: start, stop and switch traces; feedback on a decision.

* ``scopeline.startTrace {target | uri+line, mode?, options?}`` — a live session in this
  server's engine (``line`` 0-based). A trace asked for at ``uri+line`` that cannot be placed
  also gets a diagnostic at that line (message and first suggestion) until a later trace
  there succeeds or the document is closed.
* ``scopeline.stopTrace {session_id}``, ``scopeline.switchMode {session_id, mode}``.
* ``scopeline.feedback {uri, line, mode, outcome}`` — feeds the learned selector
  (``train_with_feedback``); the open documents are decided again and the lenses refreshed.
* ``scopeline.explainMode {uri, line}`` — the "why" lens's command: the same markdown as the
  ``scopeline/explainMode`` request.

Every command takes one object argument. Engine errors come back as RequestFailed with the
error's one line (what to do included); malformed arguments as InvalidParams.
"""

from __future__ import annotations

import os
from typing import Any

from pygls.exceptions import JsonRpcInvalidParams
from scopeline.engine.errors import ScopelineError

from . import protocol
from .diagnostics import trace_diagnostic
from .lenses import EXPLAIN_COMMAND, function_at
from .server import ScopelineServer

START, STOP, SWITCH, FEEDBACK = ("scopeline.startTrace", "scopeline.stopTrace",
                                 "scopeline.switchMode", "scopeline.feedback")


def _one_object(command: str, args: tuple[Any, ...], expected: str) -> dict[str, Any]:
    if len(args) != 1:
        raise JsonRpcInvalidParams(f"{command}: takes one object argument, got {len(args)}; "
                                   f"expected {expected}")
    return protocol.params_dict(command, args[0], expected)


def start_trace(ls: ScopelineServer, p: dict[str, Any]) -> dict[str, Any]:
    from scopeline.engine import api

    expected = "{target: string} or {uri: string, line: integer}, mode?, options?: object"
    target = protocol.field(START, p, "target", str, expected, required=False)
    uri = protocol.field(START, p, "uri", str, expected, required=target is None)
    line = protocol.field(START, p, "line", int, expected, required=target is None)
    mode = protocol.field(START, p, "mode", str, expected, required=False) or "auto"
    options = protocol.field(START, p, "options", dict, expected, required=False) or {}
    warnings = []
    try:
        if target is None:
            target = _line_target(ls, uri, line)
            text = ls.state.documents.get(uri)
            if text is not None and _differs_from_disk(ls.state.path_of(uri), text):
                warnings.append("the editor's text is not saved: the trace runs the file "
                                "as it is on disk")
        session = api.trace(target, mode=mode, **options)
    except TypeError as exc:  # an option trace() does not take
        raise protocol.invalid(START, f"bad options: {exc}", expected) from exc
    except ScopelineError as exc:
        if uri is not None and line is not None:
            ls.book.add_trace(uri, line, trace_diagnostic(exc, line, ls.state.documents.get(uri)))
            ls.publish(uri)
        raise protocol.engine_error(exc) from exc
    if uri is not None and line is not None and ls.book.clear_trace(uri, line):
        ls.publish(uri)
    ls.state.log.info("trace %s started on %s (%s)", session.session_id, target, session.mode)
    return {"session_id": session.session_id, "mode": session.mode,
            "reason": session.mode_reason, "targets": list(session.targets),
            "status": session.status, "warnings": warnings}


def _line_target(ls: ScopelineServer, uri: str, line: int) -> str:
    path = ls.state.path_of(uri)
    if path == uri or not os.path.isfile(path):  # untitled:, or a file never saved
        raise ScopelineError("target_invalid", f"no source on disk for {uri}",
                             details={"uri": uri},
                             suggestions=["Save the file: a trace runs the code on disk."])
    _check_parses(path)
    return f"{path}:{line + 1}"


def _check_parses(path: str) -> None:
    """The syntax error itself, rather than the import failure it would cause."""
    import ast

    try:
        with open(path, "rb") as fh:
            ast.parse(fh.read(), path)
    except SyntaxError as exc:
        raise ScopelineError("compilation_failed",
                             f"{os.path.basename(path)} does not parse: line {exc.lineno}: "
                             f"{exc.msg}", details={"path": path, "line": exc.lineno},
                             suggestions=["Fix the syntax error and save the file, then start "
                                          "the trace again."]) from exc
    except (OSError, ValueError):  # unreadable: let the engine say so
        return


def _differs_from_disk(path: str, text: str) -> bool:
    try:
        with open(path, encoding="utf-8", newline="") as fh:
            return fh.read() != text
    except (OSError, UnicodeDecodeError):
        return True


def stop_trace(ls: ScopelineServer, p: dict[str, Any]) -> dict[str, Any]:
    from scopeline.engine import api

    sid = protocol.field(STOP, p, "session_id", str, "{session_id: string}")
    try:
        session = api.get_trace_info(sid)
        api.stop_trace(session)
    except ScopelineError as exc:
        raise protocol.engine_error(exc) from exc
    return {"session_id": session.session_id, "status": session.status,
            "events": ls.state.event_count(session.session_id)}


def switch_mode(ls: ScopelineServer, p: dict[str, Any]) -> dict[str, Any]:
    from scopeline.engine import api

    expected = "{session_id: string, mode: 'runtime' | 'compile_time' | 'hybrid'}"
    sid = protocol.field(SWITCH, p, "session_id", str, expected)
    mode = protocol.field(SWITCH, p, "mode", str, expected)
    try:
        session = api.switch_mode(sid, mode)
    except ScopelineError as exc:
        raise protocol.engine_error(exc) from exc
    return {"session_id": session.session_id, "mode": session.mode, "status": session.status}


def feedback(ls: ScopelineServer, p: dict[str, Any]) -> dict[str, Any]:
    from scopeline.engine.selection.context import build_context
    from scopeline.engine.selection.learned import train_with_feedback

    expected = ("{uri: string, line: integer, mode: string, "
                "outcome: 'successful' | 'failed' | 'suboptimal'}")
    uri = protocol.field(FEEDBACK, p, "uri", str, expected)
    line = protocol.field(FEEDBACK, p, "line", int, expected)
    mode = protocol.field(FEEDBACK, p, "mode", str, expected)
    outcome = protocol.field(FEEDBACK, p, "outcome", str, expected)
    found = function_at(ls.record(uri, FEEDBACK).decisions, line)
    if found is None:
        raise protocol.RequestFailed(f"{FEEDBACK}: no function at line {line + 1} of {uri} — "
                                     f"give the line of a def (feedback is per function)")
    profile = found[0]
    try:
        # built from the profile: the user's module is not imported to record feedback
        context = build_context(f"{profile.file}:{profile.qualname}", profile=profile)
        record = train_with_feedback(context, mode, outcome)
    except ScopelineError as exc:
        raise protocol.engine_error(exc) from exc
    ls.redecide_all()
    after = function_at(ls.records[uri].decisions, line) if uri in ls.records else None
    return {"recorded": {k: record[k] for k in ("target", "mode", "outcome")},
            "decision": after[1].to_dict() if after else None}


def _command(name: str, handler: Any, expected: str) -> Any:
    # only (ls, *args): pygls matches a command's arguments to its handler's parameters
    def run(ls: ScopelineServer, *args: Any) -> dict[str, Any]:
        return handler(ls, _one_object(name, args, expected))

    return run


def register(server: ScopelineServer) -> None:
    handlers = {START: start_trace, STOP: stop_trace, SWITCH: switch_mode, FEEDBACK: feedback}
    expected = {START: "{target | uri+line, mode?, options?}", STOP: "{session_id}",
                SWITCH: "{session_id, mode}", FEEDBACK: "{uri, line, mode, outcome}"}
    for name, handler in handlers.items():
        server.command(name)(_command(name, handler, expected[name]))

    @server.command(EXPLAIN_COMMAND)
    def explain(ls: ScopelineServer, *args: Any) -> dict[str, Any]:
        p = _one_object(EXPLAIN_COMMAND, args, "{uri, line}")
        return ls.explain(p, EXPLAIN_COMMAND)
