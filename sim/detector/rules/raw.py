"""The rules with the tracking stage off: every raw alarm event is an alert of its own.

A centre that takes each device alarm as it comes (the ``naive`` policy) keeps
no condition open, so nothing is folded, held in grace or for confirmation,
merged late or summed into lateness. The engine builds these in place of the
tracking rules when the policy's ``track_conditions`` is off; they differ only
where an alarm is judged. Rules that raise through ``RuleContext.key`` (no
contact, equipment, GPS status conditions) need no variant: with tracking off
the key is None and each alert closes as it is raised.
"""

from __future__ import annotations

import numpy as np

from sim.detector.alerts import AlertKind, Category, Severity
from sim.detector.rules.alcohol import TAMPER_FLAGS, AlcoholRule
from sim.detector.rules.curfew import CurfewRule
from sim.detector.rules.gps import GpsRule
from sim.detector.rules.unit import TAMPER_KIND, UnitRule
from sim.detector.state import DeviceState
from sim.detector.telemetry import UNIT_VIOLATION, Telemetry


class RawCurfewRule(CurfewRule):
    """Every leave in curfew is an alert, and so is every return the unit flags as a
    violation (a return in curfew). No presence is kept, so no tamper reads it."""

    def on_leave(self, unit: DeviceState, r: Telemetry) -> None:
        self.ctx.base_units.observe(unit, r)  # the leave says too whether the unit is on its backup battery
        if r.flags & UNIT_VIOLATION or unit.case.in_curfew(r.event_time):
            self._raise(unit, r, "tag left in curfew")

    def on_return(self, unit: DeviceState, r: Telemetry) -> None:
        # The unit flags a return in curfew as a violation: to a centre taking every raw
        # alarm as it comes, that is an alarm like any other (a late return home).
        if r.flags & UNIT_VIOLATION:
            self._raise(unit, r, "tag returned in curfew")

    def _raise(self, unit: DeviceState, r: Telemetry, note: str) -> None:
        ctx = self.ctx
        alert = ctx.book.new(unit.case.subject, unit.fitted.device, AlertKind.CURFEW_ABSENCE, Category.BREACH, Severity.MEDIUM, r.event_time)
        ctx.book.raise_(None, alert, ctx.now, note)


class RawUnitRule(UnitRule):
    """Every tamper reported is a breach at once; a clear changes nothing."""

    def on_tamper(self, unit: DeviceState, r: Telemetry) -> None:
        self.observe(unit, r)
        ctx = self.ctx
        alert = ctx.book.new(unit.case.subject, unit.fitted.device, TAMPER_KIND[r.kind], Category.BREACH, Severity.HIGH, r.event_time)
        ctx.book.raise_(None, alert, ctx.now, "tamper reported")

    def on_tamper_cleared(self, unit: DeviceState, r: Telemetry) -> None:
        self.observe(unit, r)


class RawGpsRule(GpsRule):
    """Every fix on the wrong side of a zone is an alert, late or not, and so is every
    status reporting an open strap or no fix while moving."""

    def _zone(self, device: DeviceState, zone_id: int, inclusion: bool, times: np.ndarray, wrong: np.ndarray, sure: np.ndarray) -> None:
        ctx = self.ctx
        kind = AlertKind.INCLUSION_ZONE if inclusion else AlertKind.EXCLUSION_ZONE
        for t in times[wrong]:
            alert = ctx.book.new(device.case.subject, device.fitted.device, kind, Category.BREACH, Severity.HIGH, float(t))
            ctx.book.raise_(None, alert, ctx.now, f"fix on the wrong side of zone {zone_id}")

    def _late_zone(
        self, device: DeviceState, zone_id: int, inclusion: bool, times: np.ndarray, wrong: np.ndarray, sure: np.ndarray,
        horizon: float,
    ) -> None:
        self._zone(device, zone_id, inclusion, times, wrong, sure)

    def _no_fix(self, device: DeviceState, r: Telemetry, moving_blind: bool) -> None:
        self._condition(device, r, AlertKind.NO_FIX, moving_blind, Category.BREACH, Severity.LOW, "no fix while moving")

    def _strap(self, device: DeviceState, r: Telemetry, open_: bool) -> None:
        self._condition(device, r, AlertKind.GPS_STRAP, open_, Category.BREACH, Severity.HIGH, "strap open")


class RawAlcoholRule(AlcoholRule):
    """Every positive reading is an alert, and so is every tampered one."""

    def on_reading(self, device: DeviceState, r: Telemetry) -> None:
        if r.value >= self.ctx.policy.alcohol_threshold_mg_dl:
            self._raise(None, device, AlertKind.ALCOHOL, Severity.HIGH, r.event_time, f"TAC {r.value:.0f} mg/dl")
        if r.flags & TAMPER_FLAGS:
            self._raise(None, device, AlertKind.ALCOHOL_TAMPER, Severity.MEDIUM, r.event_time, "sensor tamper")
