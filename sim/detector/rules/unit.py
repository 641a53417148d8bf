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
With tracking off, ``rules.raw.RawUnitRule`` stands in for the tampers.
"""

from __future__ import annotations

import bisect

from sim.detector.alerts import Alert, AlertKind, Category, Reason, Severity
from sim.detector.context import RuleContext
from sim.detector.state import DeviceState
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


TAMPER_KIND = {Kind.STRAP_TAMPER: AlertKind.STRAP_TAMPER, Kind.BODY_TAMPER: AlertKind.BODY_TAMPER}
# The tag flags behind each tamper: a clear ends a tamper only when its own flags are gone.
_TAMPER_FLAGS = {AlertKind.STRAP_TAMPER: TAG_STRAP_SEVERED | TAG_PARTIAL_CUT, AlertKind.BODY_TAMPER: TAG_CASE_OPEN}


class UnitRule:
    def __init__(self, ctx: RuleContext) -> None:
        self.ctx = ctx
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
            self.ctx.presence.unit_reported(unit)
        elif state != unit.on_backup_at(r.event_time):
            bisect.insort(unit.power_changes, (r.event_time, state))  # a late record fills in the past

    # --- tampers -------------------------------------------------------------------

    def on_tamper(self, unit: DeviceState, r: Telemetry) -> None:
        self.observe(unit, r)
        ctx, kind = self.ctx, TAMPER_KIND[r.kind]
        subject = unit.case.subject
        key = (subject, kind, 0)
        if ctx.book.fold(key, ctx.now, "tamper reported again"):
            return
        if key in ctx.book.held:
            held = ctx.book.held[key]
            held.count += 1
            held.event_end = None  # reported again: not cleared after all
            held.decide(ctx.now, Reason.DEDUPLICATED, "tamper reported again")
            return
        left = ctx.presence.away_during(subject, r.event_time - ctx.policy.tamper_latched_window_s, r.event_time)
        if left is not None:
            # Latched while the tag was out of range and reported on its return: a report of
            # something that happened during the absence, however soon the latch then clears.
            alert = ctx.book.new(subject, unit.fitted.device, kind, Category.BREACH, Severity.HIGH, left)
            ctx.book.raise_(key, alert, ctx.now, f"latched while the tag was away (it left at {left:.0f}), reported on return")
            return
        alert = ctx.book.new(subject, unit.fitted.device, kind, Category.BREACH, Severity.HIGH, r.event_time)
        due = r.event_time + ctx.policy.tamper_confirm_s
        ctx.book.hold(key, alert, ctx.now, f"confirmation window of {ctx.policy.tamper_confirm_s:.0f} s")
        # Confirmed when the window ends; a tamper received late, once the records received with it are in.
        ctx.timers.at(max(due, ctx.now), self._confirm, key)

    def _confirm(self, key: tuple[int, AlertKind, int]) -> None:
        ctx = self.ctx
        held = ctx.book.held.get(key)
        if held is not None:
            ctx.book.raise_(key, held, ctx.now, "not cleared within the confirmation window")
            if held.event_end is not None:  # it was cleared, but not as a faulty sensor clears
                ctx.book.close(key, ctx.now, held.event_end, "tamper cleared")

    def on_tamper_cleared(self, unit: DeviceState, r: Telemetry) -> None:
        self.observe(unit, r)
        ctx = self.ctx
        subject = unit.case.subject
        for kind in TAMPER_KIND.values():
            key = (subject, kind, 0)
            if r.flags & _TAMPER_FLAGS[kind]:
                continue  # this tamper's flag is still set: the clear was another's
            current = ctx.book.held.get(key) or ctx.book.open.get(key)
            if current is not None and r.event_time < current.event_time:
                continue  # a clear from before this tamper began: a late record, not its end
            held = ctx.book.held.get(key)
            if held is not None and r.flags & UNIT_TAG_PRESENT and r.event_time - held.event_time <= ctx.policy.tamper_confirm_s:
                ctx.book.held.pop(key)
                held.category = Category.EQUIPMENT
                held.severity = Severity.LOW
                note = f"cleared after {r.event_time - held.event_time:.0f} s with the tag in range: suspect sensor"
                ctx.book.raise_(None, held, ctx.now, note)
                horizon = r.event_time - ctx.policy.allowed_lateness_s
                suspects = self._suspect.setdefault(subject, [])
                suspects[:] = [a for a in suspects if a.event_time >= horizon]
                suspects.append(held)
            elif held is not None:
                held.event_end = r.event_time  # still raised when the window ends, then closed
            else:
                ctx.book.close(key, ctx.now, r.event_time, "tamper cleared")

    def absence_revealed(self, subject: int, away: float, back: float) -> None:
        """Presence records received after a tamper show the tag was away from ``away`` to
        ``back``: a tamper reported as it came back was latched while it was away. One still
        held is raised as a breach now; one already filed as a suspect sensor is refiled."""
        ctx = self.ctx
        latest = back + ctx.policy.tamper_latched_window_s
        note = f"latched while the tag was away (it left at {away:.0f}), reported on return"
        for kind in TAMPER_KIND.values():
            key = (subject, kind, 0)
            held = ctx.book.held.get(key)
            if held is not None and away <= held.event_time <= latest:
                held.event_time = away
                ctx.book.raise_(key, held, ctx.now, note)
                if held.event_end is not None:
                    ctx.book.close(key, ctx.now, held.event_end, "tamper cleared")
        for alert in self._suspect.get(subject, ()):
            if alert.category is Category.EQUIPMENT and away <= alert.event_time <= latest:
                alert.category, alert.severity, alert.event_time = Category.BREACH, Severity.HIGH, away
                ctx.book.note(alert, ctx.now, Reason.LATE_UPDATE, f"refiled as a breach: {note}")

    # --- the unit itself ------------------------------------------------------------------

    def on_moved(self, unit: DeviceState, r: Telemetry) -> None:
        self.observe(unit, r)
        ctx = self.ctx
        alarm = bool(r.flags & UNIT_VIOLATION)
        category, severity = (Category.BREACH, Severity.MEDIUM) if alarm else (Category.INFO, Severity.LOW)
        alert = ctx.book.new(unit.case.subject, unit.fitted.device, AlertKind.UNIT_MOVED, category, severity, r.event_time)
        ctx.book.raise_(None, alert, ctx.now, "moved soon after a power or line cut" if alarm else "unit moved")

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
            self.ctx.book.close((unit.case.subject, kind, unit.fitted.device), self.ctx.now, r.event_time, "mains restored")

    def _equipment(self, unit: DeviceState, r: Telemetry, kind: AlertKind, note: str) -> None:
        ctx = self.ctx
        key = ctx.key(unit.case.subject, kind, unit.fitted.device)
        if key is not None and ctx.book.fold(key, ctx.now, note):
            return
        alert = ctx.book.new(unit.case.subject, unit.fitted.device, kind, Category.EQUIPMENT, Severity.LOW, r.event_time)
        ctx.book.raise_(key, alert, ctx.now, note)
