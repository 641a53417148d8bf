"""The field force's areas (``sim.operations.field.areas``): the town's share in each, and
officers dealt to them."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from sim.operations.field.areas import Areas


def test_each_area_holds_its_share_of_the_disc() -> None:
    assert Areas(1).weights().tolist() == [1.0]
    assert Areas(2).weights() == pytest.approx([0.25] * 4, abs=1e-3)
    nine = Areas(3).weights()
    assert nine.sum() == pytest.approx(1.0) and nine.argmax() == 4  # the middle cell holds the most
    # The middle cell is a 2r/3 square wholly inside the disc: (2/3)^2 / pi of its area.
    assert nine[4] == pytest.approx((2 / 3) ** 2 / np.pi, rel=0.01)


def test_places_fall_in_their_cells_row_by_row() -> None:
    x, y = np.array([-9.0, 9.0, -9.0, 9.0, 0.1]), np.array([-9.0, -9.0, 9.0, 9.0, 0.1])
    assert Areas(2).of(x, y, 10.0).tolist() == [0, 1, 2, 3, 3]


def test_officers_are_dealt_by_homes_with_one_at_least_in_every_area() -> None:
    assert Areas(2).deal(10) in {(3, 3, 2, 2), (3, 2, 3, 2), (2, 3, 3, 2), (3, 2, 2, 3), (2, 3, 2, 3), (2, 2, 3, 3)}
    assert Areas(2).deal(4) == (1, 1, 1, 1)
    with pytest.raises(ValueError, match="3 officers at work cannot cover 4 areas: no cover"):
        Areas(2).deal(3)


@given(st.integers(min_value=1, max_value=5), st.integers(min_value=0, max_value=400))
def test_every_officer_is_dealt_and_none_twice(grid: int, extra: int) -> None:
    areas = Areas(grid)
    covered = int((areas.weights() > 0).sum())
    dealt = areas.deal(covered + extra)
    assert sum(dealt) == covered + extra
    assert all((n >= 1) == (w > 0) for n, w in zip(dealt, areas.weights()))


@given(st.integers(min_value=1, max_value=6), st.integers(min_value=0, max_value=200))
def test_one_more_officer_joins_one_area_and_moves_nobody(grid: int, extra: int) -> None:
    areas = Areas(grid)
    covered = int((areas.weights() > 0).sum())
    before, after = areas.deal(covered + extra), areas.deal(covered + extra + 1)
    assert sum(a - b for a, b in zip(after, before)) == 1 and all(a >= b for a, b in zip(after, before))


@pytest.mark.parametrize("grid", [3, 9, 27])
def test_every_place_in_the_town_falls_in_an_area_with_officers(grid: int) -> None:
    areas = Areas(grid)
    covered = {i for i, n in enumerate(areas.deal(int((areas.weights() > 0).sum()))) if n > 0}
    angle = np.linspace(0, 2 * np.pi, 2_000)
    for r in (0.0, 0.5, 0.99, 1.0):  # the rim included, where thin slivers of cells lie
        assert set(areas.of(r * 10_000 * np.cos(angle), r * 10_000 * np.sin(angle), 10_000.0).tolist()) <= covered
