"""What every transformer shares: sites, scopes and qualnames, original lines, injected lines."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import libcst as cst
from libcst.metadata import MetadataWrapper, PositionProvider

from .linemap import line_origins
from .plan import MARKER, PLACEHOLDER, InjectionPlan, Site


@dataclass
class Context:
    plan: InjectionPlan
    line_count: int
    sites: list[Site] = field(default_factory=list)
    placed: set[int] = field(default_factory=set)  # custom injections already placed

    def new_site(self, kind: str, qualname: str, line: int, names: Sequence[str] = (),
                 detail: str = "") -> int:
        site = Site(len(self.sites) + 1, kind, qualname, line, tuple(names), detail)
        self.sites.append(site)
        return site.site_id

    def is_planned(self, qualname: str | None) -> bool:
        return qualname is not None and (not self.plan.functions
                                         or qualname in self.plan.functions)

    def wants_line(self, line: int) -> bool:
        return not self.plan.trace_lines or line in self.plan.trace_lines


def marker(line: int) -> cst.TrailingWhitespace:
    return cst.TrailingWhitespace(whitespace=cst.SimpleWhitespace("  "),
                                  comment=cst.Comment(f"{MARKER}{line}"))


def injected_line(code: str, line: int) -> cst.SimpleStatementLine:
    """One injected statement on a line of its own, marked with the original line."""
    stmt = cst.parse_statement(code)
    assert isinstance(stmt, cst.SimpleStatementLine)
    return stmt.with_changes(trailing_whitespace=marker(line))


def hook_call(method: str, site_id: int, *args: cst.BaseExpression) -> cst.Call:
    """``"@sl:hooks".method(site_id, *args)``; linemap relies on exactly this spelling."""
    comma = cst.Comma(whitespace_after=cst.SimpleWhitespace(" "))
    all_args = [cst.Integer(str(site_id)), *args]
    return cst.Call(
        func=cst.Attribute(cst.SimpleString(f'"{PLACEHOLDER}"'), cst.Name(method)),
        args=[cst.Arg(a, comma=comma if i < len(all_args) - 1 else cst.MaybeSentinel.DEFAULT)
              for i, a in enumerate(all_args)],
    )


def is_injected(stmt: cst.CSTNode) -> bool:
    body = getattr(stmt, "body", None)
    if isinstance(stmt, cst.SimpleStatementLine):
        comment = stmt.trailing_whitespace.comment
    elif isinstance(body, cst.IndentedBlock):
        comment = body.header.comment
    elif isinstance(body, cst.SimpleStatementSuite):
        comment = body.trailing_whitespace.comment
    else:
        return False
    return comment is not None and comment.value.startswith(MARKER)


def is_docstring(stmt: cst.CSTNode) -> bool:
    """A first statement the compiler turns into __doc__ (plain or implicitly joined str)."""
    if not (isinstance(stmt, cst.SimpleStatementLine) and len(stmt.body) == 1
            and isinstance(stmt.body[0], cst.Expr)):
        return False
    value = stmt.body[0].value
    parts: list[cst.CSTNode] = []
    while isinstance(value, cst.ConcatenatedString):
        parts.append(value.left)
        value = value.right
    parts.append(value)
    return all(isinstance(p, cst.SimpleString) and "b" not in p.prefix.lower() for p in parts)


def header_length(body: Sequence[cst.CSTNode], module: bool) -> int:
    """How many leading statements nothing may precede: the docstring, and in a module the
    ``from __future__`` imports."""
    count = 1 if body and is_docstring(body[0]) else 0
    while module and count < len(body) and _is_future(body[count]):
        count += 1
    return count


def _is_future(stmt: cst.CSTNode) -> bool:
    return (isinstance(stmt, cst.SimpleStatementLine)
            and any(isinstance(s, cst.ImportFrom) and isinstance(s.module, cst.Name)
                    and s.module.value == "__future__" for s in stmt.body))


class Pass(cst.CSTTransformer):
    """A transformer that knows the original line of every node and the enclosing qualname."""

    METADATA_DEPENDENCIES = (PositionProvider,)

    def __init__(self, ctx: Context, origins: list[int]) -> None:
        super().__init__()
        self.ctx = ctx
        self.origins = origins
        self._scopes: list[cst.FunctionDef | cst.ClassDef] = []

    def on_visit(self, node: cst.CSTNode) -> bool:
        if isinstance(node, (cst.FunctionDef, cst.ClassDef)):
            self._scopes.append(node)
        return super().on_visit(node)

    def on_leave(self, original_node: cst.CSTNode, updated_node: cst.CSTNode):  # type: ignore[override]
        try:
            return super().on_leave(original_node, updated_node)
        finally:
            if isinstance(original_node, (cst.FunctionDef, cst.ClassDef)):
                self._scopes.pop()

    def line_of(self, node: cst.CSTNode) -> int:
        return self.origins[self.get_metadata(PositionProvider, node).start.line - 1]

    def end_line_of(self, node: cst.CSTNode) -> int:
        return self.origins[self.get_metadata(PositionProvider, node).end.line - 1]

    def qualname(self) -> str:
        parts: list[str] = []
        for scope in self._scopes:
            parts.append(scope.name.value)
            if isinstance(scope, cst.FunctionDef):
                parts.append("<locals>")
        return ".".join(parts[:-1] if parts and parts[-1] == "<locals>" else parts)

    def planned_function(self) -> str | None:
        """The qualname of the innermost function if it is planned (class bodies are not)."""
        if not self._scopes or not isinstance(self._scopes[-1], cst.FunctionDef):
            return None
        qualname = self.qualname()
        return qualname if self.ctx.is_planned(qualname) else None


def run_pass(module: cst.Module, pass_type: type[Pass], ctx: Context) -> cst.Module:
    origins = line_origins(module.code, ctx.line_count)
    wrapper = MetadataWrapper(module, unsafe_skip_copy=True)
    return wrapper.visit(pass_type(ctx, origins))


class _Qualnames(cst.CSTVisitor):
    def __init__(self) -> None:
        self.stack: list[str] = []
        self.found: list[str] = []

    def visit_FunctionDef(self, node: cst.FunctionDef) -> None:
        self.stack.append(node.name.value)
        self.found.append(".".join(self.stack))
        self.stack.append("<locals>")

    def leave_FunctionDef(self, original_node: cst.FunctionDef) -> None:
        del self.stack[-2:]

    def visit_ClassDef(self, node: cst.ClassDef) -> None:
        self.stack.append(node.name.value)

    def leave_ClassDef(self, original_node: cst.ClassDef) -> None:
        self.stack.pop()


def function_qualnames(module: cst.Module) -> list[str]:
    visitor = _Qualnames()
    module.visit(visitor)
    return visitor.found
