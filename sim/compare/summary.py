"""A comparison's observations summed up: each supplier's mean and interval per policy and
metric, each pair's paired difference with its Bonferroni-widened interval, the unpaired
interval on the same runs beside it (what common random numbers bought), and a verdict.
JSON-ready: ``compare.json``'s ``suppliers`` and ``differences`` (``docs/compare.md``)."""

from __future__ import annotations

from itertools import combinations
from typing import Any

import numpy as np

from sim.compare.observations import Observations
from sim.compare.stats import (CONFIDENCE, Interval, bonferroni, difference_interval, precise_enough, t_interval,
                               unpaired_interval, verdict)


def comparisons(observed: Observations) -> int:
    """How many differences the comparison reports at once: pairs x metrics x policies."""
    pairs = len(observed.suppliers) * (len(observed.suppliers) - 1) // 2
    return pairs * len(observed.metrics) * len(observed.policies)


def paired(observed: Observations, a: str, b: str, policy: str, metric: str) -> tuple[np.ndarray, np.ndarray]:
    """The replications where both suppliers' runs gave the metric a value: their values, in step."""
    both = [(x, y) for x, y in zip(observed.values[(a, policy, metric)], observed.values[(b, policy, metric)], strict=True)
            if x is not None and y is not None]
    return np.array([x for x, _ in both], dtype=float), np.array([y for _, y in both], dtype=float)


def precise(observed: Observations, target: float) -> bool:
    """Every difference has its widened interval within ``target`` of the larger mean (a metric
    for which no run of either supplier gave a value has nothing to measure and is left out)."""
    level = bonferroni(comparisons(observed))
    for a, b, policy, metric in _differences(observed):
        if _never(observed, a.name, policy, metric.name) and _never(observed, b.name, policy, metric.name):
            continue
        x, y = paired(observed, a.name, b.name, policy, metric.name)
        if not len(x) or not precise_enough(difference_interval(x, y, level), float(x.mean()), float(y.mean()), target):
            return False
    return True


def _never(observed: Observations, supplier: str, policy: str, metric: str) -> bool:
    return all(v is None for v in observed.values[(supplier, policy, metric)])


def summarise(observed: Observations) -> dict[str, Any]:
    level = bonferroni(comparisons(observed))
    suppliers = {
        s.name: {policy: {m.name: _interval(observed.values[(s.name, policy, m.name)]) for m in observed.metrics}
                 for policy in observed.policies}
        for s in observed.suppliers}
    differences = []
    for a, b, policy, metric in _differences(observed):
        x, y = paired(observed, a.name, b.name, policy, metric.name)
        diff = difference_interval(x, y, level)
        unpaired = unpaired_interval(x, y, level)
        differences.append({
            "a": a.name, "b": b.name, "policy": policy, "metric": metric.name, "n": len(x),
            # Both means over the replications paired, as the difference is.
            "a_mean": float(x.mean()) if len(x) else None, "b_mean": float(y.mean()) if len(y) else None,
            "differences": (x - y).tolist(), **_bounds(diff),
            "unpaired_low": unpaired.low if unpaired else None, "unpaired_high": unpaired.high if unpaired else None,
            "paired_to_unpaired_width": _ratio(diff, unpaired),
            **_relative(diff, float(y.mean()) if len(y) else 0.0),
            "verdict": verdict(diff, metric.better),
        })
    return {"confidence": CONFIDENCE, "correction": {"method": "bonferroni", "comparisons": comparisons(observed),
                                                     "level_each": level},
            "suppliers": suppliers, "differences": differences}


def _differences(observed: Observations):  # type: ignore[no-untyped-def]
    for a, b in combinations(observed.suppliers, 2):
        for policy in observed.policies:
            for metric in observed.metrics:
                yield a, b, policy, metric


def _interval(values: list[float | None]) -> dict[str, Any]:
    known = np.array([v for v in values if v is not None], dtype=float)
    return {"values": values, **_bounds(t_interval(known)),
            "mean": float(known.mean()) if len(known) else None}


def _bounds(interval: Interval | None) -> dict[str, Any]:
    if interval is None:
        return {"mean": None, "low": None, "high": None}
    return {"mean": interval.mean, "low": interval.low, "high": interval.high}


def _relative(diff: Interval | None, b_mean: float) -> dict[str, float | None]:
    """The difference and its interval over b's mean; none where b's mean is 0 and the
    difference is not (two zeros are no difference)."""
    if diff is None or (b_mean == 0 and (diff.low, diff.high) != (0.0, 0.0)):
        return {"relative": None, "relative_low": None, "relative_high": None}
    scale = abs(b_mean) or 1.0
    return {"relative": diff.mean / scale, "relative_low": diff.low / scale, "relative_high": diff.high / scale}


def _ratio(paired_interval: Interval | None, unpaired: Interval | None) -> float | None:
    if paired_interval is None or unpaired is None or unpaired.half_width == 0:
        return None
    return paired_interval.half_width / unpaired.half_width
