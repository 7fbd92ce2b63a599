"""Render a session's events as a call tree in the terminal (rich): one node per call."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from rich.text import Text
from rich.tree import Tree
from scopeline.engine.events import Event


@dataclass
class CallNode:
    entry: Event
    exit: Event | None = None
    children: list[CallNode] = field(default_factory=list)
    lines: list[Event] = field(default_factory=list)
    raised: list[Event] = field(default_factory=list)
    # hybrid: the injected half of this call, joined to the runtime half
    merged: list[Event] = field(default_factory=list)

    @property
    def join(self) -> dict[str, object] | None:
        """How the injected half was joined: strategy and confidence (hybrid only)."""
        for ev in self.merged:
            how = ev.metadata.get("correlation")
            if how:
                return {"strategy": how.get("strategy"), "confidence": how.get("confidence")}
        return {"strategy": "exact_keys", "confidence": 1.0} if self.merged else None

    @property
    def name(self) -> str:
        return self.entry.function

    @property
    def duration_ns(self) -> int | None:
        return self.exit.duration_ns if self.exit else None

    def shape(self) -> tuple[object, ...]:
        """What makes two sibling calls fold together: same function, same kind of ending."""
        return (self.entry.module, self.entry.function,
                self.exit.type if self.exit else None,
                tuple(c.shape() for c in self.children))


def build_forest(events: Iterable[Event]) -> dict[str, list[CallNode]]:
    """Calls grouped by thread name, in the order they started."""
    nodes: dict[str, CallNode] = {}
    roots: dict[str, list[CallNode]] = {}
    orphans: list[Event] = []
    for ev in sorted(events, key=lambda e: (e.sequence_number, e.monotonic_time)):
        half_of = _runtime_half(ev, nodes)
        if half_of is not None:  # hybrid: one node per call, whichever source saw what
            half_of.merged.append(ev)
            nodes[ev.event_id] = half_of  # what hangs under the injected half hangs here
            if ev.type == "function_entry" and not half_of.entry.data.get("arguments"):
                half_of.entry.data["arguments"] = ev.data.get("arguments", {})
            continue
        if ev.type == "function_entry":
            node = CallNode(ev)
            nodes[ev.event_id] = node
            parent = nodes.get(ev.parent_event_id or "")
            if parent is not None:
                parent.children.append(node)
            else:
                roots.setdefault(ev.thread_name or str(ev.thread_id), []).append(node)
        elif ev.type in ("function_exit", "function_exception") and ev.duration_ns is not None:
            node = nodes.get(ev.parent_event_id or "")
            if node is not None:
                node.exit = ev
        elif ev.type in ("line_execution", "variable_assignment", "expression_evaluation"):
            node = nodes.get(ev.parent_event_id or "")
            (node.lines if node else orphans).append(ev)
        elif ev.type == "function_exception":
            node = nodes.get(ev.parent_event_id or "")
            if node is not None:
                node.raised.append(ev)
    return roots


def _runtime_half(ev: Event, nodes: dict[str, CallNode]) -> CallNode | None:
    """The runtime call node an injected entry/exit belongs to, by exact keys or by the
    correlator's join (its correlation id names the runtime entry)."""
    if ev.source != "ast" or ev.type not in ("function_entry", "function_exit",
                                             "function_exception"):
        return None
    frame = ev.metadata.get("keys", {}).get("frame") or ev.metadata.get(
        "correlation", {}).get("runtime_event_id")
    node = nodes.get(frame) if frame else None
    return node if node is not None and node.entry.source == "runtime" else None


def _line_text(ev: Event) -> str:
    if ev.type == "variable_assignment":
        return f"line {ev.line}: {ev.data.get('variable_name')} = {ev.data.get('new_value')}"
    if ev.type == "expression_evaluation":
        return f"line {ev.line}: {ev.data.get('expression')} → {ev.data.get('value')}"
    locals_ = ", ".join(f"{k}={v}" for k, v in ev.data.get("locals", {}).items())
    return f"line {ev.line}: {locals_}"


