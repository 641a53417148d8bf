"""Random episodes in time: the few draws the routine and the faults share."""

from __future__ import annotations

import math

import numpy as np

from sim.intervals import disjoint

DAY_S = 86400.0
HOUR_S = 3600.0
MINUTE_S = 60.0
WEEK_S = 7 * DAY_S


def poisson_times(rng: np.random.Generator, per_week: float, end: float) -> np.ndarray:
    """Sorted times of a Poisson process on [0, end)."""
    n = int(rng.poisson(per_week * end / WEEK_S))
    return np.sort(rng.uniform(0.0, end, n))


def lognormal(rng: np.random.Generator, median: float, sigma: float) -> float:
    return median * math.exp(sigma * rng.standard_normal())


def episodes(rng: np.random.Generator, per_week: float, median_s: float, sigma: float, end: float) -> np.ndarray:
    """Poisson starts with lognormal lengths, overlaps merged: (n, 2) intervals."""
    starts = poisson_times(rng, per_week, end)
    lengths = median_s * np.exp(sigma * rng.standard_normal(len(starts)))
    return disjoint(np.column_stack((starts, starts + lengths)))
