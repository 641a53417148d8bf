"""Curfew rule: timeline tests in virtual time, exact.

The default case (``home_case``) has a curfew 19:00 for 12 h every day, so night
``n`` runs from ``H(24 n + 19)`` to ``H(24 n + 31)``. Contact rules are switched
off in the pinned policy (``quiet``) so that only curfew alerts appear; the
contact rules have their own file.
"""

from __future__ import annotations

import dataclasses

import pytest

from timeline import SUBJECT, UNIT, UNIT_EVERY, H, Timeline, home_case

from sim.detector import AlertKind, Category, Kind, Severity
from sim.policies import load_policy
from sim.detector.alerts import Cause, CauseKind
from sim.detector.telemetry import UNIT_IN_CURFEW, UNIT_ON_BACKUP, UNIT_TAG_PRESENT, UNIT_VIOLATION

GRACE = 600.0
ABSENCE, MISSED, LATENESS = AlertKind.CURFEW_ABSENCE, AlertKind.CURFEW_MISSED, AlertKind.CURFEW_LATENESS


def quiet(name: str = "standard", **changes: float) -> object:
    """The shipped policy with every figure these tests depend on pinned, and the contact rules off."""
    figures = dict(
        curfew_grace_s=GRACE, lateness_warning_s=H(2), lateness_escalation_s=H(4), allowed_lateness_s=H(6),
        reboot_inhibit_s=900.0, no_contact_base_unit_intervals=24 * 60, never_heard_intervals=0.0,
    )
    if name == "naive":
        figures["curfew_grace_s"] = 0.0
    figures.update(changes)
    return dataclasses.replace(load_policy(name), **figures)


def timeline(policy: object | None = None, **case: object) -> Timeline:
    return Timeline(cases=[home_case(**case)], policy=policy or quiet())  # type: ignore[arg-type]


def night(n: int, hour: float) -> float:
    """``hour`` o'clock on day ``n`` (hours past 24 fall on the next day)."""
    return H(24 * n + hour)


# --- grace ----------------------------------------------------------------------------


def test_leave_in_curfew_held_in_grace_then_raised_exactly_at_start_plus_grace() -> None:
    tl = timeline().push(H(20), UNIT, Kind.TAG_LEAVE)
    tl.run(H(20) + GRACE - 1)
    assert tl.summary() == []
    assert (SUBJECT, ABSENCE, 0) in tl.detector.book.held
    tl.run(H(20) + GRACE + 1)
    assert tl.summary() == [("curfew-absence", "breach", H(20), H(20) + GRACE, None)]
    assert tl.reasons(tl.alerts()[0]) == ["held-in-grace", "raised"]


def test_a_return_exactly_at_the_end_of_grace_still_counts_within_it() -> None:
    tl = timeline().push(H(20), UNIT, Kind.TAG_LEAVE).push(H(20) + GRACE, UNIT, Kind.TAG_RETURN).run(H(22))
    assert tl.summary() == []
    assert [tl.reasons(a) for a in tl.detector.book.dismissed] == [["held-in-grace", "dismissed"]]


def test_return_within_grace_dismisses_and_files_the_alert_for_audit() -> None:
    tl = timeline().push(H(20), UNIT, Kind.TAG_LEAVE).push(H(20) + 300, UNIT, Kind.TAG_RETURN).run(H(22))
    assert tl.summary() == []
    (dismissed,) = tl.detector.book.dismissed
    assert (dismissed.kind, dismissed.event_time, dismissed.raised_at, dismissed.closed_at) == (ABSENCE, H(20), None, H(20) + 300)
    assert tl.reasons(dismissed) == ["held-in-grace", "dismissed"]
    assert tl.detector.book.held == {} and tl.detector.book.open == {}


def test_leave_before_curfew_is_raised_at_the_units_first_report_past_grace_with_event_time_curfew_start() -> None:
    """A return before curfew is no violation, so the unit holds it for its next report: an
    absence that began before the window is judged once the unit has reported from the window on."""
    tl = timeline().push(H(17), UNIT, Kind.TAG_LEAVE)
    tl.run(H(19) + GRACE + 1)
    assert tl.summary() == []  # past grace, but the unit may be holding a return
    tl.push(H(19.5), UNIT, Kind.STATUS_CHECK)  # its first report since 19:00, and no return before it
    assert tl.summary() == [("curfew-absence", "breach", H(19), H(19.5), None)]


