"""A count that steps over simulated time (a queue, a backlog): its time-average, hour by hour,
and its trend, the test of whether the work it holds drains."""

from __future__ import annotations

import numpy as np

from sim.operations.rota import HOUR_S


def time_average(times: np.ndarray, steps: np.ndarray, horizon: float, since: float = 0.0) -> float:
    """The mean of the count over [since, horizon); ``steps[i]`` holds from ``times[i]`` on."""
    at = np.append(np.maximum(times, since), horizon)
    return float(np.sum(steps * np.diff(at)) / (horizon - since))


def hourly_mean(times: np.ndarray, steps: np.ndarray, horizon: float) -> np.ndarray:
    """The count's time-average in each hour of [0, horizon)."""
    return means_between(times, steps, np.append(np.arange(0.0, horizon, HOUR_S), horizon))


def means_between(times: np.ndarray, steps: np.ndarray, edges: np.ndarray) -> np.ndarray:
    """The count's time-average between each pair of successive ``edges``."""
    cumulative = np.concatenate(([0.0], np.cumsum(steps[:-1] * np.diff(times))))
    at = np.searchsorted(times, edges, side="right") - 1
    area = cumulative[at] + steps[at] * (edges - times[at])
    return np.diff(area) / np.diff(edges)


def growth_per_hour(hourly: np.ndarray) -> float:
    """The least-squares slope of the hourly means over the run's second half, a count an hour:
    near 0 for work that drains, the backlog's growth for work that does not."""
    half = hourly[len(hourly) // 2 :]
    if len(half) < 2:
        return 0.0
    return float(np.polyfit(np.arange(len(half)), half, 1)[0])
