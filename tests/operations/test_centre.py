"""The monitoring centre (``sim.operations.centre``): the queue's mechanics exactly, the M/M/c
case against Erlang C, priorities, the rota and shift ends."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

from sim.operations.centre import simulate_centre
from sim.operations.erlang import ErlangC
from sim.operations.params import CLASS_NAMES, MINUTE_S, AlertClass, CentreParams, Classes, Handling, Rota

HOUR = 3600.0
BREACH, TAMPER, EQUIPMENT, UNMONITORED, CHARGING = range(len(CLASS_NAMES))


def centre(operators: tuple[int, ...], handling_minutes: float = 10.0, shift_hours: float = 24.0,
           distribution: str = "exponential", first_shift_hour: float = 0.0) -> CentreParams:
    """Every class alike but for priority (breach first), staffed by ``operators`` a shift."""
    def klass(priority: int) -> AlertClass:
        return AlertClass(priority, 15.0, Handling(distribution, handling_minutes, 1.0))
    return CentreParams(Rota(shift_hours, first_shift_hour, operators, 0.0), Classes(klass(1), klass(2), klass(3), klass(4), klass(5)))


def rng(seed: int) -> np.random.Generator:
    return np.random.default_rng(seed)


def poisson(rate: float, n: int, seed: int) -> np.ndarray:
    return np.cumsum(rng(seed).exponential(1 / rate, n))


def test_waits_are_the_fifo_multi_server_recursion_exactly() -> None:
    # Kiefer and Wolfowitz: with c servers taking arrivals in order, each arrival waits for the
    # least-loaded server's remaining work; given the run's own handling times the waits follow.
    # Time runs a thousand times fast (0.6 s alerts) so that the run ends before the first
    # shift change, where an operator staying on to finish is one more server for a while.
    servers, arrival = 3, poisson(rate=1 / 0.24, n=5_000, seed=7)
    run = simulate_centre(arrival, np.zeros(len(arrival), int), centre((servers,), handling_minutes=0.01),
                          arrival[-1] + 60.0, rng(8))
    handled = run.end - run.start
    assert not np.isnan(handled).any()
    work = np.zeros(servers)  # each server's remaining work, sorted, as each arrival sees it
    for i in range(len(arrival)):
        if i:
            work = np.maximum(work - (arrival[i] - arrival[i - 1]), 0)
        assert run.wait[i] == pytest.approx(work[0], abs=1e-6)
        work[0] += handled[i]
        work.sort()


@pytest.mark.parametrize(("occupancy", "arrivals"), [(0.5, 100_000), (0.8, 200_000), (0.95, 600_000)])
def test_the_mmc_case_agrees_with_erlang_c(occupancy: float, arrivals: int) -> None:
    # 20 operators, exponential handling, Poisson arrivals, one class: the formula's probability of
    # waiting, mean wait and share answered within a tenth of the handling time each lie inside
    # the simulation's 95% interval (batch means: the run less its first 5%, in 20 batches). Each
    # check misses by design on 5% of seeds, so the seed is fixed. Time runs a thousand times
    # fast (0.6 s alerts), so that no shift change (one more server while the leaving operator
    # finishes) falls in the run.
    servers, handling, target = 20, 0.6, 0.06
    rate = occupancy * servers / handling
    arrival = poisson(rate, arrivals, seed=2)
    assert arrival[-1] < 24 * HOUR
    run = simulate_centre(arrival, np.zeros(arrivals, int), centre((servers,), handling / MINUTE_S), arrival[-1], rng(3))
    waits = run.wait[arrivals // 20 : arrivals - arrivals // 100]  # the tail: those the end cut off
    batches = np.array([(np.mean(w > 0), w.mean(), np.mean(w <= target)) for w in np.array_split(waits, 20)])
    mean = batches.mean(axis=0)
    half = stats.t.ppf(0.975, len(batches) - 1) * batches.std(axis=0, ddof=1) / np.sqrt(len(batches))
    formula = ErlangC(rate, handling, servers)
    for name, want, got, h in zip(("wait probability", "mean wait", "within a tenth of the handling time"),
                                  (formula.wait_probability, formula.mean_wait, formula.within(target)), mean, half):
        assert abs(got - want) <= h, f"{name}: simulated {got:.4f} +/- {h:.4f}, Erlang C {want:.4f}"
    assert run.busy_s / run.desk_s == pytest.approx(occupancy, rel=0.02)


def test_a_breach_is_taken_before_older_alerts_of_lower_priority() -> None:
    # One operator, busy with the first alert while an equipment alert, an unmonitored one and
    # then a breach queue up: the breach goes next, then equipment, then unmonitored.
    arrival = np.array([0.0, 60.0, 120.0, 180.0])
    klass = np.array([EQUIPMENT, UNMONITORED, EQUIPMENT, BREACH])
    run = simulate_centre(arrival, klass, centre((1,), handling_minutes=10.0, distribution="lognormal"), 10 * HOUR, rng(1))
    assert list(np.argsort(run.start)) == [0, 3, 2, 1]
    assert run.start[3] == run.end[0]  # taken up the moment the operator was free


def test_the_rota_staffs_each_shift_and_an_operator_finishes_the_alert_in_hand() -> None:
    # Day shift (07:00-19:00) 3 at desks, night shift 1: a burst at 18:55 is taken three at a
    # time until 19:00, then one at a time; those taken up before 19:00 are finished after it.
    params = centre((3, 1), handling_minutes=30.0, shift_hours=12.0, first_shift_hour=7.0)
    burst = np.full(8, 18 * HOUR + 55 * MINUTE_S)
    run = simulate_centre(burst, np.zeros(8, int), params, 2 * 24 * HOUR, rng(4))
    taken_by_day = run.start < 19 * HOUR
    assert taken_by_day.sum() == 3 and (run.end[taken_by_day] > 19 * HOUR).all()
    # After 19:00 one operator takes the rest one after another: none overlaps the one before.
    night = np.argsort(run.start)[3:]
    assert (run.start[night] >= 19 * HOUR).all()
    assert (run.start[night[1:]] >= run.end[night[:-1]]).all()
    assert run.desk_s == pytest.approx(params.rota.desk_seconds(2 * 24 * HOUR))
    assert params.rota.desk_seconds(24 * HOUR) == pytest.approx((7 * 1 + 12 * 3 + 5 * 1) * HOUR)


def test_the_same_seed_gives_the_same_run_and_another_seed_another() -> None:
    arrival = poisson(1 / 60, 2_000, seed=5)
    klass = np.random.default_rng(6).integers(0, 4, 2_000)
    params = centre((12, 8), shift_hours=12.0, first_shift_hour=7.0, distribution="lognormal")
    one, two = (simulate_centre(arrival, klass, params, arrival[-1], rng(9)) for _ in range(2))
    other = simulate_centre(arrival, klass, params, arrival[-1], rng(10))
    assert np.array_equal(one.start, two.start, equal_nan=True) and np.array_equal(one.end, two.end, equal_nan=True)
    assert not np.array_equal(one.end, other.end, equal_nan=True)


def test_an_alert_not_reached_by_the_horizon_counts_its_wait_so_far() -> None:
    arrival = np.array([0.0, 1.0])
    run = simulate_centre(arrival, np.zeros(2, int), centre((1,), handling_minutes=600.0), 3 * HOUR, rng(1))
    assert np.isnan(run.start[1]) and np.isnan(run.end[0])
    assert run.wait[1] == 3 * HOUR - 1.0


@pytest.mark.parametrize(("arrival", "klass", "problem"), [
    ([1.0, 0.5], [0, 0], "sorted"), ([-1.0], [0], "negative"), ([1.0, 2.0], [0], "2 arrival times for 1 classes"),
])
def test_arrivals_out_of_order_are_refused(arrival: list[float], klass: list[int], problem: str) -> None:
    with pytest.raises(ValueError, match=problem):
        simulate_centre(np.array(arrival), np.array(klass), centre((1,)), 10.0, rng(1))


def test_at_a_shift_change_the_next_operator_takes_the_desk_while_the_last_finishes() -> None:
    # One operator a shift, 12-hour shifts from midnight: an alert taken up at 11:54 takes about
    # ten hours; one arriving at noon is taken up at noon by the night's operator.
    long = Handling("lognormal", 600.0, 0.01)
    klass = AlertClass(1, 15.0, long)
    params = CentreParams(Rota(12.0, 0.0, (1, 1), 0.0), Classes(*(klass,) * 5))
    arrival = np.array([11.9 * HOUR, 12 * HOUR])
    run = simulate_centre(arrival, np.zeros(2, int), params, 2 * 24 * HOUR, rng(1))
    assert run.start.tolist() == [11.9 * HOUR, 12 * HOUR]
    assert run.end[0] > 21 * HOUR  # finished by the day's operator, staying on


def test_each_alert_keeps_its_handling_time_whatever_the_roster() -> None:
    arrival = poisson(1 / 30, 3_000, seed=11)
    klass = np.random.default_rng(12).integers(0, 4, 3_000)
    few, many = (simulate_centre(arrival, klass, centre((n,), distribution="lognormal"), arrival[-1] + 48 * HOUR, rng(13))
                 for n in (25, 40))
    both = ~np.isnan(few.end) & ~np.isnan(many.end)
    assert both.sum() > 2_000
    assert np.allclose((few.end - few.start)[both], (many.end - many.start)[both])
    assert many.wait.mean() < few.wait.mean()