def test_leave_before_curfew_with_a_silent_unit_is_raised_a_report_interval_past_grace() -> None:
    tl = timeline().push(H(17), UNIT, Kind.TAG_LEAVE).run(H(21))
    assert tl.summary() == [("curfew-absence", "breach", H(19), H(19) + GRACE + UNIT_EVERY + GRACE, None)]


def test_a_return_before_curfew_held_by_the_unit_past_grace_raises_nothing() -> None:
    """The defect this rule fixes: the unit reported the 17:00 leave at a status check, held
    the 18:50 return for its next one at 19:30; the detector raised at 19:10, then closed the
    alert at an event end before its event time."""
    tl = timeline().push(H(17) + 60, UNIT, Kind.TAG_LEAVE, event_time=H(17)).run(H(19.5))
    tl.push(H(19.5), UNIT, Kind.TAG_RETURN, event_time=H(18) + 50 * 60).push(H(19.5), UNIT, Kind.STATUS_CHECK).run(H(21))
    assert tl.alerts() == []


def test_leave_and_return_before_curfew_raise_nothing() -> None:
    tl = timeline().push(H(17), UNIT, Kind.TAG_LEAVE).push(H(18), UNIT, Kind.TAG_RETURN).run(H(32))
    assert tl.summary() == [] and tl.detector.book.dismissed == []


def test_return_closes_the_alert_with_event_end_at_the_return() -> None:
    tl = timeline().push(H(20), UNIT, Kind.TAG_LEAVE).push(H(21), UNIT, Kind.TAG_RETURN).run(H(22))
    assert tl.summary() == [("curfew-absence", "breach", H(20), H(20) + GRACE, H(21))]
    (alert,) = tl.alerts()
    assert alert.event_end == H(21)
    assert tl.reasons(alert) == ["held-in-grace", "raised", "closed"]


def test_absence_past_the_window_closes_at_window_end_and_reopens_in_the_next_window() -> None:
    # Curfew 21:00 for 2 h: away from 22:00 day 0 to 22:00 day 1, half of night 0 and half of night 1.
    tl = timeline(curfew=(21, 2)).push(H(22), UNIT, Kind.TAG_LEAVE)
    tl.run(H(23) - 1)
    assert tl.summary() == [("curfew-absence", "breach", H(22), H(22) + GRACE, None)]
    tl.run(night(1, 21) + GRACE).push(night(1, 22), UNIT, Kind.TAG_RETURN).run(night(1, 23))
    assert tl.summary() == [
        ("curfew-absence", "breach", H(22), H(22) + GRACE, H(23)),
        # Away since before this window and no word from the unit since it began: raised at the return.
        ("curfew-absence", "breach", night(1, 21), night(1, 22), night(1, 22)),
        # 1 h of night 0 and 1 h of night 1: the 2 h warning, raised when the second hour is known.
        ("curfew-lateness", "breach", night(1, 22), night(1, 22), None),
    ]
    first, second, _ = tl.alerts()
    assert (first.event_end, second.event_end) == (H(23), night(1, 22))
    assert tl.reasons(first) == ["held-in-grace", "raised", "closed"]
    assert tl.detector.curfew.state[SUBJECT].lateness == H(2)
    assert tl.summary(MISSED) == []  # neither window was missed whole


def test_a_whole_window_missed_raises_curfew_missed_high() -> None:
    # Curfew 21:00 for 2 h; away 20:00 to 00:00 covers the whole window.
    tl = timeline(curfew=(21, 2)).push(H(20), UNIT, Kind.TAG_LEAVE).push(H(24), UNIT, Kind.TAG_RETURN).run(H(25))
    assert tl.summary() == [
        ("curfew-absence", "breach", H(21), H(21) + GRACE + UNIT_EVERY + GRACE, H(23)),  # the unit silent
        ("curfew-missed", "breach", H(21), H(23), H(23)),
        ("curfew-lateness", "breach", H(23), H(23), None),
    ]
    absence, missed, lateness = tl.alerts()
    assert missed.severity is Severity.HIGH
    assert absence.event_end == H(23)
    assert lateness.severity is Severity.MEDIUM  # 2 h: the warning, not yet the escalation


def test_a_window_missed_whole_is_called_once_even_when_the_return_comes_later() -> None:
    tl = timeline(curfew=(21, 2)).push(H(20), UNIT, Kind.TAG_LEAVE).run(H(23) + 60)
    tl.push(H(23) + 120, UNIT, Kind.TAG_RETURN).run(H(24))
    assert tl.summary(MISSED) == [("curfew-missed", "breach", H(21), H(23), H(23))]


