"""Line granularity: the locals at a line, taken just before its statement runs.

    def f(x):                       def f(x):
        y = x + 1         ->            "@sl:hooks".line(1, locals())  # @sl:2
                                        y = x + 1

``locals()`` holds only the names bound at that point. With ``capture_locals`` the values are
passed directly (no dict of every local is built), and only if one of the names is not bound
yet does the probe fall back to ``locals()`` filtered in a lambda — never in a comprehension
written in the function: the lambda's own scope cannot disturb the user's names.

    def f(x):                       def f(x):
        y = x + 1         ->            try:  # @sl:2
                                            "@sl:probe:1"(x)  # @sl:2
                                        except NameError:  # @sl:2
                                            "@sl:hooks".line(1, (lambda d: ...)(locals()))
                                        y = x + 1
"""

from __future__ import annotations

import libcst as cst

from .base import Pass, injected_line, is_docstring, is_injected
from .plan import MARKER, PLACEHOLDER, PROBE


def locals_expression(names: tuple[str, ...]) -> str:
    if not names:
        return "locals()"
    wanted = "(" + "".join(f"{name!r}, " for name in names) + ")"
    return f"(lambda d: {{k: d[k] for k in {wanted} if k in d}})(locals())"


def probe_for(site: int, names: tuple[str, ...], line: int) -> cst.BaseStatement:
    snapshot = f'"{PLACEHOLDER}".line({site}, {locals_expression(names)})'
    if not names:
        return injected_line(snapshot, line)
    mark = f"{MARKER}{line}"
    direct = f'"{PROBE}{site}"({", ".join(names)})'
    return cst.parse_statement(f"try:  {mark}\n    {direct}  {mark}\n"
                               f"except NameError:  {mark}\n    {snapshot}  {mark}\n")


def before(statement: cst.BaseStatement,
           probe: cst.BaseStatement) -> list[cst.BaseStatement]:
    """The probe goes right above the statement, taking over the comments above it."""
    return [probe.with_changes(leading_lines=statement.leading_lines),
            statement.with_changes(leading_lines=())]


class LineTransformer(Pass):
    def leave_IndentedBlock(self, original_node: cst.IndentedBlock,
                            updated_node: cst.IndentedBlock) -> cst.IndentedBlock:
        qualname = self.planned_function()
        if qualname is None:
            return updated_node
        function_body = original_node is self._scopes[-1].body
        names = self.ctx.plan.capture_locals
        statements: list[cst.BaseStatement] = []
        pairs = zip(original_node.body, updated_node.body, strict=True)
        for index, (original, updated) in enumerate(pairs):
            line = self.line_of(original)
            skip = (is_injected(original) or not self.ctx.wants_line(line)
                    or (function_body and index == 0 and is_docstring(original)))
            if skip:
                statements.append(updated)
                continue
            site = self.ctx.new_site("line", qualname, line, names)
            statements.extend(before(updated, probe_for(site, names, line)))
        return updated_node.with_changes(body=statements)
