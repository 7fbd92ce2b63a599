"""Tracepoint expressions that cannot change the program: checked before they are placed.

A log message's ``{expr}`` placeholders and a tracepoint's condition run inside the user's
program at every hit. Like the live debuggers' conditions, they must be side-effect free: an
expression that assigns (``:=``), awaits, yields, defines a lambda, touches dunder attributes,
or calls anything outside a small set of pure built-ins and read-only methods is refused with
the reason. Statements (assignment, ``del``, ``import``) are not expressions and are refused
as such.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Callable
from dataclasses import dataclass
from types import CodeType

SAFE_CALLS = frozenset({
    "abs", "all", "any", "ascii", "bin", "bool", "bytes", "callable", "chr", "complex",
    "dict", "divmod", "float", "format", "frozenset", "getattr", "hasattr", "hash", "hex",
    "id", "int", "isinstance", "issubclass", "len", "list", "max", "min", "oct", "ord",
    "pow", "range", "repr", "reversed", "round", "set", "slice", "sorted", "str", "sum",
    "tuple", "type",
})
SAFE_KEYWORDS = frozenset({"reverse", "start", "ndigits", "base", "default"})
SAFE_METHODS = frozenset({
    "count", "endswith", "find", "get", "index", "isdigit", "isalpha", "items", "keys",
    "lower", "lstrip", "rstrip", "split", "startswith", "strip", "upper", "values",
    "bit_length", "hex", "isoformat", "total_seconds",
})


class UnsafeExpression(ValueError):
    """The expression could change the program (or is not an expression at all)."""


def _statement_kind(text: str) -> str | None:
    try:
        tree = ast.parse(text.strip(), mode="exec")
    except SyntaxError:
        return None
    if tree.body:
        node = tree.body[0]
        if isinstance(node, ast.Assign | ast.AugAssign | ast.AnnAssign):
            return "assigns"
        if isinstance(node, ast.Delete):
            return "deletes"
        if isinstance(node, ast.Import | ast.ImportFrom):
            return "imports"
    return "is a statement"


def check(text: str) -> CodeType:
    """Compile ``text`` as a side-effect-free expression, or raise UnsafeExpression."""
    try:
        tree = ast.parse(text.strip(), mode="eval")
    except SyntaxError as exc:
        kind = _statement_kind(text)
        if kind is not None:
            raise UnsafeExpression(f"{text.strip()!r} {kind}: a tracepoint only reads "
                                   "values") from None
        raise UnsafeExpression(f"{text.strip()!r} is not a Python expression: {exc.msg}"
                               ) from None
    for node in ast.walk(tree):
        why = _refusal(node)
        if why:
            raise UnsafeExpression(f"{text.strip()!r} {why}: a tracepoint only reads values "
                                   "(allowed calls: pure built-ins such as len, repr, "
                                   "sorted, and read-only methods such as get, keys)")
    return compile(tree, "<tracepoint>", "eval")


def _refusal(node: ast.AST) -> str | None:
    if isinstance(node, ast.NamedExpr):
        return "assigns (:=)"
    if isinstance(node, ast.Await | ast.Yield | ast.YieldFrom):
        return "awaits or yields"
    if isinstance(node, ast.Lambda):
        return "defines a lambda"
    if isinstance(node, ast.Attribute) and node.attr.startswith("__"):
        return f"reaches the dunder attribute {node.attr!r}"
    if isinstance(node, ast.Call):
        for keyword in node.keywords:  # a key= callable would be called by the call
            safe_key = (keyword.arg == "key" and isinstance(keyword.value, ast.Name)
                        and keyword.value.id in SAFE_CALLS)
            if keyword.arg not in SAFE_KEYWORDS and not safe_key:
                return f"passes {keyword.arg or '**'}= (only {', '.join(sorted(SAFE_KEYWORDS))})"
        func = node.func
        if isinstance(func, ast.Name):
            return None if func.id in SAFE_CALLS else f"calls {func.id}()"
        if isinstance(func, ast.Attribute):
            return None if func.attr in SAFE_METHODS else f"calls .{func.attr}()"
        return "calls a computed callable"
    return None


@dataclass(frozen=True)
class Template:
    """A log message: literal text and compiled ``{expr}`` placeholders, in order."""

    parts: tuple[str | tuple[str, CodeType], ...]

    @property
    def expressions(self) -> list[str]:
        return [p[0] for p in self.parts if isinstance(p, tuple)]


def parse_template(message: str) -> Template:
    """``"i={i} total={sum(xs)}"`` with ``{{``/``}}`` for literal braces; each placeholder is
    checked. Raises UnsafeExpression naming the first placeholder refused."""
    parts: list[str | tuple[str, CodeType]] = []
    text = ""
    i = 0
    while i < len(message):
        ch = message[i]
        if ch in "{}" and message[i:i + 2] in ("{{", "}}"):
            text += ch
            i += 2
            continue
        if ch == "}":
            raise UnsafeExpression(f"unmatched '}}' at column {i + 1} of the log message "
                                   "(write '}}}}' for a literal brace)")
        if ch != "{":
            text += ch
            i += 1
            continue
        depth, j = 1, i + 1
        while j < len(message) and depth:
            depth += {"{": 1, "}": -1}.get(message[j], 0)
            j += 1
        if depth:
            raise UnsafeExpression(f"unclosed '{{' at column {i + 1} of the log message "
                                   "(write '{{{{' for a literal brace)")
        expr = message[i + 1:j - 1]
        if not expr.strip():
            raise UnsafeExpression(f"empty placeholder '{{}}' at column {i + 1}")
        if text:
            parts.append(text)
            text = ""
        parts.append((expr.strip(), check(expr)))
        i = j
    if text:
        parts.append(text)
    return Template(tuple(parts))


_HIT = re.compile(r"^\s*(==|>=|<=|>|<|%)?\s*(\d+)\s*$")


def parse_hit_condition(text: str | None) -> Callable[[int], bool] | None:
    """DAP ``hitCondition``: ``5`` or ``==5`` (that hit), ``>5``, ``>=5``, ``<5``, ``<=5``,
    ``%5`` (every fifth). None or blank means every hit."""
    if text is None or not text.strip():
        return None
    match = _HIT.match(text)
    if not match:
        raise UnsafeExpression(f"hit condition {text!r} is not understood: use a number "
                               "or ==N, >N, >=N, <N, <=N, %N")
    op, n = match.group(1) or "==", int(match.group(2))
    if op == "%" and n == 0:
        raise UnsafeExpression("hit condition %0 divides by zero: use %1 or more")
    return {
        "==": lambda hit: hit == n, ">": lambda hit: hit > n, ">=": lambda hit: hit >= n,
        "<": lambda hit: hit < n, "<=": lambda hit: hit <= n,
        "%": lambda hit: hit % n == 0,
    }[op]
