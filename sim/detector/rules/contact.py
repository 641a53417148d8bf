"""No contact: a device silent too long, or fitted and never heard.

This is the "fitted but not monitored for weeks" failure, caught in hours.
Silences with a known cause are filed as equipment and name it: a base unit
that lost its mains (it ran down on battery), or many units in one area
falling silent together (a cellular outage). A GPS tag that reported a low
battery and then went silent has gone flat: a potential breach.
"""

from __future__ import annotations

from collections import deque
from typing import TYPE_CHECKING

from sim.detector.alerts import Alert, AlertKind, Category, Reason, Severity
from sim.detector.cases import DeviceKind, FittedDevice

if TYPE_CHECKING:
    from sim.detector.engine import Detector, DeviceState
    from sim.detector.policy import Policy


class ContactRule:
    def __init__(self, det: Detector) -> None:
        self.det = det
        p = det.policy
        self._silences: dict[int, deque[tuple[float, DeviceState]]] = {}  # area -> recent silences
        if p.never_heard_intervals > 0:
            for device in det.devices.values():
                if device.silent_after is not None:
                    # Fitted before the detector started: it had no chance to hear it, so the clock starts now.
                    due = max(device.fitted.installed_at, det.now) + p.never_heard_intervals * device.fitted.report_interval_s
                    det.timers.at(due, self._never_heard_due, device)

    @staticmethod
    def silence_threshold(p: Policy, fitted: FittedDevice) -> float | None:
        """How long this device may be silent: the policy's multiple of its own report
        interval. None for an RF tag, which is heard through its unit."""
        multiple = {
            DeviceKind.BASE_UNIT: p.no_contact_base_unit_intervals,
            DeviceKind.GPS_TAG: p.no_contact_gps_intervals,
            DeviceKind.ALCOHOL_TAG: p.no_contact_alcohol_intervals,
        }.get(fitted.kind)
        if multiple is None:
            return None
        if fitted.report_interval_s <= 0:
            raise ValueError(
                f"device {fitted.device} ({fitted.kind.value}) has no report interval: "
                "its silences are judged in multiples of it, so the case book must give it"
            )
        return multiple * fitted.report_interval_s

    def heard_again(self, device: DeviceState, receive_time: float, event_time: float) -> None:
        """A record from a device whose silence alert is open, or whose silence timer is not
        armed (the engine has already noted when it was heard)."""
        threshold = device.silent_after
        if threshold is None:
            return
        if device.silence_alert:
            device.silence_alert = False
            for kind in (AlertKind.NO_CONTACT, AlertKind.NEVER_HEARD, AlertKind.GPS_BATTERY_FLAT):
                self.det.book.close((device.case.subject, kind, device.fitted.device), receive_time, event_time, "heard again")
        if not device.silence_armed:
            device.silence_armed = True
            self.det.timers.at(receive_time + threshold, self._silence_due, device, self._tie(device))

    @staticmethod
    def _tie(device: DeviceState) -> int:
        """Silences judged at one moment come after every other deadline then, by device."""
        return 1 + device.fitted.device

    def _silence_due(self, device: DeviceState) -> None:
        device.silence_armed = False
        assert device.last_heard is not None
        assert device.silent_after is not None
        due = device.last_heard + device.silent_after
        if due > self.det.now:
            device.silence_armed = True
            self.det.timers.at(due, self._silence_due, device, self._tie(device))
            return
        # Silent: raised once, then quiet until the device is heard (which re-arms it).
        det, at = self.det, self.det.now
        subject, device_id = device.case.subject, device.fitted.device
        if device.fitted.kind is DeviceKind.GPS_TAG and device.battery_low and det.policy.inhibit:
            alert = det.book.new(subject, device_id, AlertKind.GPS_BATTERY_FLAT, Category.BREACH, Severity.MEDIUM, device.last_heard)
            det.book.raise_(det.key(subject, AlertKind.GPS_BATTERY_FLAT, device_id), alert, at, "battery reported low, then silence")
            device.silence_alert = det.policy.track_conditions
            return
        alert = det.book.new(subject, device_id, AlertKind.NO_CONTACT, Category.UNMONITORED, Severity.HIGH, device.last_heard)
        det.book.raise_(det.key(subject, AlertKind.NO_CONTACT, device_id), alert, at, f"silent since {device.last_heard:.0f}")
        device.silence_alert = det.policy.track_conditions
        if not det.policy.inhibit:
            return
        if device.on_backup:
            self._inhibit(alert, at, f"mains lost at base unit {device_id}")
        else:
            self._area_outage(device, alert, at)

    def _area_outage(self, device: DeviceState, alert: Alert, at: float) -> None:
        p = self.det.policy
        silences = self._silences.setdefault(device.fitted.area, deque())
        # A unit silent twice within the window is one unit, not two.
        remaining = [(t, d) for t, d in silences if d is not device]
        if len(remaining) != len(silences):
            silences.clear()
            silences.extend(remaining)
        silences.append((at, device))
        while silences and silences[0][0] < at - p.outage_window_s:
            silences.popleft()
        if len(silences) < p.outage_min_units:
            return
        cause = f"cellular outage in area {device.fitted.area} ({len(silences)} units silent within {p.outage_window_s:.0f} s)"
        for _, silent in silences:
            key = (silent.case.subject, AlertKind.NO_CONTACT, silent.fitted.device)
            open_alert = self.det.book.open.get(key)
            if open_alert is not None and open_alert.cause is None:
                self._inhibit(open_alert, at, cause)

    def _inhibit(self, alert: Alert, at: float, cause: str) -> None:
        alert.category = Category.EQUIPMENT
        alert.cause = cause
        self.det.book.note(alert, at, Reason.INHIBITED, cause)

    def _never_heard_due(self, device: DeviceState) -> None:
        if device.last_heard is not None:
            return
        det = self.det
        subject, device_id = device.case.subject, device.fitted.device
        alert = det.book.new(subject, device_id, AlertKind.NEVER_HEARD, Category.UNMONITORED, Severity.HIGH, device.fitted.installed_at)
        det.book.raise_(det.key(subject, AlertKind.NEVER_HEARD, device_id), alert, det.now, f"fitted at {device.fitted.installed_at:.0f}, never heard")
        device.silence_alert = det.policy.track_conditions
