"""The RF presence channel: exact scans of hand-built receptions, the chain's stationary miss
rate, and the fleet sampler agreeing with the every-beacon reference within stated intervals."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.stats import binomtest, ks_2samp

from sim.scenario import RfChannel, available_suppliers, load_supplier
from sim.world.channel import (
    beacon_receptions,
    interior_bound,
    silences,
    spurious_leaves,
    spurious_leaves_by_beacon,
    spurious_leaves_with_interval,
)
from sim.world.gilbert_elliott import Chain, miss_rate, stationary_bad

# The figures these tests use, pinned here: beacons every 11 to 15 s (Strategic Technologies
# manuals), the unit's leave time 300 s (seeds/devices/defaults.toml).
LO, HI, LEAVE = 11.0, 15.0, 300.0
DAY = 86_400.0
HOUR = 3_600.0
BRIEF = RfChannel(good_to_bad=0.002, bad_to_good=0.05, loss_good=0.01, loss_bad=0.95)
# Short sojourns in both states and lossy good ones: most leaves come from runs of misses that
# span several bad sojourns and the all-lost good sojourns between them.
JOINED = RfChannel(good_to_bad=0.2, bad_to_good=0.15, loss_good=0.1, loss_bad=0.98)
PERFECT = RfChannel(good_to_bad=0.01, bad_to_good=0.1, loss_good=0.0, loss_bad=0.0)
DEAF = RfChannel(good_to_bad=0.01, bad_to_good=0.1, loss_good=1.0, loss_bad=1.0)


def shipped() -> list[tuple[str, RfChannel]]:
    return [(name, load_supplier(name).rf_channel) for name in available_suppliers()]


def intervals(n: int, hours: float) -> np.ndarray:
    """n disjoint at-home intervals of the given length, a gap between each."""
    starts = np.arange(n) * (hours * HOUR + 1_000.0) + 123.0
    return np.column_stack((starts, starts + hours * HOUR))


def row_of(spans: np.ndarray, pairs: np.ndarray) -> np.ndarray:
    return np.searchsorted(spans[:, 0], pairs[:, 0], side="right") - 1


def counts(spans: np.ndarray, rows: np.ndarray) -> np.ndarray:
    return np.bincount(rows, minlength=len(spans))


# --- silences on hand-built receptions ---------------------------------------------------------


def test_silences_exact_pairs_with_the_boundary_counting() -> None:
    t = np.array([0.0, 10.0, 200.0, 310.0, 320.0, 400.0, 619.5, 700.0, 1_000.0, 1_100.0, 1_400.0, 1_500.0])
    h = np.array([1, 1, 0, 1, 1, 0, 0, 1, 1, 0, 0, 1], dtype=bool)
    # Heard: 0, 10, 310 (silence of exactly 300: counts), 320, 700 (380: counts), 1000 (300: counts),
    # then 1500 is at the end: ignored, so the last silence runs into the departure.
    got = silences(t, h, LEAVE, end=1_500.0)
    np.testing.assert_array_equal(got, [[310.0, 310.0], [620.0, 700.0], [1_000.0, 1_000.0]])
    assert silences(t, h, LEAVE + 0.001, end=1_500.0).tolist() == [[620.001, 700.0]]


def test_silences_reports_neither_the_silence_before_the_first_heard_beacon_nor_after_the_last() -> None:
    t = np.arange(0.0, 2_000.0, 13.0)
    h = (t > 900.0) & (t < 1_000.0)  # 900 s of silence first, then heard, then silent to the end
    assert silences(t, h, LEAVE, end=2_000.0).shape == (0, 2)
    assert silences(t, np.zeros(len(t), dtype=bool), LEAVE, end=2_000.0).shape == (0, 2)
    assert silences(np.empty(0), np.empty(0, dtype=bool), LEAVE, end=10.0).shape == (0, 2)


# --- extreme channels --------------------------------------------------------------------------


def test_a_perfect_channel_never_gives_a_spurious_leave() -> None:
    spans = intervals(40, 24.0)
    t, h = beacon_receptions(PERFECT, 0.0, DAY, LO, HI, np.random.default_rng(1))
    assert h.all() and len(t) > DAY / HI
    assert spurious_leaves(PERFECT, spans, LO, HI, LEAVE, np.random.default_rng(2)).shape == (0, 2)
    assert spurious_leaves(PERFECT, spans, LO, HI, LEAVE, np.random.default_rng(2), tolerance=0.0).shape == (0, 2)
    assert spurious_leaves_by_beacon(PERFECT, spans[:20], LO, HI, LEAVE, np.random.default_rng(3)).shape == (0, 2)


def test_a_channel_that_loses_everything_gives_one_leave_per_interval_merged_into_the_departure() -> None:
    """The unit never hears the tag come home, so every interval is one silence with no return:
    the unit's leave is the real departure (or the absence before it), never a spurious one."""
    spans = intervals(50, 8.0)
    t, h = beacon_receptions(DEAF, 0.0, DAY, LO, HI, np.random.default_rng(1))
    assert not h.any() and len(t) > DAY / HI
    assert silences(t, h, LEAVE, DAY).shape == (0, 2)
    assert spurious_leaves(DEAF, spans, LO, HI, LEAVE, np.random.default_rng(2)).shape == (0, 2)
    assert spurious_leaves_by_beacon(DEAF, spans, LO, HI, LEAVE, np.random.default_rng(3)).shape == (0, 2)


