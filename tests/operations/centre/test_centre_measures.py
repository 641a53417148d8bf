"""What a centre run comes to (``sim.operations.centre.measures``): deadlines, notification,
overload, Little's law, the haystack."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

from sim.operations.centre.arrivals import plain_arrivals
from sim.operations.centre.desk import simulate_centre
from sim.operations.centre.measures import centre_measures
from sim.operations.centre.params import AlertClass, CentreParams, Classes, Incidents, Notification, Outcome, Task, load_centre
from sim.operations.handling import Handling
from sim.operations.rota import MINUTE_S, Rota

HOUR = 3600.0
TEN = Handling("lognormal", 10.0, 1e-9)


def one_operator(handling_minutes: float) -> CentreParams:
    klass = AlertClass(1, 15.0, Handling("lognormal", handling_minutes, 1e-9))
    return CentreParams(Rota(24.0, 0.0, (1,), 0.0), Classes(*(klass,) * 5), Incidents(0.0), Task(TEN),
                        Notification(60.0, TEN))


def test_littles_law_holds_on_the_shipped_centre_with_incidents_and_interruptions() -> None:
    rng = np.random.default_rng(3)
    arrival = np.cumsum(rng.exponential(30.0, 20_000))
    klass = rng.integers(0, 5, len(arrival))
    incident = rng.integers(0, 2_000, len(arrival))
    alerts = replace(plain_arrivals(arrival, klass), incident=incident, confirmed=rng.random(len(arrival)) < 0.3)
    centre = load_centre()
    run = simulate_centre(alerts, centre, arrival[-1], rng)
    measures = centre_measures(run, centre, alerts.confirmed)
    assert measures["interruptions"] > 0 and measures["joined_open_incident"] > 0
    law = measures["littles_law"]
    assert law["holds"] and law["relative_gap"] < 1e-9
    assert law["mean_queue"] == pytest.approx(law["arrival_rate_per_s"] * law["mean_wait_s"], rel=1e-9)


def test_a_centre_that_cannot_keep_up_is_flagged_overloaded_with_its_growth() -> None:
    # One operator, 10-minute alerts every 5 minutes: half the work is done, the queue grows
    # by about 6 an hour, and the run still ends at its horizon.
    arrival = np.arange(0.0, 2 * 24 * HOUR, 5 * MINUTE_S)
    params = one_operator(10.0)
    run = simulate_centre(plain_arrivals(arrival, np.zeros(len(arrival), int)), params, 2 * 24 * HOUR,
                          np.random.default_rng(1))
    measures = centre_measures(run, params, np.zeros(len(arrival), bool))
    assert measures["overloaded"] and measures["offered_load"] == pytest.approx(2.0, rel=1e-6)
    assert measures["queue_growth_per_hour"] == pytest.approx(6.0, rel=0.25)
    assert measures["waiting_at_end"] > 200 and measures["occupancy"] == pytest.approx(1.0, abs=0.01)
    calm = one_operator(2.0)
    calm_run = simulate_centre(plain_arrivals(arrival, np.zeros(len(arrival), int)), calm, 2 * 24 * HOUR,
                               np.random.default_rng(1))
    calm_measures = centre_measures(calm_run, calm, np.zeros(len(arrival), bool))
    assert not calm_measures["overloaded"] and abs(calm_measures["queue_growth_per_hour"]) < 0.1


def test_deadlines_and_the_haystack_before_each_genuine_breach() -> None:
    # One operator, 10-minute alerts: four at once are taken up at 0, 10, 20 and 30 minutes;
    # with a 15-minute deadline the first two hold it. The fourth, a genuine breach, waited
    # while three others were taken up.
    params = replace(one_operator(10.0), classes=Classes(*(AlertClass(1, 15.0, TEN),) * 5))
    run = simulate_centre(plain_arrivals(np.zeros(4), np.zeros(4, int)), params, 10 * HOUR, np.random.default_rng(1))
    assert run.start.tolist() == pytest.approx([0.0, 600.0, 1200.0, 1800.0])
    measures = centre_measures(run, params, np.array([False, False, False, True]))
    assert measures["classes"]["breach"]["within_deadline_share"] == 0.5
    assert measures["classes"]["breach"]["time_to_action_median_s"] == pytest.approx(900.0)
    genuine = measures["genuine_breaches"]
    assert genuine == {"alerts": 1, "past_deadline": 1, "items_taken_up_while_waiting_median": 3.0,
                       "items_taken_up_while_waiting_p95": 3.0}


def test_genuine_breaches_are_notified_within_the_notification_deadline_or_not() -> None:
    # A notice takes 10 minutes after a 10-minute check: a genuine breach taken up at once is
    # notified 20 minutes after it was raised; one raised at 5 minutes waits behind three items
    # and is notified at 70, 65 minutes after it was raised, past the hour.
    notify = Outcome(notify=True)
    params = replace(one_operator(10.0), classes=Classes(*(AlertClass(1, 15.0, TEN, confirmed=notify),) * 5))
    time = np.array([0.0, 0.0, 0.0, 5 * MINUTE_S])
    alerts = replace(plain_arrivals(time, np.zeros(4, int)), confirmed=np.array([True, True, False, True]))
    alerts = replace(alerts, genuine=alerts.confirmed)
    run = simulate_centre(alerts, params, 10 * HOUR, np.random.default_rng(1))
    notification = centre_measures(run, params, alerts.genuine)["notification"]
    # Items end at 20 (notified), 40 (notified), 50 (unconfirmed, no notice) and 70 minutes.
    assert run.item_end.tolist() == pytest.approx([20 * MINUTE_S, 40 * MINUTE_S, 50 * MINUTE_S, 70 * MINUTE_S])
    assert notification["alerts"] == 3 and notification["within_deadline_share"] == pytest.approx(2 / 3)
    assert notification["time_to_notify_median_s"] == pytest.approx(40 * MINUTE_S)


def test_an_alert_still_waiting_before_its_deadline_counts_neither_way() -> None:
    params = one_operator(600.0)
    run = simulate_centre(plain_arrivals(np.array([0.0, 3 * HOUR - 60.0]), np.zeros(2, int)), params, 3 * HOUR,
                          np.random.default_rng(1))
    breach = centre_measures(run, params, np.zeros(2, bool))["classes"]["breach"]
    assert breach["taken_up"] == 1 and breach["within_deadline_share"] == 1.0


def test_alerts_raised_at_or_after_the_horizon_are_left_out() -> None:
    params = one_operator(10.0)
    run = simulate_centre(plain_arrivals(np.array([10.0, 3600.0]), np.zeros(2, int)), params, 3600.0,
                          np.random.default_rng(1))
    measures = centre_measures(run, params, np.array([False, True]))
    assert measures["alerts"] == 1 and measures["classes"]["breach"]["alerts"] == 1
    assert measures["waiting_at_end"] == 0 and measures["genuine_breaches"]["alerts"] == 0


def test_a_genuine_tamper_is_held_to_the_tamper_deadline() -> None:
    # One operator, 10-minute alerts: a breach and a tamper at once; the tamper waits 10 minutes,
    # inside its 30-minute deadline though past the breach's 5.
    breach, tamper = AlertClass(1, 5.0, TEN), AlertClass(2, 30.0, TEN)
    params = replace(one_operator(10.0), classes=Classes(breach, tamper, breach, breach, breach))
    run = simulate_centre(plain_arrivals(np.zeros(2), np.array([0, 1])), params, HOUR, np.random.default_rng(1))
    genuine = centre_measures(run, params, np.array([True, True]))["genuine_breaches"]
    assert genuine["alerts"] == 2 and genuine["past_deadline"] == 0
    assert genuine["items_taken_up_while_waiting_median"] == 0.5  # the tamper waited behind the breach
