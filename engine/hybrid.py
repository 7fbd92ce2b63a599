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
