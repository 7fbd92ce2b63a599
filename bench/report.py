"""Turn raw samples into medians and ratios, and print them as plain-text tables."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from statistics import median
from typing import Any

from cases import Case, Variant

GROUP_ORDER = {"baseline": 0, "reference": 1, "scopeline": 2, "peer": 3}


@dataclass
class Sample:
    seconds: float
    stop_seconds: float
    captured: int | None
    detail: str


Pair = tuple[Sample, Sample]  # (the baseline run just before, the variant run)


@dataclass
class Collected:
    baselines: list[Sample] = field(default_factory=list)
    pairs: dict[str, list[Pair]] = field(default_factory=dict)
    errors: dict[str, str] = field(default_factory=dict)


@dataclass
class Row:
    key: str
    label: str
    group: str
    size: int
    samples: list[float]
    median_s: float | None = None
    ratio: float | None = None
    added: float | None = None  # per unit, in the case's display scale (µs or ms)
    stop_ms: float | None = None
    ratio_with_stop: float | None = None
    captured: int | None = None
    expected: int | None = None
    note: str = ""


def _scale(case: Case) -> tuple[str, float]:
    # Case (a)'s unit is a whole 0.3 s workload run: milliseconds read better there.
    return ("ms", 1e3) if case.unit_size > 1 else ("µs", 1e6)


def summarise(case: Case, got: Collected) -> list[Row]:
    rows = []
    for variant in sorted(case.variants, key=lambda v: GROUP_ORDER[v.group]):
        if variant.key == "baseline":
            rows.append(_baseline_row(case, variant, got))
        else:
            rows.append(_row(case, variant, got.pairs.get(variant.key, []),
                             got.errors.get(variant.key)))
    return rows


def _baseline_row(case: Case, variant: Variant, got: Collected) -> Row:
    row = Row(variant.key, variant.label, variant.group, variant.size,
              [s.seconds for s in got.baselines])
    if not got.baselines:
        row.note = f"ERROR: {got.errors.get('baseline', 'no samples')}"
        return row
    row.median_s = median(row.samples)
    row.ratio = row.ratio_with_stop = 1.0
    row.note = f"{len(row.samples)} runs (one before each variant run)"
    return row


def _row(case: Case, variant: Variant, pairs: list[Pair], error: str | None) -> Row:
    row = Row(variant.key, variant.label, variant.group, variant.size,
              [v.seconds for _, v in pairs])
    if variant.arm is None:
        row.note = variant.note
        return row
    if not pairs:
        row.note = f"ERROR: {error or 'no samples'}"
        return row
    base_size = case.variant("baseline").size
    _, factor = _scale(case)
    # Ratios and added cost come from each run and the baseline run just before it (medians of
    # those), so a machine that speeds up or slows down during the benchmark skews both alike.
    ratios, added, with_stop = [], [], []
    for base, run in pairs:
        base_unit = base.seconds / base_size
        unit = run.seconds / variant.size
        ratios.append(unit / base_unit)
        added.append((unit - base_unit) * case.unit_size * factor)
        with_stop.append((run.seconds + run.stop_seconds) / variant.size / base_unit)
    row.median_s = median(row.samples)
    row.ratio, row.added, row.ratio_with_stop = median(ratios), median(added), median(with_stop)
    row.stop_ms = median(r.stop_seconds for _, r in pairs) * 1e3
    last = pairs[-1][1]
    row.captured = last.captured
    row.expected = 0 if case.key == "a" else variant.size
    notes = [last.detail] if last.detail else []
    if variant.size != base_size:
        notes.append(f"N={variant.size:,}, scaled")
    if error:
        notes.append(f"{len(pairs)} ok, failed: {error}")
    row.note = "; ".join(notes)
    return row


def _num(value: float | None, fmt: str) -> str:
    return "-" if value is None else format(value, fmt)


def format_table(case: Case, rows: list[Row]) -> str:
    scale, _ = _scale(case)
    head = (f"{'group':<10} {'variant':<52} {'median s':>9} {'ratio':>8} "
            f"{'+' + scale + '/' + case.unit:>14} {'stop ms':>9} {'ratio+stop':>10} "
            f"{'captured':>17}  notes")
    lines = [case.title, head, "-" * len(head)]
    for r in rows:
        captured = "" if r.captured is None else (
            f"{r.captured:,}" + ("" if r.expected is None else f"/{r.expected:,}"))
        lines.append(
            f"{r.group:<10} {r.label[:52]:<52} {_num(r.median_s, '.4f'):>9} "
            f"{_num(r.ratio, '.2f'):>8} {_num(r.added, ',.2f'):>14} "
            f"{_num(r.stop_ms, ',.1f'):>9} {_num(r.ratio_with_stop, '.2f'):>10} "
            f"{captured:>17}  {r.note}")
    return "\n".join(lines)


def as_json(rows: list[Row]) -> list[dict[str, Any]]:
    return [asdict(r) for r in rows]
