"""Function granularity: entry with arguments, exit with the return value, propagating exceptions.

    def f(a):              def f(a):
        '''doc'''              '''doc'''
        return a + 1   ->      "@sl:hooks".enter(2, {"a": a})  # @sl:1
                               try:  # @sl:1
                                   return "@sl:hooks".exit(1, a + 1)
                                   "@sl:hooks".exit(3, None)  # @sl:3
                               except BaseException:  # @sl:3
                                   "@sl:hooks".exception(4)  # @sl:3
                                   raise  # @sl:3

No name is added to the function: the hooks keep a call's token by its frame, and read the
exception from ``sys.exc_info()``, so ``locals()`` inside the function is what it was. The
docstring stays first (it is __doc__); a bare ``raise`` adds no traceback entry; for a
generator the exit is its finishing (``return`` is StopIteration's value).
"""

from __future__ import annotations

import libcst as cst

from .base import Pass, header_length, hook_call, injected_line, marker
from .plan import PLACEHOLDER


class _YieldFinder(cst.CSTVisitor):
    """Does a function body yield in its own scope (not in nested functions or classes)?"""

    def __init__(self) -> None:
        self.found = False

    def visit_Yield(self, node: cst.Yield) -> None:
        self.found = True

    def visit_FunctionDef(self, node: cst.FunctionDef) -> bool:
        return False

    def visit_ClassDef(self, node: cst.ClassDef) -> bool:
        return False

    def visit_Lambda(self, node: cst.Lambda) -> bool:
        return False


def _is_async_generator(node: cst.FunctionDef) -> bool:
    if node.asynchronous is None:
        return False
    finder = _YieldFinder()
    node.body.visit(finder)
    return finder.found


def parameter_names(params: cst.Parameters) -> list[str]:
    """In the code object's order (co_varnames): positional, keyword-only, *args, **kwargs —
    the order the reader names recorded argument values in."""
    names = [p.name.value for p in (*params.posonly_params, *params.params)]
    names.extend(p.name.value for p in params.kwonly_params)
    if isinstance(params.star_arg, cst.Param):
        names.append(params.star_arg.name.value)
    if params.star_kwarg is not None:
        names.append(params.star_kwarg.name.value)
    return names


class FunctionTransformer(Pass):
    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self._async_gen: list[bool] = []

    def visit_FunctionDef(self, node: cst.FunctionDef) -> None:
        self._async_gen.append(_is_async_generator(node))

    def leave_Return(self, original_node: cst.Return,
                     updated_node: cst.Return) -> cst.BaseSmallStatement | cst.FlattenSentinel:
        qualname = self.planned_function()
        if qualname is None:
            return updated_node
        site = self.ctx.new_site("exit", qualname, self.line_of(original_node))
        if updated_node.value is None and self._async_gen[-1]:
            # `return <value>` is a SyntaxError in an async generator: report, then return.
            report = cst.Expr(hook_call("exit", site, cst.Name("None")))
            return cst.FlattenSentinel([report, updated_node])
        value = updated_node.value or cst.Name("None")
        if isinstance(value, cst.Tuple) and not value.lpar:  # `return a, b` -> one argument
            value = value.with_changes(lpar=[cst.LeftParen()], rpar=[cst.RightParen()])
        return updated_node.with_changes(
            value=hook_call("exit", site, value),
            whitespace_after_return=cst.SimpleWhitespace(" "),
        )

    def leave_FunctionDef(self, original_node: cst.FunctionDef,
                          updated_node: cst.FunctionDef) -> cst.FunctionDef:
        self._async_gen.pop()
        qualname = self.planned_function()
        if qualname is None:
            return updated_node
        def_line = self.line_of(original_node.name)
        end_line = self.end_line_of(original_node)
        body = updated_node.body
        if isinstance(body, cst.SimpleStatementSuite):
            # `def f(): return 1`: the body moves to a line of its own; the def line becomes
            # the marked one, so the moved line still counts as the original line.
            statements: list[cst.BaseStatement] = [cst.SimpleStatementLine(
                body=body.body, trailing_whitespace=body.trailing_whitespace)]
            header, footer, indent = marker(def_line), (), None
        else:
            assert isinstance(body, cst.IndentedBlock)
            statements = list(body.body)
            header, footer, indent = body.header, body.footer, body.indent
        keep = header_length(statements, module=False)
        names = parameter_names(updated_node.params)
        args = ", ".join(f'"{name}": {name}' for name in names)
        entry = self.ctx.new_site("entry", qualname, def_line, names)
        fall_off = self.ctx.new_site("exit", qualname, end_line, detail="end of body")
        failed = self.ctx.new_site("exception", qualname, end_line)
        wrapped = cst.Try(
            body=cst.IndentedBlock(
                body=[*statements[keep:], injected_line(
                    f'"{PLACEHOLDER}".exit({fall_off}, None)', end_line)],
                header=marker(def_line), footer=footer, indent=indent),
            handlers=[cst.ExceptHandler(
                body=cst.IndentedBlock(body=[
                    injected_line(f'"{PLACEHOLDER}".exception({failed})', end_line),
                    injected_line("raise", end_line),
                ], header=marker(end_line), indent=indent),
                type=cst.Name("BaseException"),
            )],
        )
        enter = injected_line(f'"{PLACEHOLDER}".enter({entry}, {{{args}}})', def_line)
        new_body = cst.IndentedBlock(body=[*statements[:keep], enter, wrapped],
                                     header=header, indent=indent)
        return updated_node.with_changes(body=new_body)
