"""The CLI commands. Each takes the parsed arguments and returns the exit code."""

from __future__ import annotations

import argparse
import json
import sys
import time
from typing import Any

from rich.console import Console
from rich.table import Table
from scopeline.engine.cli.tree import format_duration, render_tree
from scopeline.engine.errors import ScopelineError
from scopeline.engine.store import Store


def _console() -> Console:
    # The trace goes to stderr so the program's own stdout stays exactly what it prints.
    return Console(stderr=True, highlight=False)


def _split(text: str) -> tuple[str, ...]:
    return tuple(part.strip() for part in text.split(",") if part.strip())


def cmd_run(args: argparse.Namespace) -> int:
    from scopeline.engine.tracerun import traced_run

    program = list(args.program)
    if program and program[0] == "--":
        program = program[1:]
    if not args.module and not program:
        raise ScopelineError("script_not_found", "no program given",
                             suggestions=["scopeline run -- script.py [args], or "
                                          "scopeline run -m module [args]."])
    script, prog_args = (None, program) if args.module else (program[0], program[1:])
    options = dict(mode=args.mode, granularity=args.granularity,
                   capture_locals=_split(args.capture), include=_split(args.include),
                   sampling_rate=args.sampling_rate)
    exit_code, session = traced_run(script, args.module, prog_args, args.trace, options)
    events = list(session.store.events(session.session_id))
    if args.json:
        with open(args.json, "w", encoding="utf-8") as fh:
            json.dump([e.to_dict() for e in events], fh, indent=1)
    if args.export:
        with open(args.export, "w", encoding="utf-8") as fh:
            json.dump({"session": session.to_meta(), "events": [e.to_dict() for e in events]},
                      fh, indent=1)
    if not args.no_tree:
        print_session(_console(), session.to_meta(), events)
    return exit_code


def print_session(console: Console, meta: dict[str, Any], events: list[Any]) -> None:
    title = (f"session {meta['session_id'][:8]} · {meta['mode']} mode via {meta['backend']} · "
             f"{', '.join(meta['targets'][:4])}{' …' if len(meta['targets']) > 4 else ''}")
    console.print(render_tree(title, events))
    stats = meta.get("stats", {})
    captured = stats.get("captured", {})
    skipped = stats.get("skipped_calls", {})
    line = ", ".join(f"{v} {k.replace('function_', '')}" for k, v in sorted(captured.items()))
    console.print(f"[dim]captured: {line or 'nothing'}"
                  + (f"; skipped calls: {skipped}" if skipped else "") + "[/dim]")
    sends = [e for e in events if e.type == "message_send"]
    if sends:
        received = {e.data.get("message_id") for e in events if e.type == "message_receive"}
        joined = [e for e in sends if e.correlation_id and e.data.get("message_id") in received]
        queues = sorted({str(e.data.get("queue")) for e in sends})
        console.print(f"[dim]messages: {len(sends)} sent, {len(received)} received, "
                      f"{len(joined)} send→receive pairs joined by message id, through "
                      f"{', '.join(queues)}[/dim]")
    for note in meta.get("log", [])[:5]:
        console.print(f"[yellow]note:[/yellow] {note}")


def cmd_sessions(args: argparse.Namespace) -> int:
    sessions = Store().sessions()
    if args.json:
        print(json.dumps(sessions, indent=1))
        return 0
    console = Console(highlight=False)
    if not sessions:
        console.print("no sessions stored yet: try `scopeline demo`")
        return 0
    table = Table("id", "started", "mode", "status", "events", "targets")
    for meta in sessions:
        captured = meta.get("stats", {}).get("captured", {})
        table.add_row(meta["session_id"][:12],
                      time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(meta["started_at"])),
                      meta["mode"], meta["status"], str(sum(captured.values())),
                      ", ".join(meta["targets"][:3]))
    console.print(table)
    return 0


def cmd_show(args: argparse.Namespace) -> int:
    if args.instrumented:
        from scopeline.engine.cli.instrumented import show_instrumented

        return show_instrumented(args)
    if not args.session_id:
        raise ScopelineError("session_not_found", "no session given",
                             suggestions=["scopeline show latest, or scopeline show ID "
                                          "(scopeline sessions lists them)."])
    store = Store()
    meta = store.find(args.session_id)
    events = list(store.events(meta["session_id"]))
    if args.json:
        print(json.dumps([e.to_dict() for e in events], indent=1))
        return 0
    print_session(Console(highlight=False), meta, events)
    return 0


def cmd_why(args: argparse.Namespace) -> int:
    import os

    from scopeline.engine.api import determine_mode

    if args.env:
        os.environ["SCOPELINE_ENV"] = args.env
    from scopeline.engine.cli.why_project import cmd_why_project, is_project_target

    if is_project_target(args.target):  # a folder, a file or a package: every function
        return cmd_why_project(args)
    decision = determine_mode(args.target, granularity=args.granularity,
                              capture_locals=_split(args.capture))
    if args.json:
        print(json.dumps(decision.to_dict(), indent=1))
        return 0
    console = Console(highlight=False)
    console.print(f"[bold]{args.target}[/bold] → [bold cyan]{decision.mode}[/bold cyan] "
                  f"(confidence {decision.confidence:.2f})")
    console.print(decision.reason)
    if decision.alternatives:
        console.print(f"alternatives: {', '.join(decision.alternatives)}")
    for key, value in decision.options.items():
        console.print(f"{key}: {value}")
    for warning in decision.warnings:
        console.print(f"[yellow]warning:[/yellow] {warning}")
    print_rule_verdicts(console, decision.rules)
    return 0


def print_rule_verdicts(console: Console, verdicts: list[dict[str, Any]]) -> None:
    console.print("[bold]rules[/bold] (highest priority first):")
    for v in verdicts:
        mark = ("[green]✓[/green]" if v["matched"] and v["available"] else
                "[yellow]✗ unavailable[/yellow]" if v["matched"] else "[dim]·[/dim]")
        console.print(f"  {mark} {v['rule']} ({v['priority']}) → {v['mode']}: "
                      f"{v['reasoning']}")


def cmd_export(args: argparse.Namespace) -> int:
    from scopeline.engine.cli.export import cmd_export as export

    return export(args)


def cmd_demo(args: argparse.Namespace) -> int:
    from scopeline.engine.demo.run import run_demo

    return run_demo(_console())


__all__ = ["cmd_demo", "cmd_export", "cmd_run", "cmd_sessions", "cmd_show", "cmd_why",
           "format_duration", "sys"]
