"""Scenarios: who is monitored, with what, how they behave and what goes wrong.

A scenario is a TOML file in ``seeds/scenarios/`` (or any path), checked
completely before anything runs: a wrong type, a negative or out-of-range
value, an unknown key or an unknown supplier is one ``ParamsError`` naming the
file, the key and the problem. Every figure in a shipped scenario names its
source in a comment. The supplier profile (``seeds/suppliers/``) sets what the
devices themselves do: their parameters (over ``seeds/devices/defaults.toml``),
RF channel, GPS accuracy and their own faults; the scenario sets the people and
the world around them.

Time in a run is seconds since the scenario's start, which is a midnight UTC
and, as in the detector's curfew arithmetic, day 0 is a Thursday.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from pathlib import Path
from typing import Any, get_type_hints

import numpy as np

from firmware_stubs.params import DeviceParams
from sim.seeds import ParamsError, build, load_toml, seeds_dir

SCENARIO_DIR = "scenarios"
SUPPLIER_DIR = "suppliers"
DEVICE_DEFAULTS_FILE = Path("devices") / "defaults.toml"


def _share(where: str, **shares: float) -> None:
    for name, value in shares.items():
        if value > 1:
            raise ValueError(f"{where}{name}: a share must be between 0 and 1, got {value!r}")


@dataclass(frozen=True, slots=True)
class DeviceMix:
    """Shares of subjects wearing each kind; they may sum past 1 (some wear two), and every
    subject wears at least one."""

    gps: float
    rf: float
    alcohol: float

    def __post_init__(self) -> None:
        _share("", gps=self.gps, rf=self.rf, alcohol=self.alcohol)
        if self.gps + self.rf + self.alcohol < 1:
            raise ValueError("the device shares must cover every subject (sum at least 1)")


@dataclass(frozen=True, slots=True)
class CurfewPlan:
    """Curfew lengths and start times, drawn per subject with the given weights."""

    gps_share: float  # GPS subjects with a curfew (kept by a home inclusion zone)
    alcohol_share: float  # alcohol-only subjects with a curfew (they then wear an RF tag too)
    hours: tuple[float, ...]
    hours_weights: tuple[float, ...]
    start_hours: tuple[float, ...]
    start_weights: tuple[float, ...]

    def __post_init__(self) -> None:
        _share("", gps_share=self.gps_share, alcohol_share=self.alcohol_share)
        for values, weights, name in ((self.hours, self.hours_weights, "hours"), (self.start_hours, self.start_weights, "start_hours")):
            if not values or len(values) != len(weights):
                raise ValueError(f"{name} and its weights must be non-empty lists of the same length")
            if sum(weights) <= 0:
                raise ValueError(f"{name}: the weights must not all be zero")
        if not all(2 <= h <= 16 for h in self.hours):
            raise ValueError("hours: a curfew lasts 2 to 16 hours a day (Criminal Justice Act 2003 s.204)")
        if not all(0 <= h < 24 for h in self.start_hours):
            raise ValueError("start_hours: an hour of the day, 0 to 24")


@dataclass(frozen=True, slots=True)
class Town:
    # The centre of a synthetic town. Every number in a scenario is non-negative, so the
    # shipped towns lie east of Greenwich; where the town is does not change any result.
    lat: float
    lon: float
    radius_m: float
    areas: int  # cellular areas (a regional outage takes out several)

    def __post_init__(self) -> None:
        if self.areas < 1:
            raise ValueError("areas: at least one cellular area")


@dataclass(frozen=True, slots=True)
class ZonePlan:
    home_radius_m: float  # the inclusion zone about home, in force during curfew
    exclusion_min: int
    exclusion_max: int
    exclusion_radius_min_m: float
    exclusion_radius_max_m: float
    exclusion_distance_min_m: float  # from home to the zone's centre
    exclusion_distance_max_m: float

    def __post_init__(self) -> None:
        for low, high in (("exclusion_min", "exclusion_max"), ("exclusion_radius_min_m", "exclusion_radius_max_m"),
                          ("exclusion_distance_min_m", "exclusion_distance_max_m")):
            if getattr(self, low) > getattr(self, high):
                raise ValueError(f"{low} must not exceed {high}")


@dataclass(frozen=True, slots=True)
class Routine:
    """A compliant day: home through the curfew, out for part of the day."""

    out_share_weekday: float  # chance of going out on a weekday
    out_share_weekend: float
    leave_after_curfew_h_min: float  # leave this long after the curfew ends, at the earliest
    leave_after_curfew_h_max: float
    home_before_curfew_min_minutes: float  # back this long before the curfew starts, at the least
    home_before_curfew_max_minutes: float
    day_starts_h: float  # the day of a subject with no curfew
    day_ends_h: float
    at_home_min_minutes: float  # between one trip and the next
    trip_distance_min_m: float
    trip_distance_max_m: float
    speed_m_s: float
    tours_per_day: tuple[int, ...]  # on a day out, how many tours from home and back, drawn by the weights
    tours_per_day_weights: tuple[float, ...]
    zone_clearance_m: float  # a compliant tour's track keeps this far from every exclusion zone's edge

    def __post_init__(self) -> None:
        _share("", out_share_weekday=self.out_share_weekday, out_share_weekend=self.out_share_weekend)
        if not self.tours_per_day or len(self.tours_per_day) != len(self.tours_per_day_weights):
            raise ValueError("tours_per_day and tours_per_day_weights must be lists of the same, non-zero length")
        if min(self.tours_per_day) < 1 or sum(self.tours_per_day_weights) <= 0:
            raise ValueError("tours_per_day: each must be at least 1, and the weights must not all be 0")
        for low, high in (("leave_after_curfew_h_min", "leave_after_curfew_h_max"),
                          ("home_before_curfew_min_minutes", "home_before_curfew_max_minutes"),
                          ("trip_distance_min_m", "trip_distance_max_m"), ("day_starts_h", "day_ends_h")):
            if getattr(self, low) > getattr(self, high):
                raise ValueError(f"{low} must not exceed {high}")
        if self.speed_m_s <= 0:
            raise ValueError("speed_m_s: must be more than 0")


@dataclass(frozen=True, slots=True)
class ChargingHabit:
    """The charging condition of a GPS tag's order, and how wearers keep it."""

    min_hours_a_day: float  # the condition: at least this long on charge each calendar day
    evening_hours: tuple[float, ...]  # a wearer's habitual hour, drawn by the weights
    evening_weights: tuple[float, ...]
    within_h: float  # not home at the hour: the charge as near it as this, either side, or none

    def __post_init__(self) -> None:
        if not self.evening_hours or len(self.evening_hours) != len(self.evening_weights):
            raise ValueError("evening_hours and evening_weights must be lists of the same, non-zero length")
        if sum(self.evening_weights) <= 0:
            raise ValueError("evening_weights must not all be 0")
        if not 0 <= min(self.evening_hours) <= max(self.evening_hours) < 24:
            raise ValueError("evening_hours: each must be an hour of the day, from 0 to under 24")
        if not 0 < self.min_hours_a_day <= 24:
            raise ValueError("min_hours_a_day: must be more than 0 and at most 24")
        if self.within_h <= 0:
            raise ValueError("within_h: must be more than 0")


