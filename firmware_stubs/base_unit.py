"""Home monitoring unit (HMU): listens for its RF tag, reports to the centre."""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np

from firmware_stubs.device import UPLINK, Device, DeviceClock
from firmware_stubs.params import BaseUnitParams, DeviceParams, UplinkParams
from firmware_stubs.protocol import (
    Ack,
    BaseEventCode,
    BaseUnitEvent,
    Config,
    ConfigParam,
    CurfewWindow,
    Frame,
    RfBeacon,
    TagFlags,
    UnitFlags,
)
from firmware_stubs.rf_tag import TAMPER_FLAGS, RfTag
from firmware_stubs.wiring import Assembly, Wire

RADIO = "radio"

_TAMPER_EVENTS = {
    TagFlags.STRAP_SEVERED: BaseEventCode.STRAP_TAMPER,
    TagFlags.PARTIAL_CUT: BaseEventCode.STRAP_TAMPER,
    TagFlags.CASE_OPEN: BaseEventCode.BODY_TAMPER,
}


class BaseUnit(Device):
    """Declares its tag gone after ``leave_time_s`` with no beacon and back on
    the next one, reports tamper flags as they appear, and watches its own
    mains, backup battery, phone line and motion sensor.

    Violations (a leave or return in curfew, a tamper, motion just after a
    power or line disconnect) go at once, and so does a tamper clearing, which
    the centre needs to judge the tamper; other events wait for the next
    status check, which is also the upload. A leave before curfew is held like
    any other event until curfew starts with the tag still gone: then it goes. At 0% backup battery the unit is
    dead until mains returns: it hears nothing, sends nothing and keeps what
    it had stored.
    """

    KIND = "base-unit"
    PORTS = (UPLINK, RADIO)

    def __init__(
        self,
        device_id: int,
        now: float,
        params: BaseUnitParams,
        uplink: UplinkParams,
        tag_id: int,
        clock: DeviceClock | None = None,
    ) -> None:
        super().__init__(device_id, now, uplink, clock)
        self.params = params
        self.tag_id = tag_id
        self.leave_time_s = params.leave_time_s
        self.status_interval_s = params.status_interval_s
        self.curfews: tuple[CurfewWindow, ...] = ()
        self.tag_present = True
        self.on_mains = True
        self.line_connected = True
        self.dead = False
        # The tag is fitted at the same visit, so installation counts as hearing it.
        self._last_heard = now
        self._tag_flags = TagFlags.NONE  # as in the last beacon heard
        self._next_status = now + self.status_interval_s
        self._battery_level = 100.0  # at _battery_since
        self._battery_since = now
        self._low_reported = False
        self._left_at = -math.inf
        self._curfew_checked = -math.inf
        self._mains_lost_at = -math.inf
        self._line_lost_at = -math.inf
        self._event(BaseEventCode.INSTALLATION, now, urgent=True)

    # --- stimulus from the world ---------------------------------------------

    def set_mains(self, now: float, on: bool) -> None:
        self.tick(now)
        if on == self.on_mains:
            return
        self._battery_level = self._battery(now)
        self._battery_since = now
        self.on_mains = on
        if on:
            if self.dead:
                self._revive(now)
            self._event(BaseEventCode.MAINS_RESTORED, now)
        else:
            self._mains_lost_at = now
            if self._battery_level > self.params.backup_battery_low_pct:
                self._low_reported = False  # recharged since the last warning: warn again
            self._event(BaseEventCode.MAINS_LOST, now, urgent=True)

    def set_line(self, now: float, connected: bool) -> None:
        """The phone or comms line; only the motion rule uses it."""
        self.tick(now)
        if self.line_connected and not connected:
            self._line_lost_at = now
        self.line_connected = connected

    def move(self, now: float) -> None:
        self.tick(now)
        if self.dead:
            return
        # Moving the unit just after unplugging it is how it is taken away or defeated.
        since_disconnect = now - max(self._mains_lost_at, self._line_lost_at)
        alarm = since_disconnect <= self.params.motion_alarm_window_s
        self._event(BaseEventCode.UNIT_MOVED, now, violation=alarm)

    # --- state ------------------------------------------------------------------

    @property
    def battery_pct(self) -> int:
        return round(self._battery(self.now))

    # --- Device hooks ---------------------------------------------------------

    def _powered(self) -> bool:
        return not self.dead

    def _advance(self, now: float) -> None:
        # One at a time, earliest first: each changes what is due next.
        while True:
            due = min(self._due(), key=lambda d: d[0], default=None)
            if due is None or due[0] > now:
                return
            at, act = due
            act(at)

    def _own_deadline(self) -> float:
        return min((at for at, _ in self._due()), default=math.inf)

    def _configure(self, config: Config) -> None:
        status = config.interval_s(ConfigParam.STATUS_INTERVAL_MS)
        if status is not None:
            self.status_interval_s = status
            self._next_status = min(self._next_status, self.now + status)
        leave = config.interval_s(ConfigParam.LEAVE_TIME_MS)
        if leave is not None:
            self.leave_time_s = leave
        if config.curfews:
            self.curfews = config.curfews

    def _on_port_frame(self, port: str, frame: Frame) -> None:
        if frame.device_id != self.tag_id or not isinstance(frame.message, RfBeacon):
            self.ignored_frames += 1
            return
        flags = frame.message.flags
        new = flags & ~self._tag_flags
        cleared = self._tag_flags & ~flags
        self._tag_flags = flags
        self._last_heard = self.now
        if not self.tag_present:
            self.tag_present = True
            self._event(BaseEventCode.TAG_RETURN, self.now, violation=self._in_curfew(self.now))
        for flag, code in _TAMPER_EVENTS.items():
            if new & flag:
                self._event(code, self.now, violation=True)
        if cleared & TAMPER_FLAGS:
            # Sent at once: the centre is deciding whether the tamper was real.
            self._event(BaseEventCode.TAMPER_CLEARED, self.now, urgent=True)
        if flags & TAMPER_FLAGS:
            # Addressed to the tag (it takes only frames with its own id) so it clears its latch.
            self._send_unsequenced(RADIO, Ack(frame.seq), to=self.tag_id)

    # --- internals --------------------------------------------------------------

    def _due(self) -> list[tuple[float, Callable[[float], None]]]:
        """What comes next and when; on a tie the earlier in this list goes first,
        so a status check reports the state after a leave or battery warning due with it."""
        if self.dead:
            return []
        due: list[tuple[float, Callable[[float], None]]] = []
        if self.tag_present:
            due.append((self._last_heard + self.leave_time_s, self._tag_gone))
        elif self.curfews:
            due.append((self._next_curfew_start(max(self._left_at, self._curfew_checked)), self._absent_at_curfew_start))
        if not self.on_mains and not self._low_reported:
            due.append((self._battery_reaches(self.params.backup_battery_low_pct), self._battery_low))
        due.append((self._next_status, self._status_check))
        if not self.on_mains:
            due.append((self._battery_reaches(0), self._die))
        return due

    def _tag_gone(self, at: float) -> None:
        self.tag_present = False
        self._left_at = at
        self._event(BaseEventCode.TAG_LEAVE, at, violation=self._in_curfew(at))

    def _absent_at_curfew_start(self, at: float) -> None:
        # A leave before curfew waited for the next upload; from now it is a violation.
        self._curfew_checked = at
        self.queue.open_session()

    def _next_curfew_start(self, after: float) -> float:
        device_s = self.clock.read_s(after)
        start = min(window.next_start(device_s) for window in self.curfews)
        return self.clock.true_s(start)

    def _battery_low(self, at: float) -> None:
        self._low_reported = True
        self._event(BaseEventCode.BACKUP_BATTERY_LOW, at)

    def _status_check(self, at: float) -> None:
        self._event(BaseEventCode.STATUS_CHECK, at)
        self.queue.open_session()
        self._next_status = at + self.status_interval_s

    def _die(self, at: float) -> None:
        self.dead = True

    def _revive(self, now: float) -> None:
        self.dead = False
        self._next_status = now + self.status_interval_s
        # It was not listening, so it cannot say the tag left meanwhile: time the leave afresh.
        self._last_heard = now

    def _event(self, code: BaseEventCode, at: float, urgent: bool = False, violation: bool = False) -> None:
        flags = UnitFlags.NONE
        if not self.on_mains:
            flags |= UnitFlags.ON_BACKUP_BATTERY
        if self._in_curfew(at):
            flags |= UnitFlags.IN_CURFEW
        if self.tag_present:
            flags |= UnitFlags.TAG_PRESENT
        if violation:
            flags |= UnitFlags.VIOLATION
        event = BaseUnitEvent(code, self.tag_id, self._tag_flags, flags, round(self._battery(at)))
        self._queue_message(event, urgent or violation, at)

    def _in_curfew(self, at: float) -> bool:
        device_s = self.clock.read_s(at)
        return any(window.contains(device_s) for window in self.curfews)

    def _battery(self, at: float) -> float:
        elapsed = at - self._battery_since
        if self.on_mains:
            return min(100.0, self._battery_level + elapsed * 100 / (self.params.backup_battery_recharge_hours * 3600))
        return max(0.0, self._battery_level - elapsed * 100 / (self.params.backup_battery_hours * 3600))

    def _battery_reaches(self, pct: float) -> float:
        """When, on backup, the battery falls to ``pct``."""
        return self._battery_since + (self._battery_level - pct) * self.params.backup_battery_hours * 3600 / 100


def standalone(device_id: int, now: float, params: DeviceParams, rng: np.random.Generator) -> Assembly:
    """A base unit on the bench with its tag (id ``device_id + 1``) beside it, in range."""
    tag = RfTag(device_id + 1, now, params.rf_tag, params.uplink_for(RfTag.KIND), rng)
    unit = BaseUnit(device_id, now, params.base_unit, params.uplink_for(BaseUnit.KIND), tag.device_id)
    wires = [Wire(tag, UPLINK, unit, RADIO), Wire(unit, RADIO, tag, UPLINK)]
    return Assembly(unit, [tag], wires)
