"""Turn raw samples into medians and ratios, and print them as plain-text tables."""

from __future__ import annotations

from dataclasses import asdict, dataclass
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


def summarise(case: Case, samples: dict[str, list[Sample]], errors: dict[str, str]) -> list[Row]:
    base = samples.get("baseline", [])
    base_variant = case.variant("baseline")
    base_unit = (median(s.seconds for s in base) / base_variant.size * case.unit_size
                 if base else None)
    _, factor = _scale(case)
    rows = []
    for variant in sorted(case.variants, key=lambda v: GROUP_ORDER[v.group]):
        rows.append(_row(case, variant, samples.get(variant.key, []), base_unit, factor,
                         errors.get(variant.key)))
    return rows


def _row(case: Case, variant: Variant, got: list[Sample], base_unit: float | None,
         factor: float, error: str | None) -> Row:
    row = Row(variant.key, variant.label, variant.group, variant.size,
              [s.seconds for s in got])
    if variant.arm is None:
        row.note = variant.note
        return row
    if not got:
        row.note = f"ERROR: {error or 'no samples'}"
        return row
    row.median_s = median(s.seconds for s in got)
    stop_s = median(s.stop_seconds for s in got)
    row.stop_ms = stop_s * 1e3
    unit = row.median_s / variant.size * case.unit_size
    if base_unit:
        row.ratio = unit / base_unit
        row.added = (unit - base_unit) * factor
        with_stop = (row.median_s + stop_s) / variant.size * case.unit_size
        row.ratio_with_stop = with_stop / base_unit
    last = got[-1]
    row.captured = last.captured
    if variant.group != "baseline":
        row.expected = 0 if case.key == "a" else variant.size
    notes = [last.detail] if last.detail else []
    if variant.size != case.variant("baseline").size:
        notes.append(f"N={variant.size:,}, scaled")
    if error:
        notes.append(f"{len(got)} ok, some failed: {error}")
    row.note = "; ".join(notes)
    return row


def _num(value: float | None, fmt: str) -> str:
    return "-" if value is None else format(value, fmt)


def format_table(case: Case, rows: list[Row]) -> str:
    scale, _ = _scale(case)
    head = (f"{'group':<10} {'variant':<52} {'median s':>9} {'ratio':>8} "
            f"{'+' + scale + '/' + case.unit[:10]:>14} {'stop ms':>9} {'ratio+stop':>10} "
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
