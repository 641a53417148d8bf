"""No contact: a device silent too long, or fitted and never heard.

This is the "fitted but not monitored for weeks" failure, caught in hours.
Silences with a known cause are filed as equipment and name it: a base unit
that lost its mains (it ran down on battery), or many units in one area
falling silent together (a cellular outage). A GPS tag that reported a low
battery and then went silent has gone flat: a potential breach.
"""

from __future__ import annotations

from sim.detector.alerts import AlertKind, Category, Severity
from sim.detector.cases import DeviceKind, FittedDevice
from sim.detector.context import RuleContext
from sim.detector.policy import Policy
from sim.detector.state import DeviceState


class ContactRule:
    def __init__(self, ctx: RuleContext) -> None:
        self.ctx = ctx
        p = ctx.policy
        if p.never_heard_intervals > 0:
            for device in ctx.devices.values():
                if device.silent_after is not None:
                    # Fitted before the detector started: it had no chance to hear it, so the clock starts now.
                    due = max(device.fitted.installed_at, ctx.now) + p.never_heard_intervals * device.fitted.report_interval_s
                    ctx.timers.at(due, self._never_heard_due, device)

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
                self.ctx.book.close((device.case.subject, kind, device.fitted.device), receive_time, event_time, "heard again")
        if not device.silence_armed:
            device.silence_armed = True
            self.ctx.timers.at(receive_time + threshold, self._silence_due, device, self._tie(device))

    @staticmethod
    def _tie(device: DeviceState) -> int:
        """Silences judged at one moment come after every other deadline then, by device."""
        return 1 + device.fitted.device

    def _silence_due(self, device: DeviceState) -> None:
        device.silence_armed = False
        assert device.last_heard is not None
        assert device.silent_after is not None
        due = device.last_heard + device.silent_after
        if due > self.ctx.now:
            device.silence_armed = True
            self.ctx.timers.at(due, self._silence_due, device, self._tie(device))
            return
        # Silent: raised once, then quiet until the device is heard (which re-arms it).
        ctx, at = self.ctx, self.ctx.now
        subject, device_id = device.case.subject, device.fitted.device
        cause = ctx.inhibitor.explain(AlertKind.NO_CONTACT, device, device.last_heard)
        instead = ctx.inhibitor.instead(cause)
        if instead is not None:
            alert = ctx.book.new(subject, device_id, instead, Category.BREACH, Severity.MEDIUM, device.last_heard)
            key = ctx.key(subject, instead, device_id)
            ctx.book.raise_(key, alert, at, str(cause))
            device.silence_alert = key is not None
            return
        alert = ctx.book.new(subject, device_id, AlertKind.NO_CONTACT, Category.UNMONITORED, Severity.HIGH, device.last_heard)
        key = ctx.key(subject, AlertKind.NO_CONTACT, device_id)
        ctx.book.raise_(key, alert, at, f"silent since {device.last_heard:.0f}")
        device.silence_alert = key is not None
        if cause is not None:
            ctx.inhibitor.file(alert, at, cause)
        else:
            ctx.inhibitor.silenced(device, alert, at)

    def _never_heard_due(self, device: DeviceState) -> None:
        if device.last_heard is not None:
            return
        ctx = self.ctx
        subject, device_id = device.case.subject, device.fitted.device
        alert = ctx.book.new(subject, device_id, AlertKind.NEVER_HEARD, Category.UNMONITORED, Severity.HIGH, device.fitted.installed_at)
        key = ctx.key(subject, AlertKind.NEVER_HEARD, device_id)
        ctx.book.raise_(key, alert, ctx.now, f"fitted at {device.fitted.installed_at:.0f}, never heard")
        device.silence_alert = key is not None
