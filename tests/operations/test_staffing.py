"""The staffing answer (``sim.operations.staffing``): the fewest operators that hold every deadline."""

from __future__ import annotations

import numpy as np
import pytest

from sim.operations.centre import simulate_centre
from sim.operations.measures import centre_measures
from sim.operations.params import AlertClass, CentreParams, Classes, Handling, Rota, load_centre, with_operators
from sim.operations.staffing import erlang_guess, fewest_operators

DAY = 86400.0


def poisson(rate: float, horizon: float, seed: int) -> np.ndarray:
    times = np.cumsum(np.random.default_rng(seed).exponential(1 / rate, int(rate * horizon * 1.2) + 10))
    return times[times < horizon]


def within(arrival: np.ndarray, klass: np.ndarray, params: CentreParams, operators: int) -> dict:
    roster = with_operators(params, (operators,))
    run = simulate_centre(arrival, klass, roster, 2 * DAY, np.random.default_rng(7))
    classes = centre_measures(run, roster, np.zeros(len(arrival), bool))["classes"]
    return {k: c["within_deadline_share"] for k, c in classes.items() if c["within_deadline_share"] is not None}


def test_the_answer_holds_every_deadline_and_one_fewer_does_not() -> None:
    params = load_centre()
    arrival = poisson(rate=300 / 3600, horizon=2 * DAY, seed=1)  # 300 alerts an hour
    klass = np.random.default_rng(2).choice(4, len(arrival), p=[0.4, 0.2, 0.3, 0.1])
    answer = fewest_operators(arrival, klass, np.zeros(len(arrival), bool), params, 2 * DAY,
                              lambda: np.random.default_rng(7), share=0.9)
    assert answer.operators is not None and answer.measures is not None
    assert all(s >= 0.9 for s in within(arrival, klass, params, answer.operators).values())
    assert min(within(arrival, klass, params, answer.operators - 1).values()) < 0.9
    assert (answer.operators, True) in answer.tried and (answer.operators - 1, False) in answer.tried


def test_for_an_mmc_centre_the_answer_is_near_erlang_cs() -> None:
    # One class, exponential handling, no shrinkage, round the clock: the simulation's answer
    # and the formula's agree within a couple of operators.
    klass_params = AlertClass(1, 15.0, Handling("exponential", 10.0))
    params = CentreParams(Rota(24.0, 0.0, (1,), 0.0), Classes(*(klass_params,) * 5))
    arrival = poisson(rate=240 / 3600, horizon=2 * DAY, seed=3)
    klass = np.zeros(len(arrival), int)
    answer = fewest_operators(arrival, klass, np.zeros(len(arrival), bool), params, 2 * DAY,
                              lambda: np.random.default_rng(4), share=0.8)
    guess = erlang_guess(arrival, klass, params, 2 * DAY, 0.8)
    assert guess == answer.erlang_guess and 40 <= guess <= 50  # 40 erlangs offered
    assert answer.operators is not None and abs(answer.operators - guess) <= 2


def test_no_alerts_need_the_fewest_with_cover() -> None:
    params = load_centre()
    empty = np.zeros(0)
    answer = fewest_operators(empty, empty.astype(int), empty.astype(bool), params, DAY, lambda: np.random.default_rng(1), 0.9)
    assert answer.operators == 2  # one at a desk after 30% shrinkage


@pytest.mark.parametrize("share", [0.0, 1.0, 1.5])
def test_a_service_level_outside_its_range_is_refused(share: float) -> None:
    empty = np.zeros(0)
    with pytest.raises(ValueError, match="service level"):
        fewest_operators(empty, empty.astype(int), empty.astype(bool), load_centre(), DAY, lambda: np.random.default_rng(1), share)
