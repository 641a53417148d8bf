"""Base-unit events: tampers (with confirmation), the unit moved, mains and backup battery.

A strap or body tamper is held for the confirmation window. If the unit
reports it cleared within the window while the tag stayed in range, it was a
suspect sensor: an ``equipment`` alert, not a breach. Otherwise it is raised
as a breach when the window ends. A tamper reported as the tag comes back in
range was latched while it was away: it is judged by the tag's state at the
event, a breach raised at once and dated from the leave, however soon the
latch clears once the unit has acked it. Motion flagged as a violation by the unit
(soon after a power or line cut) is a breach; other motion is information.
Mains loss and a low backup battery are equipment, open until mains returns.
"""

from __future__ import annotations

import bisect
from typing import TYPE_CHECKING

from sim.detector.alerts import Alert, AlertKind, Category, Reason, Severity
from sim.detector.telemetry import (
    TAG_CASE_OPEN,
    TAG_PARTIAL_CUT,
    TAG_STRAP_SEVERED,
    UNIT_ON_BACKUP,
    UNIT_TAG_PRESENT,
    UNIT_VIOLATION,
    Kind,
    Telemetry,
)

if TYPE_CHECKING:
    from sim.detector.engine import Detector, DeviceState

_TAMPER_KIND = {Kind.STRAP_TAMPER: AlertKind.STRAP_TAMPER, Kind.BODY_TAMPER: AlertKind.BODY_TAMPER}
# The tag flags behind each tamper: a clear ends a tamper only when its own flags are gone.
_TAMPER_FLAGS = {AlertKind.STRAP_TAMPER: TAG_STRAP_SEVERED | TAG_PARTIAL_CUT, AlertKind.BODY_TAMPER: TAG_CASE_OPEN}


