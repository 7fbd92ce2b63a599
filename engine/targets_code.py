"""Code-object and source helpers behind ``engine.targets``.

Walks code objects (``co_consts``, ``co_qualname``), indexes a file's function line ranges from
its AST, and builds ``target_invalid`` errors with nearest names. Standard library only: this
runs inside users' programs.
"""

from __future__ import annotations

import ast
import difflib
import inspect
import os
import tokenize
import types
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any

from .errors import ScopelineError

CodeType = types.CodeType


# --------------------------------------------------------------------------- errors, suggestions


def target_invalid(
    message: str, nearest: Iterable[str] = (), *, extra: Iterable[str] = (), **details: Any
) -> ScopelineError:
    """A ``target_invalid`` error; `nearest` goes to both suggestions and details["nearest"]."""
    near = list(dict.fromkeys(nearest))
    return ScopelineError(
        "target_invalid",
        message,
        details={**details, "nearest": near},
        suggestions=near + [s for s in extra if s not in near],
    )


def close_names(word: str, candidates: Iterable[str], n: int = 5) -> list[str]:
    """Nearest spellings; falls back to the best few so a user always gets something to try."""
    pool = sorted({c for c in candidates if c})
    found = difflib.get_close_matches(word, pool, n=n, cutoff=0.6)
    if not found:
        found = difflib.get_close_matches(word, pool, n=min(n, 3), cutoff=0.0)
    return found


class NameMiss(Exception):
    """A qualname part not found; the caller turns it into text-form suggestions."""

    def __init__(self, index: int, part: str, candidates: list[str], why: str = "") -> None:
        super().__init__(part)
        self.index = index
        self.part = part
        self.candidates = candidates
        self.why = why


# --------------------------------------------------------------------------- code objects


def is_function_code(code: CodeType) -> bool:
    # Class bodies and modules run without fresh locals; every def/lambda/comprehension has them.
    return bool(code.co_flags & inspect.CO_NEWLOCALS)


def is_named_def(code: CodeType) -> bool:
    """A def / async def (not a lambda, comprehension, genexpr or class body)."""
    return is_function_code(code) and not code.co_name.startswith("<")


def child_codes(code: CodeType) -> Iterator[CodeType]:
    """Code objects created directly in `code`, seeing through 3.12 type-parameter scopes."""
    for const in code.co_consts:
        if isinstance(const, CodeType):
            if const.co_name.startswith("<generic parameters of "):
                yield from child_codes(const)
            else:
                yield const


def nested_defs(code: CodeType, *, lambdas: bool = False) -> Iterator[CodeType]:
    """Functions defined inside `code` at any depth (through class bodies); lambdas only on request
    and only directly in `code` or a class body, where they are bound to names."""
    for child in child_codes(code):
        if is_named_def(child) or (lambdas and child.co_name == "<lambda>"):
            yield child
            yield from nested_defs(child)
        elif not is_function_code(child):  # class body: its methods count, the body does not
            yield from nested_defs(child, lambdas=lambdas)
        else:  # comprehension / genexpr / lambda: a def cannot hide there, but be thorough
            yield from nested_defs(child)


def walk_code(roots: list[CodeType], parts: list[str], start: int, prefix: str) -> list[CodeType]:
    """Follow qualname `parts[start:]` through nested code objects, by ``co_qualname``.

    `prefix` is the qualname already walked ('' at module level). Raises NameMiss.
    """
    current = roots
    for i in range(start, len(parts)):
        part = parts[i]
        if part == "<locals>":
            if not all(is_function_code(c) for c in current):
                raise NameMiss(i, part, [], "'<locals>' can only follow a function")
            prefix = f"{prefix}.<locals>"
            continue
        level = [c for cur in current for c in child_codes(cur)
                 if c.co_qualname.rpartition(".")[0] == prefix]
        qual = f"{prefix}.{part}" if prefix else part
        found = [c for c in level if c.co_qualname == qual]
        if not found:
            names = [c.co_name for c in level if not c.co_name.startswith("<")]
            where = prefix or "the module"
            raise NameMiss(i, part, close_names(part, names), f"no {part!r} in {where}")
        current, prefix = found, qual
    return current


def expand_code(code: CodeType) -> list[CodeType]:
    """A function stays itself; a class body becomes the functions defined in it."""
    return [code] if is_function_code(code) else list(nested_defs(code, lambdas=True))


def code_lines(code: CodeType) -> list[int]:
    """Line numbers of `code` and everything nested in it."""
    lines = [ln for _, _, ln in code.co_lines() if ln is not None]
    for child in child_codes(code):
        lines.extend(code_lines(child))
    return lines


