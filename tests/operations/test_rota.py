"""A rota (``sim.operations.rota``): shifts round the clock, staff at work after shrinkage."""

from __future__ import annotations

import pytest

from sim.operations.rota import HOUR_S, Rota, with_staff
from sim.seeds import ParamsError


def test_shifts_turn_round_the_clock_from_the_first_shift() -> None:
    rota = Rota(8.0, 7.0, (10, 8, 4), 0.25)
    assert rota.at_work == (7, 6, 3) and rota.least_rostered == 2
    assert [rota.shift_at(h * HOUR_S) for h in (0, 6.9, 7, 14.9, 15, 22.9, 23, 30, 31)] == [2, 2, 0, 0, 1, 1, 2, 2, 0]
    assert rota.next_change(0.0) == 7 * HOUR_S and rota.next_change(7 * HOUR_S) == 15 * HOUR_S
    assert rota.work_seconds(24 * HOUR_S) == pytest.approx((7 * 3 + 8 * 7 + 8 * 6 + 1 * 3) * HOUR_S)


def test_a_roster_with_a_shift_uncovered_is_one_error_naming_the_option() -> None:
    rota = Rota(12.0, 7.0, (4, 4), 0.3)
    assert with_staff(rota, (9,), "--operators").staff == (9, 9)
    assert with_staff(rota, (9, 5), "--operators").staff == (9, 5)
    with pytest.raises(ParamsError, match="--operators 9,1: staff: shift 2 has 1 rostered, 0 at work"):
        with_staff(rota, (9, 1), "--operators")
    with pytest.raises(ParamsError, match="--operators 9,9,9: staff: 2 shifts of 12 h a day need 2 counts"):
        with_staff(rota, (9, 9, 9), "--operators")
