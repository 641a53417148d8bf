"""The staffing answer: the fewest operators a shift that hold every class's deadline at a
stated service level, found by simulating the centre on a policy's own alerts.

Erlang C gives the first guess (the run's mean arrival rate and handling time against the
tightest deadline); the search then simulates rosters, the same on every shift, doubling up
from the guess until one holds and halving the gap down to the fewest that do. Every roster
is simulated on the same alerts with the same random stream, and each alert's handling time
is drawn by its place in the arrivals, so two rosters differ only by their staff.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from sim.operations.centre import simulate_centre
from sim.operations.erlang import servers_for, with_shrinkage
from sim.operations.measures import centre_measures
from sim.operations.params import CentreParams, with_operators

MOST_OPERATORS = 100_000  # a roster past this is no answer: the search stops and says so


@dataclass(frozen=True)
class StaffingAnswer:
    """``operators`` rostered a shift (None if no roster up to ``MOST_OPERATORS`` holds), the
    Erlang C first guess, the rosters tried with whether each held, and the measures of the answer."""

    operators: int | None
    erlang_guess: int
    tried: list[tuple[int, bool]]
    measures: dict[str, Any] | None


def fewest_operators(arrival: np.ndarray, klass: np.ndarray, genuine: np.ndarray, params: CentreParams,
                     horizon: float, rng_for: Callable[[], np.random.Generator], share: float) -> StaffingAnswer:
    """The fewest operators rostered on every shift for which each class with alerts has at
    least ``share`` of them taken up within its deadline; ``rng_for()`` gives the same fresh
    stream for every roster tried."""
    if not 0 < share < 1:
        raise ValueError(f"the service level must lie between 0 and 1, got {share}")
    tried: dict[int, dict[str, Any]] = {}

    def holds(operators: int) -> bool:
        if operators not in tried:
            roster = with_operators(params, (operators,))
            run = simulate_centre(arrival, klass, roster, horizon, rng_for())
            tried[operators] = centre_measures(run, roster, genuine)
        return _holds(tried[operators], share)

    guess = erlang_guess(arrival, klass, params, horizon, share)
    low, high = _least_with_cover(params), max(guess, _least_with_cover(params))
    while not holds(high):
        if high >= MOST_OPERATORS:
            return StaffingAnswer(None, guess, _tried(tried, share), None)
        low, high = high + 1, min(2 * high, MOST_OPERATORS)
    while low < high:
        middle = (low + high) // 2
        if holds(middle):
            high = middle
        else:
            low = middle + 1
    return StaffingAnswer(high, guess, _tried(tried, share), tried[high])


def erlang_guess(arrival: np.ndarray, klass: np.ndarray, params: CentreParams, horizon: float, share: float) -> int:
    """Operators to roster a shift by Erlang C: the run's mean arrival rate and mean handling
    time, the tightest deadline among the classes that have alerts, and the rota's shrinkage."""
    arrived = arrival < horizon
    arrival, klass = arrival[arrived], klass[arrived]
    if not len(arrival):
        return _least_with_cover(params)
    handling = np.array(params.classes.mean_handling_s())[klass].mean()
    deadline = float(np.array(params.classes.deadlines_s())[np.unique(klass)].min())
    at_desk = servers_for(len(arrival) / horizon, float(handling), deadline, share)
    return max(with_shrinkage(at_desk, params.rota.shrinkage), _least_with_cover(params))


def _least_with_cover(params: CentreParams) -> int:
    """The fewest rostered for one operator at a desk after shrinkage."""
    return with_shrinkage(1, params.rota.shrinkage)


def _holds(measures: dict[str, Any], share: float) -> bool:
    return all(c["within_deadline_share"] is None or c["within_deadline_share"] >= share
               for c in measures["classes"].values())


def _tried(tried: dict[int, dict[str, Any]], share: float) -> list[tuple[int, bool]]:
    return [(n, _holds(m, share)) for n, m in sorted(tried.items())]
