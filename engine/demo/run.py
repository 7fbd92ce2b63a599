"""``scopeline demo``: trace the bundled example in all three modes, each chosen by
``mode="auto"`` with the reason shown, with nothing to set up."""

from __future__ import annotations

import contextlib
import io
from typing import Any

from rich.console import Console
from rich.panel import Panel
from scopeline.engine import api
from scopeline.engine.cli.commands import print_session
from scopeline.engine.demo.example import app

EXAMPLE = "scopeline.engine.demo.example"
WHOLE_PROGRAM = [f"{EXAMPLE}.app", f"{EXAMPLE}.inventory", f"{EXAMPLE}.pricing",
                 f"{EXAMPLE}.worker", f"{EXAMPLE}.shipping"]
ICONS = {"runtime": "⚡", "compile_time": "🔬", "hybrid": "🔀"}

# (what the scene shows, target, trace options): auto mode decides each one.
SCENES: list[tuple[str, Any, dict[str, Any]]] = [
    ("the whole program: calls, returns, exceptions, and the orders passed to the worker "
     "thread through a queue", WHOLE_PROGRAM,
     {"include": ("calls", "returns", "exceptions", "messages")}),
    ("every sub-expression of order_total", f"{EXAMPLE}.pricing:order_total",
     {"granularity": "expression"}),
    ("plan_shipment, the one branchy function, with the value of every expression",
     f"{EXAMPLE}.shipping:plan_shipment", {"granularity": "expression"}),
]


def run_demo(console: Console) -> int:
    console.print(Panel.fit("Scopeline demo: an order-processing program with a class, "
                            "recursion, a worker thread fed by a queue, a caught exception and "
                            "one branchy function — traced three times, mode='auto' each time",
                            style="bold"))
    output = io.StringIO()
    with contextlib.redirect_stdout(output):
        app.main()
    console.print("[bold]the program prints:[/bold]\n" + output.getvalue().rstrip())
    last = None
    for number, (what, target, options) in enumerate(SCENES, 1):
        decision = api.determine_mode(target, **options)
        console.print(f"\n[bold]{number}. {what}[/bold]")
        console.print(f"{ICONS[decision.mode]} [bold cyan]{decision.mode}[/bold cyan] "
                      f"(confidence {decision.confidence:.2f}): [dim]{decision.reason}[/dim]")
        for warning in decision.warnings:
            console.print(f"[yellow]warning:[/yellow] {warning}")
        with api.trace(target, **options) as session, \
                contextlib.redirect_stdout(io.StringIO()):
            app.main()
        print_session(console, session.to_meta(),
                      list(session.events()))
        last = session
    if last is not None:
        console.print("\n[dim]Stored sessions: `scopeline sessions`; one of them again: "
                      f"`scopeline show {last.session_id[:8]}`; why a mode: "
                      f"`scopeline why {EXAMPLE}.shipping:plan_shipment "
                      "--granularity expression`[/dim]")
    return 0
