"""The four scored strategies, for what exact keys cannot join.

Each takes the unjoined events of two sources (the first is the runtime side) and proposes
joins with a confidence below 1; the correlator keeps those at or above the threshold. All
three call strategies are bounded by the correlation window (raw distance between the two
events' timestamps) and keep order: both sources see one thread's calls of one function in
the same order.

* ``timestamp_window`` — groups by (function, event type, thread); estimates the offset
  between the two sources' clocks per group (median of rank-aligned differences, the pooled
  estimate for small groups) and aligns by order, with times deciding where any gaps are.
  Confidence falls with the residual after the offset, the raw distance and the gaps.
* ``call_stack_matching`` — groups by (function, event type, line) and joins in order those
  whose call stacks agree; confidence is the stack similarity.
* ``thread_correlation`` (the seed's process correlation) — groups by (function, event type,
  thread *name*, so it works across processes) and joins by order alone.
* ``message_sequence`` — message events without a shared id: per queue, sends and receives
  in order (FIFO), a receive never before its send. Not bounded by the window: a message may
  wait in a queue for as long as it likes.
"""

from __future__ import annotations

import itertools
from collections import defaultdict
from collections.abc import Callable, Hashable, Iterable
from dataclasses import dataclass, field
from typing import Any

from scopeline.engine.correlation.align import (
    candidate_shifts,
    crowd,
    gap_distances,
    monotone_match,
    pairs_at_shift,
    robust_center,
)
from scopeline.engine.correlation.confidence import (
    SCORED_MAX,
    content_agreement,
    content_factor,
    stack_similarity,
    thread_agreement,
    time_closeness,
)
from scopeline.engine.correlation.model import CorrelationConfig, message_id
from scopeline.engine.events import Event

MIN_SIGMA_NS = 2_000  # no clock is trusted to better than a couple of microseconds
OWN_OFFSET_MIN = 5  # a group estimates its own offset from this many pairs; else the pooled one
MAX_CROWD_FOR_GAPS = 32  # events within 2 sigma beyond which times cannot place a gap
MAX_GAP_BAND = 256  # more events missing on one side than this: one block, not scattered gaps


@dataclass
class Join:
    first: Event  # the runtime side, or the send
    second: Event
    confidence: float
    strategy: str
    detail: dict[str, Any] = field(default_factory=dict)


def _ordered(events: Iterable[Event]) -> list[Event]:
    return sorted(events, key=lambda e: e.sequence_number)  # stable: arrival order for ties


def _groups(first: list[Event], second: list[Event], key: Callable[[Event], Hashable],
            ) -> list[tuple[list[Event], list[Event]]]:
    a: dict[Hashable, list[Event]] = defaultdict(list)
    b: dict[Hashable, list[Event]] = defaultdict(list)
    for e in first:
        a[key(e)].append(e)
    for e in second:
        b[key(e)].append(e)
    return [(_ordered(a[k]), _ordered(b[k])) for k in a if k in b]


def _thread_key(first: list[Event], second: list[Event]) -> Callable[[Event], Hashable]:
    """By thread name when names and ids map one to one on each side (names then say the
    same as ids, and also hold across processes and runs); else by thread id."""
    for side in (first, second):
        pairs = {(e.thread_id, e.thread_name) for e in side}
        if len(pairs) != len({i for i, _ in pairs}) or len(pairs) != len({n for _, n in pairs}):
            return lambda e: e.thread_id
    return lambda e: e.thread_name


def _disagree(e1: Event, e2: Event) -> bool:
    agreement = content_agreement(e1, e2)
    return agreement is not None and agreement < 1.0