@dataclass(frozen=True, slots=True)
class Behaviour:
    """Shares of subjects who break their conditions, and how."""

    late_returner: float  # of curfew subjects
    late_nights_per_week: float
    late_minutes_median: float  # lognormal
    late_minutes_sigma: float
    night_misser: float  # of curfew subjects
    missed_nights_per_week: float
    strap_remover: float  # of all subjects: cuts or removes a strap once in a while
    removals_per_week: float
    removal_hours_median: float
    zone_enterer: float  # of GPS subjects with exclusion zones
    zone_entries_per_week: float
    zone_minutes_median: float
    drinker: float  # of alcohol subjects
    drinking_episodes_per_week: float
    peak_tac_mg_dl_median: float
    drinking_tac_mg_dl: float  # a drinking event, in the truth: TAC over this, whatever a tag's own threshold
    non_charger: float  # of GPS subjects: now and then forgets to charge for a day or more
    forgetting_spells_per_week: float
    forgotten_days_median: float  # lognormal: every charge due in a spell is skipped
    duration_sigma: float  # log-sd of the lognormal durations (lateness has its own)

    def __post_init__(self) -> None:
        _share("", late_returner=self.late_returner, night_misser=self.night_misser, strap_remover=self.strap_remover,
               zone_enterer=self.zone_enterer, drinker=self.drinker, non_charger=self.non_charger)


