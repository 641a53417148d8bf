"""Device parameters: what each device kind is configured with, as a supplier sets it.

No domain figure is written in code: every default comes from
``seeds/devices/defaults.toml``, where each one names its source; ``sim.scenario``
reads it (and a supplier's overrides) into these dataclasses before any device starts.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class UplinkParams:
    """A device's store-and-forward uplink. ``queue_capacity`` (messages, one frame each) is the
    base unit's in the seeds: ``DeviceParams.uplink_for`` gives each kind its own."""

    queue_capacity: int
    window: int
    retransmit_timeout_s: float
    max_backoff_s: float


@dataclass(frozen=True, slots=True)
class RfTagParams:
    beacon_interval_min_s: float
    beacon_interval_max_s: float
    battery_life_days: float
    battery_low_pct: int


@dataclass(frozen=True, slots=True)
class BaseUnitParams:
    leave_time_s: float
    status_interval_s: float
    backup_battery_hours: float
    backup_battery_low_pct: int
    motion_alarm_window_s: float
    backup_battery_recharge_hours: float


@dataclass(frozen=True, slots=True)
class GpsTagParams:
    fix_interval_s: float
    violation_fix_interval_s: float
    rest_after_s: float
    rest_fix_interval_s: float
    rest_motion_threshold_m: float
    upload_interval_s: float
    battery_life_hours: float
    charge_hours_to_full: float
    battery_low_pct: int
    fix_max_age_s: float
    uere_m: float
    queue_capacity: int  # messages stored for upload, its own (see DeviceParams.uplink_for)


@dataclass(frozen=True, slots=True)
class GnssParams:
    cep90_m: float
    output_interval_s: float
    satellites_open: int
    uere_m: float


@dataclass(frozen=True, slots=True)
class AlcoholTagParams:
    reading_interval_s: float
    upload_interval_s: float
    tac_threshold_mg_dl: int
    battery_replace_days: float
    skin_temp_min_c: float
    skin_temp_max_c: float
    bench_skin_temp_c: float
    bench_skin_temp_sd_c: float
    queue_capacity: int  # readings stored for upload, its own (see DeviceParams.uplink_for)


@dataclass(frozen=True, slots=True)
class DeviceParams:
    """Every device kind's parameters, as one supplier profile would set them."""

    uplink: UplinkParams
    rf_tag: RfTagParams
    base_unit: BaseUnitParams
    gps_tag: GpsTagParams
    gnss: GnssParams
    alcohol_tag: AlcoholTagParams

    def uplink_for(self, kind: str) -> UplinkParams:
        """The uplink of a device of ``kind`` (``firmware_stubs.kinds.KINDS``): the tags keep
        queues of their own size; the base unit, and the RF tag, whose beacons are never
        stored, keep ``uplink``'s."""
        own = {"gps-tag": self.gps_tag.queue_capacity, "alcohol-tag": self.alcohol_tag.queue_capacity}
        if kind in own:
            return dataclasses.replace(self.uplink, queue_capacity=own[kind])
        if kind in ("base-unit", "rf-tag"):
            return self.uplink
        raise ValueError(f"unknown device kind {kind!r}")

    def report_interval_s(self, kind: str) -> float:
        """How often a device of ``kind`` is configured to report (0 for an RF tag, heard
        through its unit): the centre configures devices, so its case system knows this."""
        intervals = {"base-unit": self.base_unit.status_interval_s, "gps-tag": self.gps_tag.upload_interval_s,
                     "alcohol-tag": self.alcohol_tag.upload_interval_s, "rf-tag": 0.0}
        if kind not in intervals:
            raise ValueError(f"unknown device kind {kind!r}")
        return intervals[kind]
