"""The learned selector (seed §4.3, provider "local"): feedback in, advice out.

``train_with_feedback`` stores what happened when a mode was used on a target — successful,
failed, suboptimal — with the target's features (complexity bucket, size, loops, generator or
async, granularity, locals asked, call frequency, environment) in tinydb under the data dir.
``analyze_for_mode_selection`` finds the stored feedback for targets like the one at hand
(similar features), counts outcomes per mode and turns them into advice whose reason cites the
evidence: "hybrid was marked failed 3 of 4 times for functions like this (...)".
"""

from __future__ import annotations

import os
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from scopeline.engine.errors import ScopelineError
from scopeline.engine.selection.context import MODES, SelectionContext, build_context

OUTCOMES = ("successful", "failed", "suboptimal")
# How much each feature counts towards "a target like this" (the rest are details).
FEATURE_WEIGHTS = {"kind": 1, "complexity": 2, "size": 1, "loops": 1, "shape": 1,
                   "granularity": 2, "locals": 1, "frequency": 1, "environment": 1}
SIMILAR_AT = 0.75  # share of the feature weight that must agree
FULL_SUPPORT = 3  # records of a mode needed before its advice has full confidence
_COMPLEXITY_BUCKETS = ((1, 5), (6, 11), (12, 20), (21, None))
_SIZE_BUCKETS = ((1, 10), (11, 40), (41, 100), (101, None))
_NOUNS = {"function": "functions", "line": "line tracepoints", "module": "modules",
          "file": "modules", "thread": "threads"}
_lock = threading.Lock()


def _bucket(value: int, buckets: tuple[tuple[int, int | None], ...]) -> str:
    for lo, hi in buckets:
        if hi is None or value <= hi:
            return f"{lo}-{hi}" if hi is not None else f"{lo}+"
    return "?"


def features(ctx: SelectionContext) -> dict[str, str]:
    """The target's features as short words; equal words mean "alike" for that feature."""
    prof = ctx.profile
    if prof is None:
        loops, shape, size = "no loops", "plain", "0"
    else:
        loops = "nested loops" if prof.loop_depth > 1 else "loops" if prof.loop_depth else \
            "no loops"
        shape = "async" if prof.is_async else "generator" if prof.is_generator else "plain"
        size = _bucket(max(prof.size_lines, 1), _SIZE_BUCKETS)
    return {"kind": ctx.kind,
            "complexity": _bucket(max(ctx.complexity, 1), _COMPLEXITY_BUCKETS),
            "size": size, "loops": loops, "shape": shape, "granularity": ctx.granularity,
            "locals": "locals" if ctx.locals_asked else "no locals",
            "frequency": prof.frequency if prof is not None else "low",
            "environment": ctx.environment}


def describe(feats: dict[str, str]) -> str:
    """'functions like this (complexity 12-20, loops, line granularity)'."""
    parts = [f"complexity {feats.get('complexity', '?')}"]
    if feats.get("loops") != "no loops":
        parts.append(feats.get("loops", ""))
    if feats.get("shape") in ("async", "generator"):
        parts.append(feats["shape"])
    parts.append(f"{feats.get('granularity', '?')} granularity")
    if feats.get("locals") == "locals":
        parts.append("locals")
    if feats.get("frequency") == "high":
        parts.append("high frequency")
    noun = _NOUNS.get(feats.get("kind", ""), "targets")
    return f"{noun} like this ({', '.join(p for p in parts if p)})"


def similarity(a: dict[str, str], b: dict[str, str]) -> float:
    total = sum(FEATURE_WEIGHTS.values())
    same = sum(w for k, w in FEATURE_WEIGHTS.items() if a.get(k) == b.get(k))
    return round(same / total, 3)


# ------------------------------------------------------------------ storage


def db_path() -> Path:
    from scopeline.engine.store import default_data_dir

    return default_data_dir() / "selection" / "feedback.json"


def _table() -> Any:
    from scopeline.engine.store import AtomicJSONStorage
    from tinydb import TinyDB

    return TinyDB(str(db_path()), storage=AtomicJSONStorage).table("feedback")


def _context_of(context_or_target: Any, options: dict[str, Any]) -> SelectionContext:
    if isinstance(context_or_target, SelectionContext):
        return context_or_target
    from scopeline.engine.options import parse_options

    if hasattr(context_or_target, "session_id") and hasattr(context_or_target, "options"):
        # a TraceSession: its targets, with the options it ran with
        return build_context(context_or_target.targets, context_or_target.options)
    return build_context(context_or_target, parse_options(**options))


def train_with_feedback(context_or_target: Any, mode: str, outcome: str,
                        **options: Any) -> dict[str, Any]:
    """Record that ``mode`` on this target (a context, a target with trace options, or a
    session) turned out ``outcome``; later decisions for similar targets weigh it."""
    if mode not in MODES:
        raise ScopelineError("invalid_config", f"mode={mode!r} is not a mode",
                             details={"allowed": list(MODES)},
                             suggestions=[f"Use one of: {', '.join(MODES)}"])
    if outcome not in OUTCOMES:
        raise ScopelineError("invalid_config", f"outcome={outcome!r} is not an outcome",
                             details={"allowed": list(OUTCOMES)},
                             suggestions=[f"Use one of: {', '.join(OUTCOMES)}"])
    ctx = _context_of(context_or_target, options)
    record = {"target": ctx.target_text, "mode": mode, "outcome": outcome,
              "features": features(ctx), "recorded_at": time.time()}
    with _lock:
        _table().insert(record)
    return record