@dataclass(frozen=True, slots=True)
class Faults:
    """What goes wrong around the devices (the supplier profile holds the devices' own faults)."""

    mains_cuts_per_unit_year: float
    mains_cut_hours_median: float
    outages_per_area_year: float  # cellular outages of one area
    outage_hours_median: float
    regional_outages_per_year: float  # outages hitting several areas at once
    regional_outage_areas: int
    regional_outage_hours_median: float


@dataclass(frozen=True, slots=True)
class NetworkParams:
    """The mobile network between devices and the centre, per frame sent."""

    latency_median_s: float  # lognormal
    latency_sigma: float
    loss: float
    duplicate: float
    reorder: float  # delayed past the frames sent after it
    corrupt: float

    def __post_init__(self) -> None:
        _share("", loss=self.loss, duplicate=self.duplicate, reorder=self.reorder, corrupt=self.corrupt)


@dataclass(frozen=True, slots=True)
class Scenario:
    name: str
    description: str
    subjects: int
    days: float
    seed: int
    supplier: str
    devices: DeviceMix
    curfew: CurfewPlan
    town: Town
    zones: ZonePlan
    routine: Routine
    charging: ChargingHabit
    behaviour: Behaviour
    faults: Faults
    network: NetworkParams

    def __post_init__(self) -> None:
        if self.subjects < 1:
            raise ValueError("subjects: at least one")
        if self.days <= 0:
            raise ValueError("days: must be more than 0")
        if self.faults.regional_outage_areas > self.town.areas:
            raise ValueError(f"faults: regional_outage_areas ({self.faults.regional_outage_areas}) exceeds town: areas ({self.town.areas})")

    def with_changes(self, **changes: Any) -> Scenario:
        """A copy with top-level fields changed (``subjects``, ``days``, ``seed``, ``supplier``)."""
        return dataclasses.replace(self, **changes)


@dataclass(frozen=True, slots=True)
class RfChannel:
    """A two-state (Gilbert-Elliott) channel for beacons at home: per beacon, the chance of
    moving good to bad and bad to good, and the loss in each state."""

    good_to_bad: float
    bad_to_good: float
    loss_good: float
    loss_bad: float

    def __post_init__(self) -> None:
        _share("", good_to_bad=self.good_to_bad, bad_to_good=self.bad_to_good, loss_good=self.loss_good, loss_bad=self.loss_bad)
        if self.bad_to_good <= 0:
            raise ValueError("bad_to_good: must be more than 0, or the channel never recovers")


@dataclass(frozen=True, slots=True)
class GpsAccuracy:
    outdoor_cep90_m: float  # 90% of outdoor fixes within this
    indoor_fix_share: float  # fixes obtained indoors, of those attempted
    indoor_cep90_m: float
    # Indoors with no satellite fix, the share of attempts that get a cellular (tower) location
    # instead, and its error: the tag reports it as a fix, with its poor accuracy.
    indoor_fallback_share: float
    fallback_cep90_m: float

    def __post_init__(self) -> None:
        _share("", indoor_fix_share=self.indoor_fix_share, indoor_fallback_share=self.indoor_fallback_share)


@dataclass(frozen=True, slots=True)
class AlcoholSensing:
    """The share of drinking episodes the tag detects, by the episode's peak: one share at a low
    peak, one at a high peak, linear in the peak between them and flat beyond."""

    detection_low_peak_mg_dl: float
    detection_low_share: float
    detection_high_peak_mg_dl: float
    detection_high_share: float

    def __post_init__(self) -> None:
        _share("", detection_low_share=self.detection_low_share, detection_high_share=self.detection_high_share)
        if self.detection_low_peak_mg_dl >= self.detection_high_peak_mg_dl:
            raise ValueError("detection_low_peak_mg_dl must be below detection_high_peak_mg_dl")

    def detection_share(self, peak_mg_dl: np.ndarray) -> np.ndarray:
        """For each episode's peak TAC (mg/dl), the chance the tag detects the episode."""
        return np.interp(peak_mg_dl, (self.detection_low_peak_mg_dl, self.detection_high_peak_mg_dl),
                         (self.detection_low_share, self.detection_high_share))


@dataclass(frozen=True, slots=True)
class DeviceFaults:
    false_tampers_per_device_year: float  # strap sensors reporting a tamper that never happened
    false_tamper_minutes_median: float
    install_fault_share: float  # fitted, never reporting
    reboots_per_device_year: float
    clock_drift_ppm_sd: float

    def __post_init__(self) -> None:
        _share("", install_fault_share=self.install_fault_share)


