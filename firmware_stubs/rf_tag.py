"""RF curfew tag: beacons its status to the base unit, latches tampers until acked."""

from __future__ import annotations

import math

import numpy as np

from firmware_stubs.device import UPLINK, Device, DeviceClock
from firmware_stubs.params import DeviceParams, RfTagParams, UplinkParams
from firmware_stubs.protocol import Config, ConfigParam, RfBeacon, TagFlags, seq_diff

# Conditions the wearer or the world can set; BATTERY_LOW is the tag's own judgement.
TAMPER_FLAGS = TagFlags.STRAP_SEVERED | TagFlags.PARTIAL_CUT | TagFlags.CASE_OPEN


class RfTag(Device):
    """Beacons every 11 to 15 s (drawn afresh each time, as rotating-frequency
    tags do) with its status flags. A tamper latches: its flag stays in every
    beacon until the base unit acks a beacon that carried it, so a tamper while
    out of range is reported on return."""

    KIND = "rf-tag"

    def __init__(
        self,
        device_id: int,
        now: float,
        params: RfTagParams,
        uplink: UplinkParams,
        rng: np.random.Generator,
        clock: DeviceClock | None = None,
    ) -> None:
        super().__init__(device_id, now, uplink, clock)
        self.params = params
        self.rng = rng
        self.fitted_at = now
        self._interval = (params.beacon_interval_min_s, params.beacon_interval_max_s)
        self._conditions = TagFlags.NONE  # physically true now
        self._latched: dict[TagFlags, int | None] = {}  # flag -> seq of first beacon carrying it
        self._next_beacon = now + self._draw_interval()

    # --- stimulus from the world ---------------------------------------------

    def set_condition(self, now: float, flag: TagFlags, present: bool) -> None:
        """A lasting condition starts or ends (strap severed, case open)."""
        self._check_tamper_flag(flag)
        self.tick(now)
        if present:
            self._conditions |= flag
            self._latched.setdefault(flag, None)
        else:
            self._conditions &= ~flag

    def pulse(self, now: float, flag: TagFlags) -> None:
        """A momentary tamper (a partial cut, a sensor glitch): latched only."""
        self._check_tamper_flag(flag)
        self.tick(now)
        self._latched.setdefault(flag, None)

    # --- state ------------------------------------------------------------------

    @property
    def battery_pct(self) -> float:
        used = (self.now - self.fitted_at) / (self.params.battery_life_days * 86400)
        return max(0.0, 100.0 * (1.0 - used))

    @property
    def flags(self) -> TagFlags:
        flags = self._conditions
        for flag in self._latched:
            flags |= flag
        if self.battery_pct <= self.params.battery_low_pct:
            flags |= TagFlags.BATTERY_LOW
        return flags

    # --- Device hooks ---------------------------------------------------------

    def _advance(self, now: float) -> None:
        while self._next_beacon <= now and self.battery_pct > 0:
            self._beacon(self._next_beacon)
            self._next_beacon += self._draw_interval()

    def _own_deadline(self) -> float:
        return self._next_beacon if self.battery_pct > 0 else math.inf

    def _configure(self, config: Config) -> None:
        interval = config.interval_s(ConfigParam.BEACON_INTERVAL_MS)
        if interval is not None:
            self._interval = (interval, interval)
            self._next_beacon = min(self._next_beacon, self.now + interval)

    def _on_ack(self, seq: int) -> None:
        for flag, first_seq in list(self._latched.items()):
            if first_seq is not None and seq_diff(seq, first_seq) >= 0:
                del self._latched[flag]

    # --- internals --------------------------------------------------------------

    def _beacon(self, at: float) -> None:
        seq = self._send_sequenced(UPLINK, RfBeacon(self.flags), at)
        for flag, first_seq in self._latched.items():
            if first_seq is None:
                self._latched[flag] = seq

    def _draw_interval(self) -> float:
        low, high = self._interval
        return low if low == high else float(self.rng.uniform(low, high))

    @staticmethod
    def _check_tamper_flag(flag: TagFlags) -> None:
        if flag & ~TAMPER_FLAGS or not flag:
            raise ValueError(f"{flag!r} is not a tamper condition")


def standalone(device_id: int, now: float, params: DeviceParams, rng: np.random.Generator) -> RfTag:
    """An RF tag alone on the bench: nothing else is needed to make it beacon."""
    return RfTag(device_id, now, params.rf_tag, params.uplink_for(RfTag.KIND), rng)
