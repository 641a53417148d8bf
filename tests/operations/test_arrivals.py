"""A policy's alerts as the centre receives them (``sim.operations.arrivals``)."""

from __future__ import annotations

from sim.detector.alerts import Alert, AlertKind, Category, Severity
from sim.operations.arrivals import centre_arrivals
from sim.operations.params import CLASS_NAMES


def alert(i: int, kind: AlertKind, category: Category, raised_at: float) -> Alert:
    return Alert(i, subject=i, device=i, kind=kind, category=category, severity=Severity.HIGH, event_time=0.0,
                 raised_at=raised_at)


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
    arrivals = centre_arrivals(raised)
    assert arrivals.alert.tolist() == [1, 2, 6, 3, 5, 0, 7]  # ties in the order raised
    assert arrivals.time.tolist() == [10.0, 10.0, 20.0, 30.0, 40.0, 50.0, 60.0]
    assert [CLASS_NAMES[k] for k in arrivals.klass] == ["tamper", "equipment", "equipment", "unmonitored", "tamper",
                                                        "breach", "charging"]


def test_no_alerts_no_arrivals() -> None:
    arrivals = centre_arrivals([])
    assert len(arrivals.alert) == len(arrivals.time) == len(arrivals.klass) == 0
