"""A large, realistic Python file for the code-lens benchmark (``bench/lenses.py``).

``generate(lines)`` writes a module of about ``lines`` lines in the shapes editors show: plain
functions with loops and branches, classes with methods, properties, static and class methods,
functools caches, nested helper functions, generators, async functions, try/except, while
loops, and call sites inside loops (so the static call-frequency estimate has work to do).
Deterministic: the same ``lines`` and ``seed`` give the same text.
"""

from __future__ import annotations

import random

HEADER = '''"""Generated for bench/lenses.py: an order-processing module of the usual shapes."""

from __future__ import annotations

import asyncio
import functools
import math
from dataclasses import dataclass, field

RATE = 0.2
LIMIT = 1_000

'''


def _function(r: random.Random, name: str, callees: list[str]) -> list[str]:
    callee = r.choice(callees) if callees else "abs"
    out = [f"def {name}(items, threshold=10, scale=1.0):",
           f'    """Sum what passes the threshold in {name}.',
           "",
           "    Items under the threshold count as themselves, negative or repeated items",
           "    take one off, and the total is halved while it is over the limit.",
           '    """',
           "    if not items:",
           "        return 0",
           "    if threshold < 0:",
           "        raise ValueError(f'threshold {threshold} < 0')",
           "    total = 0",
           "    seen = set()",
           "    for i, item in enumerate(items):",
           "        if item is None:",
           "            continue",
           "        if item > threshold and i % 2 == 0:",
           f"            total += {callee}(item) * scale",
           "        elif item < 0 or item in seen:",
           "            total -= 1",
           "        else:",
           "            total += item",
           "        seen.add(item)"]
    if r.random() < 0.4:
        out += ["        for j in range(3):",
                "            if (item + j) % 7 == 0:",
                "                total += j",
                "            while total > LIMIT:",
                "                total //= 2"]
    if r.random() < 0.5:
        out += ["    counts = {}",
                "    for item in items:",
                "        key = 'big' if item and item > threshold else 'small'",
                "        counts[key] = counts.get(key, 0) + 1",
                "    if counts.get('big', 0) > counts.get('small', 0):",
                "        total = total * 2"]
    if r.random() < 0.5:
        out += ["    try:",
                "        ratio = total / len(items)",
                "    except ZeroDivisionError:",
                "        ratio = 0.0",
                "    return total, ratio"]
    else:
        out += ["    return total"]
    return out


def _nested(r: random.Random, name: str) -> list[str]:
    return [f"def {name}(words, prefix=''):",
            f'    """Format words; {name} keeps its helpers inside."""',
            "    def clean(word):",
            "        word = word.strip()",
            "        if not word:",
            "            return None",
            "        return word.lower() if len(word) > 3 else word",
            "",
            "    def tag(word, n):",
            "        def mark(text):",
            "            return f'[{text}]'",
            "        return mark(prefix + word) if n % 2 else prefix + word",
            "",
            "    out = []",
            "    for n, word in enumerate(words):",
            "        cleaned = clean(word)",
            "        if cleaned is not None:",
            "            out.append(tag(cleaned, n))",
            "    return ', '.join(out)"]


def _generator(r: random.Random, name: str) -> list[str]:
    return [f"def {name}(rows, size={r.randint(2, 9)}):",
            f'    """Yield {name} batches."""',
            "    batch = []",
            "    for row in rows:",
            "        batch.append(row)",
            "        if len(batch) >= size:",
            "            yield batch",
            "            batch = []",
            "    if batch:",
            "        yield batch"]


def _async(r: random.Random, name: str) -> list[str]:
    return [f"async def {name}(urls, retries=3):",
            f'    """Fetch everything in {name}, retrying."""',
            "    results = {}",
            "    for url in urls:",
            "        for attempt in range(retries):",
            "            try:",
            "                await asyncio.sleep(0)",
            "                results[url] = len(url) * attempt",
            "                break",
            "            except OSError:",
            "                continue",
            "    return results"]


def _class(r: random.Random, name: str, callees: list[str]) -> list[str]:
    helper = r.choice(callees) if callees else "abs"
    out = ["@dataclass",
           f"class {name}:",
           f'    """A record kept by {name.lower()}."""',
           "",
           "    name: str",
           "    amount: float = 0.0",
           "    tags: list = field(default_factory=list)",
           "",
           "    @property",
           "    def label(self):",
           "        return f'{self.name}:{self.amount:.2f}'",
           "",
           "    @staticmethod",
           "    def parse(text):",
           "        name, _, amount = text.partition('=')",
           "        try:",
           "            return float(amount or 0)",
           "        except ValueError:",
           "            return 0.0",
           "",
           "    @classmethod",
           "    def from_pairs(cls, pairs):",
           "        return [cls(k, v) for k, v in pairs if v is not None]",
           "",
           "    @functools.lru_cache(maxsize=128)",
           "    def weight(self, factor):",
           "        return math.sqrt(abs(self.amount)) * factor",
           "",
           "    def apply(self, rules):",
           "        for rule in rules:",
           "            if rule.get('kind') == 'discount':",
           f"                self.amount -= {helper}(rule.get('value', 0))",
           "            elif rule.get('kind') == 'tax':",
           "                self.amount *= 1 + RATE",
           "            elif rule.get('kind') == 'tag' and rule.get('value'):",
           "                self.tags.append(rule['value'])",
           "            else:",
           "                continue",
           "        return self",
           "",
           "    def __eq__(self, other):",
           "        return isinstance(other, type(self)) and self.name == other.name",
           "",
           "    def __hash__(self):",
           "        return hash(self.name)",
           "",
           "    def summary(self):",
           "        parts = [self.label]",
           "        for tag in self.tags:",
           "            parts.append(tag.upper())",
           "        return ' '.join(parts)"]
    return out


def _driver(r: random.Random, name: str, callees: list[str]) -> list[str]:
    picked = r.sample(callees, min(3, len(callees))) if callees else ["abs"]
    out = [f"def {name}(batches):",
           f'    """Run the pipeline over every batch ({name})."""',
           "    results = []",
           "    for batch in batches:"]
    out += [f"        results.append({c}(batch))" for c in picked]
    out += ["    return results"]
    return out


def generate(lines: int = 5_000, seed: int = 4) -> str:
    """Python source of about ``lines`` lines (never fewer)."""
    r = random.Random(seed)
    body: list[str] = HEADER.splitlines()
    plain: list[str] = []
    n = 0
    while len(body) < lines:
        n += 1
        kind = r.choices(["function", "nested", "generator", "async", "class", "driver"],
                         weights=[10, 1, 2, 1, 1, 2])[0]
        if kind == "function":
            name = f"compute_{n}"
            block = _function(r, name, plain[-20:])
            plain.append(name)
        elif kind == "nested":
            block = _nested(r, f"render_{n}")
        elif kind == "generator":
            block = _generator(r, f"batches_{n}")
        elif kind == "async":
            block = _async(r, f"fetch_{n}")
        elif kind == "class":
            block = _class(r, f"Order{n}", plain[-20:])
        else:
            block = _driver(r, f"run_{n}", plain[-30:])
        body += block + ["", ""]
    return "\n".join(body) + "\n"


if __name__ == "__main__":
    import sys

    sys.stdout.write(generate(int(sys.argv[1]) if len(sys.argv) > 1 else 5_000))
