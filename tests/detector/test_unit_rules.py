"""Base-unit rule: tampers with confirmation, the unit moved, mains and backup battery.

Timeline tests in virtual time, exact. Contact rules are off in the pinned
policy so that only the unit's own alerts appear. Times are mid-morning, out of
curfew (19:00 for 12 h), so no curfew rule is involved.
"""

from __future__ import annotations

import dataclasses

from timeline import SUBJECT, UNIT, H, Timeline, home_case

from sim.detector import AlertKind, Kind, Severity
from sim.policies import load_policy
from sim.detector.telemetry import TAG_CASE_OPEN, TAG_STRAP_SEVERED, UNIT_ON_BACKUP, UNIT_TAG_PRESENT, UNIT_VIOLATION

CONFIRM = 900.0
T = H(10)
STRAP, BODY = AlertKind.STRAP_TAMPER, AlertKind.BODY_TAMPER


def pinned(name: str = "standard", **changes: float) -> object:
    figures = dict(tamper_confirm_s=CONFIRM if name == "standard" else 0.0, no_contact_base_unit_intervals=24 * 60, never_heard_intervals=0.0)
    figures.update(changes)
    return dataclasses.replace(load_policy(name), **figures)


def timeline(policy: str = "standard") -> Timeline:
    return Timeline(cases=[home_case()], policy=pinned(policy))  # type: ignore[arg-type]


# --- tampers -------------------------------------------------------------------------------


def test_strap_tamper_held_for_the_confirmation_window_then_raised_as_breach() -> None:
    tl = timeline().push(T, UNIT, Kind.STRAP_TAMPER)
    tl.run(T + CONFIRM - 1)
    assert tl.summary() == []
    assert (SUBJECT, STRAP, 0) in tl.detector.book.held
    tl.run(T + CONFIRM + 1)
    assert tl.summary() == [("strap-tamper", "breach", T, T + CONFIRM, None)]
    (alert,) = tl.alerts()
    assert alert.severity is Severity.HIGH
    assert tl.reasons(alert) == ["held-in-grace", "raised"]


def test_tamper_cleared_within_the_window_with_the_tag_present_is_a_suspect_sensor() -> None:
    tl = timeline().push(T, UNIT, Kind.STRAP_TAMPER).push(T + 120, UNIT, Kind.TAMPER_CLEARED, flags=UNIT_TAG_PRESENT)
    tl.run(T + H(2))
    assert tl.summary() == [("strap-tamper", "equipment", T, T + 120, T + 120)]
    (alert,) = tl.alerts()
    assert alert.severity is Severity.LOW
    assert tl.reasons(alert) == ["held-in-grace", "raised", "closed"]
    assert "suspect sensor" in alert.decisions[1].note


def test_tamper_cleared_at_the_very_end_of_the_window_is_still_a_suspect_sensor() -> None:
    tl = timeline().push(T, UNIT, Kind.BODY_TAMPER).push(T + CONFIRM, UNIT, Kind.TAMPER_CLEARED, flags=UNIT_TAG_PRESENT)
    tl.run(T + H(1))
    assert tl.summary() == [("body-tamper", "equipment", T, T + CONFIRM, T + CONFIRM)]


def test_tamper_cleared_within_the_window_without_the_tag_is_a_breach_closed_at_the_clear() -> None:
    tl = timeline().push(T, UNIT, Kind.STRAP_TAMPER).push(T + 120, UNIT, Kind.TAMPER_CLEARED)
    tl.run(T + CONFIRM - 1)
    assert tl.summary() == []
    tl.run(T + H(1))
    assert tl.summary() == [("strap-tamper", "breach", T, T + CONFIRM, T + CONFIRM)]
    (alert,) = tl.alerts()
    assert alert.event_end == T + 120
    assert tl.detector.book.open == {}


