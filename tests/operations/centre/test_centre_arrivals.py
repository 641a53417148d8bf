"""A policy's alerts as the centre receives them (``sim.operations.centre.arrivals``)."""

from __future__ import annotations

import pytest

from sim.detector.alerts import Alert, AlertKind, Category, Severity
from sim.operations.centre.arrivals import centre_arrivals
from sim.operations.centre.params import CLASS_NAMES


def alert(i: int, kind: AlertKind, category: Category, raised_at: float, subject: int | None = None) -> Alert:
    return Alert(i, subject=i if subject is None else subject, device=i, kind=kind, category=category,
                 severity=Severity.HIGH, event_time=0.0, raised_at=raised_at)


def test_each_alert_goes_to_its_class_by_raised_time_and_info_reaches_no_one() -> None:
    raised = [
        alert(0, AlertKind.CURFEW_ABSENCE, Category.BREACH, 50.0),
        alert(1, AlertKind.GPS_STRAP, Category.BREACH, 10.0),
        alert(2, AlertKind.MAINS_LOST, Category.EQUIPMENT, 10.0),
        alert(3, AlertKind.NEVER_HEARD, Category.UNMONITORED, 30.0),
        alert(4, AlertKind.BACKUP_BATTERY_LOW, Category.INFO, 5.0),
        alert(5, AlertKind.STRAP_TAMPER, Category.BREACH, 40.0),
        alert(6, AlertKind.STRAP_TAMPER, Category.EQUIPMENT, 20.0),  # a suspect sensor: equipment, not tamper
        alert(7, AlertKind.NOT_CHARGING, Category.BREACH, 60.0),
    ]
    verdicts = ["true", "false", "real", "named", "", "false", "unexplained", "true"]
    arrivals = centre_arrivals(raised, verdicts)
    assert arrivals.alert.tolist() == [1, 2, 6, 3, 5, 0, 7]  # ties in the order raised
    assert arrivals.time.tolist() == [10.0, 10.0, 20.0, 30.0, 40.0, 50.0, 60.0]
    assert [CLASS_NAMES[k] for k in arrivals.klass] == ["tamper", "equipment", "equipment", "unmonitored", "tamper",
                                                        "breach", "charging"]
    assert arrivals.confirmed.tolist() == [False, True, False, True, False, True, True]
    assert arrivals.genuine.tolist() == [False, False, False, False, False, True, True]  # true breach alerts only


def test_one_subjects_alerts_of_one_family_are_one_incident_and_others_are_not() -> None:
    raised = [
        alert(0, AlertKind.CURFEW_ABSENCE, Category.BREACH, 1.0, subject=4),
        alert(1, AlertKind.CURFEW_LATENESS, Category.BREACH, 2.0, subject=4),  # the curfew family too
        alert(2, AlertKind.INCLUSION_ZONE, Category.BREACH, 3.0, subject=5),  # another subject
        alert(3, AlertKind.EXCLUSION_ZONE, Category.BREACH, 4.0, subject=4),  # another family
        alert(4, AlertKind.MAINS_LOST, Category.EQUIPMENT, 5.0, subject=4),
        alert(5, AlertKind.GPS_BATTERY_LOW, Category.EQUIPMENT, 6.0, subject=4),  # equipment: one incident a subject
    ]
    incident = centre_arrivals(raised, ["true"] * 4 + ["real"] * 2).incident.tolist()
    assert incident[0] == incident[1] and incident[4] == incident[5]
    assert len({incident[0], incident[2], incident[3], incident[4]}) == 4


def test_no_alerts_no_arrivals_and_verdicts_must_match() -> None:
    arrivals = centre_arrivals([], [])
    assert len(arrivals) == len(arrivals.alert) == len(arrivals.incident) == 0
    with pytest.raises(ValueError, match="1 verdicts for 0 alerts"):
        centre_arrivals([], ["true"])
