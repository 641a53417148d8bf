"""How work met its deadlines: the share done in time, counting only what is decided by the
run's end, and percentiles that say null when there is nothing to take them of."""

from __future__ import annotations

import numpy as np


def decided(wait: np.ndarray, done: np.ndarray, deadline: float) -> np.ndarray:
    """Done, or already past the deadline: one still waiting at the end, its deadline not yet
    come, is neither in time nor late."""
    return done | (wait > deadline)


def within_share(wait: np.ndarray, done: np.ndarray, deadline: float) -> float | None:
    """The share done within ``deadline`` of those decided (``wait`` so far for one not done)."""
    mask = decided(wait, done, deadline)
    return float(np.mean(wait[mask] <= deadline)) if mask.any() else None


def percentile(values: np.ndarray, q: float) -> float | None:
    return float(np.percentile(values, q)) if len(values) else None