def test_a_later_tamper_after_a_cleared_one_is_a_new_alert_not_folded_into_the_old() -> None:
    tl = timeline().push(T, UNIT, Kind.STRAP_TAMPER).push(T + 120, UNIT, Kind.TAMPER_CLEARED)
    tl.push(T + H(24), UNIT, Kind.STRAP_TAMPER).run(T + H(25))
    assert tl.summary() == [
        ("strap-tamper", "breach", T, T + CONFIRM, T + CONFIRM),
        ("strap-tamper", "breach", T + H(24), T + H(24) + CONFIRM, None),
    ]
    assert [a.count for a in tl.alerts()] == [1, 1]


def test_tamper_cleared_after_raising_closes_the_breach() -> None:
    tl = timeline().push(T, UNIT, Kind.STRAP_TAMPER).run(T + CONFIRM + 1)
    tl.push(T + 1200, UNIT, Kind.TAMPER_CLEARED, flags=UNIT_TAG_PRESENT).run(T + H(1))
    assert tl.summary() == [("strap-tamper", "breach", T, T + CONFIRM, T + 1200)]
    (alert,) = tl.alerts()
    assert alert.event_end == T + 1200
    assert tl.reasons(alert) == ["held-in-grace", "raised", "closed"]


def test_repeated_tampers_fold_into_one_alert() -> None:
    tl = timeline()
    for dt in (0, 100, 1000, 1100):  # two while held, two once raised
        tl.push(T + dt, UNIT, Kind.STRAP_TAMPER)
    tl.run(T + H(1))
    assert tl.summary() == [("strap-tamper", "breach", T, T + CONFIRM, None)]
    (alert,) = tl.alerts()
    assert alert.count == 4
    assert tl.reasons(alert) == ["held-in-grace", "deduplicated", "raised", "deduplicated", "deduplicated"]


def test_strap_and_body_tampers_are_separate_alerts() -> None:
    tl = timeline().push(T, UNIT, Kind.STRAP_TAMPER).push(T + 60, UNIT, Kind.BODY_TAMPER).run(T + H(1))
    assert tl.summary() == [
        ("strap-tamper", "breach", T, T + CONFIRM, None),
        ("body-tamper", "breach", T + 60, T + 60 + CONFIRM, None),
    ]


def test_tamper_and_clear_reported_late_together_are_judged_in_event_time() -> None:
    # Held in store-and-forward: both arrive two hours late, in one upload.
    tl = timeline().push(T + H(2), UNIT, Kind.STRAP_TAMPER, event_time=T)
    tl.push(T + H(2), UNIT, Kind.TAMPER_CLEARED, event_time=T + 60, flags=UNIT_TAG_PRESENT).run(T + H(3))
    assert tl.summary() == [("strap-tamper", "equipment", T, T + H(2), T + H(2))]


def test_a_tamper_reported_late_alone_is_raised_when_received() -> None:
    tl = timeline().push(T + H(2), UNIT, Kind.STRAP_TAMPER, event_time=T).run(T + H(2) + 1)
    assert tl.summary() == [("strap-tamper", "breach", T, T + H(2), None)]


def test_naive_raises_every_tamper_record_as_its_own_breach() -> None:
    tl = timeline("naive")
    for dt in (0, 100, 200):
        tl.push(T + dt, UNIT, Kind.STRAP_TAMPER)
    tl.push(T + 300, UNIT, Kind.TAMPER_CLEARED, flags=UNIT_TAG_PRESENT).run(T + H(1))
    assert tl.summary() == [("strap-tamper", "breach", T + dt, T + dt, T + dt) for dt in (0, 100, 200)]
    assert all(a.count == 1 and a.severity is Severity.HIGH for a in tl.alerts())


# --- the unit itself --------------------------------------------------------------------------


def test_unit_moved_with_the_violation_flag_is_a_breach_and_without_it_info() -> None:
    tl = timeline().push(T, UNIT, Kind.UNIT_MOVED, flags=UNIT_VIOLATION).push(T + 600, UNIT, Kind.UNIT_MOVED).run(T + H(1))
    assert tl.summary() == [
        ("unit-moved", "breach", T, T, T),
        ("unit-moved", "info", T + 600, T + 600, T + 600),
    ]
    assert [a.severity for a in tl.alerts()] == [Severity.MEDIUM, Severity.LOW]


