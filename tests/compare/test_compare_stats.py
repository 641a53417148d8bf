"""The comparison's statistics (``sim.compare.stats``): intervals against the formulas and
their coverage, the Bonferroni level, verdicts, the precision rule."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import stats

from sim.compare.stats import (BETTER, SAME, TOO_FEW, WORSE, Interval, bonferroni, difference_interval, precise_enough,
                               t_interval, unpaired_interval, verdict)


def test_the_t_interval_is_the_textbook_one() -> None:
    values = np.array([2.0, 4.0, 4.0, 5.0, 7.0])
    interval = t_interval(values)
    assert interval is not None and interval.mean == 4.4 and interval.n == 5
    half = stats.t.ppf(0.975, 4) * values.std(ddof=1) / math.sqrt(5)
    assert (interval.low, interval.high) == pytest.approx((4.4 - half, 4.4 + half))
    assert t_interval(np.array([1.0])) is None


def test_the_unpaired_interval_is_welchs_error_at_the_smaller_samples_degrees_of_freedom() -> None:
    a, b = np.array([1.0, 2.5, 3.0, 4.5]), np.array([0.5, 0.7, 1.9, 1.0, 1.1])
    interval = unpaired_interval(a, b)
    se = math.sqrt(a.var(ddof=1) / 4 + b.var(ddof=1) / 5)
    assert interval is not None and interval.mean == pytest.approx(a.mean() - b.mean())
    assert interval.half_width == pytest.approx(stats.t.ppf(0.975, 3) * se)
    # Wider than Welch's own (its degrees of freedom are more): conservative.
    welch = stats.ttest_ind(a, b, equal_var=False).confidence_interval(0.95)
    assert interval.half_width > (welch.high - welch.low) / 2


def test_the_interval_covers_a_true_zero_as_often_as_it_says() -> None:
    # 4,000 paired comparisons of samples with no true difference, five replications each:
    # the 95% interval excludes zero about 5% of the time, the Bonferroni one (over 10) 0.5%.
    rng = np.random.default_rng(1)
    differences = rng.normal(0.0, 3.0, (4_000, 5))
    plain = np.mean([verdict(t_interval(d), "lower") == SAME for d in differences])
    widened = np.mean([verdict(t_interval(d, bonferroni(10)), "lower") == SAME for d in differences])
    assert plain == pytest.approx(0.95, abs=0.012)
    assert widened >= 0.99


def test_verdicts_follow_which_way_is_better() -> None:
    below, above, across = Interval(-2.0, -3.0, -1.0, 5), Interval(2.0, 1.0, 3.0, 5), Interval(0.1, -1.0, 1.2, 5)
    assert (verdict(below, "lower"), verdict(below, "higher")) == (BETTER, WORSE)
    assert (verdict(above, "lower"), verdict(above, "higher")) == (WORSE, BETTER)
    assert verdict(across, "lower") == SAME and verdict(None, "lower") == TOO_FEW
    assert bonferroni(20) == pytest.approx(0.9975) and bonferroni(1) == pytest.approx(0.95)


def test_equal_differences_by_chance_are_judged_by_the_unpaired_interval() -> None:
    # One false alert more in each of three runs, on worlds that differ by far more: the paired
    # interval has no width; the unpaired one on the same runs stands in and finds nothing.
    a, b = np.array([50.0, 125.0, 0.0]), np.array([25.0, 100.0, -25.0])
    assert t_interval(a - b).half_width == 0.0
    by_chance = difference_interval(a, b)
    assert by_chance == unpaired_interval(a, b) and verdict(by_chance, "lower") == SAME
    assert not precise_enough(by_chance, 58.3, 33.3, 0.05)
    # Each supplier's own value the same on every world (a median set by the upload interval):
    # the difference is that, with no width, and a verdict.
    fixed = difference_interval(np.full(4, 1 / 3), np.full(4, 2.0))
    assert (fixed.low, fixed.high) == (1 / 3 - 2.0, 1 / 3 - 2.0) and verdict(fixed, "lower") == BETTER
    # Nothing differs: no difference; differences that vary: the paired interval itself.
    assert verdict(difference_interval(a, a), "lower") == SAME
    varied = np.array([1.0, 2.0, 4.0])
    assert difference_interval(a, a - varied) == t_interval(varied)


def test_precision_is_the_half_width_within_a_share_of_the_larger_mean() -> None:
    narrow = Interval(1.0, 0.6, 1.4, 5)  # half-width 0.4
    assert precise_enough(narrow, 10.0, 9.0, 0.05) and not precise_enough(narrow, 5.0, 4.0, 0.05)
    assert precise_enough(Interval(0.0, 0.0, 0.0, 3), 0.0, 0.0, 0.05) and not precise_enough(None, 1.0, 1.0, 0.5)
