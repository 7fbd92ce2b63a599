"""Per-function metrics of one source file (nothing is imported or run). ``file_metrics``
reads it with ``ast`` (``astmetrics``); ``cst_file_metrics``, the libcst reading here, is the
reference it is tested against.

Cyclomatic complexity is McCabe's "1 + decision points", where a decision point is each
``if``/``elif``, conditional expression, ``for``/``async for``, ``while``, ``except`` clause,
``and``/``or`` operator, comprehension ``for`` and ``if`` clause, and ``match`` case.
Loop depth counts nested ``for``/``while`` statements and comprehension ``for`` clauses.
What a lambda contains counts toward the function it is written in; a nested ``def`` is a
function of its own. Decorators and parameter defaults run in the enclosing scope, so their
calls count there.
"""

from __future__ import annotations

import dis
import types
from dataclasses import asdict, dataclass, field
from typing import Any

import libcst as cst
from libcst.metadata import MetadataWrapper, PositionProvider


@dataclass
class FunctionMetrics:
    """What the source says about one def; path-independent, so it can be cached by hash."""

    qualname: str
    name: str
    first_line: int  # the first decorator's line, as co_firstlineno
    def_line: int
    last_line: int
    cyclomatic: int = 1
    loop_depth: int = 0
    calls_out: int = 0
    is_generator: bool = False
    is_async: bool = False
    decorators: list[str] = field(default_factory=list)  # dotted names: "functools.cache"
    calls: list[tuple[str, int]] = field(default_factory=list)  # (callee name, loop depth)

    @property
    def size_lines(self) -> int:
        return self.last_line - self.first_line + 1

    def to_row(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_row(cls, row: dict[str, Any]) -> FunctionMetrics:
        data = dict(row)
        data["calls"] = [tuple(c) for c in data.get("calls", [])]
        return cls(**data)


@dataclass
class FileMetrics:
    """Every def in a file, plus the calls and attribute reads made outside any def."""

    functions: list[FunctionMetrics]
    outer_calls: list[tuple[str, int]]  # module level and class bodies
    loop_attrs: list[str]  # attribute names read inside a loop anywhere (property use)

    def to_row(self) -> dict[str, Any]:
        return {"functions": [f.to_row() for f in self.functions],
                "outer_calls": [list(c) for c in self.outer_calls],
                "loop_attrs": self.loop_attrs}

    @classmethod
    def from_row(cls, row: dict[str, Any]) -> FileMetrics:
        return cls([FunctionMetrics.from_row(f) for f in row["functions"]],
                   [(c[0], c[1]) for c in row["outer_calls"]], list(row["loop_attrs"]))


@dataclass
class _Scope:
    kind: str  # "module" | "class" | "function"
    qualname: str
    metrics: FunctionMetrics | None = None
    depth: int = 0  # loops open right now in this scope
    calls: list[tuple[str, int]] = field(default_factory=list)


def dotted_name(node: cst.BaseExpression) -> str:
    """``a.b.c`` for a Name/Attribute chain (a call's func for ``@a.b(...)``), else ""."""
    if isinstance(node, cst.Call):
        node = node.func
    if isinstance(node, cst.Name):
        return node.value
    if isinstance(node, cst.Attribute):
        base = dotted_name(node.value)
        return f"{base}.{node.attr.value}" if base else node.attr.value
    return ""


def _callee(node: cst.Call) -> str:
    """The called name as far as the source says: ``f`` for f(), ``run`` for self.run()."""
    func = node.func
    if isinstance(func, cst.Name):
        return func.value
    if isinstance(func, cst.Attribute):
        return func.attr.value
    return ""


class _Visitor(cst.CSTVisitor):
    METADATA_DEPENDENCIES = (PositionProvider,)

    def __init__(self) -> None:
        super().__init__()
        self.stack: list[_Scope] = [_Scope("module", "")]
        self.functions: list[FunctionMetrics] = []
        self.outer_calls: list[tuple[str, int]] = []
        self.loop_attrs: set[str] = set()
        # Parts of a def/class header (decorators, parameters) that run in the enclosing scope.
        self.header_ids: set[int] = set()
        self.header_depth = 0
        self.shifts: dict[int, int] = {}

    # -- where a node's cost goes ----------------------------------------------------------
    def _scope(self) -> _Scope:
        """The innermost scope, or the one enclosing it while inside a def's header."""
        return self.stack[-1 - self.header_depth] if self.header_depth else self.stack[-1]

    def _function(self) -> FunctionMetrics | None:
        return self._scope().metrics

    def _decision(self, n: int = 1) -> None:
        metrics = self._function()
        if metrics is not None:
            metrics.cyclomatic += n

    def _shift_loops(self, n: int) -> None:
        scope = self._scope()
        scope.depth += n
        if n > 0 and scope.metrics is not None:
            scope.metrics.loop_depth = max(scope.metrics.loop_depth, scope.depth)

    # A loop is open over the parts that run once per iteration: a `for` body, a `while`
    # test and body, a comprehension's element, conditions and inner iterables (its first
    # iterable is evaluated once, outside). `shifts` says by how much entering a node moves
    # the loop depth; leaving it moves it back.
    def on_visit(self, node: cst.CSTNode) -> bool:
        shift = self.shifts.get(id(node))
        if shift:
            self._shift_loops(shift)
        return super().on_visit(node)

    def on_leave(self, original_node: cst.CSTNode) -> None:
        super().on_leave(original_node)
        shift = self.shifts.get(id(original_node))
        if shift:
            self._shift_loops(-shift)

    def _child_qualname(self, name: str) -> str:
        parent = self.stack[-1]
        if parent.kind == "module":
            return name
        if parent.kind == "class":
            return f"{parent.qualname}.{name}"
        return f"{parent.qualname}.<locals>.{name}"

    def _mark_header(self, nodes: list[cst.CSTNode]) -> None:
        self.header_ids.update(id(n) for n in nodes)

    def _header_in(self, node: cst.CSTNode) -> None:
        if id(node) in self.header_ids:
            self.header_depth += 1

    def _header_out(self, node: cst.CSTNode) -> None:
        if id(node) in self.header_ids:
            self.header_depth -= 1

    # -- scopes ---------------------------------------------------------------------------
    def visit_FunctionDef(self, node: cst.FunctionDef) -> None:
        pos = self.get_metadata(PositionProvider, node)
        first = min([self.get_metadata(PositionProvider, d).start.line
                     for d in node.decorators] + [pos.start.line])
        name = node.name.value
        metrics = FunctionMetrics(
            qualname=self._child_qualname(name), name=name, first_line=first,
            def_line=pos.start.line, last_line=pos.end.line,
            is_async=node.asynchronous is not None,
            decorators=[dotted_name(d.decorator) for d in node.decorators])
        self._mark_header([*node.decorators, node.params])
        self.stack.append(_Scope("function", metrics.qualname, metrics))
        self.functions.append(metrics)

    def leave_FunctionDef(self, original_node: cst.FunctionDef) -> None:
        scope = self.stack.pop()
        assert scope.metrics is not None
        scope.metrics.calls = scope.calls

    def visit_ClassDef(self, node: cst.ClassDef) -> None:
        self._mark_header([*node.decorators, *node.bases, *node.keywords])
        self.stack.append(_Scope("class", self._child_qualname(node.name.value)))

    def leave_ClassDef(self, original_node: cst.ClassDef) -> None:
        self.outer_calls.extend(self.stack.pop().calls)

    def visit_Decorator(self, node: cst.Decorator) -> None:
        self._header_in(node)

    def leave_Decorator(self, original_node: cst.Decorator) -> None:
        self._header_out(original_node)

    def visit_Parameters(self, node: cst.Parameters) -> None:
        self._header_in(node)

    def leave_Parameters(self, original_node: cst.Parameters) -> None:
        self._header_out(original_node)

    def visit_Arg(self, node: cst.Arg) -> None:
        self._header_in(node)

    def leave_Arg(self, original_node: cst.Arg) -> None:
        self._header_out(original_node)

    # -- decisions and loops ----------------------------------------------------------------
    def visit_If(self, node: cst.If) -> None:  # elif is an If in orelse: counted here too
        self._decision()

    def visit_IfExp(self, node: cst.IfExp) -> None:
        self._decision()

    def visit_BooleanOperation(self, node: cst.BooleanOperation) -> None:
        self._decision()

    def visit_ExceptHandler(self, node: cst.ExceptHandler) -> None:
        self._decision()

    def visit_ExceptStarHandler(self, node: cst.ExceptStarHandler) -> None:
        self._decision()

    def visit_MatchCase(self, node: cst.MatchCase) -> None:
        self._decision()

    def visit_CompIf(self, node: cst.CompIf) -> None:
        self._decision()

    def visit_For(self, node: cst.For) -> None:
        self._decision()
        self.shifts[id(node.body)] = 1

    def visit_While(self, node: cst.While) -> None:
        self._decision()
        self.shifts[id(node.test)] = self.shifts[id(node.body)] = 1

    def _visit_comp(self, node: Any) -> None:
        n, comp = 0, node.for_in
        while comp is not None:
            n, comp = n + 1, comp.inner_for_in
        self._decision(n)
        # on_visit looked this node up before now, so the shift is applied here; on_leave
        # finds it and takes it back.
        self._shift_loops(n)
        # a comprehension that is itself a shifted node (an outer one's first iterable, a
        # `while` test) keeps that shift too, or leaving it would leave the depth wrong
        self.shifts[id(node)] = self.shifts.get(id(node), 0) + n
        self.shifts[id(node.for_in.iter)] = -n

    def visit_ListComp(self, node: cst.ListComp) -> None:
        self._visit_comp(node)

    def visit_SetComp(self, node: cst.SetComp) -> None:
        self._visit_comp(node)

    def visit_DictComp(self, node: cst.DictComp) -> None:
        self._visit_comp(node)

    def visit_GeneratorExp(self, node: cst.GeneratorExp) -> None:
        self._visit_comp(node)

    # -- calls, yields, attribute reads ------------------------------------------------------
    def visit_Call(self, node: cst.Call) -> None:
        scope = self._scope()
        if scope.metrics is not None:
            scope.metrics.calls_out += 1
        name = _callee(node)
        if name:
            if scope.kind == "module":
                self.outer_calls.append((name, scope.depth))
            else:
                scope.calls.append((name, scope.depth))

    def visit_Yield(self, node: cst.Yield) -> None:
        metrics = self._function()
        if metrics is not None:
            metrics.is_generator = True

    def visit_Attribute(self, node: cst.Attribute) -> None:
        if self._scope().depth:
            self.loop_attrs.add(node.attr.value)


def file_metrics(source: str | bytes) -> FileMetrics:
    """Measure every def in ``source`` (read with ``ast``: ``astmetrics``); a syntax error
    raises SyntaxError."""
    from scopeline.engine.selection.astmetrics import ast_file_metrics

    return ast_file_metrics(source)


def cst_file_metrics(source: str | bytes) -> FileMetrics:
    """The same read with libcst: the reference ``file_metrics`` is checked against (the
    tests), 30 times slower. A syntax error raises ``libcst.ParserSyntaxError``."""
    module = cst.parse_module(source)
    visitor = _Visitor()
    MetadataWrapper(module, unsafe_skip_copy=True).visit(visitor)
    return FileMetrics(visitor.functions, visitor.outer_calls, sorted(visitor.loop_attrs))


# --------------------------------------------------------------------------- no source

_CO_GENERATOR, _CO_COROUTINE, _CO_ASYNC_GENERATOR = 0x20, 0x80, 0x200
_CALL_OPS = frozenset({"CALL", "CALL_FUNCTION_EX", "CALL_KW"})


def code_metrics(code: types.CodeType) -> FunctionMetrics:
    """What a code object alone says, for functions without source (compiled from a string,
    or a file that is gone). Decision points are estimated from conditional jumps and
    ``FOR_ITER``; loop nesting cannot be seen, so any loop gives depth 1."""
    lines = [line for _, _, line in code.co_lines() if line is not None]
    first = code.co_firstlineno
    ops = [ins.opname for ins in dis.get_instructions(code)]
    branches = sum(1 for op in ops if "_IF_" in op) + ops.count("FOR_ITER")
    loops = "FOR_ITER" in ops or any(op.startswith(("JUMP_BACKWARD", "POP_JUMP_BACKWARD"))
                                     and not op.endswith("NO_INTERRUPT") for op in ops)
    flags = code.co_flags
    return FunctionMetrics(
        qualname=code.co_qualname, name=code.co_name, first_line=first, def_line=first,
        last_line=max(lines, default=first), cyclomatic=1 + branches, loop_depth=int(loops),
        calls_out=sum(1 for op in ops if op in _CALL_OPS),
        is_generator=bool(flags & (_CO_GENERATOR | _CO_ASYNC_GENERATOR)),
        is_async=bool(flags & (_CO_COROUTINE | _CO_ASYNC_GENERATOR)))