def test_mains_lost_is_equipment_folds_repeats_and_closes_on_mains_restored() -> None:
    tl = timeline().push(T, UNIT, Kind.MAINS_LOST, flags=UNIT_ON_BACKUP).push(T + 60, UNIT, Kind.MAINS_LOST, flags=UNIT_ON_BACKUP)
    tl.run(T + H(1))
    assert tl.summary() == [("mains-lost", "equipment", T, T, None)]
    assert tl.detector.devices[UNIT].on_backup
    tl.push(T + H(2), UNIT, Kind.MAINS_RESTORED, event_time=T + H(2) - 30).run(T + H(3))
    assert tl.summary() == [("mains-lost", "equipment", T, T, T + H(2))]
    (alert,) = tl.alerts()
    assert (alert.count, alert.event_end) == (2, T + H(2) - 30)
    assert tl.reasons(alert) == ["raised", "deduplicated", "closed"]
    assert not tl.detector.devices[UNIT].on_backup


def test_backup_battery_low_is_equipment_and_closes_on_mains_restored() -> None:
    tl = timeline().push(T, UNIT, Kind.MAINS_LOST).push(T + H(5), UNIT, Kind.BACKUP_BATTERY_LOW, value=15)
    tl.push(T + H(6), UNIT, Kind.MAINS_RESTORED).run(T + H(7))
    assert tl.summary() == [
        ("mains-lost", "equipment", T, T, T + H(6)),
        ("backup-battery-low", "equipment", T + H(5), T + H(5), T + H(6)),
    ]
    assert tl.alerts()[1].decisions[0].note == "backup battery at 15%"


def test_naive_raises_each_raw_unit_event_as_its_own_alert() -> None:
    tl = timeline("naive")
    tl.push(T, UNIT, Kind.MAINS_LOST).push(T + 60, UNIT, Kind.MAINS_LOST).push(T + H(5), UNIT, Kind.BACKUP_BATTERY_LOW)
    tl.push(T + H(6), UNIT, Kind.MAINS_RESTORED).push(T + H(7), UNIT, Kind.UNIT_MOVED, flags=UNIT_VIOLATION).run(T + H(8))
    assert tl.summary() == [
        ("mains-lost", "equipment", T, T, T),
        ("mains-lost", "equipment", T + 60, T + 60, T + 60),
        ("backup-battery-low", "equipment", T + H(5), T + H(5), T + H(5)),
        ("unit-moved", "breach", T + H(7), T + H(7), T + H(7)),
    ]


def test_a_clear_ends_only_the_tamper_whose_flag_is_gone() -> None:
    """A severed strap stays in the flags while a case-open pulse clears: the strap is still a breach."""
    tl = Timeline(cases=[home_case()], policy=pinned())
    tl.push(100.0, UNIT, Kind.STRAP_TAMPER, flags=TAG_STRAP_SEVERED | UNIT_TAG_PRESENT)
    tl.push(160.0, UNIT, Kind.BODY_TAMPER, flags=TAG_STRAP_SEVERED | TAG_CASE_OPEN | UNIT_TAG_PRESENT)
    tl.push(220.0, UNIT, Kind.TAMPER_CLEARED, flags=TAG_STRAP_SEVERED | UNIT_TAG_PRESENT)
    tl.run(H(2))
    assert tl.summary(AlertKind.STRAP_TAMPER, AlertKind.BODY_TAMPER) == [
        ("body-tamper", "equipment", 160.0, 220.0, 220.0),  # the pulse: a suspect sensor
        ("strap-tamper", "breach", 100.0, 100.0 + CONFIRM, None),  # the strap: still severed, still open
    ]


# --- a tamper made while away (issue 17, defect 1) -------------------------------------------

LATCHED = TAG_STRAP_SEVERED | UNIT_TAG_PRESENT  # the first beacon back carries the latched flag
BEACON = 15.0  # the tag clears its latch once the unit has acked that beacon