# -- timestamp_window ---------------------------------------------------------------------------
def timestamp_window(first: list[Event], second: list[Event], cfg: CorrelationConfig, *,
                     cutoff: dict[str, int] | None = None) -> list[Join]:
    """``cutoff`` (source -> timestamp): a settle mid-stream, more events will come. Then
    both sides are taken as aligned at their start (earlier settles took pairs off both
    equally) and ragged at their end (not arrived yet), and per group only the unbroken run
    of pairs from the start that are older than the cutoff, confident and in agreement is
    proposed, so the next settle again starts aligned. The rest waits for the flush."""
    window = cfg.window_ns
    thread = _thread_key(first, second)
    groups = _groups(first, second, lambda e: (e.qualified_name, e.type, thread(e)))
    options = [_shift_options(r, a, window) for r, a in groups]
    if cutoff is not None:
        options = [[o for o in opts if o.shift == 0] for opts in options]
    # Groups with equal counts are not in doubt about their alignment: their offset is the
    # reference the others' choice of alignment must agree with. A periodic sequence shifted
    # by some calls looks the same as one missing its first calls; without a reference, the
    # clocks are taken to agree.
    sure = [d for opts in options if len(opts) == 1 for d in opts[0].diffs]
    reference = robust_center(sure)[0] if sure else 0.0
    chosen = [min(opts, key=lambda o: (round(o.misplaced, 1), -len(o.diffs),
                                       abs(o.center - reference))) for opts in options]
    pooled = sure if len(sure) >= 3 else [d for o in chosen for d in o.diffs]
    if len(pooled) >= 3:
        theta_all, sigma_all = robust_center(pooled)
    else:  # too few to estimate an offset: trust the clocks as they are
        theta_all, sigma_all = 0.0, 0.0
    sigma_all = max(sigma_all, MIN_SIGMA_NS)
    joins: list[Join] = []
    for (r, a), option in zip(groups, chosen, strict=True):
        own = len(option.diffs) >= OWN_OFFSET_MIN
        theta, sigma = (option.center, option.sigma) if own else (theta_all, sigma_all)
        found = _align_by_time(r, a, theta, max(sigma, MIN_SIGMA_NS), own, option.shift,
                               window, live=cutoff is not None)
        if cutoff is not None:
            found = list(itertools.takewhile(lambda j: _settled(j, cutoff, cfg), found))
        joins += found
    return joins


def _settled(join: Join, cutoff: dict[str, int], cfg: CorrelationConfig) -> bool:
    return (join.confidence >= cfg.confidence_threshold and not _disagree(join.first,
                                                                          join.second)
            and all(e.timestamp <= cutoff.get(e.source, 0) for e in (join.first, join.second)))


@dataclass
class _Shift:
    """One candidate alignment of a group: its in-window differences and their centre."""

    shift: int
    diffs: list[float]
    center: float = 0.0
    sigma: float = 0.0
    misplaced: float = 0.0  # share of the events it leaves out that sit inside the other's span


def _shift_options(r: list[Event], a: list[Event], window: int) -> list[_Shift]:
    out = []
    for shift in candidate_shifts(len(r), len(a)):
        pairs = pairs_at_shift(len(r), len(a), shift)
        option = _Shift(shift, [d for i, j in pairs
                                if abs(d := a[j].timestamp - r[i].timestamp) <= window])
        if option.diffs:
            option.center, option.sigma = robust_center(option.diffs)
            option.misplaced = _misplaced(r, a, pairs, option.center,
                                          max(option.sigma, MIN_SIGMA_NS))
        else:
            option.misplaced = 1.0
        out.append(option)
    return out


def _misplaced(r: list[Event], a: list[Event], pairs: list[tuple[int, int]], theta: float,
               sigma: float) -> float:
    """A block of events missing from one side lies, once the offset is taken out, before the
    other side's first event (an attach) or after its last (a detach, or not arrived yet).
    The share of left-out events that sit inside the other side's span instead."""
    if not pairs:
        return 1.0
    misplaced = total = 0
    for mine, other, lo, hi, sign in ((r, a, pairs[0][0], pairs[-1][0], 1),
                                      (a, r, pairs[0][1], pairs[-1][1], -1)):
        start = min(e.timestamp for e in other) - sign * theta
        end = max(e.timestamp for e in other) - sign * theta
        for k in range(lo):
            misplaced += mine[k].timestamp > start + 2 * sigma
        for k in range(hi + 1, len(mine)):
            misplaced += mine[k].timestamp < end - 2 * sigma
        total += lo + len(mine) - hi - 1
    return misplaced / total if total else 0.0


