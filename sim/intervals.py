"""Sets of time intervals, as (n, 2) float arrays of [start, end): the world's common currency.

Presence, trips, outages, cuts and truth are all interval sets. Every
function takes any intervals and, unless it says otherwise, returns them
sorted and disjoint, with intervals that touch merged into one.
"""

from __future__ import annotations

import numpy as np

EMPTY = np.empty((0, 2))


def as_intervals(spans: np.ndarray | list[tuple[float, float]]) -> np.ndarray:
    return np.asarray(spans, dtype=float).reshape(-1, 2)


def disjoint(spans: np.ndarray | list[tuple[float, float]]) -> np.ndarray:
    """Sorted, with overlapping and touching intervals merged; empty ones dropped."""
    spans = as_intervals(spans)
    spans = spans[spans[:, 1] > spans[:, 0]]
    if not len(spans):
        return EMPTY.copy()
    spans = spans[np.argsort(spans[:, 0], kind="stable")]
    reach = np.maximum.accumulate(spans[:, 1])
    first = np.flatnonzero(np.concatenate(([True], spans[1:, 0] > reach[:-1])))
    return np.column_stack((spans[first, 0], np.maximum.reduceat(spans[:, 1], first)))


def union(*sets: np.ndarray) -> np.ndarray:
    return disjoint(np.concatenate([as_intervals(s) for s in sets])) if sets else EMPTY.copy()


def intersect(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """The overlap of two interval sets."""
    a, b = disjoint(a), disjoint(b)
    out = []
    i = j = 0
    while i < len(a) and j < len(b):
        lo, hi = max(a[i, 0], b[j, 0]), min(a[i, 1], b[j, 1])
        if lo < hi:
            out.append((lo, hi))
        if a[i, 1] < b[j, 1]:
            i += 1
        else:
            j += 1
    return as_intervals(out)


def complement(spans: np.ndarray, start: float, end: float) -> np.ndarray:
    """What of [start, end) the intervals do not cover."""
    spans = disjoint(spans)
    edges = np.concatenate(([start], spans.ravel(), [end]))
    gaps = edges.reshape(-1, 2)
    gaps = np.column_stack((np.maximum(gaps[:, 0], start), np.minimum(gaps[:, 1], end)))
    return gaps[gaps[:, 1] > gaps[:, 0]]


def clip(spans: np.ndarray, start: float, end: float) -> np.ndarray:
    """The intervals cut to [start, end)."""
    spans = as_intervals(spans)
    cut = np.column_stack((np.maximum(spans[:, 0], start), np.minimum(spans[:, 1], end)))
    return cut[cut[:, 1] > cut[:, 0]]


def contains(spans: np.ndarray, times: np.ndarray | float) -> np.ndarray:
    """For each time, whether one of the (sorted, disjoint) intervals holds it."""
    times = np.asarray(times, dtype=float)
    spans = as_intervals(spans)
    if not len(spans):
        return np.zeros(times.shape, bool)
    i = np.searchsorted(spans[:, 0], times, side="right") - 1
    return (i >= 0) & (times < spans[np.maximum(i, 0), 1])


def holds(spans: np.ndarray, t: float) -> bool:
    """``contains`` for one time."""
    return bool(contains(spans, t))


def end_of(spans: np.ndarray, t: float) -> float:
    """When the interval holding ``t`` ends; ``t`` itself if none does."""
    i = int(np.searchsorted(spans[:, 0], t, side="right")) - 1
    return float(spans[i, 1]) if i >= 0 and t < spans[i, 1] else t


def next_start(spans: np.ndarray, t: float) -> float:
    """The first interval start at or after ``t`` (inf if none)."""
    i = int(np.searchsorted(spans[:, 0], t, side="left"))
    return float(spans[i, 0]) if i < len(spans) else np.inf