def test_a_tamper_latched_while_away_is_a_breach_though_its_latch_clears_at_once() -> None:
    """Strap cut at 10:30 while out (leave at 10:00), reported on return at 14:00, the latch
    cleared a beacon later: a removal while out, dated from the leave, not a suspect sensor."""
    tl = timeline().push(T, UNIT, Kind.TAG_LEAVE).push(H(14), UNIT, Kind.TAG_RETURN, flags=UNIT_TAG_PRESENT)
    tl.push(H(14), UNIT, Kind.STRAP_TAMPER, flags=LATCHED)
    tl.push(H(14) + BEACON, UNIT, Kind.TAMPER_CLEARED, flags=UNIT_TAG_PRESENT).run(H(15))
    assert tl.summary(STRAP) == [("strap-tamper", "breach", T, H(14), H(14) + BEACON)]
    (alert,) = tl.alerts(STRAP)
    assert alert.event_end == H(14) + BEACON


def test_a_latched_tamper_and_its_clear_in_the_same_instant_is_still_a_breach() -> None:
    tl = timeline().push(T, UNIT, Kind.TAG_LEAVE).push(H(14), UNIT, Kind.TAG_RETURN, flags=UNIT_TAG_PRESENT)
    tl.push(H(14), UNIT, Kind.STRAP_TAMPER, flags=LATCHED).push(H(14), UNIT, Kind.TAMPER_CLEARED, flags=UNIT_TAG_PRESENT)
    tl.run(H(15))
    assert [(a.category.value, a.event_time) for a in tl.alerts(STRAP)] == [("breach", T)]


def test_a_latched_tamper_received_before_the_return_it_came_with_is_a_breach() -> None:
    tl = timeline().push(T, UNIT, Kind.TAG_LEAVE)
    tl.push(H(14) + 5, UNIT, Kind.STRAP_TAMPER, event_time=H(14), seq=3, flags=LATCHED)
    tl.push(H(14) + 6, UNIT, Kind.TAMPER_CLEARED, event_time=H(14) + BEACON, seq=4, flags=UNIT_TAG_PRESENT)
    tl.push(H(14) + 40, UNIT, Kind.TAG_RETURN, event_time=H(14), seq=2, flags=UNIT_TAG_PRESENT).run(H(15))  # resent
    assert [(a.category.value, a.event_time) for a in tl.alerts(STRAP)] == [("breach", T)]


def test_a_tamper_that_clears_soon_after_the_tag_came_home_long_ago_is_still_a_suspect_sensor() -> None:
    tl = timeline().push(T, UNIT, Kind.TAG_LEAVE).push(H(11), UNIT, Kind.TAG_RETURN, flags=UNIT_TAG_PRESENT)
    tl.push(H(12), UNIT, Kind.STRAP_TAMPER, flags=LATCHED)
    tl.push(H(12) + 120, UNIT, Kind.TAMPER_CLEARED, flags=UNIT_TAG_PRESENT).run(H(13))
    assert [(a.category.value, a.event_time) for a in tl.alerts(STRAP)] == [("equipment", H(12))]


def test_a_latched_tamper_is_refiled_as_a_breach_when_the_held_leave_and_return_arrive() -> None:
    """Out of curfew the unit holds a leave and return for its next status check, but sends the
    latched tamper and its clear at once: they come first, and look like a suspect sensor."""
    tl = timeline()
    tl.push(H(10) + 2400, UNIT, Kind.STRAP_TAMPER, flags=LATCHED, seq=3)
    tl.push(H(10) + 2415, UNIT, Kind.TAMPER_CLEARED, flags=UNIT_TAG_PRESENT, seq=4)
    tl.push(H(11), UNIT, Kind.TAG_LEAVE, event_time=H(10) + 600, seq=1)
    tl.push(H(11), UNIT, Kind.TAG_RETURN, event_time=H(10) + 2400, seq=2, flags=UNIT_TAG_PRESENT).run(H(12))
    (alert,) = tl.alerts(STRAP)
    assert (alert.category.value, alert.event_time) == ("breach", H(10) + 600)
    assert tl.reasons(alert)[-1] == "late-update"
