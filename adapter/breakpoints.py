"""setBreakpoints and friends: each breakpoint sorted into a tracepoint (to the agent, placed
as runtime hooks or injected code) or an ordinary one (to debugpy, brought in for it)."""

from __future__ import annotations

from typing import Any

from scopeline.engine.errors import ScopelineError

from .routing import ICONS, route


class BreakpointRequests:
    """Mixed into DebugSession (its state: agent, debugging, sink, tracepoint items)."""

    def on_setBreakpoints(self, request: dict[str, Any], args: dict[str, Any]) -> None:
        source = args.get("source") or {}
        path = source.get("path")
        if not path:
            raise ScopelineError("target_invalid", "setBreakpoints without source.path",
                                 suggestions=["Breakpoints need a file on disk."])
        bps = args.get("breakpoints") or [{"line": n} for n in args.get("lines") or []]
        from .lifecycle import file_key

        kept = self.launch_tracepoints.get(file_key(path), [])  # launch.json's stay placed
        results = self._place(source, bps + kept)[:len(bps)]
        self.respond(request, {"breakpoints": results})

    def _place(self, source: dict[str, Any], bps: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """One result per breakpoint, in order: tracepoints to the agent, the rest to debugpy."""
        path = source["path"]
        if self.attached:  # no agent in an attached program: debugpy's own logpoints
            return self._debugpy_logpoints(source, bps)
        routed = route(path, bps, self.tracepoint_ids,
                       default_mode=self.launch_args.get("mode", "auto"))
        results: list[dict[str, Any] | None] = [None] * len(bps)
        tracepoints = [r for r in routed if not r.ordinary]
        for r, result in zip(tracepoints, self._place_tracepoints(source, tracepoints),
                             strict=True):
            results[r.index] = result
        ordinary = [r for r in routed if r.ordinary]
        self.debugging.breakpoints[path] = (source, [r.source for r in ordinary])
        forwarded = self._ordinary_breakpoints(source, [r.source for r in ordinary])
        for r, result in zip(ordinary, forwarded, strict=False):
            results[r.index] = result
        return [r or {"verified": False} for r in results]

    def _place_tracepoints(self, source: dict[str, Any], routed: list[Any]
                           ) -> list[dict[str, Any]]:
        """The file's tracepoints to the agent (and to child processes' agents)."""
        path = source["path"]
        items = [r.tracepoint for r in routed if r.tracepoint is not None]
        inject, why_not = self._injection(path, items)
        self.tracepoint_items[path] = (items, inject)
        for child in self.children:
            if not child.closed:
                child.send("tracepoints", file=path, items=items, inject=inject)
        reply = self._ask_agent("tracepoints", 30, file=path, items=items, inject=inject)
        placed = {r["id"]: r for r in (reply or {}).get("results", [])}
        results, targets = [], []
        for r in routed:
            result = {"verified": False, "line": r.source.get("line"), "source": source}
            results.append(result)
            if r.tracepoint is None:
                result["message"] = f"tracepoint not placed: {r.error}"
                continue
            result["id"] = r.tracepoint["id"]
            agent = placed.get(r.tracepoint["id"])
            if agent is None:
                result["message"] = ("tracepoint not placed: the program is not running (its "
                                     "agent is not connected)")
            elif not agent["verified"]:
                result["message"] = f"tracepoint not placed: {agent['message']}"
            else:
                result["verified"] = True
                result["message"] = describe(r.decision, agent["message"], why_not)
                targets.append(r.decision.get("function", path))
        if self.sink is not None:
            self.sink.placed(targets)
        return results

    def _debugpy_logpoints(self, source: dict[str, Any], bps: list[dict[str, Any]]
                           ) -> list[dict[str, Any]]:
        response = self.debugging.link.request(  # type: ignore[union-attr]
            "setBreakpoints", {"source": source, "breakpoints": bps})
        results = (response.get("body") or {}).get("breakpoints") or []
        for bp, result in zip(bps, results, strict=False):
            if bp.get("logMessage"):
                result["message"] = ("debugpy logpoint: the attached program has no "
                                     "Scopeline agent (launch it with a scopeline "
                                     "session for tracepoints)")
        return results

    @staticmethod
    def _injection(path: str, items: list[dict[str, Any]]) -> tuple[Any, str]:
        """The file instrumented for its tracepoints if one of them is to be injected
        (compile-time, or hybrid: a line has no call to join, so its probe is injected)."""
        if not any(tp.get("mode") in ("compile_time", "hybrid") for tp in items):
            return None, ""
        from . import injection

        try:
            return injection.build(path, items), ""
        except ScopelineError as exc:
            return None, exc.message

    def _ordinary_breakpoints(self, source: dict[str, Any],
                              bps: list[dict[str, Any]]) -> list[dict[str, Any]]:
        if bps and not self.debugging.active:
            why = self.debugging.ensure()
            if why:
                return [{"verified": False, "line": bp.get("line"),
                         "message": f"debugpy could not be started: {why}"} for bp in bps]
        if not self.debugging.active:
            return []
        link = self.debugging.link
        assert link is not None
        response = link.request("setBreakpoints", {"source": source, "breakpoints": bps})
        results = (response.get("body") or {}).get("breakpoints") or []
        if not bps:
            self.debugging.release_if_unneeded()
        return results

    def on_setExceptionBreakpoints(self, request: dict[str, Any], args: dict[str, Any]) -> None:
        self.debugging.exception_filters = args
        if self.debugging.needed() and not self.debugging.active:
            why = self.debugging.ensure()
            if why:
                raise ScopelineError("debugger_unavailable", why)
            self.respond(request)
            return
        if self.debugging.active:
            self.debugging.link.forward(request, self.send)  # type: ignore[union-attr]
            self.debugging.release_if_unneeded()
            return
        self.respond(request)

    def on_setFunctionBreakpoints(self, request: dict[str, Any], args: dict[str, Any]) -> None:
        if self.debugging.active:
            self.debugging.link.forward(request, self.send)  # type: ignore[union-attr]
        else:
            self.respond(request, {"breakpoints": [
                {"verified": False, "message": "function breakpoints need ordinary debugging:"
                 " set a line breakpoint first"} for _ in args.get("breakpoints") or []]})


def describe(decision: dict[str, Any], placed: str, why_not_injected: str = "") -> str:
    """The verified message: mode, function and reason, then how the agent placed it."""
    mode = decision.get("mode", "runtime")
    recommended = decision.get("recommended", mode)
    text = (f"{ICONS.get(mode, '')} {mode} · {decision.get('function', '')}: "
            f"{decision.get('reason', '')}")
    if recommended != mode:
        text += f" (auto mode would choose {recommended})"
    if mode == "hybrid":
        text += " — a line tracepoint has no call to join: its line probe is injected"
    if why_not_injected:
        text += f" — not injected ({why_not_injected})"
    return f"{text} — {placed}"
