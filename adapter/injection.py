"""Compile-time tracepoints: the engine rewrites the file, the agent only loads the result.

The engine holds libcst; the debuggee must not need it. So the file is instrumented here —
one line probe per tracepoint line, every line keeping its original number — compiled to a
code object with the hooks left unbound, and shipped marshalled with the interpreter's magic
number. The agent binds its own hooks in and swaps the functions' code (``agent.injected``).
"""

from __future__ import annotations

import base64
import importlib.util
import marshal
from typing import Any

from scopeline.engine.errors import ScopelineError


def build(path: str, tracepoints: list[dict[str, Any]]) -> dict[str, Any]:
    """The injection for a file's compile-time tracepoints; raises ScopelineError if the
    file cannot be instrumented (the caller falls back to runtime hooks and says why)."""
    from scopeline.engine.instrument import PLACEHOLDER, InjectionPlan, instrument_source

    try:
        with open(path, encoding="utf-8") as fh:
            source = fh.read()
    except OSError as exc:
        raise ScopelineError("mode_unavailable", f"cannot read {path}: {exc}") from exc
    lines = tuple(sorted({tp["line"] for tp in tracepoints}))
    plan = InjectionPlan(functions=tuple(sorted({tp["qualname"] for tp in tracepoints})),
                         granularity="line", trace_lines=lines)
    instrumented = instrument_source(source, plan, filename=path)
    sites = {s.site_id: s.line for s in instrumented.sites if s.kind == "line"}
    missing = sorted(set(lines) - set(sites.values()))
    if missing:
        raise ScopelineError("ast_transformation_failed",
                             f"no statement starts on line {missing[0]} to inject before",
                             suggestions=["Put the tracepoint on the first line of a "
                                          "statement."])
    code = instrumented.compile(path, PLACEHOLDER)  # hooks unbound: the agent binds its own
    return {"code": base64.b64encode(marshal.dumps(code)).decode("ascii"),
            "magic": importlib.util.MAGIC_NUMBER.hex(), "sites": sites}