def test_beacon_times_are_a_renewal_process_in_the_interval() -> None:
    rng = np.random.default_rng(4)
    t, h = beacon_receptions(BRIEF, 1_000.0, 1_000.0 + DAY, LO, HI, rng)
    assert t[0] >= 1_000.0 and t[-1] < 1_000.0 + DAY and t[-1] + HI >= 1_000.0 + DAY
    gaps = np.diff(t)
    assert gaps.min() >= LO and gaps.max() <= HI and len(t) == len(h)
    # The first beacon comes at the schedule's forward-recurrence time: mean E[X^2] / (2 E[X]).
    firsts = np.array([beacon_receptions(BRIEF, 0.0, 20.0, LO, HI, rng)[0][:1] for _ in range(4_000)], dtype=object)
    firsts = np.concatenate([f for f in firsts if len(f)])
    want = (LO * LO + LO * HI + HI * HI) / 3 / (LO + HI)
    assert abs(firsts.mean() - want) < 4 * firsts.std() / np.sqrt(len(firsts))
    assert beacon_receptions(BRIEF, 5.0, 5.0, LO, HI, rng)[0].shape == (0,)


# --- the chain's miss rate ---------------------------------------------------------------------


@pytest.mark.parametrize("channel", [BRIEF, RfChannel(0.02, 0.05, 0.01, 0.95)], ids=["brief", "often-bad"])
def test_stationary_miss_rate_within_a_binomial_interval(channel: RfChannel) -> None:
    """Beacon k of independent intervals is an iid Bernoulli draw with the stationary miss rate
    (misses inside one interval are correlated, so a binomial interval is only right across
    intervals). Checked at the first beacon (the chain starts stationary) and later on, and for
    two beacons in a row (the chain's memory)."""
    rng = np.random.default_rng(5)
    n, k = 4_000, 30
    heard = np.array([beacon_receptions(channel, 0.0, (k + 2) * HI, LO, HI, rng)[1][:k + 1] for _ in range(n)])
    bad = stationary_bad(channel)
    lg, lb, g2b, b2g = channel.loss_good, channel.loss_bad, channel.good_to_bad, channel.bad_to_good
    both = (1 - bad) * lg * ((1 - g2b) * lg + g2b * lb) + bad * lb * (b2g * lg + (1 - b2g) * lb)
    for misses, p in ((~heard[:, 0], miss_rate(channel)), (~heard[:, k], miss_rate(channel)),
                      (~heard[:, 0] & ~heard[:, 1], both)):
        low, high = binomtest(int(misses.sum()), n, p).proportion_ci(0.99)
        assert low <= p <= high, (int(misses.sum()), n, p)
    # Over whole intervals: the mean of independent intervals' miss shares, by the CLT.
    share = np.array([1 - beacon_receptions(channel, 0.0, 4 * HOUR, LO, HI, rng)[1].mean() for _ in range(300)])
    assert abs(share.mean() - miss_rate(channel)) < 2.58 * share.std(ddof=1) / np.sqrt(len(share))



