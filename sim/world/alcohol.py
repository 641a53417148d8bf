"""Transdermal alcohol concentration (TAC): what is at the skin, and what an alcohol tag reads.

An episode's TAC is a triangle: a linear rise to its peak, then a linear fall
at the elimination rate, the whole curve trailing breath alcohol by a skin
lag. Ethanol is eliminated at a near-constant rate once absorbed (zero-order),
so the fall is close to linear in fact; the linear rise is a simplification.
Piecewise linear is what makes the truth exact: the times TAC is at or over a
threshold are solved, not sampled, even where episodes overlap and add.

Defaults, each a parameter (every figure in mg/dl, i.e. mg per 100 ml):
- skin lag 1.5 h: TAC peaks after breath alcohol, later the more is drunk
  (Karns-Wright et al. 2017, Alcohol and Alcoholism 52(1):35-41); one to two
  hours is the usual reading of that lag, 1.5 h the middle: assumption.
- rise 1 h: blood alcohol peaks 30 to 70 min after beer drunk in 25 min
  (Jones and Neri 1991, J Forensic Sci Soc 31(4):429-39); a session of
  drinking spreads that out, so an hour's rise is an assumption.
- elimination 15 mg/dl per hour: blood alcohol falls 12 (fed) to 15 (fasted)
  mg/dl per hour (Jones and Neri 1991); breath 0.082 mg/L per hour (Pavlic et
  al. 2007, Forensic Sci Int 171(1):16-21), about 16 mg/dl per hour of blood.
  That TAC falls at the blood's rate is an assumption (it may fall slower).
- reading noise 2 mg/dl: assumption (no published figure found); small next
  to the 20 mg/dl (0.02 g/dl) threshold, as the tag shows no false positives
  below it (NHTSA 2007, "Evaluating Transdermal Alcohol Measuring Devices").
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from sim.intervals import disjoint

HOUR_S = 3600.0
DEFAULT_SKIN_LAG_S = 1.5 * HOUR_S  # assumption within the published one to two hours; see above
DEFAULT_RISE_S = 1.0 * HOUR_S  # assumption; see above
DEFAULT_ELIMINATION_MG_DL_H = 15.0  # Jones and Neri 1991, fasted; TAC matching blood is an assumption
DEFAULT_NOISE_SD_MG_DL = 2.0  # assumption


@dataclass(frozen=True, slots=True)
class Episode:
    """One drinking episode: drinking starts at ``start_s``; TAC begins to rise ``lag_s``
    later, reaches ``peak_mg_dl`` after ``rise_s`` and falls at ``elimination_mg_dl_h``."""

    start_s: float
    peak_mg_dl: float
    rise_s: float = DEFAULT_RISE_S
    elimination_mg_dl_h: float = DEFAULT_ELIMINATION_MG_DL_H
    lag_s: float = DEFAULT_SKIN_LAG_S

    def __post_init__(self) -> None:
        if self.peak_mg_dl <= 0 or self.rise_s <= 0 or self.elimination_mg_dl_h <= 0:
            raise ValueError("an episode's peak, rise time and elimination rate must be positive")
        if self.lag_s < 0:
            raise ValueError("lag_s: TAC cannot lead the drinking")

    def knots(self) -> tuple[np.ndarray, np.ndarray]:
        """Times and TAC of the triangle's corners: onset, peak, back to zero."""
        onset = self.start_s + self.lag_s
        peak_at = onset + self.rise_s
        sober_at = peak_at + self.peak_mg_dl / self.elimination_mg_dl_h * HOUR_S
        return np.array([onset, peak_at, sober_at]), np.array([0.0, self.peak_mg_dl, 0.0])


def tac(episodes: Sequence[Episode], times: np.ndarray) -> np.ndarray:
    """True TAC (mg/dl) at each time; overlapping episodes add."""
    times = np.asarray(times, dtype=float)
    total = np.zeros(times.shape)
    for episode in episodes:
        total += np.interp(times, *episode.knots(), left=0.0, right=0.0)
    return total


def over_threshold_intervals(episodes: Sequence[Episode], threshold: float) -> np.ndarray:
    """The [start, end) intervals, shape (k, 2), in which TAC is at or over ``threshold`` (at or
    over, as the tag and detector count a positive reading). The summed curve is linear between
    the union of all corners, so each crossing is solved exactly on its piece; a peak that only
    touches the threshold gives no interval."""
    if threshold <= 0:
        raise ValueError("threshold must be positive: TAC is zero outside episodes")
    if not episodes:
        return np.empty((0, 2))
    knots = np.unique(np.concatenate([e.knots()[0] for e in episodes]))
    g = tac(episodes, knots) - threshold
    a, b, ga, gb = knots[:-1], knots[1:], g[:-1], g[1:]
    with np.errstate(divide="ignore", invalid="ignore"):
        cross = a - ga / (gb - ga) * (b - a)
    start = np.where(ga >= 0, a, cross)
    end = np.where(gb >= 0, b, cross)
    keep = ((ga >= 0) | (gb >= 0)) & (start < end)
    return disjoint(np.column_stack((start[keep], end[keep])))  # pieces meeting at a corner are one interval


def readings(
    episodes: Sequence[Episode],
    times: np.ndarray,
    detected: Sequence[bool] | np.ndarray,
    rng: np.random.Generator,
    noise_sd: float = DEFAULT_NOISE_SD_MG_DL,
) -> np.ndarray:
    """What the tag reads at ``times`` (every 30 min on the device): TAC of the episodes it
    detects, plus normal noise, floored at zero. An episode it misses (``detected`` False; the
    share it catches is the supplier's, from 57% of episodes peaking at 0.02 g/dl to 88% at
    0.08 or more per NHTSA 2007) adds nothing here, yet stays in the truth, so the scorer sees
    it as a drinking breach the tag missed."""
    if len(detected) != len(episodes):
        raise ValueError("detected needs one flag per episode")
    seen = [e for e, d in zip(episodes, detected, strict=True) if d]
    times = np.asarray(times, dtype=float)
    noisy = tac(seen, times) + rng.normal(0.0, noise_sd, times.shape)
    return np.maximum(noisy, 0.0)
