"""Custom injections: ``(line, "before"|"after", statement)``, verbatim, on lines of their own.

A statement is refused (ast_transformation_failed) if it does not parse, spans lines, or would
bind, rebind or delete a name of the user's, or turn a function into a generator.
"""

from __future__ import annotations

import ast

import libcst as cst

from ..errors import ScopelineError
from .base import Pass, header_length, is_injected, marker
from .line import before


def _refusal(tree: ast.Module) -> str | None:
    comprehension_targets = {id(n) for c in ast.walk(tree) if isinstance(c, ast.comprehension)
                             for n in ast.walk(c.target)}
    for node in ast.walk(tree):
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            return "import, which binds a name"
        if isinstance(node, (ast.Global, ast.Nonlocal)):
            return "declare a name global or nonlocal"
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            return f"define {node.name!r}, which binds a name"
        if isinstance(node, ast.NamedExpr):
            return "bind a name with ':='"
        if isinstance(node, (ast.Yield, ast.YieldFrom)):
            return "yield, which turns the function into a generator"
        if isinstance(node, ast.ExceptHandler) and node.name:
            return f"bind {node.name!r} in an except clause"
        if isinstance(node, (ast.MatchAs, ast.MatchStar)) and node.name:
            return f"bind {node.name!r} in a match pattern"
        if isinstance(node, ast.MatchMapping) and node.rest:
            return f"bind {node.rest!r} in a match pattern"
        if (isinstance(node, ast.Name) and isinstance(node.ctx, (ast.Store, ast.Del))
                and id(node) not in comprehension_targets):
            verb = "delete" if isinstance(node.ctx, ast.Del) else "assign"
            return f"{verb} the name {node.id!r}"
    return None


def parse_injection(line: int, where: str, code: str) -> cst.BaseStatement:
    """The statement to inject, validated, marked with its original line."""
    def refuse(reason: str) -> ScopelineError:
        return ScopelineError("ast_transformation_failed",
                              f"custom injection at line {line} refused: {reason}: {code!r}",
                              details={"line": line, "where": where, "statement": code})
    if where not in ("before", "after"):
        raise refuse(f"position must be 'before' or 'after', not {where!r}")
    text = code.strip()
    try:
        tree = ast.parse(text)
        node = cst.parse_statement(text)
    except (SyntaxError, ValueError, cst.ParserSyntaxError) as exc:
        raise refuse(f"it does not parse ({str(exc).splitlines()[0]})") from exc
    if "\n" in text or "\r" in text or len(tree.body) != 1:
        raise refuse("it must be one statement on one line")
    reason = _refusal(tree)
    if reason:
        raise refuse(f"it would {reason}")
    if isinstance(node, cst.SimpleStatementLine):
        return node.with_changes(trailing_whitespace=marker(line))
    body = node.body  # a one-line compound statement: `if x: print(x)`
    assert isinstance(body, cst.SimpleStatementSuite)
    return node.with_changes(body=body.with_changes(trailing_whitespace=marker(line)))


class CustomTransformer(Pass):
    """Injects around the first original statement of a block that starts on each line."""

    def _block(self, original: cst.Module | cst.IndentedBlock,
               updated: cst.Module | cst.IndentedBlock) -> list[cst.BaseStatement]:
        injections = self.ctx.plan.custom_injections
        keep = header_length(original.body, isinstance(original, cst.Module))
        if isinstance(original, cst.IndentedBlock) and not (
                self._scopes and original is self._scopes[-1].body):
            keep = 0  # only a function's (or module's) first string is a docstring
        out: list[cst.BaseStatement] = []
        after_header: list[cst.BaseStatement] = []
        for index, (old, new) in enumerate(zip(original.body, updated.body, strict=True)):
            line = self.line_of(old) if not is_injected(old) else None
            mine = [(i, inj) for i, inj in enumerate(injections)
                    if inj[0] == line and i not in self.ctx.placed]
            later: list[cst.BaseStatement] = []
            for number, (_, where, code) in mine:
                self.ctx.placed.add(number)
                self.ctx.new_site("custom", self.qualname(), line or 0, (), code)
                stmt = parse_injection(line or 0, where, code)
                if where == "after":
                    later.append(stmt)
                elif index < keep:
                    after_header.append(stmt)  # never before a docstring or __future__
                else:
                    placed = before(new, stmt)
                    out.extend(placed[:-1])
                    new = placed[-1]
            out.append(new)
            out.extend(later)
            if index == keep - 1:
                out.extend(after_header)
                after_header = []
        return out

    def leave_IndentedBlock(self, original_node: cst.IndentedBlock,
                            updated_node: cst.IndentedBlock) -> cst.IndentedBlock:
        return updated_node.with_changes(body=self._block(original_node, updated_node))

    def leave_Module(self, original_node: cst.Module, updated_node: cst.Module) -> cst.Module:
        return updated_node.with_changes(body=self._block(original_node, updated_node))
