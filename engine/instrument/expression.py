"""Expression granularity: the value of each sub-expression on the planned lines, in place.

    return a / len(b)   ->   return "@sl:hooks".expr(4, "@sl:hooks".expr(1, a) / "@sl:hooks".expr(3,
                                 len("@sl:hooks".expr(2, b))))

As birdseye does: names, attributes, subscripts, calls and operators are wrapped where they are
evaluated, so each is evaluated once and in the same order. Never wrapped: anything bound or
deleted (targets), callees (``super()`` must stay syntactic), keyword names, decorators,
annotations (they may be kept as strings), parameters, match patterns, f-string internals.
"""

from __future__ import annotations

import libcst as cst
from libcst.metadata import ExpressionContext, ExpressionContextProvider, PositionProvider

from .base import Pass, hook_call

_WRAPPED = (cst.Name, cst.Attribute, cst.Subscript, cst.Call, cst.BinaryOperation,
            cst.UnaryOperation, cst.BooleanOperation, cst.Comparison, cst.IfExp, cst.Await)
_CONTEXTUAL = (cst.Name, cst.Attribute, cst.Subscript)
_SKIPPED_NODES = (cst.Decorator, cst.Annotation, cst.Parameters, cst.FormattedString,
                  cst.Import, cst.ImportFrom, cst.Global, cst.Nonlocal, cst.Del, cst.AssignTarget,
                  cst.MatchPattern if hasattr(cst, "MatchPattern") else cst.Decorator)


class ExpressionTransformer(Pass):
    METADATA_DEPENDENCIES = (PositionProvider, ExpressionContextProvider)

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self._skip: set[int] = set()  # subtrees never entered
        self._keep: set[int] = set()  # nodes entered but never wrapped themselves

    def on_visit(self, node: cst.CSTNode) -> bool:
        if id(node) in self._skip or isinstance(node, _SKIPPED_NODES):
            return False
        self._mark(node)
        return super().on_visit(node)

    def _mark(self, node: cst.CSTNode) -> None:
        skip: list[cst.CSTNode | None] = []
        if isinstance(node, (cst.AugAssign, cst.AnnAssign, cst.For, cst.CompFor, cst.NamedExpr)):
            skip.append(node.target)
        elif isinstance(node, cst.WithItem):
            skip.append(node.asname)
        elif isinstance(node, (cst.ExceptHandler, cst.ExceptStarHandler)):
            skip.append(node.name)
        elif isinstance(node, cst.Lambda):
            skip.append(node.params)
        elif isinstance(node, cst.MatchCase):
            skip.append(node.pattern)
        elif isinstance(node, cst.Arg) and node.keyword is not None:
            skip.append(node.keyword)
        elif isinstance(node, cst.Call):
            self._keep.add(id(node.func))
            if isinstance(node.func, cst.Name) and node.func.value == "super":
                self._keep.add(id(node))
        self._skip.update(id(n) for n in skip if n is not None)

    def on_leave(self, original_node: cst.CSTNode, updated_node: cst.CSTNode):  # type: ignore[override]
        updated = super().on_leave(original_node, updated_node)
        if (not isinstance(original_node, _WRAPPED) or id(original_node) in self._keep
                or id(original_node) in self._skip):  # a skipped root still gets on_leave
            return updated
        if isinstance(original_node, _CONTEXTUAL):
            context = self.get_metadata(ExpressionContextProvider, original_node, None)
            if context is not ExpressionContext.LOAD:
                return updated
        if isinstance(original_node, cst.Name) and original_node.value == "super":
            return updated
        qualname = self.planned_function()
        if qualname is None:
            return updated
        line = self.line_of(original_node)
        if not self.ctx.wants_line(line):
            return updated
        detail = cst.Module([]).code_for_node(original_node.with_changes(lpar=[], rpar=[]))
        site = self.ctx.new_site("expr", qualname, line, (), detail)
        return hook_call("expr", site, updated)  # type: ignore[arg-type]
