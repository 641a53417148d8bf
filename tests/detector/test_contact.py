"""Contact rule: silent devices, devices never heard, and the known causes of silence.

Timeline tests in virtual time, exact. Every device here is fitted at time 0;
the records are status checks (and GPS status reports), so no curfew or unit
rule raises anything.
"""

from __future__ import annotations

import dataclasses

import pytest

from timeline import ALCOHOL, GPS, GPS_EVERY, SUBJECT, UNIT, UNIT_EVERY, H, Timeline, home_case

from sim.detector import AlertKind, Category, Detector, Kind, Severity, Telemetry
from sim.policies import load_policy
from sim.detector.alerts import Cause, CauseKind
from sim.detector.telemetry import GPS_BATTERY_LOW, UNIT_ON_BACKUP

SILENT_UNIT = H(3)
SILENT_GPS = H(1)
NEVER_HEARD = H(2)
OUTAGE_UNITS, OUTAGE_WINDOW = 5, 900.0


def pinned(name: str = "standard", **changes: float) -> object:
    figures = dict(
        no_contact_base_unit_intervals=SILENT_UNIT / UNIT_EVERY, no_contact_gps_intervals=SILENT_GPS / GPS_EVERY,
        never_heard_intervals=NEVER_HEARD / UNIT_EVERY if name == "standard" else 0.0,
        outage_min_units=OUTAGE_UNITS, outage_window_s=OUTAGE_WINDOW, charge_period_s=0.0,
    )
    figures.update(changes)
    return dataclasses.replace(load_policy(name), **figures)


def timeline(policy: str = "standard", **case: object) -> Timeline:
    return Timeline(cases=[home_case(**case)], policy=pinned(policy))  # type: ignore[arg-type]


def gps_first_heard_late() -> Timeline:
    """A GPS tag first heard an hour in: past its own never-heard time (two 10-minute
    uploads), so that rule is off here to watch the silence that follows."""
    return Timeline(cases=[home_case(gps=GPS)], policy=pinned(never_heard_intervals=0.0))  # type: ignore[arg-type]


# --- silence ---------------------------------------------------------------------------------


def test_a_silent_base_unit_raises_unmonitored_exactly_at_the_deadline() -> None:
    tl = timeline().push(H(1), UNIT, Kind.STATUS_CHECK)
    tl.run(H(1) + SILENT_UNIT - 1)
    assert tl.summary() == []
    tl.run(H(1) + SILENT_UNIT + 1)
    assert tl.summary() == [("no-contact", "unmonitored", H(1), H(1) + SILENT_UNIT, None)]
    (alert,) = tl.alerts()
    assert alert.severity is Severity.HIGH
    assert tl.reasons(alert) == ["raised"]


def test_a_record_exactly_at_the_deadline_prevents_the_silence() -> None:
    tl = timeline().push(H(1), UNIT, Kind.STATUS_CHECK).push(H(1) + SILENT_UNIT, UNIT, Kind.STATUS_CHECK)
    tl.run(H(1) + 2 * SILENT_UNIT - 1)
    assert tl.summary() == []
    tl.run(H(1) + 2 * SILENT_UNIT + 1)
    assert tl.summary() == [("no-contact", "unmonitored", H(1) + SILENT_UNIT, H(1) + 2 * SILENT_UNIT, None)]


def test_heard_again_closes_the_silence_and_rearms_it() -> None:
    tl = timeline().push(H(1), UNIT, Kind.STATUS_CHECK).run(H(5))
    tl.push(H(6), UNIT, Kind.STATUS_CHECK, event_time=H(6) - 20).run(H(7))
    assert tl.summary() == [("no-contact", "unmonitored", H(1), H(4), H(6))]
    assert tl.alerts()[0].event_end == H(6) - 20
    tl.run(H(9) + 1)  # silent again from 06:00
    assert tl.summary() == [
        ("no-contact", "unmonitored", H(1), H(4), H(6)),
        ("no-contact", "unmonitored", H(6), H(9), None),
    ]


def test_a_long_silence_is_one_alert() -> None:
    tl = timeline().push(H(1), UNIT, Kind.STATUS_CHECK).run(H(24 * 7))
    assert tl.summary() == [("no-contact", "unmonitored", H(1), H(4), None)]