# --- lateness -------------------------------------------------------------------------


def away(tl: Timeline, leave: float, back: float) -> Timeline:
    return tl.push(leave, UNIT, Kind.TAG_LEAVE).push(back, UNIT, Kind.TAG_RETURN)


def test_cumulative_lateness_warns_at_two_hours_and_escalates_at_four() -> None:
    tl = timeline()
    for n in range(4):  # an hour late each night
        away(tl, night(n, 20), night(n, 21))
    tl.run(night(4, 12))
    assert tl.summary(LATENESS) == [("curfew-lateness", "breach", night(1, 21), night(1, 21), None)]
    (lateness,) = tl.alerts(LATENESS)
    assert tl.reasons(lateness) == ["raised", "deduplicated", "deduplicated", "escalated"]
    assert lateness.severity is Severity.HIGH
    assert [d.at for d in lateness.decisions] == [night(1, 21), night(2, 21), night(3, 21), night(3, 21)]
    assert len(tl.alerts(ABSENCE)) == 4
    assert tl.detector.curfew.state[SUBJECT].lateness == H(4)


def test_lateness_below_the_escalation_stays_medium() -> None:
    tl = timeline()
    for n in range(3):
        away(tl, night(n, 20), night(n, 21))
    tl.run(night(3, 12))
    (lateness,) = tl.alerts(LATENESS)
    assert lateness.severity is Severity.MEDIUM
    assert "escalated" not in tl.reasons(lateness)


def test_lateness_counts_across_midnight() -> None:
    # A window 22:00 for 8 h; away 23:30 to 01:30 is 2 h: exactly the warning.
    tl = away(timeline(curfew=(22, 8)), H(23.5), H(25.5)).run(H(27))
    assert tl.detector.curfew.state[SUBJECT].lateness == H(2)
    assert tl.summary() == [
        ("curfew-absence", "breach", H(23.5), H(23.5) + GRACE, H(25.5)),
        ("curfew-lateness", "breach", H(25.5), H(25.5), None),
    ]


def test_absences_within_grace_add_no_lateness() -> None:
    tl = timeline(policy=quiet(lateness_warning_s=60.0, lateness_escalation_s=60.0))
    for n in range(3):
        for k in range(4):  # four 9-minute trips a night, each within grace
            away(tl, night(n, 20 + k), night(n, 20 + k) + 540)
    tl.run(night(3, 12))
    assert tl.summary() == []
    assert len(tl.detector.book.dismissed) == 12
    assert tl.detector.curfew.state[SUBJECT].lateness == 0.0


def test_the_part_of_an_absence_outside_curfew_adds_no_lateness() -> None:
    # Away 17:00 to 20:00: only the hour from 19:00 is in curfew.
    tl = away(timeline(), H(17), H(20)).run(H(21))
    assert tl.detector.curfew.state[SUBJECT].lateness == H(1)


# --- late and odd records -----------------------------------------------------------------


def test_leave_and_return_hours_late_after_a_comms_outage() -> None:
    tl = timeline(policy=quiet(lateness_warning_s=H(1), lateness_escalation_s=H(8)))
    tl.push(H(25), UNIT, Kind.TAG_LEAVE, event_time=H(20))
    tl.push(H(25), UNIT, Kind.TAG_RETURN, event_time=H(21)).run(H(26))
    assert tl.summary() == [
        ("curfew-absence", "breach", H(20), H(25), H(25)),
        # The hour is counted; the warning's event time is the device's (the return), not the receive time.
        ("curfew-lateness", "breach", H(21), H(25), None),
    ]
    assert tl.alerts()[0].event_end == H(21)
    assert tl.detector.curfew.state[SUBJECT].lateness == H(1)


def test_a_short_trip_reported_hours_late_is_still_within_grace() -> None:
    # Grace is judged in event time: a 5-minute trip stays a dismissal when its records come in one late upload.
    tl = timeline().push(H(25), UNIT, Kind.TAG_LEAVE, event_time=H(20))
    tl.push(H(25), UNIT, Kind.TAG_RETURN, event_time=H(20) + 300).run(H(26))
    assert tl.summary() == []
    (dismissed,) = tl.detector.book.dismissed
    assert tl.reasons(dismissed) == ["held-in-grace", "dismissed"]