class UnitRule:
    def __init__(self, det: Detector) -> None:
        self.det = det
        # subject -> tampers filed as suspect sensors, kept for the allowed lateness: a leave
        # and return that arrive after them (held for the unit's next status check) may yet
        # show they were latched while the tag was away.
        self._suspect: dict[int, list[Alert]] = {}

    def observe(self, unit: DeviceState, r: Telemetry, on_backup: bool | None = None) -> None:
        """Every base-unit record says whether the unit is on its backup battery (a mains
        event says it outright); the newest in event time stands, so a late record cannot undo it."""
        state = bool(r.flags & UNIT_ON_BACKUP) if on_backup is None else on_backup
        if r.event_time >= unit.power_known_at:
            unit.power_known_at = r.event_time
            if state != unit.on_backup:
                unit.on_backup = state
                unit.power_changes.append((r.event_time, state))
            if self.det.policy.track_conditions:
                self.det.curfew.unit_reported(unit)
        elif state != unit.on_backup_at(r.event_time):
            bisect.insort(unit.power_changes, (r.event_time, state))  # a late record fills in the past

    # --- tampers -------------------------------------------------------------------

    def on_tamper(self, unit: DeviceState, r: Telemetry) -> None:
        self.observe(unit, r)
        det, kind = self.det, _TAMPER_KIND[r.kind]
        subject = unit.case.subject
        if not det.policy.track_conditions:
            alert = det.book.new(subject, unit.fitted.device, kind, Category.BREACH, Severity.HIGH, r.event_time)
            det.book.raise_(None, alert, det.now, "tamper reported")
            return
        key = (subject, kind, 0)
        if det.book.fold(key, det.now, "tamper reported again"):
            return
        if key in det.book.held:
            held = det.book.held[key]
            held.count += 1
            held.event_end = None  # reported again: not cleared after all
            held.decide(det.now, Reason.DEDUPLICATED, "tamper reported again")
            return
        left = det.curfew.away_during(subject, r.event_time - det.policy.tamper_latched_window_s, r.event_time)
        if left is not None:
            # Latched while the tag was out of range and reported on its return: a report of
            # something that happened during the absence, however soon the latch then clears.
            alert = det.book.new(subject, unit.fitted.device, kind, Category.BREACH, Severity.HIGH, left)
            det.book.raise_(key, alert, det.now, f"latched while the tag was away (it left at {left:.0f}), reported on return")
            return
        alert = det.book.new(subject, unit.fitted.device, kind, Category.BREACH, Severity.HIGH, r.event_time)
        due = r.event_time + det.policy.tamper_confirm_s
        det.book.hold(key, alert, det.now, f"confirmation window of {det.policy.tamper_confirm_s:.0f} s")
        # Confirmed when the window ends; a tamper received late, once the records received with it are in.
        det.timers.at(max(due, det.now), self._confirm, key)

    def _confirm(self, key: tuple[int, AlertKind, int]) -> None:
        det = self.det
        held = det.book.held.get(key)
        if held is not None:
            det.book.raise_(key, held, det.now, "not cleared within the confirmation window")
            if held.event_end is not None:  # it was cleared, but not as a faulty sensor clears
                det.book.close(key, det.now, held.event_end, "tamper cleared")

    def on_tamper_cleared(self, unit: DeviceState, r: Telemetry) -> None:
        self.observe(unit, r)
        det = self.det
        if not det.policy.track_conditions:
            return
        subject = unit.case.subject
        for kind in _TAMPER_KIND.values():
            key = (subject, kind, 0)
            if r.flags & _TAMPER_FLAGS[kind]:
                continue  # this tamper's flag is still set: the clear was another's
            current = det.book.held.get(key) or det.book.open.get(key)
            if current is not None and r.event_time < current.event_time:
                continue  # a clear from before this tamper began: a late record, not its end
            held = det.book.held.get(key)
            if held is not None and r.flags & UNIT_TAG_PRESENT and r.event_time - held.event_time <= det.policy.tamper_confirm_s:
                det.book.held.pop(key)
                held.category = Category.EQUIPMENT
                held.severity = Severity.LOW
                note = f"cleared after {r.event_time - held.event_time:.0f} s with the tag in range: suspect sensor"
                det.book.raise_(None, held, det.now, note)
                horizon = r.event_time - det.policy.allowed_lateness_s
                suspects = self._suspect.setdefault(subject, [])
                suspects[:] = [a for a in suspects if a.event_time >= horizon]
                suspects.append(held)
            elif held is not None:
                held.event_end = r.event_time  # still raised when the window ends, then closed
            else:
                det.book.close(key, det.now, r.event_time, "tamper cleared")

    def absence_revealed(self, subject: int, away: float, back: float) -> None:
        """Presence records received after a tamper show the tag was away from ``away`` to
        ``back``: a tamper reported as it came back was latched while it was away. One still
        held is raised as a breach now; one already filed as a suspect sensor is refiled."""
        det = self.det
        latest = back + det.policy.tamper_latched_window_s
        note = f"latched while the tag was away (it left at {away:.0f}), reported on return"
        for kind in _TAMPER_KIND.values():
            key = (subject, kind, 0)
            held = det.book.held.get(key)
            if held is not None and away <= held.event_time <= latest:
                held.event_time = away
                det.book.raise_(key, held, det.now, note)
                if held.event_end is not None:
                    det.book.close(key, det.now, held.event_end, "tamper cleared")
        for alert in self._suspect.get(subject, ()):
            if alert.category is Category.EQUIPMENT and away <= alert.event_time <= latest:
                alert.category, alert.severity, alert.event_time = Category.BREACH, Severity.HIGH, away
                det.book.note(alert, det.now, Reason.LATE_UPDATE, f"refiled as a breach: {note}")

    # --- the unit itself ------------------------------------------------------------------

    def on_moved(self, unit: DeviceState, r: Telemetry) -> None:
        self.observe(unit, r)
        det = self.det
        alarm = bool(r.flags & UNIT_VIOLATION)
        category, severity = (Category.BREACH, Severity.MEDIUM) if alarm else (Category.INFO, Severity.LOW)
        alert = det.book.new(unit.case.subject, unit.fitted.device, AlertKind.UNIT_MOVED, category, severity, r.event_time)
        det.book.raise_(None, alert, det.now, "moved soon after a power or line cut" if alarm else "unit moved")

    def on_mains_lost(self, unit: DeviceState, r: Telemetry) -> None:
        self.observe(unit, r, on_backup=True)
        self._equipment(unit, r, AlertKind.MAINS_LOST, "mains lost")

    def on_backup_low(self, unit: DeviceState, r: Telemetry) -> None:
        self.observe(unit, r)
        self._equipment(unit, r, AlertKind.BACKUP_BATTERY_LOW, f"backup battery at {r.value:.0f}%")

    def on_mains_restored(self, unit: DeviceState, r: Telemetry) -> None:
        self.observe(unit, r, on_backup=False)
        if unit.on_backup:
            return  # a late restore, older than the cut that is in force
        for kind in (AlertKind.MAINS_LOST, AlertKind.BACKUP_BATTERY_LOW):
            self.det.book.close((unit.case.subject, kind, unit.fitted.device), self.det.now, r.event_time, "mains restored")

    def _equipment(self, unit: DeviceState, r: Telemetry, kind: AlertKind, note: str) -> None:
        det = self.det
        key = det.key(unit.case.subject, kind, unit.fitted.device)
        if key is not None and det.book.fold(key, det.now, note):
            return
        alert = det.book.new(unit.case.subject, unit.fitted.device, kind, Category.EQUIPMENT, Severity.LOW, r.event_time)
        det.book.raise_(key, alert, det.now, note)
