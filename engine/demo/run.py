"""``scopeline demo``: trace the bundled example and show what each mode decision and capture
looks like, with nothing to set up."""

from __future__ import annotations

import scopeline.engine.demo.example.pricing as pricing
from rich.console import Console
from rich.panel import Panel
from scopeline.engine import api
from scopeline.engine.cli.commands import print_session
from scopeline.engine.demo.example import app

EXAMPLE = "scopeline.engine.demo.example"
TARGETS = [f"{EXAMPLE}.app", f"{EXAMPLE}.inventory", f"{EXAMPLE}.pricing", f"{EXAMPLE}.worker"]


def run_demo(console: Console) -> int:
    console.print(Panel.fit("Scopeline demo: an order-processing program with a class, recursion,"
                            " a worker thread and a caught exception", style="bold"))
    decision = api.determine_mode(TARGETS, include=("calls", "returns", "exceptions"))
    console.print(f"[bold]mode decision:[/bold] [cyan]{decision.mode}[/cyan] "
                  f"(confidence {decision.confidence:.2f})\n[dim]{decision.reason}[/dim]")
    with api.trace(TARGETS, include=("calls", "returns", "exceptions")) as session:
        app.main()
    events = list(session.store.events(session.session_id))
    print_session(console, session.to_meta(), events)

    first_line = pricing.order_total.__code__.co_firstlineno
    line_target = f"{pricing.__file__}:{first_line + 2}"
    console.print(f"\n[bold]line tracepoint with locals:[/bold] {line_target}")
    with api.trace(line_target, capture_locals=("gross", "discount"),
                   include=("calls", "returns")) as line_session:
        for quantity in (4, 16):
            pricing.order_total("pear", quantity)
    print_session(console, line_session.to_meta(),
                  list(line_session.store.events(line_session.session_id)))
    console.print("\n[dim]Stored sessions: `scopeline sessions`; one of them again: "
                  f"`scopeline show {line_session.session_id[:8]}`[/dim]")
    return 0
