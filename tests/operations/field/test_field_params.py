"""The field force's parameters (``seeds/operations/field.toml``): the shipped file loads, and
each kind of mistake is one error naming the file and the key."""

from __future__ import annotations

from pathlib import Path

import pytest

from sim.operations.field.params import load_field, with_officers
from sim.operations.rota import HOUR_S
from sim.seeds import ParamsError, seeds_dir

SHIPPED = (seeds_dir() / "operations" / "field.toml").read_text()


def test_the_shipped_field_loads() -> None:
    params = load_field()
    assert set(params.job_names) >= {"fitting", "removal", "breach", "tamper", "fault"}
    assert params.jobs["fitting"].deadline_hours == 72.0  # the three-day fitting window
    assert len(params.rota.staff) == 3 and all(n >= params.areas.count for n in params.rota.at_work)
    assert params.routine_hours.next_opening(2 * HOUR_S) == 8 * HOUR_S
    assert params.routine_hours.next_opening(9 * HOUR_S) == 32 * HOUR_S
    # About a hundred days an order: the caseload turns over, and grows.
    assert params.orders.ends_per_day(26_647) == pytest.approx(253.8, abs=0.1)
    assert params.orders.starts_per_day(26_647) > params.orders.ends_per_day(26_647)


@pytest.mark.parametrize(("old", "new", "problem"), [
    ("staff = [", "staff = [12, ", "3 shifts of 8 h a day need 3 counts, got 4"),
    ("grid = 3", "grid = 0", "grid must be at least 1"),
    ("grid = 3", "grid = 9", "cannot cover 77 areas: no cover"),
    ("access = 0.973", "access = 1.5", "jobs: fitting: access is a share of attempts and must lie in (0, 1]"),
    ("speed_kmh = 40.0", "speed_kmh = 0.0", "speed_kmh must be positive"),
    ("mean_order_days = 105.0", "mean_order_days = 0.0", "mean_order_days must be positive"),
    ("[jobs.removal]", "[jobs.collection]", "the order flow needs a job 'removal'"),
    ("routine = true", "routine = 1", "jobs: fitting: routine: expected true or false"),
    ("deadline_hours = 72.0", "deadline_hour = 72.0", "unknown key 'deadline_hour'"),
    ("first_hour = 8.0", "first_hour = 23.0", "need 0 <= first_hour (23.0) < last_hour (22.0) <= 24"),
])
def test_a_wrong_value_is_one_error_naming_the_file_and_the_key(tmp_path: Path, old: str, new: str, problem: str) -> None:
    assert old in SHIPPED
    path = tmp_path / "field.toml"
    path.write_text(SHIPPED.replace(old, new, 1))
    with pytest.raises(ParamsError, match=str(path).replace(".", r"\.")) as caught:
        load_field(path)
    assert problem in str(caught.value)


def test_too_few_officers_to_cover_every_area_is_one_error_naming_the_option() -> None:
    params = load_field()
    with pytest.raises(ParamsError, match=r"--field-officers 20,20,5: staff: shift 3: 3 officers at work cannot cover 9 areas"):
        with_officers(params, (20, 20, 5))
    assert with_officers(params, (30,)).rota.staff == (30, 30, 30)
