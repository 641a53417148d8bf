"""The monitoring centre's desk (``sim.operations.centre.desk``): the queue's mechanics exactly,
the M/M/c case against Erlang C, priorities, the rota and shift ends, incidents handled
together, interruptions, and what follows the check."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest
from scipy import stats

from sim.operations.centre.arrivals import CentreArrivals, plain_arrivals
from sim.operations.centre.desk import NO_VISIT, simulate_centre
from sim.operations.centre.params import (
    CLASS_NAMES, AlertClass, CentreParams, Classes, Incidents, Notification, Outcome, Task, load_centre,
)
from sim.operations.erlang import ErlangC
from sim.operations.handling import Handling
from sim.operations.rota import MINUTE_S, Rota

HOUR = 3600.0
BREACH, TAMPER, EQUIPMENT, UNMONITORED, CHARGING = range(len(CLASS_NAMES))
EXACT = Handling("lognormal", 10.0, 1e-9)  # ten minutes, as good as fixed


def centre(operators: tuple[int, ...], handling_minutes: float = 10.0, shift_hours: float = 24.0,
           distribution: str = "exponential", first_shift_hour: float = 0.0, join_minutes: float = 0.0) -> CentreParams:
    """Every class alike but for priority (breach first), nothing after the check, staffed by
    ``operators`` a shift."""
    def klass(priority: int) -> AlertClass:
        return AlertClass(priority, 15.0, Handling(distribution, handling_minutes, 1.0))
    return CentreParams(Rota(shift_hours, first_shift_hour, operators, 0.0),
                        Classes(*(klass(p) for p in range(1, 6))), Incidents(join_minutes), Task(EXACT),
                        Notification(60.0, EXACT))


def with_classes(params: CentreParams, **classes: AlertClass) -> CentreParams:
    return replace(params, classes=replace(params.classes, **classes))


def rng(seed: int) -> np.random.Generator:
    return np.random.default_rng(seed)


def poisson(rate: float, n: int, seed: int) -> np.ndarray:
    return np.cumsum(rng(seed).exponential(1 / rate, n))


def arrivals(time: list[float], klass: list[int], incident: list[int] | None = None,
             confirmed: list[bool] | None = None) -> CentreArrivals:
    n = len(time)
    plain = plain_arrivals(np.array(time, dtype=float), np.array(klass))
    return replace(plain, incident=np.array(incident if incident is not None else range(n)),
                   confirmed=np.array(confirmed if confirmed is not None else [False] * n),
                   genuine=np.array(confirmed if confirmed is not None else [False] * n))


def test_waits_are_the_fifo_multi_server_recursion_exactly() -> None:
    # Kiefer and Wolfowitz: with c servers taking arrivals in order, each arrival waits for the
    # least-loaded server's remaining work; given the run's own handling times the waits follow.
    # Time runs a thousand times fast (0.6 s alerts) so that the run ends before the first
    # shift change, where an operator staying on to finish is one more server for a while.
    servers, arrival = 3, poisson(rate=1 / 0.24, n=5_000, seed=7)
    run = simulate_centre(plain_arrivals(arrival, np.zeros(len(arrival), int)),
                          centre((servers,), handling_minutes=0.01), arrival[-1] + 60.0, rng(8))
    handled = run.end - run.start
    assert not np.isnan(handled).any()
    work = np.zeros(servers)  # each server's remaining work, sorted, as each arrival sees it
    for i in range(len(arrival)):
        if i:
            work = np.maximum(work - (arrival[i] - arrival[i - 1]), 0)
        assert run.wait[i] == pytest.approx(work[0], abs=1e-6)
        work[0] += handled[i]
        work.sort()


@pytest.mark.parametrize(("occupancy", "count"), [(0.5, 100_000), (0.8, 200_000), (0.95, 600_000)])
def test_the_mmc_case_agrees_with_erlang_c(occupancy: float, count: int) -> None:
    # 20 operators, exponential handling, Poisson arrivals, one class: the formula's probability of
    # waiting, mean wait and share answered within a tenth of the handling time each lie inside
    # the simulation's 95% interval (batch means: the run less its first 5%, in 20 batches). Each
    # check misses by design on 5% of seeds, so the seed is fixed. Time runs a thousand times
    # fast (0.6 s alerts), so that no shift change (one more server while the leaving operator
    # finishes) falls in the run.
    servers, handling, target = 20, 0.6, 0.06
    rate = occupancy * servers / handling
    arrival = poisson(rate, count, seed=2)
    assert arrival[-1] < 24 * HOUR
    run = simulate_centre(plain_arrivals(arrival, np.zeros(count, int)), centre((servers,), handling / MINUTE_S),
                          arrival[-1], rng(3))
    waits = run.wait[count // 20 : count - count // 100]  # the tail: those the end cut off
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
    run = simulate_centre(arrivals([0.0, 60.0, 120.0, 180.0], [EQUIPMENT, UNMONITORED, EQUIPMENT, BREACH]),
                          centre((1,), distribution="lognormal"), 10 * HOUR, rng(1))
    assert list(np.argsort(run.start)) == [0, 3, 2, 1]
    assert run.start[3] == run.end[0]  # taken up the moment the operator was free


def test_the_rota_staffs_each_shift_and_an_operator_finishes_the_alert_in_hand() -> None:
    # Day shift (07:00-19:00) 3 at desks, night shift 1: a burst at 18:55 is taken three at a
    # time until 19:00, then one at a time; those taken up before 19:00 are finished after it.
    params = centre((3, 1), handling_minutes=30.0, shift_hours=12.0, first_shift_hour=7.0)
    burst = [18 * HOUR + 55 * MINUTE_S] * 8
    run = simulate_centre(arrivals(burst, [0] * 8), params, 2 * 24 * HOUR, rng(4))
    taken_by_day = run.start < 19 * HOUR
    assert taken_by_day.sum() == 3 and (run.end[taken_by_day] > 19 * HOUR).all()
    # After 19:00 one operator takes the rest one after another: none overlaps the one before.
    night = np.argsort(run.start)[3:]
    assert (run.start[night] >= 19 * HOUR).all()
    assert (run.start[night[1:]] >= run.end[night[:-1]] - 1e-6).all()
    assert run.desk_s == pytest.approx(params.rota.work_seconds(2 * 24 * HOUR))
    assert params.rota.work_seconds(24 * HOUR) == pytest.approx((7 * 1 + 12 * 3 + 5 * 1) * HOUR)


def test_the_same_seed_gives_the_same_run_and_another_seed_another() -> None:
    arrival = poisson(1 / 60, 2_000, seed=5)
    klass = np.random.default_rng(6).integers(0, 4, 2_000)
    incident = np.random.default_rng(7).integers(0, 300, 2_000)
    alerts = replace(plain_arrivals(arrival, klass), incident=incident, confirmed=incident % 3 == 0)
    params = load_centre()
    one, two = (simulate_centre(alerts, params, arrival[-1], rng(9)) for _ in range(2))
    other = simulate_centre(alerts, params, arrival[-1], rng(10))
    assert np.array_equal(one.start, two.start, equal_nan=True) and np.array_equal(one.end, two.end, equal_nan=True)
    assert np.array_equal(one.item_visit, two.item_visit) and one.interruptions == two.interruptions
    assert not np.array_equal(one.end, other.end, equal_nan=True)


def test_an_alert_not_reached_by_the_horizon_counts_its_wait_so_far() -> None:
    run = simulate_centre(arrivals([0.0, 1.0], [0, 0]), centre((1,), handling_minutes=600.0), 3 * HOUR, rng(1))
    assert np.isnan(run.start[1]) and np.isnan(run.end[0])
    assert run.wait[1] == 3 * HOUR - 1.0 and run.waiting_at_end == 1


def test_arrivals_out_of_order_are_refused() -> None:
    for time in ([1.0, 0.5], [-1.0]):
        with pytest.raises(ValueError, match="sorted and not negative"):
            simulate_centre(arrivals(time, [0] * len(time)), centre((1,)), 10.0, rng(1))


def test_at_a_shift_change_the_next_operator_takes_the_desk_while_the_last_finishes() -> None:
    # One operator a shift, 12-hour shifts from midnight: an alert taken up at 11:54 takes about
    # ten hours; one arriving at noon is taken up at noon by the night's operator.
    params = with_classes(centre((1, 1), shift_hours=12.0),
                          breach=AlertClass(1, 15.0, Handling("lognormal", 600.0, 0.01)))
    run = simulate_centre(arrivals([11.9 * HOUR, 12 * HOUR], [BREACH, BREACH]), params, 2 * 24 * HOUR, rng(1))
    assert run.start.tolist() == [11.9 * HOUR, 12 * HOUR]
    assert run.end[0] > 21 * HOUR  # finished by the day's operator, staying on


def test_each_alert_keeps_its_handling_time_whatever_the_roster() -> None:
    arrival = poisson(1 / 30, 3_000, seed=11)
    klass = np.random.default_rng(12).integers(0, 4, 3_000)
    few, many = (simulate_centre(plain_arrivals(arrival, klass), centre((n,), distribution="lognormal"),
                                 arrival[-1] + 48 * HOUR, rng(13)) for n in (25, 40))
    both = ~np.isnan(few.end) & ~np.isnan(many.end)
    assert both.sum() > 2_000
    assert np.allclose((few.end - few.start)[both], (many.end - many.start)[both])
    assert many.wait.mean() < few.wait.mean()


def test_alerts_of_one_incident_are_handled_together() -> None:
    # One operator, ten-minute checks, a minute for each alert that joins. Incident 7 opens at 0;
    # a second alert of it arrives at 5 minutes, while it is in hand: taken up at once, and the
    # item runs a minute longer. Incident 8's alert waits; two more of it arrive while it waits
    # and are taken up with it. A breach of incident 7 after its item is done opens a new item.
    params = with_classes(centre((1,), join_minutes=1.0), breach=AlertClass(1, 15.0, EXACT))
    time = [0.0, 5 * MINUTE_S, 6 * MINUTE_S, 7 * MINUTE_S, 8 * MINUTE_S, 40 * MINUTE_S]
    run = simulate_centre(arrivals(time, [BREACH] * 6, incident=[7, 7, 8, 8, 8, 7]), params, 5 * HOUR, rng(1))
    assert run.item.tolist() == [0, 0, 1, 1, 1, 2]
    assert run.start.tolist() == pytest.approx([0.0, 5 * MINUTE_S, 11 * MINUTE_S, 11 * MINUTE_S, 11 * MINUTE_S, 40 * MINUTE_S])
    assert run.item_end.tolist() == pytest.approx([11 * MINUTE_S, 23 * MINUTE_S, 50 * MINUTE_S])
    assert run.item_work_s.tolist() == pytest.approx([11 * MINUTE_S, 12 * MINUTE_S, 10 * MINUTE_S])


def test_a_joining_alert_of_higher_priority_moves_its_waiting_incident_up_the_queue() -> None:
    # One operator busy until 10 minutes; an equipment alert (incident 1) then an unmonitored one
    # (incident 2) wait; a breach joins incident 2, which goes ahead of incident 1.
    params = with_classes(centre((1,)), **{name: AlertClass(p, 15.0, EXACT) for p, name in enumerate(CLASS_NAMES, 1)})
    run = simulate_centre(arrivals([0.0, 60.0, 120.0, 180.0], [BREACH, EQUIPMENT, UNMONITORED, BREACH],
                                   incident=[0, 1, 2, 2]), params, 5 * HOUR, rng(1))
    assert run.item_start.tolist() == pytest.approx([0.0, 20 * MINUTE_S, 10 * MINUTE_S])
    assert run.item_klass.tolist() == [BREACH, EQUIPMENT, BREACH]


def test_a_higher_priority_interrupts_a_preemptible_item_which_resumes_with_the_work_it_has_left() -> None:
    # One operator, ten-minute items: an equipment alert (preemptible) at 0, a breach at 4
    # minutes. The breach is taken up at once; the equipment item goes back to the queue with
    # 6 minutes left and ends at 20 minutes. A tamper (not preemptible) is never interrupted.
    params = with_classes(centre((1,)), breach=AlertClass(1, 15.0, EXACT), tamper=AlertClass(2, 15.0, EXACT),
                          equipment=AlertClass(3, 60.0, EXACT, preemptible=True))
    run = simulate_centre(arrivals([0.0, 4 * MINUTE_S], [EQUIPMENT, BREACH]), params, 5 * HOUR, rng(1))
    assert run.interruptions == 1
    assert run.start.tolist() == pytest.approx([0.0, 4 * MINUTE_S])
    assert run.end.tolist() == pytest.approx([20 * MINUTE_S, 14 * MINUTE_S])
    assert run.item_queued_s.tolist() == pytest.approx([10 * MINUTE_S, 0.0])  # back in the queue while the breach was worked
    kept = simulate_centre(arrivals([0.0, 4 * MINUTE_S], [TAMPER, BREACH]), params, 5 * HOUR, rng(1))
    assert kept.interruptions == 0 and kept.start[1] == pytest.approx(10 * MINUTE_S)


def test_a_confirmed_breach_is_called_and_notified_and_asks_for_a_visit_as_its_class_says() -> None:
    # Calls and notices take 10 minutes each here: a confirmed breach's item is the check, the
    # call and the notice, 30 minutes; an unconfirmed one only the check; every confirmed item
    # asks for a breach visit, no unconfirmed one.
    breach = AlertClass(1, 15.0, EXACT, confirmed=Outcome(call=1.0, visit=1.0, notify=True), unconfirmed=Outcome(),
                        visit_job="breach")
    params = with_classes(centre((2,)), breach=breach)
    run = simulate_centre(arrivals([0.0, 0.0], [BREACH, BREACH], confirmed=[True, False]), params, 5 * HOUR, rng(1))
    assert run.item_work_s.tolist() == pytest.approx([30 * MINUTE_S, 10 * MINUTE_S])
    assert run.item_called.tolist() == [True, False] and run.item_notified.tolist() == [True, False]
    assert run.visit_jobs == ("breach",) and run.item_visit.tolist() == [0, NO_VISIT]
    time, job, subject = run.visits()
    assert time.tolist() == pytest.approx([30 * MINUTE_S]) and job.tolist() == [0]


def test_the_share_of_items_called_follows_the_outcome_share() -> None:
    equipment = AlertClass(3, 60.0, Handling("exponential", 1.0), preemptible=True,
                           confirmed=Outcome(call=0.3, visit=0.1), visit_job="fault")
    params = with_classes(centre((50,)), equipment=equipment)
    n = 20_000
    run = simulate_centre(arrivals(list(np.arange(n) * 10.0), [EQUIPMENT] * n, confirmed=[True] * n), params,
                          n * 10.0 + HOUR, rng(5))
    assert run.item_called.mean() == pytest.approx(0.3, abs=0.015)
    assert (run.item_visit != NO_VISIT).mean() == pytest.approx(0.1, abs=0.01)


def test_an_alert_at_the_very_shift_change_is_taken_by_the_desk_that_stays_staffed() -> None:
    # Two desks by day, one by night (12-hour shifts from midnight): a 13-hour breach from 0 on
    # desk 0 runs past noon (its operator stays on); a 10-minute tamper at 01:00 on desk 1. An
    # alert at exactly 12:00 must be taken at once by desk 0's night operator.
    long_, short = AlertClass(1, 15.0, Handling("lognormal", 13 * 60, 1e-9)), AlertClass(2, 15.0, EXACT)
    params = with_classes(centre((2, 1), shift_hours=12.0), breach=long_, tamper=short, equipment=short)
    run = simulate_centre(arrivals([0.0, HOUR, 12 * HOUR], [BREACH, TAMPER, TAMPER]), params, 36 * HOUR, rng(1))
    assert run.start[2] == pytest.approx(12 * HOUR) and run.end[0] == pytest.approx(13 * HOUR)


def test_a_breach_joining_a_waiting_incident_interrupts_as_a_new_one_would() -> None:
    # One operator on a preemptible equipment item from 0; an unmonitored alert (incident 1) waits
    # from 1 minute; a breach of incident 1 at 2 minutes lifts it to priority 1 and interrupts.
    classes = {name: AlertClass(p, 15.0, Handling("lognormal", 30.0, 1e-9), preemptible=p > 2)
               for p, name in enumerate(CLASS_NAMES, 1)}
    params = with_classes(centre((1,)), **classes)
    run = simulate_centre(arrivals([0.0, 60.0, 120.0], [EQUIPMENT, UNMONITORED, BREACH], incident=[0, 1, 1]),
                          params, 10 * HOUR, rng(1))
    assert run.interruptions == 1 and run.start[2] == pytest.approx(120.0)
    assert run.item.tolist() == [0, 1, 1]


def test_an_item_its_operator_stays_on_to_finish_is_never_interrupted() -> None:
    # One operator a shift from midnight; a 13-hour equipment item (preemptible) from 0 runs past
    # noon. A breach at noon exactly, and another at 12:30, go to the night's operator; the item
    # the day's operator stays on to finish ends at 13:00 untouched.
    equipment = AlertClass(3, 60.0, Handling("lognormal", 13 * 60, 1e-9), preemptible=True)
    params = with_classes(centre((1, 1), shift_hours=12.0, distribution="lognormal"),
                          breach=AlertClass(1, 15.0, EXACT), equipment=equipment)
    for breach_at in (12 * HOUR, 12.5 * HOUR):
        run = simulate_centre(arrivals([0.0, breach_at], [EQUIPMENT, BREACH]), params, 36 * HOUR, rng(1))
        assert run.interruptions == 0 and run.end[0] == pytest.approx(13 * HOUR)
        assert run.start[1] == pytest.approx(breach_at)
