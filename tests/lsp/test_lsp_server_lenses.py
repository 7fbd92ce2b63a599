"""Code lenses and their "why", through a real client: on open, on edits, on a file that stops
parsing, and after feedback changes a decision."""

from __future__ import annotations

import re

from lsprotocol import types

PRICING = "shop/pricing.py"
FUNCTIONS = ["line_total", "discount", "order_total", "Cart.__init__", "Cart.add", "Cart.total"]
MODE_TITLE = re.compile(r"^(⚡ runtime|🔬 compile-time|🔀 hybrid) · \d{1,3}%$")


def lines_of(text: str, name: str) -> int:
    """0-based line of ``def name`` in ``text``."""
    short = name.split(".")[-1]
    return next(i for i, line in enumerate(text.splitlines())
                if line.lstrip().startswith(f"def {short}("))


def by_line(lenses: list[types.CodeLens]) -> dict[int, list[str]]:
    out: dict[int, list[str]] = {}
    for lens in lenses:
        out.setdefault(lens.range.start.line, []).append(lens.command.title)
    return out


async def test_every_function_gets_a_mode_lens_and_a_why_lens(editor):
    text = (editor.root / PRICING).read_text()
    uri = await editor.open(PRICING)
    lenses = await editor.lenses(uri)
    titles = by_line(lenses)
    assert len(lenses) == 2 * len(FUNCTIONS)
    for name in FUNCTIONS:
        line = lines_of(text, name)
        if name == "discount":  # decorated: the lens sits above the decorator
            line -= 1
        mode, why = titles[line]
        assert MODE_TITLE.match(mode), mode
        assert why == "why"
    # every lens runs the explain command with where its function is
    assert {lens.command.command for lens in lenses} == {"scopeline.explainMode"}


async def test_why_lens_command_returns_the_reasoning_as_markdown(editor):
    text = (editor.root / PRICING).read_text()
    uri = await editor.open(PRICING)
    why = next(lens for lens in await editor.lenses(uri)
               if lens.command.title == "why"
               and lens.range.start.line == lines_of(text, "order_total"))
    from_lens = await editor.command(why.command.command, *why.command.arguments)
    assert from_lens["function"] == "order_total"
    markdown = from_lens["markdown"]
    assert markdown.startswith("### ") and "`order_total`" in markdown
    assert from_lens["decision"]["reason"] in markdown
    assert "| rule | mode | verdict |" in markdown
    # the custom request gives the same, for any line inside the function
    inside = lines_of(text, "order_total") + 3
    from_request = await editor.request("scopeline/explainMode", {"uri": uri, "line": inside})
    assert from_request == from_lens


async def test_lenses_follow_edits(editor):
    uri = await editor.open(PRICING)
    before = await editor.lenses(uri)
    assert await editor.insert(uri, 0, "def added(x):\n    return x * 2\n\n\n") == []
    after = by_line(await editor.lenses(uri))
    assert len(after) == len(by_line(before)) + 1
    assert MODE_TITLE.match(after[0][0]) and after[0][1] == "why"
    # every old lens moved down with its function
    assert sorted(after)[1:] == [line + 4 for line in sorted(by_line(before))]


async def test_a_file_that_stops_parsing_keeps_its_last_good_lenses(editor):
    text = (editor.root / PRICING).read_text()
    uri = await editor.open(PRICING)
    good = await editor.lenses(uri)
    broken = text.replace("def order_total(items, code=\"\"):", "def order_total(items, code=\"\":")
    bad_line = lines_of(text, "order_total")
    diagnostics = await editor.replace(uri, broken)
    assert len(diagnostics) == 1
    (diag,) = diagnostics
    assert diag.range.start.line == bad_line
    assert diag.severity == types.DiagnosticSeverity.Error
    assert "does not parse" in diag.message and "Fix the syntax error" in diag.message
    assert [lens.command.title for lens in await editor.lenses(uri)] == \
        [lens.command.title for lens in good]
    why = await editor.request("scopeline/explainMode", {"uri": uri, "line": 10})
    assert "does not parse now" in why["markdown"]
    # fixed: the diagnostic goes away
    assert await editor.replace(uri, text) == []
    why = await editor.request("scopeline/explainMode", {"uri": uri, "line": 10})
    assert "does not parse now" not in why["markdown"]


async def test_feedback_changes_the_decision_and_refreshes_the_lenses(editor, client):
    text = (editor.root / PRICING).read_text()
    uri = await editor.open(PRICING)
    line = lines_of(text, "line_total")
    first = by_line(await editor.lenses(uri))[line][0]
    assert first.startswith("⚡ runtime")
    for n in (1, 2, 3):
        result = await editor.command("scopeline.feedback", {
            "uri": uri, "line": line, "mode": "runtime", "outcome": "failed"})
        assert result["recorded"]["mode"] == "runtime"
        assert result["recorded"]["target"].endswith("pricing.py:line_total")
        await client.lens_refreshes.get()  # the server asked the editor to re-read lenses
        assert f"runtime was marked failed {n} of {n} times" in result["decision"]["reason"]
    title = by_line(await editor.lenses(uri))[line][0]
    assert title.startswith("🔬 compile-time"), title
    why = await editor.request("scopeline/explainMode", {"uri": uri, "line": line})
    assert "**Feedback**" in why["markdown"]
    assert "runtime was marked failed 3 of 3 times" in why["markdown"]
