"""The centre's parameters (``seeds/operations/centre.toml``): the shipped file loads, and each
kind of mistake is one error naming the file and the key."""

from __future__ import annotations

from pathlib import Path

import pytest

from sim.operations.centre.params import load_centre
from sim.operations.rota import HOUR_S
from sim.seeds import ParamsError, seeds_dir

SHIPPED = (seeds_dir() / "operations" / "centre.toml").read_text()


def test_the_shipped_centre_loads_with_its_shrinkage_applied() -> None:
    params = load_centre()
    assert params.rota.staff == (40, 30) and params.rota.at_work == (28, 21)
    priorities = [c.priority for c in params.classes.by_name().values()]
    assert priorities == sorted(priorities) and priorities[0] == 1
    assert params.rota.shift_at(7 * HOUR_S) == 0 and params.rota.shift_at(6.9 * HOUR_S) == 1
    assert params.rota.next_change(0.0) == 7 * HOUR_S and params.rota.next_change(7 * HOUR_S) == 19 * HOUR_S


@pytest.mark.parametrize(("old", "new", "problem"), [
    ("staff = [40, 30]", "staff = [40, 0]", "shift 2 has 0 rostered, 0 at work"),
    ("staff = [40, 30]", "staff = [40, 1]", "shift 2 has 1 rostered, 0 at work after 30% shrinkage: no cover"),
    ("staff = [40, 30]", "staff = [40]", "2 shifts of 12 h a day need 2 counts, got 1"),
    ("shift_hours = 12.0", "shift_hours = 7.0", "shift_hours must divide the day"),
    ("shrinkage = 0.30", "shrinkage = 1.0", "shrinkage must lie in"),
    ("mean_minutes = 8.0", "mean_minutes = -8.0", "classes: breach: handling: mean_minutes: must not be negative"),
    ("mean_minutes = 8.0", "mean_minutes = 0.0", "mean_minutes must be positive"),
    ('distribution = "lognormal", mean_minutes = 8.0', 'distribution = "normal", mean_minutes = 8.0', "distribution must be one of"),
    ("unconfirmed = { call = 0.8, visit = 0.05 }", "unconfirmed = { call = 1.8, visit = 0.05 }",
     "classes: breach: unconfirmed: call is a share and must lie in [0, 1], got 1.8"),
    ('visit_job = "breach"', 'visit_job = ""', "breach: visits need a visit_job"),
    ("preemptible = false", "preemptible = 0", "classes: breach: preemptible: expected true or false"),
    ("join_minutes = 1.0", "join_minutes = -1.0", "incidents: join_minutes: must not be negative"),
    ("[notification]", "[notice]", "unknown key 'notice'"),
    ("deadline_minutes = 60.0", "deadline_minute = 60.0", "unknown key 'deadline_minute'"),
    ("[classes.unmonitored]", "[classes.silent]", "unknown key 'silent'"),
])
def test_a_wrong_value_is_one_error_naming_the_file_and_the_key(tmp_path: Path, old: str, new: str, problem: str) -> None:
    assert old in SHIPPED
    path = tmp_path / "centre.toml"
    path.write_text(SHIPPED.replace(old, new, 1))
    with pytest.raises(ParamsError, match=str(path).replace(".", r"\.")) as caught:
        load_centre(path)
    assert problem in str(caught.value)


def test_a_missing_or_broken_file_is_one_error(tmp_path: Path) -> None:
    with pytest.raises(ParamsError, match="no such file"):
        load_centre(tmp_path / "absent.toml")
    (tmp_path / "broken.toml").write_text("[rota\n")
    with pytest.raises(ParamsError, match="not valid TOML"):
        load_centre(tmp_path / "broken.toml")