def test_chain_stepped_per_beacon_misses_at_the_stationary_rate() -> None:
    """The full-fidelity radio's chain: fresh chains' first beacons are iid at the stationary
    miss rate (a 99% binomial interval), and out of range nothing is heard but the chain
    still moves, so its state when the tag is back is stationary too."""
    channel = RfChannel(0.02, 0.05, 0.01, 0.95)
    rng = np.random.default_rng(11)
    n = 4_000
    first = [Chain(channel, rng.random).step(in_range=True) for _ in range(n)]
    low, high = binomtest(n - sum(first), n, miss_rate(channel)).proportion_ci(0.99)
    assert low <= miss_rate(channel) <= high
    back = []
    for _ in range(n):
        chain = Chain(channel, rng.random)
        assert not any(chain.step(in_range=False) for _ in range(40))
        back.append(chain.bad)
    low, high = binomtest(sum(back), n, stationary_bad(channel)).proportion_ci(0.99)
    assert low <= stationary_bad(channel) <= high

# --- fleet sampler against the every-beacon reference ------------------------------------------


# One pair of seeds for every channel, fixed before looking: each comparison is a 95% test, so a
# correct sampler fails one now and then; a failure means: run more seeds before believing it.
FLEET_SEED, FULL_SEED = 2026, 2027
AGREEMENT = [("brief", BRIEF, 2_000, 24.0), ("joined", JOINED, 2_000, 2.0),
             *[(name, channel, 2_000, 24.0) for name, channel in shipped()]]


@pytest.mark.parametrize("name, channel, n, hours", AGREEMENT, ids=[a[0] for a in AGREEMENT])
def test_fleet_sampler_agrees_with_every_beacon(name: str, channel: RfChannel, n: int, hours: float) -> None:
    """Spurious leaves per interval agree within a 95% interval (two-sample z on the means, the
    variances estimated: counts are overdispersed, leaves cluster in bad spells), and the
    leaves' durations and times in the interval agree (two-sample KS, p > 0.01)."""
    spans = intervals(n, hours)
    fleet, rows = spurious_leaves_with_interval(channel, spans, LO, HI, LEAVE, np.random.default_rng(FLEET_SEED))
    full = spurious_leaves_by_beacon(channel, spans, LO, HI, LEAVE, np.random.default_rng(FULL_SEED))
    a, b = counts(spans, rows), counts(spans, row_of(spans, full))
    assert len(full) >= 100 and len(fleet) >= 100, "too few leaves for the test to mean anything"
    z = (a.mean() - b.mean()) / np.sqrt(a.var(ddof=1) / n + b.var(ddof=1) / n)
    assert abs(z) < 1.96, (name, a.mean(), b.mean(), z)
    assert ks_2samp(fleet[:, 1] - fleet[:, 0], full[:, 1] - full[:, 0]).pvalue > 0.01
    assert ks_2samp(fleet[:, 0] - spans[rows, 0], full[:, 0] - spans[row_of(spans, full), 0]).pvalue > 0.01