def test_a_leave_reported_late_alone_is_raised_when_received() -> None:
    tl = timeline().push(H(22), UNIT, Kind.TAG_LEAVE, event_time=H(20)).run(H(22) + 1)
    assert tl.summary() == [("curfew-absence", "breach", H(20), H(22), None)]


def test_an_older_return_arriving_after_a_newer_leave_does_not_flip_the_state() -> None:
    tl = timeline().push(H(20), UNIT, Kind.TAG_LEAVE)
    tl.push(H(20) + 60, UNIT, Kind.TAG_RETURN, event_time=H(20) - 60)  # stale: before the leave
    tl.run(H(21))
    assert tl.summary() == [("curfew-absence", "breach", H(20), H(20) + GRACE, None)]
    assert tl.detector.book.dismissed == []


def test_an_older_leave_arriving_after_a_newer_return_does_not_flip_the_state() -> None:
    tl = away(timeline(), H(20), H(20) + 120)
    tl.push(H(20) + 180, UNIT, Kind.TAG_LEAVE, event_time=H(20) + 60)  # older than the return
    tl.run(H(23))
    assert tl.summary() == []
    assert tl.detector.curfew.state[SUBJECT].away_since is None


def test_duplicates_are_ignored_and_counted() -> None:
    # Under naive every leave in curfew is an alert, so a duplicate that got through would show.
    tl = timeline(policy=quiet("naive"))
    tl.push(H(20), UNIT, Kind.TAG_LEAVE, seq=7).push(H(20) + 30, UNIT, Kind.TAG_LEAVE, event_time=H(20), seq=7)
    tl.push(H(21), UNIT, Kind.TAG_LEAVE, seq=8).run(H(22))
    assert tl.summary() == [
        ("curfew-absence", "breach", H(20), H(20), H(20)),
        ("curfew-absence", "breach", H(21), H(21), H(21)),
    ]
    assert (tl.detector.stats.duplicates, tl.detector.stats.records) == (1, 2)


def test_a_device_boot_keeps_the_duplicate_window_so_a_late_copy_from_before_it_is_dropped() -> None:
    # Protocol 1.1 numbers on across a restart: a copy of a frame from before it is still a copy.
    tl = timeline(policy=quiet("naive"))
    tl.push(H(20), UNIT, Kind.TAG_LEAVE, seq=5).push(H(20.5), UNIT, Kind.DEVICE_BOOT, seq=6)
    tl.push(H(20.6), UNIT, Kind.TAG_LEAVE, event_time=H(20), seq=5).run(H(21))
    assert len(tl.alerts()) == 1 and (tl.detector.stats.duplicates, tl.detector.stats.records) == (1, 2)


def test_a_resent_return_is_a_duplicate_and_changes_nothing() -> None:
    tl = away(timeline(), H(20), H(21))  # seq 0, 1
    tl.push(H(22), UNIT, Kind.TAG_LEAVE, seq=2)
    tl.push(H(22) + 60, UNIT, Kind.TAG_RETURN, event_time=H(21), seq=1)  # a resent copy
    tl.run(H(23))
    assert tl.summary(ABSENCE) == [
        ("curfew-absence", "breach", H(20), H(20) + GRACE, H(21)),
        ("curfew-absence", "breach", H(22), H(22) + GRACE, None),
    ]
    assert tl.detector.stats.duplicates == 1


def test_a_record_beyond_the_allowed_lateness_is_counted_late_and_still_applied() -> None:
    tl = timeline(policy=quiet(allowed_lateness_s=H(6)))
    tl.push(H(30), UNIT, Kind.STATUS_CHECK)
    tl.push(H(30) + 60, UNIT, Kind.TAG_LEAVE, event_time=H(30) - H(6))  # exactly the allowed lateness: on time
    assert tl.detector.stats.late == 0
    tl.push(H(30) + 120, UNIT, Kind.TAG_RETURN, event_time=H(30) - H(6) - 1)  # older than the leave: ignored
    tl.push(H(30) + 180, UNIT, Kind.STATUS_CHECK, event_time=H(20))  # 10 h behind
    assert tl.detector.stats.late == 2
    tl.run(H(32))
    # The leave (at 00:00) was applied: raised at once, its grace long gone; closed at window end.
    assert tl.summary() == [
        ("curfew-absence", "breach", H(24), H(30) + 60, H(31)),
        ("curfew-lateness", "breach", H(31), H(31), None),
    ]


