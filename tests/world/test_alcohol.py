"""TAC curves, exact over-threshold intervals, and the tag's readings of them."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

from sim.detector.telemetry import Kind
from sim.scenario import DeviceMix, load_scenario, load_supplier
from sim.world.alcohol import HOUR_S, Episode, over_threshold_intervals, readings, tac
from sim.world.draws import DAY_S
from sim.world.truth import TruthKind
from sim.pipeline.world_stream import simulate

THRESHOLD = 20.0  # 0.02 g/dl (NHTSA 2007)
HALF_HOUR = 1800.0


def ep(start_h: float, peak: float, rise_h: float = 1.0, elimination: float = 15.0, lag_h: float = 1.5) -> Episode:
    return Episode(start_h * HOUR_S, peak, rise_h * HOUR_S, elimination, lag_h * HOUR_S)


def test_the_curve_peaks_at_its_peak_and_returns_to_zero() -> None:
    e = ep(20.0, 80.0)
    peak_at = (20.0 + 1.5 + 1.0) * HOUR_S
    sober_at = peak_at + 80.0 / 15.0 * HOUR_S
    t = np.linspace(19 * HOUR_S, 36 * HOUR_S, 200_001)
    curve = tac([e], t)
    assert tac([e], np.array([peak_at]))[0] == 80.0
    assert curve.max() <= 80.0 and curve.min() == 0.0
    assert t[curve.argmax()] == pytest.approx(peak_at, abs=t[1] - t[0])
    assert np.all(curve[t <= (20 + 1.5) * HOUR_S] == 0)  # nothing at the skin during the lag
    assert np.all(curve[t >= sober_at] == 0)
    # the fall is linear at the elimination rate
    one_hour_after = tac([e], np.array([peak_at + HOUR_S]))[0]
    assert one_hour_after == pytest.approx(80.0 - 15.0)


def test_overlapping_episodes_add() -> None:
    a, b = ep(19.0, 40.0), ep(20.5, 30.0)
    t = np.linspace(18 * HOUR_S, 30 * HOUR_S, 10_001)
    np.testing.assert_allclose(tac([a, b], t), tac([a], t) + tac([b], t))
    assert tac([], t).sum() == 0


def assert_exact(episodes: list[Episode], threshold: float) -> np.ndarray:
    """Intervals agree with dense sampling away from the threshold, and every endpoint is a
    crossing (TAC equals the threshold there)."""
    got = over_threshold_intervals(episodes, threshold)
    t = np.linspace(0, 3 * 24 * HOUR_S, 300_001)
    curve = tac(episodes, t)
    inside = ((t[:, None] >= got[:, 0]) & (t[:, None] < got[:, 1])).any(axis=1)
    clear = np.abs(curve - threshold) > 1e-9
    np.testing.assert_array_equal(inside[clear], (curve >= threshold)[clear])
    np.testing.assert_allclose(tac(episodes, got.ravel()), threshold, atol=1e-9)
    assert np.all(got[:, 1] > got[:, 0]) and np.all(got[1:, 0] > got[:-1, 1])
    return got


@pytest.mark.parametrize(
    "episodes, count",
    [
        ([ep(20.0, 80.0)], 1),
        ([ep(20.0, 15.0)], 0),  # under the threshold all along
        ([ep(20.0, THRESHOLD)], 0),  # touches it at the peak only: no time over
        ([ep(19.0, 15.0), ep(19.5, 15.0)], 1),  # neither alone, both together
        ([ep(18.0, 60.0), ep(21.0, 60.0)], 1),  # overlapping: one merged interval
        ([ep(18.0, 30.0), ep(30.0, 30.0), ep(55.0, 90.0, rise_h=2.0, elimination=10.0)], 3),  # separate nights
        ([ep(20.0, 35.0), ep(21.0, 35.0, rise_h=35 / 15)], 1),  # a plateau: one falls as the next rises
    ],
)
def test_over_threshold_intervals_are_exact(episodes: list[Episode], count: int) -> None:
    assert len(assert_exact(episodes, THRESHOLD)) == count


def test_interval_bounds_by_hand() -> None:
    got = over_threshold_intervals([ep(0.0, 80.0)], THRESHOLD)
    # rises 80 mg/dl in an hour after a 1.5 h lag: 20 reached 15 min into the rise; falls 15 an hour from 2.5 h
    np.testing.assert_allclose(got, [[1.75 * HOUR_S, (2.5 + 60 / 15) * HOUR_S]])


def test_episode_checks() -> None:
    with pytest.raises(ValueError):
        ep(0.0, 0.0)
    with pytest.raises(ValueError):
        ep(0.0, 50.0, lag_h=-1.0)
    with pytest.raises(ValueError):
        over_threshold_intervals([ep(0.0, 50.0)], 0.0)


def test_readings_follow_detected_episodes_and_miss_undetected_ones() -> None:
    seen, missed = ep(20.0, 80.0), ep(44.0, 80.0)
    times = np.arange(0, 3 * 24 * HOUR_S, HALF_HOUR)
    values = readings([seen, missed], times, [True, False], np.random.default_rng(1), noise_sd=2.0)
    assert values.min() >= 0.0
    assert np.abs(values - tac([seen], times)).max() < 5 * 2.0 + 1e-9
    # the missed episode's night reads like a sober one: never near the threshold
    night = (times >= 44 * HOUR_S) & (times < 54 * HOUR_S)
    assert values[night].max() < 5 * 2.0
    assert values[night].max() < THRESHOLD <= tac([missed], times[night]).max()
    # the detected one crosses the threshold on the readings as in truth
    assert values[(times >= 20 * HOUR_S) & (times < 30 * HOUR_S)].max() > THRESHOLD


def test_reading_noise_has_its_stated_spread() -> None:
    e = ep(0.0, 500.0, elimination=0.1)  # far above zero for weeks, so the floor never bites
    times = 3 * HOUR_S + np.arange(2000) * HALF_HOUR
    residual = readings([e], times, [True], np.random.default_rng(4), noise_sd=2.0) - tac([e], times)
    assert residual.std() == pytest.approx(2.0, rel=0.1) and abs(residual.mean()) < 0.2


def test_same_seed_same_readings() -> None:
    eps, times = [ep(20.0, 60.0), ep(70.0, 40.0)], np.arange(0, 4 * 24 * HOUR_S, HALF_HOUR)
    a = readings(eps, times, [True, False], np.random.default_rng(9))
    b = readings(eps, times, [True, False], np.random.default_rng(9))
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, readings(eps, times, [True, False], np.random.default_rng(10)))
    with pytest.raises(ValueError):
        readings(eps, times, [True], np.random.default_rng(9))


# --- detection by the episode's peak (NHTSA 2007) ------------------------------------------------


def test_the_tag_detects_more_of_the_episodes_that_peak_higher() -> None:
    # "Detects about 57% of drinking episodes at that level [0.02 g/dl], 88% at BAC 0.08 or more";
    # linear in the peak between the two (an assumption), and no better or worse beyond them.
    for name in ("supplier-a", "supplier-b"):
        sensing = load_supplier(name).alcohol
        peaks = np.array([5.0, THRESHOLD, 50.0, 80.0, 300.0])
        np.testing.assert_allclose(sensing.detection_share(peaks), [0.57, 0.57, 0.725, 0.88, 0.88])


def test_the_world_detects_88_percent_of_episodes_peaking_over_a_bac_of_0_08() -> None:
    # Alcohol tags only, every wearer a drinker, peaks near 100 mg/dl (0.1 g/dl): about 210
    # episodes, over the threshold for some six hours each, so readings show every one detected.
    smoke = load_scenario("smoke")
    scenario = replace(smoke, subjects=400, days=7.0, devices=DeviceMix(gps=0.0, rf=0.0, alcohol=1.0),
                       behaviour=replace(smoke.behaviour, drinker=1.0, drinking_episodes_per_week=0.7,
                                         peak_tac_mg_dl_median=100.0, duration_sigma=0.1))
    run = simulate(scenario)
    positive: dict[int, list[float]] = {}
    for r in run.records:
        if r.kind is Kind.ALCOHOL_READING and r.value >= THRESHOLD:
            positive.setdefault(r.subject, []).append(r.event_time)
    drinking = run.truth[(run.truth["kind"] == TruthKind.DRINKING) & (run.truth["end"] < run.end - DAY_S)]
    seen = [any(a <= t < b for t in positive.get(int(s), [])) for s, a, b in zip(drinking["subject"], drinking["start"],
                                                                                  drinking["end"], strict=True)]
    share = float(np.mean(seen))
    assert len(seen) >= 150
    # 95% of draws of this many fall within about 0.05 of 0.88; 0.57 is far outside.
    assert 0.82 <= share <= 0.95, f"{sum(seen)} of {len(seen)} episodes detected"