@dataclass(frozen=True, slots=True)
class Supplier:
    name: str
    description: str
    devices: DeviceParams
    rf_channel: RfChannel
    gps: GpsAccuracy
    alcohol: AlcoholSensing
    faults: DeviceFaults


def default_device_params() -> DeviceParams:
    """Every device kind's parameters from ``seeds/devices/defaults.toml``, which each
    supplier profile overrides in part."""
    path = seeds_dir() / DEVICE_DEFAULTS_FILE
    return _device_params(load_toml(path), str(path))


def _device_params(table: dict[str, Any], where: str) -> DeviceParams:
    sections = [f.name for f in dataclasses.fields(DeviceParams)]
    hints = get_type_hints(DeviceParams)
    unknown = sorted(set(table) - set(sections))
    if unknown:
        raise ParamsError(f"{where}: unknown section [{unknown[0]}] (known: {', '.join(sections)})")
    missing = [name for name in sections if name not in table]
    if missing:
        raise ParamsError(f"{where}: missing section [{missing[0]}]")
    return DeviceParams(**{name: build(hints[name], table[name], f"{where} [{name}]") for name in sections})


def available_scenarios() -> list[str]:
    return sorted(p.stem for p in (seeds_dir() / SCENARIO_DIR).glob("*.toml"))


def available_suppliers() -> list[str]:
    return sorted(p.stem for p in (seeds_dir() / SUPPLIER_DIR).glob("*.toml"))


def _path(name_or_path: str, folder: str, what: str, available: list[str]) -> Path:
    path = Path(name_or_path)
    if path.suffix == ".toml":
        return path
    path = seeds_dir() / folder / f"{name_or_path}.toml"
    if not path.exists():
        raise ParamsError(f"unknown {what} {name_or_path!r} (choose from {', '.join(available)})")
    return path


def _build(cls: type, table: dict[str, Any], where: str) -> Any:
    try:
        return build(cls, table, where)
    except ParamsError:
        raise
    except ValueError as exc:  # a dataclass's own checks: name the section through the message
        raise ParamsError(f"{where}: {exc}") from None


def load_supplier(name_or_path: str) -> Supplier:
    """A supplier profile: ``[devices.*]`` sections override ``seeds/devices/defaults.toml``."""
    path = _path(name_or_path, SUPPLIER_DIR, "supplier", available_suppliers())
    table = load_toml(path)
    where = str(path)
    overrides = table.pop("devices", {})
    if not isinstance(overrides, dict):
        raise ParamsError(f"{where}: [devices] must be a table of device sections")
    defaults = dataclasses.asdict(default_device_params())
    for section, values in overrides.items():
        if section not in defaults:
            raise ParamsError(f"{where}: unknown section [devices.{section}] (known: {', '.join(defaults)})")
        if not isinstance(values, dict):
            raise ParamsError(f"{where}: [devices.{section}] must be a table")
        for key in values:
            if key not in defaults[section]:
                raise ParamsError(f"{where} [devices.{section}]: unknown key {key!r} (known: {', '.join(sorted(defaults[section]))})")
        defaults[section].update(values)
    devices = _device_params(defaults, f"{where} [devices]")
    fields = {f.name for f in dataclasses.fields(Supplier)} - {"devices"}
    unknown = sorted(set(table) - fields)
    if unknown:
        raise ParamsError(f"{where}: unknown key {unknown[0]!r} (known: devices, {', '.join(sorted(fields))})")
    rest = _build(_SupplierRest, table, where)
    return Supplier(rest.name, rest.description, devices, rest.rf_channel, rest.gps, rest.alcohol, rest.faults)


@dataclass(frozen=True, slots=True)
class _SupplierRest:
    """A supplier file less its device sections, which merge onto the defaults."""

    name: str
    description: str
    rf_channel: RfChannel
    gps: GpsAccuracy
    alcohol: AlcoholSensing
    faults: DeviceFaults


def load_scenario(name_or_path: str) -> Scenario:
    """A shipped scenario by name (``smoke``, ``baseline``, ...) or a TOML file by path; its
    supplier must exist (``load_supplier`` loads it)."""
    path = _path(name_or_path, SCENARIO_DIR, "scenario", available_scenarios())
    scenario = _build(Scenario, load_toml(path), str(path))
    if scenario.supplier not in available_suppliers() and not scenario.supplier.endswith(".toml"):
        raise ParamsError(f"{path}: supplier: unknown supplier {scenario.supplier!r} (choose from {', '.join(available_suppliers())})")
    return scenario
