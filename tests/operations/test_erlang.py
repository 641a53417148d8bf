"""Erlang C (``sim.operations.erlang``) against published worked examples and against the
formula written out with factorials."""

from __future__ import annotations

import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from sim.operations.erlang import ErlangC, servers_for
from sim.operations.rota import with_shrinkage

# The R package ErlangC's README: 100 calls in 30 minutes, 180 s handling, 14 agents
# (research-operations.md, section 6; Python's pyworkforce tests the same case).
README = ErlangC(rate=100 / 1800, handling=180.0, servers=14)


def test_the_published_worked_example() -> None:
    assert README.load == pytest.approx(10.0)
    assert README.wait_probability == pytest.approx(0.1741, abs=5e-5)
    assert README.within(20.0) == pytest.approx(0.888, abs=5e-4)
    assert README.mean_wait == pytest.approx(7.84, abs=5e-3)
    assert README.occupancy == pytest.approx(0.7143, abs=5e-5)


def test_the_fewest_agents_for_80_percent_within_20_seconds_and_with_30_percent_shrinkage() -> None:
    # pyworkforce's README on the same case: 14 raw positions, 20 with 30% shrinkage.
    assert servers_for(100 / 1800, 180.0, target=20.0, share=0.8) == 14
    assert ErlangC(100 / 1800, 180.0, 13).within(20.0) < 0.8
    assert with_shrinkage(14, 0.3) == 20
    assert with_shrinkage(14, 0.0) == 14


def test_one_server_is_the_mm1_queue() -> None:
    queue = ErlangC(rate=0.6, handling=1.0, servers=1)
    assert queue.wait_probability == pytest.approx(0.6)
    assert queue.mean_wait == pytest.approx(0.6 / (1 - 0.6))
    assert queue.mean_queue == pytest.approx(0.6**2 / (1 - 0.6))


def factorial_form(load: float, servers: int) -> float:
    top = load**servers / math.factorial(servers) * servers / (servers - load)
    return top / (sum(load**k / math.factorial(k) for k in range(servers)) + top)


@given(st.integers(1, 60), st.floats(0.01, 0.99))
def test_the_recursion_is_the_formula(servers: int, occupancy: float) -> None:
    load = servers * occupancy
    assert ErlangC(load, 1.0, servers).wait_probability == pytest.approx(factorial_form(load, servers), rel=1e-9)


def test_the_service_level_rises_with_the_target_and_with_every_server() -> None:
    assert README.within(0.0) == pytest.approx(1 - README.wait_probability)
    assert README.within(10.0) < README.within(20.0) < README.within(60.0) < 1
    assert ErlangC(README.rate, README.handling, 15).within(20.0) > README.within(20.0)


@pytest.mark.parametrize(("rate", "handling", "servers", "problem"), [
    (1.0, 10.0, 10, "never drains"), (1.0, 12.0, 10, "never drains"), (1.0, 1.0, 0, "at least 1"),
    (0.0, 1.0, 2, "positive"), (1.0, -1.0, 2, "positive"),
])
def test_a_queue_that_cannot_be_answered_is_refused(rate: float, handling: float, servers: int, problem: str) -> None:
    with pytest.raises(ValueError, match=problem):
        ErlangC(rate, handling, servers)


def test_shares_outside_their_range_are_refused() -> None:
    with pytest.raises(ValueError, match="share"):
        servers_for(1.0, 1.0, 1.0, 1.0)
    with pytest.raises(ValueError, match="shrinkage"):
        with_shrinkage(3, 1.0)
