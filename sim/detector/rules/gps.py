"""GPS: exclusion and inclusion zones, no fix while moving, battery, strap and charging.

A zone rule is broken by a fix whose accuracy circle lies wholly on the wrong
side (when the policy uses accuracy), or by ``zone_consecutive_fixes`` fixes
in a row whose centres do; it clears at the first fix whose centre is back
on the right side. Inclusion zones apply only inside curfew windows. No fix
while moving for the go-outside time plus its grace is a breach; a low
battery is equipment; a strap opening is a breach; no charging seen in a
charge window is a breach of the charging condition.

Under a policy that tracks nothing, every fix on the wrong side of a zone and
every status that reports a problem is an alert.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from sim.detector import geofence
from sim.detector.alerts import Alert, AlertKind, Category, Reason, Severity
from sim.detector.cases import Case, DeviceKind, curfew_mask
from sim.detector.telemetry import GPS_AT_REST, GPS_BATTERY_LOW, GPS_CHARGING, GPS_NO_FIX, GPS_STRAP_OPEN, Telemetry

if TYPE_CHECKING:
    from sim.detector.engine import Detector, DeviceState


@dataclass(frozen=True, slots=True)
class ZoneArrays:
    """A subject's zones as columns, for the geofence."""

    ids: np.ndarray
    lat: np.ndarray
    lon: np.ndarray
    east_scale: np.ndarray
    radius_m: np.ndarray
    inclusion: np.ndarray

    @classmethod
    def of(cls, case: Case) -> ZoneArrays:
        z = case.zones
        lat = np.array([x.lat for x in z])
        return cls(
            np.array([x.zone_id for x in z]), lat, np.array([x.lon for x in z]), geofence.east_scale(lat),
            np.array([x.radius_m for x in z]), np.array([x.inclusion for x in z], dtype=bool),
        )


def in_curfew(case: Case, times: np.ndarray) -> np.ndarray:
    """For each time, whether a curfew window of ``case`` contains it."""
    active = np.zeros(len(times), dtype=bool)
    for curfew in case.curfews:
        active |= curfew_mask(times, curfew.days, curfew.start_s, curfew.duration_s)
    return active


@dataclass(frozen=True, slots=True)
class Verdicts:
    """An upload's fixes in time order, judged against each zone (columns, in zone order):
    on the wrong side of it, and surely so (the accuracy circle wholly on that side)."""

    times: np.ndarray
    wrong: np.ndarray
    sure: np.ndarray


@dataclass(slots=True)
class _Run:
    length: int = 0
    start: float = 0.0  # time of the run's first fix


