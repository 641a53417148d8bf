"""Calibration: the published figures load with their sources, and tagsim's figures are
taken on the same definitions (hand-built alerts, exact)."""

from __future__ import annotations

from pathlib import Path

import pytest

from sim.calibration.measures import MEASURES, measures
from sim.calibration.published import load_calibration
from sim.calibration.table import calibration_rows
from sim.detector.alerts import Alert, AlertKind, Category, Severity
from sim.detector.cases import DeviceKind
from sim.score import AlertVerdict
from sim.seeds import ParamsError, seeds_dir

GPS, UNIT = 12, 10
KIND_OF_DEVICE = {GPS: DeviceKind.GPS_TAG, UNIT: DeviceKind.BASE_UNIT}
SHIPPED = (seeds_dir() / "calibration.toml").read_text()


def alert(kind: AlertKind, category: Category, device: int, raised: bool = True) -> Alert:
    return Alert(1, 1, device, kind, category, Severity.LOW, 0.0, raised_at=10.0 if raised else None)


def verdict(a: Alert, v: str) -> AlertVerdict:
    return AlertVerdict(a.id, a.subject, a.device, a.kind.value, a.category.value, None, v, 0.0, 10.0, -1)


def test_the_shipped_figures_load_each_with_a_source_and_a_known_measure() -> None:
    calibration = load_calibration()
    assert {f.measure for f in calibration.figures} == set(MEASURES)
    assert all(f.source and f.value > 0 for f in calibration.figures)
    assert calibration.alerts_per_person_day == (0.3, 1.25)
    mix = sum(f.value for f in calibration.figures if f.measure.startswith("gps_mix."))
    assert mix == pytest.approx(1.0, abs=0.01)  # California's six categories cover its alerts


def test_measures_count_operator_facing_alerts_and_the_gps_mix_over_its_six_categories() -> None:
    raised = [
        alert(AlertKind.INCLUSION_ZONE, Category.BREACH, GPS),
        alert(AlertKind.INCLUSION_ZONE, Category.BREACH, GPS),
        alert(AlertKind.GPS_STRAP, Category.BREACH, GPS),
        alert(AlertKind.GPS_BATTERY_LOW, Category.EQUIPMENT, GPS),
        alert(AlertKind.NO_FIX, Category.BREACH, GPS),  # a GPS alert outside the six categories
        alert(AlertKind.NO_CONTACT, Category.UNMONITORED, UNIT),  # a message gap, but not a GPS tag's
        alert(AlertKind.UNIT_MOVED, Category.INFO, UNIT),  # info: not put to an operator
    ]
    held = alert(AlertKind.STRAP_TAMPER, Category.BREACH, UNIT, raised=False)
    verdicts = [verdict(a, v) for a, v in zip(raised, ["true", "false", "true", "real", "false", "named", ""])]
    got = measures([*raised[:3], held, *raised[3:]], verdicts, KIND_OF_DEVICE, subject_days=3.0)
    assert got["alerts_per_person_day"] == pytest.approx(6 / 3)
    assert got["false_share"] == pytest.approx(4 / 6)  # all but the two true breach alerts
    assert (got["gps_mix.inclusion_zone"], got["gps_mix.strap_tamper"], got["gps_mix.low_battery"]) == (0.5, 0.25, 0.25)
    assert (got["gps_mix.message_gap"], got["gps_mix.device_tamper"]) == (0.0, 0.0)


def test_no_alerts_leave_the_shares_undefined() -> None:
    got = measures([], [], KIND_OF_DEVICE, subject_days=1.0)
    assert got["alerts_per_person_day"] == 0.0 and got["false_share"] is None and got["gps_mix.inclusion_zone"] is None


def test_rows_give_each_policy_its_figure_and_ratio() -> None:
    calibration = load_calibration()
    by_policy = {"reference": dict.fromkeys(MEASURES, None) | {"alerts_per_person_day": 0.625}}
    rows = calibration_rows(calibration, by_policy)
    us = next(r for r in rows if r["name"] == "US average")
    assert (us["published"], us["tagsim"]["reference"], us["ratio"]["reference"]) == (1.25, 0.625, 0.5)
    assert next(r for r in rows if r["measure"] == "false_share")["ratio"]["reference"] is None


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (('measure = "false_share"', 'measure = "false_alarms"'), r"unknown measure 'false_alarms'"),
        (("value = 0.70", 'value = "most"'), r"value: expected a number"),
        (("alerts_per_person_day = [0.3, 1.25]", "alerts_per_person_day = [1.25, 0.3]"), r"low < high"),
        (('source = "up to 70%', 'sauce = "up to 70%'), r"unknown key 'sauce'"),
    ],
    ids=["unknown-measure", "wrong-type", "bounds-reversed", "misspelt-key"],
)
def test_a_bad_figures_file_names_the_file_and_the_problem(tmp_path: Path, edit: tuple[str, str], message: str) -> None:
    path = tmp_path / "calibration.toml"
    assert edit[0] in SHIPPED
    path.write_text(SHIPPED.replace(edit[0], edit[1], 1))
    with pytest.raises(ParamsError, match=message) as info:
        load_calibration(path)
    assert str(path) in str(info.value)
