"""instrument_source: validate the plan, run one transformer per concern, return Instrumented."""

from __future__ import annotations

import difflib
from collections.abc import Sequence

import libcst as cst

from ..errors import ScopelineError
from .base import Context, Pass, function_qualnames, run_pass
from .compiler import Instrumented
from .custom import CustomTransformer
from .expression import ExpressionTransformer
from .function import FunctionTransformer
from .line import LineTransformer
from .linemap import split_lines
from .plan import GRANULARITIES, InjectionPlan
from .variable import VariableTransformer

_PASSES: dict[str, type[Pass]] = {
    "line": LineTransformer,
    "variable": VariableTransformer,
    "expression": ExpressionTransformer,
}


def instrument_source(source: str, plan: InjectionPlan, *, filename: str = "<string>",
                      transformers: Sequence[type[cst.CSTTransformer]] = ()) -> Instrumented:
    """``transformers``: the user's own libcst transformers (compile_time.instrumentation.
    custom_transformations), run first; they must keep every line where it is."""
    try:
        compile(source, filename, "exec", dont_inherit=True, flags=0x400)  # PyCF_ONLY_AST
        module = cst.parse_module(source)
    except (SyntaxError, ValueError, cst.ParserSyntaxError) as exc:
        raise ScopelineError("compilation_failed", f"{filename} does not parse: {exc}",
                             details={"filename": filename}) from exc
    if plan.granularity not in GRANULARITIES:
        raise ScopelineError("invalid_config", f"unknown granularity {plan.granularity!r}; "
                             f"expected one of {', '.join(GRANULARITIES)}")
    for transformer in transformers:
        module = module.visit(transformer())
        source_lines = len(split_lines(source))
        if len(split_lines(module.code)) != source_lines:
            raise ScopelineError("ast_transformation_failed",
                                 f"custom transformation {transformer.__name__} moved lines: "
                                 "line numbers would no longer match the file",
                                 details={"transformer": transformer.__name__})
        source = module.code
    _check_functions(module, plan, filename)
    ctx = Context(plan, len(split_lines(source)))
    # In-place rewrites first, whole-body wrapping last, so each pass sees original statements.
    passes = [_PASSES[plan.granularity]] if plan.granularity in _PASSES else []
    if plan.custom_injections:
        passes.append(CustomTransformer)
    if plan.granularity == "function" or plan.with_calls:
        passes.append(FunctionTransformer)
    for pass_type in passes:
        module = run_pass(module, pass_type, ctx)
    missing = [inj for i, inj in enumerate(plan.custom_injections) if i not in ctx.placed]
    if missing:
        line = missing[0][0]
        raise ScopelineError("ast_transformation_failed",
                             f"custom injection at line {line}: no statement starts on that line",
                             details={"line": line})
    return Instrumented(module.code, ctx.sites, source)


def _check_functions(module: cst.Module, plan: InjectionPlan, filename: str) -> None:
    known = function_qualnames(module)
    for name in plan.functions:
        if name not in known:
            nearest = difflib.get_close_matches(name, known, n=3, cutoff=0.0)
            raise ScopelineError(
                "target_invalid", f"no function {name!r} in {filename}"
                + (f"; nearest: {', '.join(nearest)}" if nearest else ""),
                details={"function": name, "nearest": nearest})