class GpsRule:
    def __init__(self, det: Detector) -> None:
        self.det = det
        self._zones: dict[int, ZoneArrays] = {}
        self._runs: dict[int, dict[int, _Run]] = {}  # subject -> zone id -> a run or open alert
        self._newest_fix: dict[int, float] = {}  # subject -> time of the newest fix judged
        self._newest_status: dict[int, float] = {}  # device -> event time of the newest status applied
        self._no_fix_since: dict[int, float] = {}
        self._last_charge: dict[int, float] = {}
        if det.policy.charge_window_s > 0:
            for device in det.devices.values():
                if device.fitted.kind is DeviceKind.GPS_TAG:
                    since = max(device.fitted.installed_at, det.now)  # charging before the start went unseen
                    self._last_charge[device.fitted.device] = since
                    det.timers.at(since + det.policy.charge_window_s, self._charge_due, device)

    # --- fixes ---------------------------------------------------------------------

    def on_fixes(self, device: DeviceState, r: Telemetry) -> None:
        if r.fixes is None or len(r.fixes) == 0:
            return
        case = device.case
        zones = self.zones_of(case)
        if zones is None:
            self.det.stats.fixes += len(r.fixes)
            return
        fixes = r.fixes[np.argsort(r.fixes["time"], kind="stable")]
        d2 = geofence.squared_distances(
            fixes["lat"][:, None], fixes["lon"][:, None], zones.lat[None, :], zones.lon[None, :], zones.east_scale[None, :]
        )
        centre_in, sure_in, sure_out = geofence.classify(d2, fixes["accuracy_m"][:, None], zones.radius_m[None, :])
        active = in_curfew(case, fixes["time"])[:, None]
        wrong = np.where(zones.inclusion, ~centre_in & active, centre_in)
        sure = np.where(zones.inclusion, sure_out & active, sure_in)
        self.on_judged(device, r, Verdicts(fixes["time"], wrong, sure))

    def zones_of(self, case: Case) -> ZoneArrays | None:
        if not case.zones:
            return None
        zones = self._zones.get(case.subject)
        if zones is None:
            zones = self._zones[case.subject] = ZoneArrays.of(case)
        return zones

    def on_judged(self, device: DeviceState, r: Telemetry, verdicts: Verdicts) -> None:
        """An upload whose fixes are already judged against the subject's zones (columns in zone order)."""
        self.det.stats.fixes += len(verdicts.times)
        zones = self.zones_of(device.case)
        if zones is None or not len(verdicts.times):
            return
        subject = device.case.subject
        newest = self._newest_fix.get(subject, -math.inf)
        if verdicts.times[0] <= newest:
            # Fixes older than ones already judged come late (a resent or held upload): counted, but
            # they must not break or close a run of newer fixes.
            keep = verdicts.times > newest
            verdicts = Verdicts(verdicts.times[keep], verdicts.wrong[keep], verdicts.sure[keep])
            if not len(verdicts.times):
                return
        self._newest_fix[subject] = float(verdicts.times[-1])
        if not verdicts.wrong.any() and not self.tracking(subject):
            return  # the common case: nothing wrong now, nothing open from before
        for j in range(len(zones.ids)):
            self._zone(device, int(zones.ids[j]), bool(zones.inclusion[j]), verdicts.times, verdicts.wrong[:, j], verdicts.sure[:, j])

    def judged_clean(self, subject: int, fixes: int, newest: float) -> None:
        """An upload judged with nothing wrong, for a subject with nothing open: ``on_judged``
        would only count it and note its newest fix, so the batch path calls this instead."""
        self.det.stats.fixes += fixes
        if newest > self._newest_fix.get(subject, -math.inf):
            self._newest_fix[subject] = newest

    def tracking(self, subject: int) -> bool:
        """Whether any zone of ``subject`` has a run of wrong fixes or an open alert."""
        return subject in self._runs

    def _zone(self, device: DeviceState, zone_id: int, inclusion: bool, times: np.ndarray, wrong: np.ndarray, sure: np.ndarray) -> None:
        det, p = self.det, self.det.policy
        subject = device.case.subject
        kind = AlertKind.INCLUSION_ZONE if inclusion else AlertKind.EXCLUSION_ZONE
        key = (subject, kind, zone_id)
        runs = self._runs.get(subject)
        run = runs.get(zone_id) if runs else None
        if not wrong.any() and run is None:
            return  # nothing wrong now, nothing open from before (an open alert keeps its run)
        if not p.track_conditions:
            for t in times[wrong]:
                alert = det.book.new(subject, device.fitted.device, kind, Category.BREACH, Severity.HIGH, float(t))
                det.book.raise_(None, alert, det.now, f"fix on the wrong side of zone {zone_id}")
            return
        if run is None:
            run = self._runs.setdefault(subject, {})[zone_id] = _Run()
        folded: dict[int, tuple[Alert, int]] = {}  # alert id -> (alert, fixes folded into it here)
        for i in range(len(times)):
            if not wrong[i]:
                run.length = 0
                det.book.close(key, det.now, float(times[i]), f"back on the right side of zone {zone_id}")
                continue
            if run.length == 0:
                run.start = float(times[i])
            run.length += 1
            alert = det.book.open.get(key)
            if alert is not None:
                alert.count += 1
                folded[alert.id] = (alert, folded.get(alert.id, (alert, 0))[1] + 1)
            elif (p.zone_use_accuracy and sure[i]) or run.length >= p.zone_consecutive_fixes:
                alert = det.book.new(subject, device.fitted.device, kind, Category.BREACH, Severity.HIGH, run.start)
                det.book.raise_(key, alert, det.now, f"zone {zone_id}: {run.length} fixes on the wrong side")
        # One decision an upload, however many fixes it folded in.
        for alert, n in folded.values():
            det.book.note(alert, det.now, Reason.DEDUPLICATED, f"{n} more fixes on the wrong side of zone {zone_id}")
        if run.length == 0 and key not in det.book.open:
            runs = self._runs[subject]
            del runs[zone_id]
            if not runs:
                del self._runs[subject]

    # --- status --------------------------------------------------------------------------

    def on_status(self, device: DeviceState, r: Telemetry) -> None:
        det = self.det
        flags, subject, dev = r.flags, device.case.subject, device.fitted.device
        if flags & GPS_CHARGING:  # a late status about an older charge must not move the last charge back
            self._last_charge[dev] = max(self._last_charge.get(dev, r.event_time), r.event_time)
        if r.event_time < self._newest_status.get(dev, -math.inf):
            return  # older than the state already known: it cannot open or close a condition now
        self._newest_status[dev] = r.event_time
        device.battery_low = bool(flags & GPS_BATTERY_LOW)
        self._condition(device, r, AlertKind.GPS_BATTERY_LOW, bool(flags & GPS_BATTERY_LOW), Category.EQUIPMENT, Severity.LOW, f"battery {r.value:.0f}%")
        self._condition(device, r, AlertKind.GPS_STRAP, bool(flags & GPS_STRAP_OPEN), Category.BREACH, Severity.HIGH, "strap open")
        moving_blind = bool(flags & GPS_NO_FIX) and not flags & GPS_AT_REST
        if not det.policy.track_conditions:
            self._condition(device, r, AlertKind.NO_FIX, moving_blind, Category.BREACH, Severity.LOW, "no fix while moving")
            return
        if not moving_blind:
            self._no_fix_since.pop(dev, None)
            det.book.close((subject, AlertKind.NO_FIX, dev), det.now, r.event_time, "fix again, or at rest")
            return
        since = self._no_fix_since.setdefault(dev, r.event_time)
        if r.event_time - since >= det.policy.go_outside_s + det.policy.go_outside_grace_s:
            self._condition(device, r, AlertKind.NO_FIX, True, Category.BREACH, Severity.LOW, f"no fix while moving since {since:.0f}", since)

    def _condition(
        self, device: DeviceState, r: Telemetry, kind: AlertKind, present: bool, category: Category,
        severity: Severity, note: str, began: float | None = None,
    ) -> None:
        """A condition a status reports: raised when it appears, folded while it lasts, closed when gone."""
        det = self.det
        key = det.key(device.case.subject, kind, device.fitted.device)
        if not present:
            if key is not None:
                det.book.close(key, det.now, r.event_time, f"{kind.value} cleared")
            return
        if key is not None and det.book.fold(key, det.now, note):
            return
        alert = det.book.new(device.case.subject, device.fitted.device, kind, category, severity, r.event_time if began is None else began)
        det.book.raise_(key, alert, det.now, note)

    def _charge_due(self, device: DeviceState) -> None:
        det, window = self.det, self.det.policy.charge_window_s
        last = self._last_charge[device.fitted.device]
        # Compared with the due time itself: re-subtracting could fall a rounding short and loop.
        due = last + window
        if det.now < due:
            det.timers.at(due, self._charge_due, device)
            return
        if device.last_heard is not None:
            alert = det.book.new(device.case.subject, device.fitted.device, AlertKind.NOT_CHARGING, Category.BREACH, Severity.LOW, last)
            det.book.raise_(None, alert, det.now, f"no charging seen for {(det.now - last) / 3600:.1f} h")
        det.timers.at(det.now + window, self._charge_due, device)
