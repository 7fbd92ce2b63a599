"""Hybrid sessions: runtime hooks and injected probes on the same functions.

The injected code is compiled first; runtime hooks are put on *its* code objects (on 3.12 the
monitoring events, on 3.11 a wrapper whose clone runs it) before any call runs it, so every
call is seen by both sources. Injected records carry the key ``a<uid>``, runtime records the
unit's uid; the reader joins the two halves of one call by exact keys (see ``reader``).
"""

from __future__ import annotations

import dataclasses
import types
from typing import Any

from scopeline.engine.compile_time.swap import codes_by_qualname
from scopeline.engine.runtime.units import Unit


def ast_key(uid: int) -> str:
    return f"a{uid}"


def runtime_variants(group: list[Unit], module_code: types.CodeType,
                     recorder: Any) -> list[Unit]:
    """For each unit, a copy that points the runtime hooks at its injected code object."""
    codes = codes_by_qualname(module_code)
    variants = []
    for unit in group:
        code = codes.get((unit.qualname, unit.code.co_firstlineno))
        if code is None:
            recorder.note(f"{unit.display}: injected code not found; runtime hooks skipped")
            continue
        # The runtime half times the calls; lines and locals are the injected half's job.
        variants.append(dataclasses.replace(unit, code=code, lines=None, capture_locals=(),
                                            meta={**unit.meta, "variant_of": unit.uid}))
    return variants


def needs_correlation(meta: dict[str, Any]) -> bool:
    """Sessions whose events come from two sources, or carry messages, are correlated."""
    return any("mirror_of" in u for u in meta.get("units", [])) or \
        "messages" in (meta.get("options", {}).get("include") or ())


def correlate_view(events: list[Any], meta: dict[str, Any]) -> list[Any]:
    """Run the correlator over a session's events: every joined event gets its correlation
    id and ``metadata["correlation"]`` (strategy, confidence); an injected call half also
    names the runtime entry it joined (``runtime_event_id``), which the trace tree merges on.
    ``compile_time.runtime_integration.shared_correlation_ids`` off: the injected half keeps
    an id of its own and names the shared one as ``joined_to``."""
    from scopeline.engine import config
    from scopeline.engine.correlation import correlate_session

    window = (meta.get("options") or {}).get("correlation_window")
    result = correlate_session(events, {"window_ms": window} if window else None)
    shared = config.get_with_fallback("compile_time.runtime_integration.shared_correlation_ids",
                                      True)
    for group in result.groups:
        primary = group.primary_event
        anchor = primary.event_id if (primary.source == "runtime"
                                      and primary.type == "function_entry") else None
        for event in group.related_events:
            if event.source != "ast":
                continue
            how = event.metadata.setdefault("correlation", {})
            if anchor is not None:
                how["runtime_event_id"] = anchor
            if not shared:
                how["joined_to"] = group.correlation_id
                event.correlation_id = f"{group.correlation_id}:ast"
    return events