def test_a_late_leave_is_still_applied() -> None:
    tl = timeline(policy=quiet(allowed_lateness_s=H(1)))
    tl.push(H(23), UNIT, Kind.STATUS_CHECK)
    tl.push(H(23) + 60, UNIT, Kind.TAG_LEAVE, event_time=H(20))  # 3 h behind the subject's newest
    tl.push(H(23) + 120, UNIT, Kind.TAG_RETURN, event_time=H(20) + H(0.5)).run(H(24))
    assert tl.detector.stats.late == 2
    assert tl.summary() == [("curfew-absence", "breach", H(20), H(23) + 60, H(23) + 120)]


def test_clock_skew_grace_is_measured_in_event_time() -> None:
    # The unit's clock runs 5 min ahead: every event time is receive time + 300.
    skew = 300.0
    tl = timeline().push(H(20), UNIT, Kind.TAG_LEAVE, event_time=H(20) + skew)
    tl.run(H(20) + skew + GRACE - 1)
    assert tl.summary() == []
    tl.run(H(20) + skew + GRACE + 1)
    assert tl.summary() == [("curfew-absence", "breach", H(20) + skew, H(20) + skew + GRACE, None)]
    tl.push(H(21), UNIT, Kind.TAG_RETURN, event_time=H(21) + skew).run(H(22))
    assert tl.alerts()[0].event_end == H(21) + skew


def test_clock_skew_return_within_grace_in_event_time_dismisses() -> None:
    skew = 300.0
    tl = timeline().push(H(20), UNIT, Kind.TAG_LEAVE, event_time=H(20) + skew)
    tl.push(H(20) + 500, UNIT, Kind.TAG_RETURN, event_time=H(20) + 500 + skew).run(H(21))
    assert tl.summary() == []
    assert len(tl.detector.book.dismissed) == 1


# --- inhibition -------------------------------------------------------------------------


def test_unplug_the_unit_and_go_out_is_a_breach_not_equipment() -> None:
    """A unit on its backup battery still hears its tag: the leave it reports is real. Mains
    loss explains silence, not a reported leave (issue 17, defect 5)."""
    on_backup = UNIT_ON_BACKUP | UNIT_IN_CURFEW  # what a unit on battery sets on every record
    tl = timeline().push(H(19.5), UNIT, Kind.MAINS_LOST, flags=on_backup)
    tl.push(H(20), UNIT, Kind.TAG_LEAVE, flags=on_backup).push(H(22), UNIT, Kind.TAG_RETURN, flags=on_backup).run(H(23))
    assert tl.summary(ABSENCE) == [("curfew-absence", "breach", H(20), H(20) + GRACE, H(22))]
    (absence,) = tl.alerts(ABSENCE)
    assert absence.cause is None
    assert tl.reasons(absence) == ["held-in-grace", "raised", "closed"]
    assert tl.detector.curfew.state[SUBJECT].lateness == H(2)  # and it counts toward lateness


def test_a_leave_with_the_on_backup_flag_on_it_is_a_breach() -> None:
    tl = timeline().push(H(20), UNIT, Kind.TAG_LEAVE, flags=UNIT_ON_BACKUP | UNIT_IN_CURFEW).run(H(21))
    assert tl.summary() == [("curfew-absence", "breach", H(20), H(20) + GRACE, None)]
    assert tl.alerts()[0].cause is None


def test_the_unit_on_battery_going_silent_is_still_equipment_while_its_leaves_are_breaches() -> None:
    """The fault's own symptom stays inhibited: the unit runs down and falls silent."""
    policy = quiet(no_contact_base_unit_intervals=3.0)
    tl = timeline(policy=policy).push(H(19.5), UNIT, Kind.MAINS_LOST, flags=UNIT_ON_BACKUP | UNIT_IN_CURFEW)
    tl.push(H(20), UNIT, Kind.TAG_LEAVE, flags=UNIT_ON_BACKUP | UNIT_IN_CURFEW).run(H(24))
    assert [(a.kind.value, a.category.value) for a in tl.alerts()] == [
        ("mains-lost", "equipment"), ("curfew-absence", "breach"), ("no-contact", "equipment"),
    ]


