"""A record older than what a rule already knows cannot open, break or close its condition now.

Store-and-forward makes late records normal (docs/telemetry.md); each case here is one the
rules once got wrong: a stale record closed a current alert, sometimes before it began.
"""

from __future__ import annotations

import dataclasses

import numpy as np
from timeline import ALCOHOL, GPS, UNIT, H, Timeline, home_case

from sim.detector import AlertKind, Kind, Zone
from sim.detector.telemetry import GPS_STRAP_OPEN, TAG_CASE_OPEN, UNIT_ON_BACKUP, UNIT_TAG_PRESENT, make_fixes
from sim.policies import load_policy

HOME = (51.5, -0.1)
AWAY_ZONE = Zone(2, False, 51.51, -0.1, 300.0)


def policy() -> object:
    return dataclasses.replace(
        load_policy("standard"), never_heard_intervals=0.0, charge_period_s=0.0, no_contact_base_unit_intervals=999,
        no_contact_gps_intervals=999, no_contact_alcohol_intervals=999, zone_consecutive_fixes=3, zone_use_accuracy=False,
        alcohol_confirm_readings=2, tamper_confirm_s=900.0,
    )


def fixes_at(times: list[float], inside: bool) -> np.ndarray:
    lat = AWAY_ZONE.lat if inside else HOME[0]
    return make_fixes(times, [lat] * len(times), [AWAY_ZONE.lon] * len(times), [5.0] * len(times))


def test_an_older_upload_of_fixes_outside_does_not_close_a_zone_alert() -> None:
    tl = Timeline(cases=[home_case(gps=GPS, zones=[AWAY_ZONE])], policy=policy())  # type: ignore[arg-type]
    tl.push(1000.0, GPS, Kind.GPS_FIXES, seq=5, fixes=fixes_at([700.0, 800.0, 900.0, 1000.0], inside=True))
    tl.push(1200.0, GPS, Kind.GPS_FIXES, seq=4, event_time=520.0, fixes=fixes_at([400.0, 460.0, 520.0], inside=False))
    tl.run(H(1))
    (alert,) = tl.alerts(AlertKind.EXCLUSION_ZONE)
    assert (alert.event_time, alert.closed_at) == (700.0, None)


def test_a_stale_status_does_not_close_a_strap_alert() -> None:
    tl = Timeline(cases=[home_case(gps=GPS)], policy=policy())  # type: ignore[arg-type]
    tl.push(1000.0, GPS, Kind.GPS_STATUS, flags=GPS_STRAP_OPEN, value=80)
    tl.push(1010.0, GPS, Kind.GPS_STATUS, event_time=900.0, value=80)  # from before the strap opened
    tl.run(H(1))
    (alert,) = tl.alerts(AlertKind.GPS_STRAP)
    assert alert.closed_at is None


def test_a_stale_negative_reading_does_not_close_a_drinking_alert() -> None:
    tl = Timeline(cases=[home_case(alcohol=ALCOHOL)], policy=policy())  # type: ignore[arg-type]
    tl.push(1800.0, ALCOHOL, Kind.ALCOHOL_READING, value=40).push(3600.0, ALCOHOL, Kind.ALCOHOL_READING, value=45)
    tl.push(4100.0, ALCOHOL, Kind.ALCOHOL_READING, event_time=0.0, value=0)
    tl.run(H(2))
    (alert,) = tl.alerts(AlertKind.ALCOHOL)
    assert (alert.event_time, alert.closed_at) == (1800.0, None)


def test_a_late_mains_restored_from_before_the_cut_does_not_close_it() -> None:
    tl = Timeline(cases=[home_case()], policy=policy())  # type: ignore[arg-type]
    tl.push(100.0, UNIT, Kind.MAINS_LOST, flags=UNIT_ON_BACKUP)
    tl.push(120.0, UNIT, Kind.MAINS_RESTORED, event_time=50.0)
    tl.run(H(1))
    (alert,) = tl.alerts(AlertKind.MAINS_LOST)
    assert alert.closed_at is None
    assert tl.detector.devices[UNIT].on_backup


def test_a_clear_from_before_a_tamper_is_not_its_end() -> None:
    tl = Timeline(cases=[home_case()], policy=policy())  # type: ignore[arg-type]
    tl.push(1000.0, UNIT, Kind.BODY_TAMPER, flags=TAG_CASE_OPEN | UNIT_TAG_PRESENT)
    tl.push(1010.0, UNIT, Kind.TAMPER_CLEARED, event_time=500.0, flags=UNIT_TAG_PRESENT)
    tl.run(H(1))
    (alert,) = tl.alerts(AlertKind.BODY_TAMPER)
    assert (alert.category.value, alert.raised_at) == ("breach", 1900.0)


# --- late records merged into their history (issue 17, defect 2) -------------------------------


