"""Order-preserving matching of two event sequences, and a robust clock-offset estimate.

Both sources see one thread's calls of one function in the same order, so a join between them
is a *monotone* matching: if runtime call i joins injected call j, runtime call i+1 can only
join something after j. When both sides hold the same number of events the matching is the
diagonal; when one side lost events (before an attach, sampling, drops) an alignment (the
longest-common-subsequence dynamic programme, in a band around the diagonal) decides where
the gaps are, scored by how well each pair's times agree once the offset is taken out.
"""

from __future__ import annotations

import bisect
import statistics
from collections.abc import Callable, Sequence

Score = Callable[[int, int], float | None]  # None: these two may not join
MAD_TO_SIGMA = 1.4826  # median absolute deviation -> standard deviation, for normal noise


def pairs_at_shift(n: int, m: int, shift: int) -> list[tuple[int, int]]:
    """Rank pairs (i, i + shift): the alignment that skips ``shift`` leading events of the
    second side (or, negative, of the first)."""
    return [(i, i + shift) for i in range(max(0, -shift), min(n, m - shift))]


def candidate_shifts(n: int, m: int) -> list[int]:
    """Equal counts: the diagonal. Otherwise the extra events were either all at the start or
    all at the end (an attach or a detach)."""
    return [0] if n == m else [0, m - n]


def robust_center(values: Sequence[float]) -> tuple[float, float]:
    """(median, sigma from the median absolute deviation) of ``values`` (not empty)."""
    center = statistics.median(values)
    spread = statistics.median(abs(v - center) for v in values)
    return center, MAD_TO_SIGMA * spread


def monotone_match(n: int, m: int, score: Score, slack: int = 8) -> list[tuple[int, int]]:
    """The order-preserving matching of ``range(n)`` with ``range(m)`` with the highest total
    score; unmatched events cost nothing. Only pairs within ``slack`` of the band between the
    two diagonals (start-aligned and end-aligned) are considered: O((|n - m| + slack) * n).
    """
    lo, hi = min(0, m - n) - slack, max(0, m - n) + slack
    neg = float("-inf")
    prev: dict[int, float] = {}
    moves: list[dict[int, int]] = []  # per row: j -> 0 diagonal, 1 skip first, 2 skip second
    for i in range(n + 1):
        row: dict[int, float] = {}
        move: dict[int, int] = {}
        for j in range(max(0, i + lo), min(m, i + hi) + 1):
            if i == 0 and j == 0:
                row[0], move[0] = 0.0, -1
                continue
            best, how = neg, -1
            if i and j and j - 1 in prev:
                s = score(i - 1, j - 1)
                if s is not None and prev[j - 1] + s > best:
                    best, how = prev[j - 1] + s, 0
            if i and j in prev and prev[j] > best:
                best, how = prev[j], 1
            if j and j - 1 in row and row[j - 1] > best:
                best, how = row[j - 1], 2
            row[j], move[j] = best, how
        moves.append(move)
        prev = row
    out: list[tuple[int, int]] = []
    i, j = n, m
    while i or j:
        how = moves[i].get(j, -1)
        if how == 0:
            out.append((i - 1, j - 1))
            i, j = i - 1, j - 1
        elif how == 1:
            i -= 1
        elif how == 2:
            j -= 1
        else:  # unreachable cell: cannot happen inside the band, but never loop forever
            break
    out.reverse()
    return out


def gap_distances(n: int, matched: set[int]) -> list[float]:
    """For each index of a side, how many events away its nearest unmatched event is."""
    out = [float("inf")] * n
    last = float("-inf")
    for i in range(n):
        if i not in matched:
            last = i
        out[i] = i - last
    last = float("inf")
    for i in range(n - 1, -1, -1):
        if i not in matched:
            last = i
        out[i] = min(out[i], last - i)
    return out


def crowd(sorted_times: list[float], t: float, radius: float) -> int:
    """How many of ``sorted_times`` lie within ``radius`` of ``t``."""
    return bisect.bisect_right(sorted_times, t + radius) - bisect.bisect_left(sorted_times,
                                                                              t - radius)