# The feedback table as last read, by path, with the file's (mtime_ns, size) then: a decision
# per function of a file reads it once, not once per function.
_read_memo: dict[str, tuple[tuple[int, int], list[Any]]] = {}


def _records() -> list[Any]:
    """The stored feedback in insertion order; re-read only when the file changed."""
    path = db_path()
    try:
        st = os.stat(path)
    except OSError:
        return []
    stamp = (st.st_mtime_ns, st.st_size)
    with _lock:
        memo = _read_memo.get(str(path))
        if memo is None or memo[0] != stamp:
            memo = (stamp, sorted(_table().all(), key=lambda r: r.doc_id))
            _read_memo[str(path)] = memo
    return memo[1]


def clear_feedback() -> None:
    with _lock:
        _table().truncate()


# ------------------------------------------------------------------ advice


@dataclass
class Advice:
    """What the feedback says about each mode for a target like this one."""

    used: bool  # whether the selector weighed in at all
    features: dict[str, str]
    described: str
    skipped: str = ""  # why it did not weigh in
    scanned: int = 0
    total: int = 0
    similar: int = 0
    counts: dict[str, dict[str, int]] = field(default_factory=dict)
    confidence: dict[str, float] = field(default_factory=dict)
    votes: dict[str, float] = field(default_factory=dict)  # -1..1, confident advice only
    statements: list[str] = field(default_factory=list)
    ignored: list[str] = field(default_factory=list)
    nearest: list[dict[str, Any]] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {"used": self.used, "skipped": self.skipped, "features": dict(self.features),
                "described": self.described, "scanned": self.scanned, "total": self.total,
                "similar": self.similar, "counts": {m: dict(c) for m, c in self.counts.items()},
                "confidence": dict(self.confidence), "votes": dict(self.votes),
                "statements": list(self.statements), "ignored": list(self.ignored),
                "nearest": [dict(n) for n in self.nearest], "warnings": list(self.warnings)}


def _off_reason(ctx: SelectionContext) -> tuple[str, list[str]]:
    s = ctx.settings
    if not s["enable_ai_mode_selection"]:
        return "feature flag enable_ai_mode_selection is off", []
    if not s["ai_enabled"]:
        return "ai.mode_selection.enabled is false", []
    if s["ai_provider"] != "local":
        return "", [f"ai.mode_selection.provider={s['ai_provider']!r} is not available (only "
                    "'local', the built-in learned selector, is): feedback was not consulted"]
    return "", []


def analyze_for_mode_selection(ctx: SelectionContext) -> Advice:
    """Nearest feedback for targets like ``ctx``, counted per mode and outcome."""
    feats = features(ctx)
    advice = Advice(False, feats, describe(feats))
    off, warnings = _off_reason(ctx)
    if off or warnings:
        advice.skipped, advice.warnings = off or warnings[0], warnings
        return advice
    if not db_path().exists():
        advice.skipped = "no feedback recorded yet"
        return advice
    timeout_ms = ctx.settings["ai_timeout_ms"]
    deadline = time.monotonic() + timeout_ms / 1000 if timeout_ms else None
    records = _records()
    advice.total = len(records)
    near: list[tuple[float, int, dict[str, Any]]] = []
    for record in records:
        if deadline is not None and time.monotonic() > deadline:
            advice.warnings.append(
                f"the learned selector stopped after {advice.scanned} of {advice.total} "
                f"feedback records (ai.mode_selection.analysis_timeout_ms = {timeout_ms})")
            break
        advice.scanned += 1
        sim = similarity(feats, record.get("features", {}))
        if sim >= SIMILAR_AT and record.get("mode") in MODES and \
                record.get("outcome") in OUTCOMES:
            near.append((sim, record.doc_id, record))
    advice.similar = len(near)
    for _, _, record in near:
        per_mode = advice.counts.setdefault(record["mode"], dict.fromkeys(OUTCOMES, 0))
        per_mode[record["outcome"]] += 1
    near.sort(key=lambda t: (-t[0], -t[1]))
    advice.nearest = [{"target": r.get("target"), "mode": r["mode"], "outcome": r["outcome"],
                       "similarity": sim} for sim, _, r in near[:3]]
    _advise(ctx, advice)
    return advice


def _advise(ctx: SelectionContext, advice: Advice) -> None:
    threshold = ctx.settings["ai_confidence_threshold"]
    for mode in MODES:
        counts = advice.counts.get(mode)
        if not counts:
            continue
        n = sum(counts.values())
        # successful counts for a mode, failed against it, suboptimal half against it
        net = counts["successful"] - counts["failed"] - 0.5 * counts["suboptimal"]
        # the outcome most reported, and how consistently and often it was reported
        top = max(OUTCOMES, key=lambda o: (counts[o], -OUTCOMES.index(o)))
        confidence = round(counts[top] / n * min(1.0, n / FULL_SUPPORT), 2)
        advice.confidence[mode] = confidence
        statement = f"{mode} was marked {top} {counts[top]} of {n} times for {advice.described}"
        if confidence < threshold:
            advice.ignored.append(f"{statement}: confidence {confidence:.2f} is below "
                                  f"ai.mode_selection.confidence_threshold {threshold}, "
                                  "so it was not weighed")
            continue
        advice.votes[mode] = round(net / n * min(1.0, n / FULL_SUPPORT), 3)
        advice.statements.append(statement)
    advice.used = bool(advice.votes)
    if not advice.used:
        advice.skipped = ("no feedback for targets like this" if not advice.counts else
                          "feedback for targets like this is below the confidence threshold")