def same_file(a: str | None, b: str | None) -> bool:
    if not a or not b or a.startswith("<") or b.startswith("<"):
        return False
    na, nb = os.path.normcase(os.path.abspath(a)), os.path.normcase(os.path.abspath(b))
    return na == nb or os.path.realpath(na) == os.path.realpath(nb)


def unwrap_chain(func: Any) -> list[Any]:
    """[func, func.__wrapped__, ...] as set up by functools.wraps, stopping at cycles."""
    chain, seen = [func], {id(func)}
    while True:
        inner = getattr(chain[-1], "__wrapped__", None)
        if inner is None or id(inner) in seen or not callable(inner):
            return chain
        seen.add(id(inner))
        chain.append(inner)


# --------------------------------------------------------------------------- source line ranges


@dataclass(frozen=True)
class DefRange:
    """One def/lambda in a file, as the AST sees it."""

    qualname: str
    first_line: int  # what co_firstlineno will be: the first decorator's line (3.8+)
    def_line: int  # the `def` keyword's line
    last_line: int
    is_lambda: bool


@dataclass(frozen=True)
class FileIndex:
    path: str
    lines: tuple[str, ...]
    defs: tuple[DefRange, ...]

    def find(self, qualname: str, first_line: int) -> DefRange | None:
        for d in self.defs:
            if d.qualname == qualname and d.first_line == first_line:
                return d
        return None

    def innermost_def(self, line: int) -> DefRange | None:
        """The innermost def/async def (lambdas skipped) whose `def`..end contains `line`.

        Decorator lines are left out: they run in the enclosing scope, not in the function.
        """
        inside = [d for d in self.defs if not d.is_lambda and d.def_line <= line <= d.last_line]
        return max(inside, key=lambda d: d.def_line, default=None)

    def nearest_defs(self, line: int, n: int = 3) -> list[DefRange]:
        funcs = [d for d in self.defs if not d.is_lambda]
        return sorted(funcs, key=lambda d: min(abs(line - d.def_line), abs(line - d.last_line)))[:n]


_INDEX_CACHE: dict[str, tuple[tuple[int, int], FileIndex | None]] = {}


def file_index(path: str) -> FileIndex | None:
    """AST line ranges of a source file (cached by mtime/size); None when it cannot be parsed."""
    try:
        st = os.stat(path)
    except OSError:
        return None
    stamp = (st.st_mtime_ns, st.st_size)
    cached = _INDEX_CACHE.get(path)
    if cached and cached[0] == stamp:
        return cached[1]
    try:
        with tokenize.open(path) as fh:  # honours the file's coding cookie
            source = fh.read()
        tree = ast.parse(source, path)
    except (OSError, SyntaxError, UnicodeDecodeError, ValueError):
        index = None
    else:
        index = FileIndex(path, tuple(source.splitlines()), tuple(_collect_defs(tree)))
    _INDEX_CACHE[path] = (stamp, index)
    return index


def _collect_defs(tree: ast.AST) -> list[DefRange]:
    out: list[DefRange] = []

    def visit(node: ast.AST, prefix: str) -> None:
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            qual = prefix + node.name
            first = min([d.lineno for d in node.decorator_list] + [node.lineno])
            out.append(DefRange(qual, first, node.lineno, node.end_lineno or node.lineno, False))
            # decorators, defaults and annotations are evaluated in the enclosing scope
            for sub in [*node.decorator_list, node.args, *([node.returns] if node.returns else [])]:
                visit(sub, prefix)
            for stmt in node.body:
                visit(stmt, qual + ".<locals>.")
        elif isinstance(node, ast.ClassDef):
            for sub in [*node.decorator_list, *node.bases, *node.keywords]:
                visit(sub, prefix)
            for stmt in node.body:
                visit(stmt, prefix + node.name + ".")
        elif isinstance(node, ast.Lambda):
            qual = prefix + "<lambda>"
            end = node.end_lineno or node.lineno
            out.append(DefRange(qual, node.lineno, node.lineno, end, True))
            visit(node.args, prefix)
            visit(node.body, qual + ".<locals>.")
        else:
            for child in ast.iter_child_nodes(node):
                visit(child, prefix)

    visit(tree, "")
    return out


def last_line_of(code: CodeType) -> int:
    """Last source line of a function: AST end_lineno when the file parses, else from co_lines."""
    index = file_index(code.co_filename) if not code.co_filename.startswith("<") else None
    found = index.find(code.co_qualname, code.co_firstlineno) if index else None
    if found:
        return found.last_line
    return max(code_lines(code), default=code.co_firstlineno)


def is_code_line(index: FileIndex, line: int) -> bool:
    """False for blank and comment-only lines, where a tracepoint could never fire."""
    if not 1 <= line <= len(index.lines):
        return False
    text = index.lines[line - 1].strip()
    return bool(text) and not text.startswith("#")