def _align_by_time(r: list[Event], a: list[Event], theta: float, sigma: float, own: bool,
                   shift: int, window: int, *, live: bool = False) -> list[Join]:
    """Pair ``r`` with ``a`` in order. How each pair can be trusted depends on its *crowd*:
    how many events of ``a`` lie within two sigmas of where its partner should be. Order pins
    a pair in a crowd only if no gap is nearer than the crowd is wide: a gap's position is
    only known to within the crowd."""
    n, m = len(r), len(a)
    a_times = sorted(e.timestamp for e in a)
    crowds = [max(0, crowd(a_times, e.timestamp + theta, 2 * sigma) - 1) for e in r]
    typical = sorted(crowds)[n // 2]
    if live:  # aligned at the start, ragged at the end: see timestamp_window
        how, pairs = "live", [(k, k) for k in range(min(n, m))]
    elif n == m and all(abs(a[k].timestamp - r[k].timestamp) <= window
                      and not _disagree(r[k], a[k]) for k in range(n)):
        how, pairs = "diagonal", [(k, k) for k in range(n)]
    elif typical <= MAX_CROWD_FOR_GAPS and abs(n - m) <= MAX_GAP_BAND:
        # sparse enough for times to place the gaps
        def score(i: int, j: int) -> float | None:
            raw = a[j].timestamp - r[i].timestamp
            if abs(raw) > window:
                return None
            z = (raw - theta) / sigma
            return content_factor(r[i], a[j]) / (1.0 + z * z)

        how, pairs = "gapped", monotone_match(n, m, score)
    else:  # too crowded to place gaps by time: one block missing at the start or end
        how, pairs = "shifted", [(i, j) for i, j in pairs_at_shift(n, m, shift)
                                 if abs(a[j].timestamp - r[i].timestamp) <= window]
    # values that disagree along the alignment mean it is off somewhere: trust all of it less
    agreements = [x for i, j in pairs if (x := content_agreement(r[i], a[j])) is not None]
    trust = sum(agreements) / len(agreements) if agreements else 1.0
    r_gap = gap_distances(n, {i for i, _ in pairs})
    a_gap = gap_distances(m, {j for _, j in pairs})
    out = []
    for i, j in pairs:
        raw = a[j].timestamp - r[i].timestamp
        residual = raw - theta
        nearest_gap = min(r_gap[i], a_gap[j])
        pinned = 1.0 if nearest_gap > crowds[i] else 0.4 + 0.6 * nearest_gap / (crowds[i] + 1)
        confidence = (SCORED_MAX * time_closeness(residual, window)
                      * (1 - 0.2 * abs(raw) / window)
                      * (1 - 0.1 * min(1.0, abs(residual) / (4 * sigma)))
                      * pinned * trust * (1.0 if own else 0.95)
                      * content_factor(r[i], a[j]))
        out.append(Join(r[i], a[j], round(confidence, 6), "timestamp_window", {
            "offset_ms": round(theta / 1e6, 6), "residual_ms": round(residual / 1e6, 6),
            "aligned": how, "shift": shift, "crowd": crowds[i], "group": [n, m]}))
    return out


# -- call_stack_matching ------------------------------------------------------------------------
def call_stack_matching(first: list[Event], second: list[Event], cfg: CorrelationConfig,
                        ) -> list[Join]:
    window = cfg.window_ns
    out: list[Join] = []
    for r, a in _groups(first, second, lambda e: (e.qualified_name, e.type, e.line)):
        def score(i: int, j: int, r: list[Event] = r, a: list[Event] = a) -> float | None:
            if abs(a[j].timestamp - r[i].timestamp) > window:
                return None
            similarity = stack_similarity(r[i].call_stack, a[j].call_stack)
            if not similarity:
                return None
            # time only breaks ties between calls with equal stacks
            return similarity * (1 - 0.01 * abs(a[j].timestamp - r[i].timestamp) / window)

        if abs(len(r) - len(a)) <= MAX_GAP_BAND:
            pairs = monotone_match(len(r), len(a), score)
        else:  # one block missing, not scattered gaps: in order from the start
            pairs = [(k, k) for k in range(min(len(r), len(a))) if score(k, k) is not None]
        order = 1.0 if len(r) == len(a) == len(pairs) else 0.6  # counts disagree: order unsure
        for i, j in pairs:
            raw = a[j].timestamp - r[i].timestamp
            similarity = stack_similarity(r[i].call_stack, a[j].call_stack)
            confidence = (SCORED_MAX * 0.95 * similarity * order * (1 - 0.3 * abs(raw) / window)
                          * content_factor(r[i], a[j]))
            out.append(Join(r[i], a[j], round(confidence, 6), "call_stack_matching",
                            {"stack_similarity": round(similarity, 6), "group": [len(r), len(a)]}))
    return out


# -- thread_correlation -------------------------------------------------------------------------
def thread_correlation(first: list[Event], second: list[Event], cfg: CorrelationConfig,
                       ) -> list[Join]:
    window = cfg.window_ns
    out: list[Join] = []
    for r, a in _groups(first, second, lambda e: (e.qualified_name, e.type, e.thread_name)):
        order = 1.0 if len(r) == len(a) else 0.6  # k-th with k-th is only sure for equal counts
        for k in range(min(len(r), len(a))):
            raw = a[k].timestamp - r[k].timestamp
            if abs(raw) > window:
                continue
            confidence = (SCORED_MAX * 0.9 * order * (1 - 0.3 * abs(raw) / window)
                          * max(0.8, thread_agreement(r[k], a[k])) * content_factor(r[k], a[k]))
            out.append(Join(r[k], a[k], round(confidence, 6), "thread_correlation",
                            {"rank": k, "group": [len(r), len(a)]}))
    return out


# -- message_sequence ---------------------------------------------------------------------------
def message_sequence(events: list[Event], cfg: CorrelationConfig) -> list[Join]:
    """Sends and receives with no shared id: FIFO per queue."""
    sends: dict[Any, list[Event]] = defaultdict(list)
    receives: dict[Any, list[Event]] = defaultdict(list)
    for e in events:
        target = sends if e.type == "message_send" else receives
        target[e.data.get("queue")].append(e)
    out: list[Join] = []
    for queue, s_list in sends.items():
        r_list = receives.get(queue, [])
        s_list.sort(key=lambda e: (e.timestamp, e.sequence_number))
        r_list.sort(key=lambda e: (e.timestamp, e.sequence_number))
        order = 1.0 if len(s_list) == len(r_list) else 0.6
        for send, receive in zip(s_list, r_list, strict=False):
            ids = message_id(send), message_id(receive)
            if None not in ids and ids[0] != ids[1]:
                continue  # two different messages, by their own ids
            if receive.timestamp < send.timestamp:
                continue
            same = send.data.get("value") == receive.data.get("value")
            confidence = SCORED_MAX * 0.9 * order * (1.0 if same else 0.5)
            out.append(Join(send, receive, round(confidence, 6), "message_sequence",
                            {"queue": queue, "assumes": "FIFO"}))
    return out


CALL_STRATEGIES: dict[str, Callable[..., list[Join]]] = {
    "timestamp_window": timestamp_window,
    "call_stack_matching": call_stack_matching,
    "thread_correlation": thread_correlation,
}