def test_absence_after_mains_restored_is_a_breach_again() -> None:
    tl = timeline().push(H(19), UNIT, Kind.MAINS_LOST).push(H(19.5), UNIT, Kind.MAINS_RESTORED)
    tl.push(H(20), UNIT, Kind.TAG_LEAVE).run(H(21))
    assert tl.summary(ABSENCE) == [("curfew-absence", "breach", H(20), H(20) + GRACE, None)]


@pytest.mark.parametrize("reboot", [Kind.DEVICE_REBOOT, Kind.DEVICE_BOOT])
def test_absence_within_the_reboot_window_names_the_reboot_and_after_it_is_a_breach(reboot: Kind) -> None:
    tl = timeline(policy=quiet(reboot_inhibit_s=900.0))
    tl.push(H(20), UNIT, reboot, seq=0)
    away(tl, H(20) + 900, H(20) + 2000)  # exactly at the end of the reboot window: still the reboot's
    away(tl, H(22), H(22) + 1000)  # long after
    tl.run(H(23))
    assert tl.summary() == [
        ("curfew-absence", "equipment", H(20) + 900, H(20) + 900 + GRACE, H(20) + 2000),
        ("curfew-absence", "breach", H(22), H(22) + GRACE, H(22) + 1000),
    ]
    assert tl.alerts()[0].cause == Cause(CauseKind.UNIT_REBOOTED, device=UNIT)
    assert str(tl.alerts()[0].cause) == f"base unit {UNIT} rebooted"
    assert tl.alerts()[1].cause is None


def test_absence_one_second_after_the_reboot_window_is_a_breach() -> None:
    tl = timeline(policy=quiet(reboot_inhibit_s=900.0)).push(H(20), UNIT, Kind.DEVICE_REBOOT, seq=0)
    tl.push(H(20) + 901, UNIT, Kind.TAG_LEAVE, seq=1).run(H(21))
    assert tl.summary() == [("curfew-absence", "breach", H(20) + 901, H(20) + 901 + GRACE, None)]


def test_naive_raises_every_leave_in_curfew_and_nothing_outside() -> None:
    tl = timeline(policy=quiet("naive"))
    away(tl, H(17), H(18))  # before curfew
    away(tl, H(20), H(20) + 60)
    away(tl, H(21), H(21) + 60)
    tl.push(H(22), UNIT, Kind.TAG_LEAVE, flags=UNIT_ON_BACKUP).run(H(23))  # no inhibition under naive
    assert tl.summary() == [
        ("curfew-absence", "breach", H(20), H(20), H(20)),
        ("curfew-absence", "breach", H(21), H(21), H(21)),
        ("curfew-absence", "breach", H(22), H(22), H(22)),
    ]


# --- naive against standard ---------------------------------------------------------------------


def scripted_night(tl: Timeline) -> Timeline:
    """One night's raw events at a home with an RF tag: what floods a naive centre."""
    for hour in range(20, 26):  # RF shadowing: the tag 'leaves' for two minutes, six times
        away(tl, H(hour), H(hour) + 120)
    for dt in (0, 30, 60):  # a sensor glitch: three strap-tamper reports, cleared with the tag in range
        tl.push(H(26) + dt, UNIT, Kind.STRAP_TAMPER, flags=UNIT_IN_CURFEW)
    tl.push(H(26) + 120, UNIT, Kind.TAMPER_CLEARED, flags=UNIT_IN_CURFEW | UNIT_TAG_PRESENT)
    on_battery = UNIT_ON_BACKUP | UNIT_IN_CURFEW  # a power cut, and an absence during it
    tl.push(H(27), UNIT, Kind.MAINS_LOST, flags=on_battery)
    tl.push(H(27.5), UNIT, Kind.TAG_LEAVE, flags=on_battery).push(H(28), UNIT, Kind.TAG_RETURN, flags=on_battery)
    tl.push(H(28.5), UNIT, Kind.MAINS_RESTORED, flags=UNIT_IN_CURFEW)
    away(tl, H(29), H(30))  # the one real breach: an hour out
    return tl.run(H(32))


def test_naive_raises_many_where_standard_raises_few_on_the_same_night() -> None:
    naive = scripted_night(timeline(policy=quiet("naive")))
    standard = scripted_night(timeline())
    assert naive.records == standard.records
    assert len(naive.alerts()) == 12
    assert sum(a.category is Category.BREACH for a in naive.alerts()) == 11
    assert standard.summary() == [
        ("strap-tamper", "equipment", H(26), H(26) + 120, H(26) + 120),
        ("mains-lost", "equipment", H(27), H(27), H(28.5)),
        ("curfew-absence", "breach", H(27.5), H(27.5) + GRACE, H(28)),  # unplugged and out: a breach
        ("curfew-absence", "breach", H(29), H(29) + GRACE, H(30)),
    ]
    assert len(standard.detector.book.dismissed) == 6
    assert standard.alerts()[0].count == 3