def test_naive_raises_the_silence_once_and_closes_it_at_once() -> None:
    tl = timeline("naive").push(H(1), UNIT, Kind.STATUS_CHECK).run(H(24 * 7))
    assert tl.summary() == [("no-contact", "unmonitored", H(1), H(4), H(4))]


def test_a_gps_tag_silent_after_reporting_battery_low_has_gone_flat() -> None:
    tl = gps_first_heard_late().push(H(1), UNIT, Kind.STATUS_CHECK).push(H(1), GPS, Kind.GPS_STATUS, flags=GPS_BATTERY_LOW, value=8)
    tl.run(H(1) + SILENT_GPS - 1)
    assert tl.summary() == [("gps-battery-low", "equipment", H(1), H(1), None)]
    tl.run(H(1) + SILENT_GPS + 1)
    assert tl.summary() == [
        ("gps-battery-low", "equipment", H(1), H(1), None),
        ("gps-battery-flat", "breach", H(1), H(1) + SILENT_GPS, None),
    ]
    assert tl.summary(AlertKind.NO_CONTACT) == []
    tl.push(H(3), GPS, Kind.GPS_STATUS, value=60).push(H(3), UNIT, Kind.STATUS_CHECK).run(H(3) + 1)  # charged, back
    assert tl.summary() == [
        ("gps-battery-low", "equipment", H(1), H(1), H(3)),
        ("gps-battery-flat", "breach", H(1), H(1) + SILENT_GPS, H(3)),
    ]


def test_a_gps_tag_silent_with_a_good_battery_is_unmonitored() -> None:
    tl = gps_first_heard_late().push(H(1), UNIT, Kind.STATUS_CHECK).push(H(1), GPS, Kind.GPS_STATUS, value=80)
    tl.run(H(1) + SILENT_GPS + 1)
    assert tl.summary() == [("no-contact", "unmonitored", H(1), H(1) + SILENT_GPS, None)]


# --- never heard -----------------------------------------------------------------------------------


def test_a_unit_never_heard_after_fitting_is_caught_in_hours() -> None:
    tl = timeline()
    tl.run(NEVER_HEARD - 1)
    assert tl.summary() == []
    tl.run(NEVER_HEARD + 1)
    assert tl.summary() == [("never-heard", "unmonitored", 0.0, NEVER_HEARD, None)]
    tl.run(H(24 * 21))  # weeks on: still the one alert, not a fresh one a day
    assert tl.summary() == [("never-heard", "unmonitored", 0.0, NEVER_HEARD, None)]
    tl.push(H(24 * 21) + 60, UNIT, Kind.INSTALLATION).run(H(24 * 21) + 120)
    assert tl.summary() == [("never-heard", "unmonitored", 0.0, NEVER_HEARD, H(24 * 21) + 60)]


def test_a_unit_heard_before_the_deadline_is_not_never_heard() -> None:
    tl = timeline().push(NEVER_HEARD - 1, UNIT, Kind.INSTALLATION).run(NEVER_HEARD + 60)
    assert tl.summary() == []


def test_naive_never_notices_a_unit_never_heard_for_weeks() -> None:
    tl = timeline("naive").run(H(24 * 21))
    assert tl.summary() == []


# --- known causes ----------------------------------------------------------------------------------


def test_a_silent_base_unit_after_mains_lost_is_equipment_naming_the_mains() -> None:
    tl = timeline().push(H(1), UNIT, Kind.MAINS_LOST, flags=UNIT_ON_BACKUP).run(H(4) + 1)
    assert tl.summary() == [
        ("mains-lost", "equipment", H(1), H(1), None),
        ("no-contact", "equipment", H(1), H(4), None),
    ]
    silence = tl.alerts(AlertKind.NO_CONTACT)[0]
    assert silence.cause == Cause(CauseKind.MAINS_LOST, device=UNIT)
    assert str(silence.cause) == silence.decisions[-1].note == f"mains lost at base unit {UNIT}"
    assert tl.reasons(silence) == ["raised", "inhibited"]


