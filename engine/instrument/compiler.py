"""Instrumented: the rewritten source, its sites, and compilation back to original positions."""

from __future__ import annotations

import ast
import types
import warnings
from dataclasses import dataclass, field

from ..errors import ScopelineError
from .linemap import remap_tree
from .plan import PLACEHOLDER, PROBE, Site


def bind_hooks(code: types.CodeType, hooks: object) -> types.CodeType:
    """Swap the placeholder constants in ``code`` and every nested code object: the hooks
    object itself, and each line probe's own callable (``hooks.probe(site)``)."""
    def bound(const: object) -> object:
        if type(const) is str:
            if const == PLACEHOLDER:
                return hooks
            if const.startswith(PROBE) and hooks is not PLACEHOLDER:
                return probe_of(hooks, int(const[len(PROBE):]))
            return const
        if isinstance(const, types.CodeType):
            return bind_hooks(const, hooks)
        return const

    return code.replace(co_consts=tuple(bound(c) for c in code.co_consts))


def probe_of(hooks: object, site_id: int) -> object:
    make = getattr(hooks, "probe", None)
    if make is not None:
        return make(site_id)
    values = hooks.values  # type: ignore[attr-defined]
    return lambda *captured: values(site_id, *captured)


@dataclass
class Instrumented:
    source: str
    sites: list[Site]
    original: str = field(default="", repr=False)

    def site(self, site_id: int) -> Site:
        return self.sites[site_id - 1]

    def compile(self, filename: str, hooks: object) -> types.CodeType:
        """Compile with every line and column of the ORIGINAL file, hooks bound in."""
        try:
            tree = ast.parse(self.source, filename)
        except SyntaxError as exc:  # a transformer bug, never the user's: the original parsed
            raise ScopelineError("internal_error",
                                 f"instrumented source does not parse: {exc}") from exc
        remap_tree(tree, self.source, self.original)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", SyntaxWarning)
            # dont_inherit: our own __future__ flags must not leak into the user's code.
            code = compile(tree, filename, "exec", dont_inherit=True)
        return bind_hooks(code, hooks)