def test_fleet_leaves_are_well_formed() -> None:
    spans = intervals(300, 24.0)
    pairs, rows = spurious_leaves_with_interval(BRIEF, spans, LO, HI, LEAVE, np.random.default_rng(13))
    assert pairs.shape == (len(rows), 2) and len(rows) > 100
    assert (rows == row_of(spans, pairs)).all() and (np.diff(rows) >= 0).all()
    assert (pairs[:, 0] <= pairs[:, 1]).all() and (pairs[:, 1] < spans[rows, 1]).all()
    # A leave is declared at least one leave time after some heard beacon in the interval.
    assert (pairs[:, 0] >= spans[rows, 0] + LEAVE).all()
    same = np.diff(rows) == 0
    assert (pairs[1:, 0][same] > pairs[:-1, 1][same]).all(), "leaves in one interval must not overlap"
    assert spurious_leaves(BRIEF, np.empty((0, 2)), LO, HI, LEAVE, np.random.default_rng(1)).shape == (0, 2)
    assert spurious_leaves(BRIEF, [[5.0, 5.0], [9.0, 8.0]], LO, HI, LEAVE, np.random.default_rng(1)).shape == (0, 2)


def test_skipping_good_state_interiors_is_negligible_for_the_shipped_suppliers() -> None:
    """The one shortcut that is not exact: runs of misses long enough to matter inside a good
    sojourn are not drawn. Bound their expected number over a fleet-week (50,000 subjects,
    7 days, every beacon at home at the shortest interval), then check the exact walk
    (tolerance 0) agrees with the shortcut on a channel where both paths are taken."""
    d_min = int(np.ceil(LEAVE / HI))
    fleet_beacons = int(50_000 * 7 * DAY / LO)
    for name, channel in [("brief", BRIEF), *shipped()]:
        assert interior_bound(channel.loss_good, d_min, fleet_beacons) < 1e-20, name
        assert interior_bound(channel.loss_bad, d_min, fleet_beacons) > 1, name  # the bad state is walked
    spans = intervals(800, 6.0)
    skip, r1 = spurious_leaves_with_interval(BRIEF, spans, LO, HI, LEAVE, np.random.default_rng(21))
    walk, r2 = spurious_leaves_with_interval(BRIEF, spans, LO, HI, LEAVE, np.random.default_rng(22), tolerance=0.0)
    a, b = counts(spans, r1), counts(spans, r2)
    assert abs(a.mean() - b.mean()) < 1.96 * np.sqrt(a.var(ddof=1) / len(a) + b.var(ddof=1) / len(b))
    assert ks_2samp(skip[:, 1] - skip[:, 0], walk[:, 1] - walk[:, 0]).pvalue > 0.01


# --- reproducibility ---------------------------------------------------------------------------


def test_the_same_seed_gives_the_same_output() -> None:
    spans = intervals(100, 24.0)
    one = spurious_leaves(BRIEF, spans, LO, HI, LEAVE, np.random.default_rng(7))
    two = spurious_leaves(BRIEF, spans, LO, HI, LEAVE, np.random.default_rng(7))
    other = spurious_leaves(BRIEF, spans, LO, HI, LEAVE, np.random.default_rng(8))
    np.testing.assert_array_equal(one, two)
    assert len(one) > 0 and not np.array_equal(one, other)
    t1, h1 = beacon_receptions(BRIEF, 0.0, DAY, LO, HI, np.random.default_rng(7))
    t2, h2 = beacon_receptions(BRIEF, 0.0, DAY, LO, HI, np.random.default_rng(7))
    np.testing.assert_array_equal(t1, t2)
    np.testing.assert_array_equal(h1, h2)


def test_bad_arguments_are_refused() -> None:
    rng = np.random.default_rng(1)
    with pytest.raises(ValueError, match="beacon intervals"):
        beacon_receptions(BRIEF, 0.0, DAY, HI, LO, rng)
    with pytest.raises(ValueError, match="leave_time_s"):
        spurious_leaves(BRIEF, intervals(1, 1.0), LO, HI, 0.0, rng)
    with pytest.raises(ValueError, match="finite"):
        spurious_leaves(BRIEF, [[0.0, np.inf]], LO, HI, LEAVE, rng)