def test_a_silent_base_unit_whose_last_status_said_on_backup_is_equipment() -> None:
    tl = timeline().push(H(1), UNIT, Kind.STATUS_CHECK, flags=UNIT_ON_BACKUP).run(H(4) + 1)
    assert tl.summary() == [("no-contact", "equipment", H(1), H(4), None)]
    assert str(tl.alerts()[0].cause) == f"mains lost at base unit {UNIT}"


def outage(spread: float, units: int = OUTAGE_UNITS) -> Timeline:
    """``units`` subjects in area 7 and four in area 8, each unit last heard at 01:00 plus a step of ``spread / (units - 1)``."""
    area7 = [home_case(s, 100 + s, 200 + s, area=7) for s in range(1, units + 1)]
    area8 = [home_case(s, 100 + s, 200 + s, area=8) for s in range(21, 25)]
    tl = Timeline(cases=area7 + area8, policy=pinned())  # type: ignore[arg-type]
    step = spread / (units - 1)
    for i in range(units):
        tl.push(H(1) + i * step, 100 + 1 + i, Kind.STATUS_CHECK)
        if i < 4:
            tl.push(H(1) + i * step, 100 + 21 + i, Kind.STATUS_CHECK)
    return tl.run(H(5))


def test_five_units_in_one_area_silent_together_are_a_cellular_outage() -> None:
    tl = outage(spread=240.0)
    last = H(4) + 240
    cause = Cause(CauseKind.CELLULAR_OUTAGE, area=7, units=5, window_s=OUTAGE_WINDOW)
    assert str(cause) == f"cellular outage in area 7 (5 units silent within {OUTAGE_WINDOW:.0f} s)"
    by_subject = {a.subject: a for a in tl.alerts(AlertKind.NO_CONTACT)}
    assert len(tl.alerts()) == 9
    for s in range(1, 6):
        a = by_subject[s]
        assert (a.category, a.cause, a.event_time, a.raised_at) == (Category.EQUIPMENT, cause, H(1) + (s - 1) * 60, H(4) + (s - 1) * 60)
        assert tl.reasons(a) == ["raised", "inhibited"]
        assert a.decisions[-1].at == last
    for s in range(21, 25):  # four in another area, silent at the same times: not an outage there
        a = by_subject[s]
        assert (a.category, a.cause) == (Category.UNMONITORED, None)
        assert tl.reasons(a) == ["raised"]


def test_five_units_silent_across_exactly_the_window_are_an_outage() -> None:
    tl = outage(spread=OUTAGE_WINDOW)
    assert sorted(a.subject for a in tl.alerts() if a.category is Category.EQUIPMENT) == [1, 2, 3, 4, 5]


def test_five_units_silent_over_more_than_the_window_are_not_an_outage() -> None:
    tl = outage(spread=1200.0)
    assert [a.category for a in tl.alerts()] == [Category.UNMONITORED] * 9


def test_four_units_silent_together_are_not_an_outage() -> None:
    tl = outage(spread=240.0, units=4)
    assert [a.category for a in tl.alerts()] == [Category.UNMONITORED] * 8


def test_naive_files_an_area_outage_as_unmonitored() -> None:
    area7 = [home_case(s, 100 + s, 200 + s, area=7) for s in range(1, 6)]
    tl = Timeline(cases=area7, policy=pinned("naive"))  # type: ignore[arg-type]
    for s in range(1, 6):
        tl.push(H(1), 100 + s, Kind.STATUS_CHECK)
    tl.run(H(5))
    assert tl.summary() == [("no-contact", "unmonitored", H(1), H(4), H(4))] * 5
    assert {a.subject for a in tl.alerts()} == {1, 2, 3, 4, 5}


def test_the_contact_rule_names_the_subject_and_device() -> None:
    tl = gps_first_heard_late().push(H(1), UNIT, Kind.STATUS_CHECK).push(H(1) + 60, GPS, Kind.GPS_STATUS, value=80).run(H(4) + 61)
    assert [(a.subject, a.device, a.event_time) for a in tl.alerts()] == [(SUBJECT, GPS, H(1) + 60), (SUBJECT, UNIT, H(1))]


