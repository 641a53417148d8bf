"""The staffing answer for the centre (``sim.operations.staffing``): the fewest operators, shift
by shift, that hold every deadline; near Erlang C where Erlang C applies."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

from sim.operations.centre.arrivals import plain_arrivals
from sim.operations.centre.measures import centre_measures
from sim.operations.centre.params import AlertClass, Classes, load_centre, with_operators
from sim.operations.handling import Handling
from sim.operations.rota import Rota
from sim.operations.service import Caseload, run_centre
from sim.operations.staffing import centre_guess, fewest_operators

DAY = 86400.0
CASELOAD = Caseload(np.zeros((1, 2)), 1000.0, 2 * DAY, lambda purpose: np.random.default_rng((7, purpose)))


def poisson(rate: float, horizon: float, seed: int) -> np.ndarray:
    times = np.cumsum(np.random.default_rng(seed).exponential(1 / rate, int(rate * horizon * 1.2) + 10))
    return times[times < horizon]


def centre_holds(alerts, params, staff: tuple[int, ...], share: float) -> bool:  # type: ignore[no-untyped-def]
    roster = with_operators(params, staff)
    m = centre_measures(run_centre(alerts, roster, CASELOAD), roster, alerts.genuine)
    return all(c["within_deadline_share"] is None or c["within_deadline_share"] >= share for c in m["classes"].values())


def test_the_centres_answer_holds_every_deadline_and_one_fewer_on_any_shift_does_not() -> None:
    # Busier by day (07:00-19:00) than by night: the answer rosters more by day.
    params = load_centre()
    day = poisson(rate=300 / 3600, horizon=2 * DAY, seed=1)
    day = day[((day % DAY) >= 7 * 3600) & ((day % DAY) < 19 * 3600)]
    time = np.sort(np.concatenate([day, poisson(rate=60 / 3600, horizon=2 * DAY, seed=2)]))
    alerts = plain_arrivals(time, np.random.default_rng(2).choice(4, len(time), p=[0.4, 0.2, 0.3, 0.1]))
    answer = fewest_operators(alerts, params, CASELOAD, share=0.9)
    assert answer.staff is not None and answer.measures is not None
    day_staff, night_staff = answer.staff
    assert day_staff > night_staff
    assert centre_holds(alerts, params, answer.staff, 0.9)
    for shift in range(2):
        fewer = list(answer.staff)
        fewer[shift] -= 1
        assert not centre_holds(alerts, params, tuple(fewer), 0.9), shift
    assert (answer.staff, True) in answer.tried


def test_for_an_mmc_centre_the_answer_is_near_erlang_cs() -> None:
    # One class, exponential handling, no shrinkage, round the clock: the simulation's answer
    # and the formula's agree within a couple of operators.
    klass = AlertClass(1, 15.0, Handling("exponential", 10.0))
    params = replace(load_centre(), rota=Rota(24.0, 0.0, (1,), 0.0), classes=Classes(*(klass,) * 5))
    time = poisson(rate=240 / 3600, horizon=2 * DAY, seed=3)
    alerts = plain_arrivals(time, np.zeros(len(time), int))
    answer = fewest_operators(alerts, params, CASELOAD, share=0.8)
    guess = centre_guess(alerts, params, 2 * DAY, 0.8)
    assert guess == answer.erlang_guess and 40 <= guess <= 50  # 40 erlangs offered
    assert answer.staff is not None and abs(answer.staff[0] - guess) <= 2


def test_no_alerts_need_the_fewest_with_cover() -> None:
    empty = np.zeros(0)
    answer = fewest_operators(plain_arrivals(empty, empty.astype(int)), load_centre(), CASELOAD, 0.9)
    assert answer.staff == (2, 2)  # one at a desk after 30% shrinkage, on each shift


@pytest.mark.parametrize("share", [0.0, 1.0, 1.5])
def test_a_service_level_outside_its_range_is_refused(share: float) -> None:
    empty = np.zeros(0)
    with pytest.raises(ValueError, match="service level"):
        fewest_operators(plain_arrivals(empty, empty.astype(int)), load_centre(), CASELOAD, share)
