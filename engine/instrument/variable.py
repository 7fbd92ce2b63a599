"""Variable granularity: every binding of the captured names, reported right after it.

    x, y = pair               ->    x, y = pair
                                    "@sl:hooks".assign(1, "x", x); ...(1, "y", y)  # @sl:3
    for i in items:           ->    for i in items:
        use(i)                          "@sl:hooks".assign(2, "i", i)  # @sl:4
                                        use(i)
    if (n := len(a)) > 3:     ->    if "@sl:hooks".expr(3, (n := len(a))) > 3:

Statements on a line of their own get the report on the next (marked) line; statements followed
by others on the same line (``x = 1; return x``, ``if c: x = 1``) get it inline, right after.
Walrus bindings live inside expressions, so they report through the expr hook, in place.
"""

from __future__ import annotations

from collections.abc import Sequence

import libcst as cst

from .base import Pass, hook_call, marker

Handler = cst.ExceptHandler | cst.ExceptStarHandler


def target_names(target: cst.BaseExpression) -> list[str]:
    """Names bound by an assignment target (plain, tuple/list unpacking, starred)."""
    if isinstance(target, cst.Name):
        return [target.value]
    if isinstance(target, (cst.Tuple, cst.List)):
        return [n for element in target.elements for n in target_names(element.value)]
    if isinstance(target, cst.StarredElement):
        return target_names(target.value)
    return []  # attributes and subscripts mutate objects, they bind no name


def statement_names(stmt: cst.BaseSmallStatement) -> list[str]:
    if isinstance(stmt, cst.Assign):
        return [n for t in stmt.targets for n in target_names(t.target)]
    if isinstance(stmt, cst.AugAssign) or (isinstance(stmt, cst.AnnAssign) and stmt.value):
        return target_names(stmt.target)
    imports = isinstance(stmt, (cst.Import, cst.ImportFrom))
    if imports and not isinstance(stmt.names, cst.ImportStar):  # type: ignore[union-attr]
        return [_alias_name(alias) for alias in stmt.names]
    return []


def _alias_name(alias: cst.ImportAlias) -> str:
    if alias.asname is not None:
        return target_names(alias.asname.name)[0]  # type: ignore[arg-type]
    return cst.Module([]).code_for_node(alias.name).split(".")[0]


class VariableTransformer(Pass):
    def _wanted(self, names: Sequence[str]) -> list[str]:
        capture = self.ctx.plan.capture_locals
        return [n for i, n in enumerate(names)
                if n not in names[:i] and (not capture or n in capture)]

    def _reports(self, qualname: str, line: int, names: list[str]) -> list[cst.Expr]:
        site = self.ctx.new_site("assign", qualname, line, names)
        return [cst.Expr(hook_call("assign", site, cst.SimpleString(f'"{n}"'), cst.Name(n)))
                for n in names]

    def _report_line(self, reports: list[cst.Expr], line: int) -> cst.SimpleStatementLine:
        return cst.SimpleStatementLine(body=reports, trailing_whitespace=marker(line))

    def _inline(self, original: Sequence[cst.BaseSmallStatement],
                updated: Sequence[cst.BaseSmallStatement], line: int, qualname: str,
                last_inline: bool) -> tuple[list[cst.BaseSmallStatement], list[cst.Expr]]:
        """Reports after each binding statement; the last statement's are returned apart
        unless ``last_inline`` (a suite has no line of its own to put them on)."""
        body: list[cst.BaseSmallStatement] = []
        tail: list[cst.Expr] = []
        for index, (old, new) in enumerate(zip(original, updated, strict=True)):
            body.append(new)
            names = self._wanted(statement_names(old))
            if not names:
                continue
            reports = self._reports(qualname, line, names)
            if index == len(original) - 1 and not last_inline:
                tail = reports
            else:
                body.extend(reports)
        return _with_semicolons(body), tail

    def leave_SimpleStatementLine(
        self, original_node: cst.SimpleStatementLine, updated_node: cst.SimpleStatementLine
    ) -> cst.SimpleStatementLine | cst.FlattenSentinel[cst.BaseStatement]:
        qualname = self.planned_function()
        if qualname is None:
            return updated_node
        line = self.line_of(original_node)
        body, tail = self._inline(original_node.body, updated_node.body, line, qualname, False)
        updated_node = updated_node.with_changes(body=body)
        if not tail:
            return updated_node
        return cst.FlattenSentinel([updated_node, self._report_line(tail, line)])

    def leave_SimpleStatementSuite(self, original_node: cst.SimpleStatementSuite,
                                   updated_node: cst.SimpleStatementSuite,
                                   ) -> cst.SimpleStatementSuite:
        qualname = self.planned_function()
        if qualname is None:
            return updated_node
        line = self.line_of(original_node)
        body, _ = self._inline(original_node.body, updated_node.body, line, qualname, True)
        return updated_node.with_changes(body=body)

    def _prepend(self, original: cst.CSTNode, body: cst.BaseSuite,
                 names: list[str]) -> cst.BaseSuite:
        """Reports as the first thing a block runs (loop bodies, with bodies, handlers)."""
        qualname = self.planned_function()
        names = self._wanted(names)
        if qualname is None or not names:
            return body
        line = self.line_of(original)
        reports = self._reports(qualname, line, names)
        if isinstance(body, cst.SimpleStatementSuite):
            return body.with_changes(body=_with_semicolons([*reports, *body.body]))
        assert isinstance(body, cst.IndentedBlock)
        return body.with_changes(body=[self._report_line(reports, line), *body.body])

    def leave_For(self, original_node: cst.For, updated_node: cst.For) -> cst.For:
        names = target_names(original_node.target)
        body = self._prepend(original_node, updated_node.body, names)
        return updated_node.with_changes(body=body)

    def leave_With(self, original_node: cst.With, updated_node: cst.With) -> cst.With:
        names = [n for item in original_node.items if item.asname
                 for n in target_names(item.asname.name)]
        body = self._prepend(original_node, updated_node.body, names)
        return updated_node.with_changes(body=body)

    def _handler(self, original_node: Handler, updated_node: Handler) -> Handler:
        names = target_names(original_node.name.name) if original_node.name else []
        body = self._prepend(original_node, updated_node.body, names)
        return updated_node.with_changes(body=body)

    leave_ExceptHandler = _handler
    leave_ExceptStarHandler = _handler

    def leave_NamedExpr(self, original_node: cst.NamedExpr,
                        updated_node: cst.NamedExpr) -> cst.BaseExpression:
        qualname = self.planned_function()
        names = self._wanted(target_names(original_node.target))
        if qualname is None or not names:
            return updated_node
        site = self.ctx.new_site("assign", qualname, self.line_of(original_node), names, ":=")
        if not updated_node.lpar:  # `f(x := 1)`: a second argument needs the parentheses
            updated_node = updated_node.with_changes(lpar=[cst.LeftParen()],
                                                     rpar=[cst.RightParen()])
        return hook_call("expr", site, updated_node)


def _with_semicolons(body: list[cst.BaseSmallStatement]) -> list[cst.BaseSmallStatement]:
    """Separate small statements with "; " (the last one keeps whatever it had)."""
    out = []
    for index, stmt in enumerate(body):
        if index < len(body) - 1 and not isinstance(stmt.semicolon, cst.Semicolon):
            stmt = stmt.with_changes(semicolon=cst.Semicolon(
                whitespace_before=cst.SimpleWhitespace(""),
                whitespace_after=cst.SimpleWhitespace(" ")))
        out.append(stmt)
    return out
