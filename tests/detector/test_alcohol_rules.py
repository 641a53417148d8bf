"""Alcohol rules in virtual time: the threshold, confirmation by consecutive readings, and sensor tampers."""

from __future__ import annotations

from dataclasses import replace

import pytest
from timeline import ALCOHOL, H, Timeline, home_case

from sim.detector import AlertKind, Kind, Policy
from sim.policies import load_policy
from sim.detector.telemetry import ALCOHOL_IR_OBSTRUCTION, ALCOHOL_STRAP_TAMPER, ALCOHOL_TEMPERATURE_TAMPER

# The figures these tests depend on, pinned: 20 mg/dl (0.02 g/dl, NHTSA 2007), two readings in a row.
STANDARD = replace(load_policy("standard"), track_conditions=True, alcohol_threshold_mg_dl=20.0, alcohol_confirm_readings=2)
NAIVE = replace(load_policy("naive"), track_conditions=False, alcohol_threshold_mg_dl=20.0, alcohol_confirm_readings=1)

DRINK = AlertKind.ALCOHOL
TAMPER = AlertKind.ALCOHOL_TAMPER
T0 = H(30)


def r(i: int) -> float:
    """The time of the i-th half-hourly reading."""
    return T0 + 1800.0 * i


def timeline(policy: Policy = STANDARD, **figures: object) -> Timeline:
    return Timeline([home_case(alcohol=ALCOHOL)], replace(policy, **figures))


def readings(tl: Timeline, *values: float | tuple[float, int], first: int = 0) -> Timeline:
    """Readings at r(first), r(first + 1), ...; a value or (value, flags); each received as taken."""
    for i, v in enumerate(values, start=first):
        value, flags = v if isinstance(v, tuple) else (v, 0)
        tl.push(r(i), ALCOHOL, Kind.ALCOHOL_READING, flags=flags, value=value)
    return tl


def ends(tl: Timeline, kind: AlertKind) -> list[tuple[float | None, int]]:
    return [(a.event_end, a.count) for a in tl.alerts(kind)]


@pytest.mark.parametrize("value, counts", [(20.0, True), (19.0, False), (20.5, True), (19.99, False), (0.0, False), (250.0, True)])
def test_threshold_reading_counts_and_one_below_does_not(value: float, counts: bool) -> None:
    tl = readings(timeline(alcohol_confirm_readings=1), 0.0, value)
    assert tl.summary(DRINK) == ([("alcohol", "breach", r(1), r(1), None)] if counts else [])
    naive = readings(timeline(NAIVE), 0.0, value)
    assert naive.summary(DRINK) == ([("alcohol", "breach", r(1), r(1), r(1))] if counts else [])


@pytest.mark.parametrize("n", [1, 2, 3, 4])
def test_confirmed_after_n_readings_in_a_row_from_the_first_positive(n: int) -> None:
    tl = timeline(alcohol_confirm_readings=n)
    readings(tl, 0.0)
    for i in range(1, 6):
        readings(tl, 25.0 + i, first=i)
        want = [("alcohol", "breach", r(1), r(n), None)] if i >= n else []
        assert tl.summary(DRINK) == want, f"after positive reading {i}"
    assert ends(tl, DRINK) == [(None, 5 - n + 1)]


def test_a_negative_in_between_resets_the_run() -> None:
    tl = readings(timeline(alcohol_confirm_readings=3), 25.0, 30.0, 0.0, 25.0, 30.0)
    assert tl.summary(DRINK) == []
    readings(tl, 35.0, first=5)
    assert tl.summary(DRINK) == [("alcohol", "breach", r(3), r(5), None)]


def test_the_alert_closes_at_the_first_reading_below() -> None:
    tl = readings(timeline(), 0.0, 40.0, 60.0, 45.0)
    assert tl.summary(DRINK) == [("alcohol", "breach", r(1), r(2), None)]
    readings(tl, 19.0, 25.0, first=4)  # below: closed; then a new positive, one of two
    assert tl.summary(DRINK) == [("alcohol", "breach", r(1), r(2), r(4))]
    assert ends(tl, DRINK) == [(r(4), 2)]
    readings(tl, 30.0, first=6)
    assert tl.summary(DRINK) == [("alcohol", "breach", r(1), r(2), r(4)), ("alcohol", "breach", r(5), r(6), None)]


