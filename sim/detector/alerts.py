"""Alerts, the decisions taken on them, and the book that keeps them.

Every decision carries a typed reason, in the manner of Alertmanager's
pipeline: raised, held in grace, dismissed, deduplicated, inhibited by a
known cause (a typed ``Cause``, whose text the alert shows), escalated, closed,
updated late. An alert that was held and then
dismissed was never raised: it is kept apart, for audit, and does not count.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum, IntEnum


class Category(Enum):
    BREACH = "breach"
    EQUIPMENT = "equipment"
    UNMONITORED = "unmonitored"
    INFO = "info"


class Severity(IntEnum):
    LOW = 1
    MEDIUM = 2
    HIGH = 3


class AlertKind(Enum):
    # Members are singletons, so identity hashing is right, and C-fast: alert keys are
    # hashed on every record, and Enum's own __hash__ is Python code.
    __hash__ = object.__hash__

    CURFEW_ABSENCE = "curfew-absence"
    CURFEW_MISSED = "curfew-missed"
    CURFEW_LATENESS = "curfew-lateness"
    STRAP_TAMPER = "strap-tamper"
    BODY_TAMPER = "body-tamper"
    UNIT_MOVED = "unit-moved"
    MAINS_LOST = "mains-lost"
    BACKUP_BATTERY_LOW = "backup-battery-low"
    NO_CONTACT = "no-contact"
    NEVER_HEARD = "never-heard"
    EXCLUSION_ZONE = "exclusion-zone"
    INCLUSION_ZONE = "inclusion-zone"
    NO_FIX = "no-fix"
    GPS_BATTERY_LOW = "gps-battery-low"
    GPS_BATTERY_FLAT = "gps-battery-flat"
    GPS_STRAP = "gps-strap"
    NOT_CHARGING = "not-charging"
    ALCOHOL = "alcohol"
    ALCOHOL_TAMPER = "alcohol-tamper"


class Reason(Enum):
    RAISED = "raised"
    HELD_IN_GRACE = "held-in-grace"
    DISMISSED = "dismissed"
    DEDUPLICATED = "deduplicated"
    INHIBITED = "inhibited"
    ESCALATED = "escalated"
    CLOSED = "closed"
    LATE_UPDATE = "late-update"


class CauseKind(Enum):
    UNIT_REBOOTED = "unit-rebooted"  # the unit has not yet heard its tag again
    MAINS_LOST = "mains-lost"  # the unit ran down on its backup battery
    CELLULAR_OUTAGE = "cellular-outage"  # many units in one area fell silent together
    BATTERY_LOW = "battery-low"  # the tag reported its battery low, then fell silent


@dataclass(frozen=True, slots=True)
class Cause:
    """A known cause that explains an alert (``sim.detector.inhibit``); its text is what the alert shows."""

    kind: CauseKind
    device: int = 0
    area: int = 0
    units: int = 0  # silent units behind an outage
    window_s: float = 0.0  # the span they fell silent in

    def __str__(self) -> str:
        if self.kind is CauseKind.UNIT_REBOOTED:
            return f"base unit {self.device} rebooted"
        if self.kind is CauseKind.MAINS_LOST:
            return f"mains lost at base unit {self.device}"
        if self.kind is CauseKind.CELLULAR_OUTAGE:
            return f"cellular outage in area {self.area} ({self.units} units silent within {self.window_s:.0f} s)"
        return "battery reported low, then silence"


class Change(Enum):
    RAISED = "raised"
    UPDATED = "updated"
    CLOSED = "closed"


@dataclass(frozen=True, slots=True)
class Decision:
    at: float  # processing time
    reason: Reason
    note: str = ""


@dataclass(slots=True)
class Alert:
    id: int
    subject: int
    device: int
    kind: AlertKind
    category: Category
    severity: Severity
    event_time: float  # when the condition began, device time
    raised_at: float | None = None  # processing time; None while held
    closed_at: float | None = None
    event_end: float | None = None  # when the condition ended, device time
    count: int = 1  # raw events folded in
    cause: Cause | None = None  # the known cause that explains it, when inhibited
    decisions: list[Decision] = field(default_factory=list)

    def decide(self, at: float, reason: Reason, note: str = "") -> None:
        self.decisions.append(Decision(at, reason, note))


@dataclass(frozen=True, slots=True)
class AlertUpdate:
    change: Change
    alert: Alert
    at: float


# What an open alert is found by: subject, kind, and a scope within them (a zone id, a device).
AlertKey = tuple[int, AlertKind, int]


class AlertBook:
    """Raised alerts in order, the open and held ones by key, and the updates not yet taken."""

    def __init__(self) -> None:
        self.raised: list[Alert] = []
        self.dismissed: list[Alert] = []
        self.open: dict[AlertKey, Alert] = {}
        self.held: dict[AlertKey, Alert] = {}
        self.updates: list[AlertUpdate] = []
        self._next_id = 1

    def new(
        self, subject: int, device: int, kind: AlertKind, category: Category, severity: Severity, event_time: float
    ) -> Alert:
        alert = Alert(self._next_id, subject, device, kind, category, severity, event_time)
        self._next_id += 1
        return alert

    def hold(self, key: AlertKey, alert: Alert, at: float, note: str) -> None:
        alert.decide(at, Reason.HELD_IN_GRACE, note)
        self.held[key] = alert

    def raise_(self, key: AlertKey | None, alert: Alert, at: float, note: str = "") -> Alert:
        """Raise ``alert``; with a key it stays open until closed, without one it closes at once."""
        if key is not None:
            self.held.pop(key, None)
        alert.raised_at = at
        alert.decide(at, Reason.RAISED, note)
        self.raised.append(alert)
        self.updates.append(AlertUpdate(Change.RAISED, alert, at))
        if key is None:
            self._close(alert, at, alert.event_time, "one raw event, nothing to track")
        else:
            self.open[key] = alert
        return alert

    def raise_closed(self, alert: Alert, at: float, event_end: float, note: str) -> Alert:
        """Raise ``alert`` for a condition already over (learnt from late records), closed at once."""
        alert.raised_at = at
        alert.decide(at, Reason.RAISED, note)
        self.raised.append(alert)
        self.updates.append(AlertUpdate(Change.RAISED, alert, at))
        self._close(alert, at, event_end, "over before it was known")
        return alert

    def file_as_suspect(self, key: AlertKey, at: float, event_end: float, note: str) -> Alert:
        """The held tamper under ``key`` cleared within its confirmation: a suspect sensor, raised
        as low-severity equipment and closed at once at ``event_end``."""
        alert = self.held.pop(key)
        alert.category, alert.severity = Category.EQUIPMENT, Severity.LOW
        return self.raise_closed(alert, at, event_end, note)

    def dismiss(self, key: AlertKey, at: float, note: str) -> None:
        alert = self.held.pop(key)
        alert.decide(at, Reason.DISMISSED, note)
        alert.closed_at = at
        self.dismissed.append(alert)

    def fold(self, key: AlertKey, at: float, note: str = "") -> bool:
        """Count one more raw event into the open alert under ``key``, if there is one."""
        alert = self.open.get(key)
        if alert is None:
            return False
        alert.count += 1
        alert.decide(at, Reason.DEDUPLICATED, note)
        self.updates.append(AlertUpdate(Change.UPDATED, alert, at))
        return True

    def note(self, alert: Alert, at: float, reason: Reason, detail: str) -> None:
        alert.decide(at, reason, detail)
        self.updates.append(AlertUpdate(Change.UPDATED, alert, at))

    def close(self, key: AlertKey, at: float, event_end: float, note: str) -> Alert | None:
        alert = self.open.pop(key, None)
        if alert is not None:
            self._close(alert, at, event_end, note)
        return alert

    def _close(self, alert: Alert, at: float, event_end: float, note: str) -> None:
        alert.closed_at = at
        alert.event_end = event_end
        alert.decide(at, Reason.CLOSED, note)
        self.updates.append(AlertUpdate(Change.CLOSED, alert, at))

    def take_updates(self) -> list[AlertUpdate]:
        updates, self.updates = self.updates, []
        return updates
