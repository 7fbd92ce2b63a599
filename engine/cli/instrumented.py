"""``scopeline show --instrumented TARGET``: the rewritten function, exactly as it will run."""

from __future__ import annotations

import argparse
import ast

from rich.console import Console
from rich.syntax import Syntax
from scopeline.engine.errors import ScopelineError
from scopeline.engine.targets import resolve


def _find(tree: ast.Module, qualname: str) -> ast.AST | None:
    def walk(body: list[ast.stmt], prefix: str) -> ast.AST | None:
        for node in body:
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
                name = f"{prefix}{node.name}"
                if name == qualname:
                    return node
                inner = f"{name}.<locals>." if not isinstance(node, ast.ClassDef) else f"{name}."
                found = walk(node.body, inner)
                if found is not None:
                    return found
        return None

    return walk(tree.body, "")


def instrumented_function_source(target: str, granularity: str, capture: tuple[str, ...],
                                 lines: tuple[int, ...]) -> tuple[str, int, str]:
    """(rewritten source of the target's function, its first line, the file)."""
    from scopeline.engine.instrument import InjectionPlan, instrument_source

    resolved = [r for r in resolve(target) if r.code is not None]
    if not resolved:
        raise ScopelineError("target_invalid", f"{target} names no function")
    rt = resolved[0]
    file = rt.file or rt.code.co_filename
    try:
        with open(file, encoding="utf-8") as fh:
            source = fh.read()
    except OSError as exc:
        raise ScopelineError("mode_unavailable", f"{rt.display} has no source file to "
                             f"rewrite ({file})") from exc
    trace_lines = lines + ((rt.line,) if rt.line else ())
    plan = InjectionPlan(functions=(rt.qualname,), granularity=granularity,
                         trace_lines=trace_lines, capture_locals=capture)
    rewritten = instrument_source(source, plan, filename=file).source
    node = _find(ast.parse(rewritten), rt.qualname)
    if node is None:
        return rewritten, 1, file
    first = min([node.lineno] + [d.lineno for d in getattr(node, "decorator_list", [])])
    text = "\n".join(rewritten.splitlines()[first - 1: node.end_lineno])
    return text, first, file


def show_instrumented(args: argparse.Namespace) -> int:
    capture = tuple(p.strip() for p in (args.capture or "").split(",") if p.strip())
    lines = tuple(int(p) for p in (args.lines or "").split(",") if p.strip())
    text, first, file = instrumented_function_source(args.instrumented, args.granularity,
                                                     capture, lines)
    console = Console(highlight=False)
    console.print(f"[dim]{file} — rewritten by Scopeline ({args.granularity} granularity); "
                  "lines marked '# @sl N' are injected and report line N[/dim]")
    console.print(Syntax(text, "python", line_numbers=False, word_wrap=False))
    return 0