def test_a_leave_resent_after_its_own_return_raises_the_absence_it_reveals() -> None:
    """Curfew 19:00: out 20:00 to 22:00. The leave was lost and resent; it lands after the
    return. The absence is raised late, with its own event times, and counts toward lateness."""
    tl = Timeline(cases=[home_case()], policy=policy())  # type: ignore[arg-type]
    tl.push(H(22), UNIT, Kind.TAG_RETURN, seq=2, flags=UNIT_TAG_PRESENT)
    tl.push(H(22) + 300, UNIT, Kind.TAG_LEAVE, event_time=H(20), seq=1).run(H(23))
    assert tl.summary(AlertKind.CURFEW_ABSENCE) == [("curfew-absence", "breach", H(20), H(22) + 300, H(22) + 300)]
    (absence,) = tl.alerts(AlertKind.CURFEW_ABSENCE)
    assert absence.event_end == H(22)
    assert tl.summary(AlertKind.CURFEW_LATENESS) == [("curfew-lateness", "breach", H(22), H(22) + 300, None)]  # 2 h: the warning
    assert (tl.detector.stats.merged_late, tl.detector.stats.unmerged_late) == (1, 0)


def test_a_late_leave_within_grace_of_its_return_is_no_breach() -> None:
    tl = Timeline(cases=[home_case()], policy=policy())  # type: ignore[arg-type]
    tl.push(H(20) + 500, UNIT, Kind.TAG_RETURN, seq=2).push(H(20) + 600, UNIT, Kind.TAG_LEAVE, event_time=H(20), seq=1)
    tl.run(H(23))
    assert tl.alerts() == []


def test_a_late_leave_after_another_leave_reveals_nothing_new() -> None:
    tl = Timeline(cases=[home_case()], policy=policy())  # type: ignore[arg-type]
    tl.push(H(20), UNIT, Kind.TAG_LEAVE, seq=1).push(H(22), UNIT, Kind.TAG_RETURN, seq=3)
    tl.push(H(22) + 60, UNIT, Kind.TAG_LEAVE, event_time=H(21), seq=2).run(H(23))  # a duplicate of being away
    assert [a.event_time for a in tl.alerts(AlertKind.CURFEW_ABSENCE)] == [H(20)]


def test_a_leave_later_than_the_allowed_lateness_is_counted_not_merged() -> None:
    tl = Timeline(cases=[home_case()], policy=policy())  # type: ignore[arg-type]
    tl.push(H(30), UNIT, Kind.TAG_RETURN, seq=2).push(H(30) + 60, UNIT, Kind.TAG_LEAVE, event_time=H(20), seq=1).run(H(31))
    assert tl.alerts(AlertKind.CURFEW_ABSENCE) == []
    assert (tl.detector.stats.merged_late, tl.detector.stats.unmerged_late) == (0, 1)


def test_a_positive_reading_resent_after_later_readings_raises_the_drinking_it_completes() -> None:
    """Readings every 30 min; the 01:30 positive was lost and resent after the 02:00 negative.
    With two readings in a row to confirm, it completes the run 01:00-01:30."""
    tl = Timeline(cases=[home_case(alcohol=ALCOHOL)], policy=policy())  # type: ignore[arg-type]
    tl.push(H(2), ALCOHOL, Kind.ALCOHOL_READING, event_time=H(0.5), seq=1, value=0)
    tl.push(H(2), ALCOHOL, Kind.ALCOHOL_READING, event_time=H(1), seq=2, value=40)
    tl.push(H(2), ALCOHOL, Kind.ALCOHOL_READING, event_time=H(2), seq=4, value=0)
    tl.push(H(2) + 60, ALCOHOL, Kind.ALCOHOL_READING, event_time=H(1.5), seq=3, value=45).run(H(3))
    assert tl.summary(AlertKind.ALCOHOL) == [("alcohol", "breach", H(1), H(2) + 60, H(2) + 60)]
    assert tl.alerts(AlertKind.ALCOHOL)[0].event_end == H(2)


def test_a_late_positive_that_continues_to_the_newest_reading_opens_the_alert() -> None:
    tl = Timeline(cases=[home_case(alcohol=ALCOHOL)], policy=policy())  # type: ignore[arg-type]
    tl.push(H(2), ALCOHOL, Kind.ALCOHOL_READING, event_time=H(2), seq=2, value=50)
    tl.push(H(2) + 60, ALCOHOL, Kind.ALCOHOL_READING, event_time=H(1.5), seq=1, value=45)
    tl.push(H(2.5), ALCOHOL, Kind.ALCOHOL_READING, seq=3, value=55).run(H(3))
    assert tl.summary(AlertKind.ALCOHOL) == [("alcohol", "breach", H(1.5), H(2) + 60, None)]
    assert tl.alerts(AlertKind.ALCOHOL)[0].count == 1 + 1  # the 02:30 reading folded in


def test_a_late_positive_inside_a_raised_drinking_alert_raises_nothing_more() -> None:
    tl = Timeline(cases=[home_case(alcohol=ALCOHOL)], policy=policy())  # type: ignore[arg-type]
    for n, tac in enumerate((40, 45, 50, 0)):
        tl.push(H(1 + n / 2), ALCOHOL, Kind.ALCOHOL_READING, seq=2 * n, value=tac)
    tl.push(H(3), ALCOHOL, Kind.ALCOHOL_READING, event_time=H(1.25), seq=1, value=42).run(H(4))
    assert len(tl.alerts(AlertKind.ALCOHOL)) == 1