def format_duration(ns: int | None) -> str:
    if ns is None:
        return "…running"
    if ns < 1_000:
        return f"{ns} ns"
    if ns < 1_000_000:
        return f"{ns / 1_000:.1f} µs"
    if ns < 1_000_000_000:
        return f"{ns / 1_000_000:.2f} ms"
    return f"{ns / 1_000_000_000:.2f} s"


def _call_text(node: CallNode, text: Text, name_style: str = "bold cyan") -> None:
    text.append(node.entry.function, style=name_style)
    args = node.entry.data.get("arguments", {})
    text.append("(")
    for i, (name, value) in enumerate(args.items()):
        if i:
            text.append(", ")
        text.append(f"{name}=", style="dim")
        text.append(value, style="yellow")
    text.append(")")
    if node.exit is None:
        text.append("  …no return seen", style="dim")
    elif node.exit.type == "function_exit":
        text.append(" → ", style="dim")
        text.append(node.exit.data.get("return_value", ""), style="green")
    else:
        text.append(" ✗ ", style="bold red")
        text.append(node.exit.data.get("exception", ""), style="red")


def _summary(node: CallNode) -> tuple[object, ...]:
    return (tuple(node.entry.data.get("arguments", {}).items()),
            node.exit.data if node.exit else None)


def call_label(node: CallNode, repeat: int = 1, total_ns: int | None = None,
               last: CallNode | None = None) -> Text:
    text = Text()
    _call_text(node, text)
    if repeat > 1:
        text.append(f"  ×{repeat}", style="bold magenta")
        text.append(f"  {format_duration(total_ns)} total", style="magenta")
        if last is not None and _summary(last) != _summary(node):
            text.append("  … last: ", style="dim")
            _call_text(last, text, name_style="cyan")
    else:
        text.append(f"  {format_duration(node.duration_ns)}", style="magenta")
    join = node.join
    if join is not None:
        text.append(f"  🔀 {join['strategy']} {float(join['confidence']):.2f}",  # type: ignore[arg-type]
                    style="dim")
    return text


Folded = tuple[CallNode, int, int | None, CallNode]


def _fold(children: list[CallNode]) -> list[Folded]:
    """Consecutive calls of the same shape become one line: first call, count, last call."""
    out: list[Folded] = []
    for child in children:
        if out and out[-1][0].shape() == child.shape() and not child.lines:
            first, count, total, _ = out[-1]
            total = (total or 0) + (child.duration_ns or 0)
            out[-1] = (first, count + 1, total, child)
        else:
            out.append((child, 1, child.duration_ns, child))
    return out


def add_calls(tree: Tree, children: list[CallNode], budget: list[int]) -> None:
    for node, repeat, total, last in _fold(children):
        if budget[0] <= 0:
            tree.add(Text("… more calls not shown", style="dim"))
            return
        budget[0] -= 1
        branch = tree.add(call_label(node, repeat, total, last))
        for raised in node.raised:
            branch.add(Text(f"raised at line {raised.line}: "
                            f"{raised.data.get('exception', '')}", style="red"))
        for line in node.lines[:20]:
            branch.add(Text(_line_text(line), style="dim"))
        if len(node.lines) > 20:
            branch.add(Text(f"… {len(node.lines) - 20} more lines", style="dim"))
        add_calls(branch, node.children, budget)


def render_tree(title: str, events: Iterable[Event], max_nodes: int = 300) -> Tree:
    root = Tree(Text(title, style="bold"))
    forest = build_forest(events)
    budget = [max_nodes]
    for thread, calls in forest.items():
        branch = root.add(Text(f"thread {thread}", style="bold blue"))
        add_calls(branch, calls, budget)
    if not forest:
        root.add(Text("no calls captured", style="dim"))
    return root
