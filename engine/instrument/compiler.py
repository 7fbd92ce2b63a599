"""Instrumented: the rewritten source, its sites, and compilation back to original positions."""

from __future__ import annotations

import ast
import types
import warnings
from dataclasses import dataclass, field

from ..errors import ScopelineError
from .linemap import remap_tree
from .plan import PLACEHOLDER, Site


def bind_hooks(code: types.CodeType, hooks: object) -> types.CodeType:
    """Swap the placeholder constant for ``hooks`` in ``code`` and every nested code object."""
    consts = tuple(
        hooks if type(const) is str and const == PLACEHOLDER
        else bind_hooks(const, hooks) if isinstance(const, types.CodeType)
        else const
        for const in code.co_consts
    )
    return code.replace(co_consts=consts)


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
