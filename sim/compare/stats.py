"""How sure a comparison is: each supplier's mean with its interval, each pair's paired
difference with its interval and verdict, the unpaired interval beside it, and whether the
replications so far are enough.

Intervals are Student's t over the replications. The unpaired interval beside each paired
one (what the difference would be known to without common random numbers) has the paired
one's degrees of freedom, so their ratio is the ratio of standard errors: what pairing bought. A comparison makes many at once (every pair
of suppliers, every metric, every policy), so each difference's interval is widened to a
Bonferroni level: at 95% overall, each of m intervals is at 1 - 0.05 / m, and the chance that
any of them excludes a true zero is at most 5%. A verdict is "better" or "worse" only when the
widened interval excludes zero.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from scipy import stats

CONFIDENCE = 0.95
# A verdict or a precision needs at least this many paired replications: two give an interval,
# but two equal differences give one of no width, a certainty two runs cannot give.
FEWEST_PAIRS = 3
BETTER, WORSE, SAME, TOO_FEW = "better", "worse", "no significant difference", "too few replications"


@dataclass(frozen=True)
class Interval:
    mean: float
    low: float
    high: float
    n: int

    @property
    def half_width(self) -> float:
        return (self.high - self.low) / 2


def t_interval(values: np.ndarray, level: float = CONFIDENCE) -> Interval | None:
    """The mean of ``values`` with its two-sided t interval at ``level``; None for fewer than two."""
    values = np.asarray(values, dtype=float)
    n = len(values)
    if n < 2:
        return None
    if np.all(values == values[0]):  # exactly, not within float noise of the mean
        return Interval(float(values[0]), float(values[0]), float(values[0]), n)
    mean = float(values.mean())
    half = float(stats.t.ppf(0.5 + level / 2, n - 1) * values.std(ddof=1) / math.sqrt(n))
    return Interval(mean, mean - half, mean + half, n)


def unpaired_interval(a: np.ndarray, b: np.ndarray, level: float = CONFIDENCE) -> Interval | None:
    """The difference of means a - b with an unpaired interval, as if the two had been run on
    independent worlds: Welch's standard error, with Hsu's degrees of freedom (the smaller
    sample's less one, conservative), the same the paired interval has, so the two compare by
    their standard errors alone. None for fewer than two of either."""
    a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    if len(a) < 2 or len(b) < 2:
        return None
    mean = float(a.mean() - b.mean())
    se = math.sqrt(a.var(ddof=1) / len(a) + b.var(ddof=1) / len(b))
    n = min(len(a), len(b))
    half = float(stats.t.ppf(0.5 + level / 2, n - 1) * se)
    return Interval(mean, mean - half, mean + half, n)


def difference_interval(a: np.ndarray, b: np.ndarray, level: float = CONFIDENCE) -> Interval | None:
    """The difference a - b of replications paired in step, with its interval at ``level``: the
    paired t interval, unless every replication differs by exactly the same amount. A count on
    a small world can do that by chance (one false alert more, three times, on worlds that
    differ by dozens), and the paired interval then has no width, a certainty it cannot give;
    the unpaired interval on the same runs, which needs no pairing, stands in. (Where each
    supplier's own values do not vary either, as a median set by the upload interval, that
    too has no width: the difference is the same on every world.) None for fewer than two."""
    paired = t_interval(np.asarray(a, dtype=float) - np.asarray(b, dtype=float), level)
    if paired is None or paired.half_width > 0 or paired.mean == 0:
        return paired
    return unpaired_interval(a, b, level)


def bonferroni(comparisons: int, confidence: float = CONFIDENCE) -> float:
    """Each interval's level so that all ``comparisons`` hold together at ``confidence``."""
    return 1 - (1 - confidence) / max(comparisons, 1)


def verdict(difference: Interval | None, better: str) -> str:
    """A - B judged: "better" when the interval lies wholly on A's better side of zero (``better``
    is "lower" or "higher"), "worse" when wholly on the other, else no significant difference;
    too few replications below ``FEWEST_PAIRS``."""
    if difference is None or difference.n < FEWEST_PAIRS:
        return TOO_FEW
    if difference.low > 0:
        return BETTER if better == "higher" else WORSE
    if difference.high < 0:
        return BETTER if better == "lower" else WORSE
    return SAME


def precise_enough(difference: Interval | None, a_mean: float, b_mean: float, target: float) -> bool:
    """The interval's half-width within ``target`` (a share) of the larger of the two means'
    sizes, on ``FEWEST_PAIRS`` replications or more; a difference between two zeros is as
    precise as it gets."""
    if difference is None or difference.n < FEWEST_PAIRS:
        return False
    # Below a billionth a value is float noise about zero (a wait of 1e-12 s), not a scale.
    return difference.half_width <= max(target * max(abs(a_mean), abs(b_mean)), 1e-9)
