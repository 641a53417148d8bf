"""How long a task takes (an operator's check, a call, an officer's time on site): a
distribution, and times drawn from it by its inverse, one uniform a task, so that the same
uniforms give the same times whatever else changes."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from scipy.special import ndtri

from sim.operations.rota import MINUTE_S

DISTRIBUTIONS = ("lognormal", "exponential")


@dataclass(frozen=True, slots=True)
class Handling:
    """``exponential`` with the mean, or ``lognormal`` with the mean and the coefficient of
    variation."""

    distribution: str
    mean_minutes: float
    cv: float = 1.0

    def __post_init__(self) -> None:
        if self.distribution not in DISTRIBUTIONS:
            raise ValueError(f"distribution must be one of {', '.join(DISTRIBUTIONS)}, got {self.distribution!r}")
        if self.mean_minutes <= 0:
            raise ValueError(f"mean_minutes must be positive, got {self.mean_minutes}")
        if self.distribution == "lognormal" and self.cv <= 0:
            raise ValueError(f"a lognormal's cv must be positive, got {self.cv}")


def quantiles(u: np.ndarray, kind: np.ndarray, handling: Sequence[Handling]) -> np.ndarray:
    """Each task's time, s: uniform ``u[i]`` through the inverse of ``handling[kind[i]]``."""
    out = np.empty(len(u))
    for k, h in enumerate(handling):
        mine = kind == k
        mean = h.mean_minutes * MINUTE_S
        if h.distribution == "exponential":
            out[mine] = -mean * np.log1p(-u[mine])
        else:
            sigma = math.sqrt(math.log1p(h.cv**2))
            out[mine] = np.exp(math.log(mean) - sigma**2 / 2 + sigma * ndtri(u[mine]))
    return out
