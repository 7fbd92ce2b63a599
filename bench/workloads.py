"""The traced programs. Kept free of benchmark machinery so tracers see only user-like code."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

TRACEPOINT_MARKER = "# <- tracepoint"


# -- case (a): ordinary code that nobody traces -----------------------------------------------
class Account:
    def __init__(self, owner: str) -> None:
        self.owner = owner
        self.balance = 0

    def deposit(self, amount: int) -> int:
        self.balance += amount
        return self.balance


def word_counts(words: list[str]) -> dict[str, int]:
    counts: dict[str, int] = {}
    for word in words:
        counts[word] = counts.get(word, 0) + 1
    return counts


def fib(n: int) -> int:
    return n if n < 2 else fib(n - 1) + fib(n - 2)


def normalise(values: list[float]) -> list[float]:
    top = max(values) or 1.0
    return [v / top for v in values]


def ledger(rounds: int) -> int:
    accounts = {name: Account(name) for name in ("ann", "bob", "cy", "dee")}
    total = 0
    for i in range(rounds):
        total += accounts[("ann", "bob", "cy", "dee")[i % 4]].deposit(i % 7)
    return total


def mixed_workload(rounds: int = 230) -> int:
    """Loops, dict/list work, small calls and recursion; ~0.3 s at the default on CPython 3.11."""
    words = [f"w{i % 97}" for i in range(2_000)]
    checksum = 0
    for _ in range(rounds):
        checksum += len(word_counts(words))
        checksum += sum(int(x * 10) for x in normalise([float(i % 13) for i in range(1_000)]))
        checksum += sorted(words, key=len)[0].__len__()
        checksum += ledger(2_000)
        checksum += fib(14)
    return checksum


# -- case (b): one small hot function --------------------------------------------------------
def hot(a: int, b: int) -> int:
    return a + b


def call_loop(fn: Callable[[int, int], int], n: int) -> int:
    # The callee is a parameter so decorated peers (snoop, pysnooper, the plain wrapper) run
    # through the very same loop as the in-place tracers.
    total = 0
    for i in range(n):
        total = fn(i, 1)
    return total


# -- case (c): a line tracepoint in a loop -----------------------------------------------------
def loop(n: int) -> int:
    acc = 0
    for i in range(n):
        acc += i * i  # <- tracepoint
    return acc


def tracepoint_line() -> int:
    """The line number of the tracepoint line, found by its marker so edits cannot skew it."""
    for number, text in enumerate(Path(__file__).read_text().splitlines(), start=1):
        if text.rstrip().endswith(TRACEPOINT_MARKER) and "acc +=" in text:
            return number
    raise LookupError("tracepoint marker not found in workloads.py")