def test_a_leave_closer_to_curfew_end_than_the_grace_is_no_breach() -> None:
    """Curfew 19:00-07:00: leaving at 06:55 for an early shift is five minutes in curfew, within grace."""
    tl = timeline()
    tl.push(night(0, 19) + 1, UNIT, Kind.STATUS_CHECK)
    tl.push(night(1, 6.9167), UNIT, Kind.TAG_LEAVE, event_time=night(1, 6) + 55 * 60)
    tl.push(night(1, 18), UNIT, Kind.TAG_RETURN)
    tl.run(night(2, 0))
    assert tl.summary(ABSENCE, MISSED, LATENESS) == []
    assert tl.detector.book.held == {}


def test_an_earlier_trip_that_night_does_not_steal_the_next_absence_s_judgement() -> None:
    """A stale window-end timer from the 20:00 trip must not judge the 06:55 leave against the next night."""
    tl = timeline()
    tl.push(night(0, 20), UNIT, Kind.TAG_LEAVE).push(night(0, 21), UNIT, Kind.TAG_RETURN)
    tl.push(night(1, 6) + 55 * 60, UNIT, Kind.TAG_LEAVE)
    tl.run(night(1, 7) + 120)
    assert tl.detector.book.held == {}  # nothing left held once the window is over
    tl.push(night(1, 18), UNIT, Kind.TAG_RETURN).run(night(2, 0))
    assert tl.summary(ABSENCE) == [("curfew-absence", "breach", night(0, 20), night(0, 20) + GRACE, night(0, 21))]


def test_a_mains_cut_after_the_leave_does_not_excuse_the_absence() -> None:
    """Pulling the plug before coming home must not turn a missed curfew into equipment."""
    tl = timeline(curfew=(21, 2))
    t0 = night(0, 20)
    tl.push(night(1, 1), UNIT, Kind.TAG_LEAVE, event_time=t0, seq=1)
    tl.push(night(1, 1), UNIT, Kind.MAINS_LOST, event_time=night(1, 0), seq=2, flags=UNIT_ON_BACKUP)
    tl.push(night(1, 1), UNIT, Kind.TAG_RETURN, event_time=night(1, 0) + 1800, seq=3, flags=UNIT_ON_BACKUP)
    tl.run(night(1, 2))
    assert [(a.kind.value, a.category.value, a.cause) for a in tl.alerts() if a.kind in (ABSENCE, MISSED, LATENESS)] == [
        ("curfew-absence", "breach", None), ("curfew-missed", "breach", None), ("curfew-lateness", "breach", None),
    ]


def test_the_case_finds_a_window_starting_exactly_now_at_unix_scale_times() -> None:
    case = home_case()
    seven_pm = 1_728_000_000.0 - 1_728_000_000.0 % 86400 + H(19)
    assert case.in_curfew(seven_pm) == (seven_pm, seven_pm + H(12))
    assert case.in_curfew(seven_pm - 0.001) is None


def test_naive_raises_the_returns_the_unit_flags_as_curfew_violations() -> None:
    """Naive is "one alert for every raw alarm event": a subject who left before curfew and
    came home an hour into it sends no leave in curfew, only a return the unit flags."""
    tl = timeline(policy=quiet("naive"))
    tl.push(H(18), UNIT, Kind.TAG_LEAVE).push(H(20), UNIT, Kind.TAG_RETURN, flags=UNIT_IN_CURFEW | UNIT_VIOLATION)
    tl.push(H(21), UNIT, Kind.TAG_LEAVE, flags=UNIT_IN_CURFEW | UNIT_VIOLATION)
    tl.push(H(21.5), UNIT, Kind.TAG_RETURN, flags=UNIT_IN_CURFEW | UNIT_VIOLATION).run(H(23))
    assert tl.summary() == [
        ("curfew-absence", "breach", H(20), H(20), H(20)),
        ("curfew-absence", "breach", H(21), H(21), H(21)),
        ("curfew-absence", "breach", H(21.5), H(21.5), H(21.5)),
    ]