def test_a_unit_silent_twice_within_the_window_counts_once_toward_an_outage() -> None:
    cases = [home_case(s, 100 + s, 200 + s, area=7, unit_every=200.0) for s in range(1, 5)]  # silent after 600 s
    tl = Timeline(cases=cases, policy=pinned())
    for s in range(1, 5):
        tl.push(H(1) + s, 100 + s, Kind.STATUS_CHECK)
    tl.push(H(1) + 700, 101, Kind.STATUS_CHECK)  # unit 101 speaks once more, then falls silent again
    tl.run(H(3))
    assert len(tl.alerts(AlertKind.NO_CONTACT)) == 5  # 101 twice, the others once: four units, not five
    assert all(a.category is Category.UNMONITORED for a in tl.alerts(AlertKind.NO_CONTACT))


def test_a_late_record_cannot_undo_a_newer_mains_loss() -> None:
    tl = Timeline(cases=[home_case()], policy=pinned())
    tl.push(H(1), UNIT, Kind.MAINS_LOST, flags=UNIT_ON_BACKUP)
    tl.push(H(1) + 60, UNIT, Kind.STATUS_CHECK, event_time=H(0.5))  # from before the cut, no backup flag
    tl.run(H(6))
    (silence,) = tl.alerts(AlertKind.NO_CONTACT)
    assert (silence.category, silence.cause) == (Category.EQUIPMENT, Cause(CauseKind.MAINS_LOST, device=UNIT))


def test_a_detector_started_after_fitting_gives_every_device_the_full_time_to_be_heard() -> None:
    start = H(24 * 30)  # fitted at 0, the detector starts a month later
    policy = pinned()
    det = Detector(policy, [home_case(s, 100 + s, 200 + s) for s in range(1, 4)], start)
    det.feed([Telemetry(101, 1, Kind.STATUS_CHECK, start + 60, start + 60, 0)])
    det.advance(start + NEVER_HEARD - 1)
    assert det.alerts == []
    det.advance(start + NEVER_HEARD + 1)
    assert sorted(a.subject for a in det.alerts if a.kind is AlertKind.NEVER_HEARD) == [2, 3]


# --- thresholds from each device's own cadence --------------------------------------------


def test_an_hourly_gps_tag_uploading_on_time_is_never_silent() -> None:
    """At an hour's upload interval (supplier-b) a fixed one-hour threshold fired on every
    upload that came a little late; a multiple of the tag's own interval does not."""
    case = home_case(gps=GPS)
    gps = dataclasses.replace(case.devices[2], report_interval_s=3600.0)
    tl = Timeline(cases=[dataclasses.replace(case, devices=(*case.devices[:2], gps))], policy=load_policy("standard"))
    for hour in range(1, 13):
        tl.push(H(hour) + 40 * hour, GPS, Kind.GPS_STATUS, value=80)  # each a little later than the last
        tl.push(H(hour) + 40 * hour, UNIT, Kind.STATUS_CHECK)
    tl.run(H(13))
    assert tl.alerts(AlertKind.NO_CONTACT) == [] and tl.alerts(AlertKind.NEVER_HEARD) == []


def test_an_alcohol_tag_is_not_never_heard_before_its_first_daily_upload() -> None:
    tl = Timeline(cases=[home_case(alcohol=ALCOHOL)], policy=load_policy("standard"))
    tl.push(H(0.5), UNIT, Kind.STATUS_CHECK).push(H(20), ALCOHOL, Kind.ALCOHOL_READING, value=0.0)
    tl.run(H(21))
    assert tl.alerts(AlertKind.NEVER_HEARD) == []
    silent = Timeline(cases=[home_case(alcohol=ALCOHOL)], policy=load_policy("standard"))
    silent.push(H(0.5), UNIT, Kind.STATUS_CHECK).run(H(49))
    assert [(a.device, a.raised_at) for a in silent.alerts(AlertKind.NEVER_HEARD)] == [(ALCOHOL, H(48))]


def test_a_device_with_no_report_interval_is_refused_by_name() -> None:
    case = home_case(gps=GPS)
    gps = dataclasses.replace(case.devices[2], report_interval_s=0.0)
    with pytest.raises(ValueError, match=f"device {GPS} \\(gps-tag\\) has no report interval"):
        Detector(load_policy("standard"), [dataclasses.replace(case, devices=(*case.devices[:2], gps))], 0.0)