def test_stored_readings_uploaded_together_date_from_the_first_positive() -> None:
    tl = timeline()
    upload_at = r(8)  # the day's readings arrive at once when the wearer is near the base station
    for i, value in enumerate([0.0, 10.0, 30.0, 50.0, 40.0, 15.0, 0.0]):
        tl.push(upload_at, ALCOHOL, Kind.ALCOHOL_READING, event_time=r(i), value=value)
    assert tl.summary(DRINK) == [("alcohol", "breach", r(2), upload_at, upload_at)]
    assert ends(tl, DRINK) == [(r(5), 2)]


@pytest.mark.parametrize("flag", [ALCOHOL_IR_OBSTRUCTION, ALCOHOL_TEMPERATURE_TAMPER, ALCOHOL_STRAP_TAMPER],
                         ids=["ir", "temperature", "strap"])
def test_sensor_tamper_in_readings_in_a_row_is_raised_and_a_clean_reading_closes_it(flag: int) -> None:
    tl = readings(timeline(), 0.0, (0.0, flag))
    assert tl.summary(TAMPER) == []  # held: alcohol_confirm_readings is 2
    readings(tl, (0.0, flag), first=2)
    assert tl.summary(TAMPER) == [("alcohol-tamper", "breach", r(1), r(2), None)]
    readings(tl, 0.0, first=3)
    assert tl.summary(TAMPER) == [("alcohol-tamper", "breach", r(1), r(2), r(3))]
    assert ends(tl, TAMPER) == [(r(3), 2)]
    assert tl.summary(DRINK) == []


def test_a_tamper_in_one_reading_then_a_clean_one_is_a_suspect_sensor() -> None:
    """False strap reports last minutes; the tag reads every half hour, so one shows in at most
    a reading or two: one tampered reading is equipment, as a base unit's tamper cleared within
    its confirmation is."""
    tl = readings(timeline(), 0.0, (0.0, ALCOHOL_STRAP_TAMPER), 0.0)
    assert tl.summary(TAMPER) == [("alcohol-tamper", "equipment", r(1), r(2), r(2))]
    assert ends(tl, TAMPER) == [(r(2), 1)]


def test_both_tamper_flags_are_one_condition() -> None:
    both = ALCOHOL_IR_OBSTRUCTION | ALCOHOL_TEMPERATURE_TAMPER
    tl = readings(timeline(), (0.0, ALCOHOL_IR_OBSTRUCTION), (0.0, both), (0.0, ALCOHOL_TEMPERATURE_TAMPER), 0.0)
    assert tl.summary(TAMPER) == [("alcohol-tamper", "breach", r(0), r(1), r(3))]
    assert ends(tl, TAMPER) == [(r(3), 3)]


def test_a_tampered_positive_is_judged_for_each_on_its_own() -> None:
    tl = readings(timeline(), (30.0, ALCOHOL_IR_OBSTRUCTION), 35.0, 0.0)
    assert tl.summary(DRINK, TAMPER) == [
        ("alcohol", "breach", r(0), r(1), r(2)),
        ("alcohol-tamper", "equipment", r(0), r(1), r(1)),
    ]


def test_naive_raises_one_alert_per_positive_or_tampered_reading() -> None:
    tl = readings(
        timeline(NAIVE),
        25.0, 30.0, 10.0, (25.0, ALCOHOL_IR_OBSTRUCTION), (0.0, ALCOHOL_TEMPERATURE_TAMPER), 0.0, 40.0, 19.0,
    )
    assert tl.summary(DRINK, TAMPER) == [
        ("alcohol", "breach", r(0), r(0), r(0)),
        ("alcohol", "breach", r(1), r(1), r(1)),
        ("alcohol", "breach", r(3), r(3), r(3)),
        ("alcohol-tamper", "breach", r(3), r(3), r(3)),
        ("alcohol-tamper", "breach", r(4), r(4), r(4)),
        ("alcohol", "breach", r(6), r(6), r(6)),
    ]
    # The same readings under standard: one drinking episode confirmed, one tamper.
    tl = readings(timeline(), 25.0, 30.0, 10.0, (25.0, ALCOHOL_IR_OBSTRUCTION), (0.0, ALCOHOL_TEMPERATURE_TAMPER), 0.0, 40.0, 19.0)
    assert tl.summary(DRINK, TAMPER) == [
        ("alcohol", "breach", r(0), r(1), r(2)),
        ("alcohol-tamper", "breach", r(3), r(4), r(5)),
    ]
