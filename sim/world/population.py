"""The monitored population: who each subject is, where they live, what they wear.

Each subject is drawn from its own stream, so subject ``i`` is the same person
in a population of any size. Homes lie in a synthetic round town split into
a grid of cellular areas (neighbours share an area, so a regional outage hits
a neighbourhood). Device ids are ``4 * subject + slot + 1``: 0 is no device.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from enum import IntEnum

import numpy as np

from firmware_stubs.params import DeviceParams
from sim.detector.cases import Case, Curfew, DeviceKind, FittedDevice, Zone
from sim.scenario import Scenario, Supplier
from sim.world.draws import DAY_S
from sim.world.streams import Streams, Use
from sim.world.track import to_lat_lon

HOUR_S = 3600.0
EVERY_DAY = 0x7F
HOME_ZONE_ID = 1  # exclusion zones follow, numbered from 2


class Slot(IntEnum):
    """A subject's devices: ``device id = 4 * subject + slot + 1``."""

    BASE_UNIT = 0
    RF_TAG = 1
    GPS_TAG = 2
    ALCOHOL_TAG = 3


KIND_OF_SLOT = {
    Slot.BASE_UNIT: DeviceKind.BASE_UNIT, Slot.RF_TAG: DeviceKind.RF_TAG,
    Slot.GPS_TAG: DeviceKind.GPS_TAG, Slot.ALCOHOL_TAG: DeviceKind.ALCOHOL_TAG,
}


def device_id(subject: int, slot: Slot) -> int:
    """Never 0, which the truth uses for "about the subject, not one device"."""
    return 4 * subject + int(slot) + 1


@dataclass(frozen=True, slots=True)
class ExclusionZone:
    x: float
    y: float
    radius_m: float


@dataclass(frozen=True, slots=True)
class Traits:
    """How a subject breaks (or does not break) their conditions."""

    late_returner: bool = False
    night_misser: bool = False
    strap_remover: bool = False
    zone_enterer: bool = False
    drinker: bool = False
    non_charger: bool = False


@dataclass(frozen=True, slots=True)
class Subject:
    index: int
    home: tuple[float, float]  # metres east and north of the town centre
    area: int
    slots: tuple[Slot, ...]  # the devices worn (an RF tag always with its base unit)
    curfew: Curfew | None
    exclusions: tuple[ExclusionZone, ...]
    traits: Traits
    faulty_install: tuple[Slot, ...]  # fitted, never reporting
    drift_ppm: tuple[float, ...]  # per slot in ``slots``
    booted_s: tuple[float, ...]  # per slot: how long before the run the device started (its timers' phase)

    def wears(self, slot: Slot) -> bool:
        return slot in self.slots

    def device(self, slot: Slot) -> int:
        return device_id(self.index, slot)


def _wears(u: float, gps: float, rf: float, alcohol: float) -> tuple[bool, bool, bool]:
    """Kinds laid end to end round a circle of circumference 1: a point falls in one or, where
    the shares sum past 1, two. Each kind is worn by exactly its share, and everyone wears one."""
    starts = np.cumsum([0.0, gps, rf])
    def covers(start: float, share: float) -> bool:
        return (u - start) % 1.0 < share if share < 1 else True
    return covers(starts[0], gps), covers(starts[1], rf), covers(starts[2], alcohol)


def _pick(rng: np.random.Generator, values: tuple[float, ...], weights: tuple[float, ...]) -> float:
    p = np.asarray(weights, dtype=float)
    return float(values[int(rng.choice(len(values), p=p / p.sum()))])


def area_of(x: float, y: float, scenario: Scenario) -> int:
    """The cellular area: a square grid over the town, row by row."""
    side = math.ceil(math.sqrt(scenario.town.areas))
    r = scenario.town.radius_m
    col = min(side - 1, int((x + r) / (2 * r) * side))
    row = min(side - 1, int((y + r) / (2 * r) * side))
    return min(row * side + col, scenario.town.areas - 1)


def build_subject(index: int, scenario: Scenario, supplier: Supplier, streams: Streams) -> Subject:
    rng = streams.subject(index, Use.PERSON)
    radius, bearing = scenario.town.radius_m * math.sqrt(rng.random()), rng.uniform(0, 2 * math.pi)
    home = (radius * math.cos(bearing), radius * math.sin(bearing))
    mix, plan, behaviour = scenario.devices, scenario.curfew, scenario.behaviour
    gps, rf, alcohol = _wears(float(rng.random()), mix.gps, mix.rf, mix.alcohol)
    curfew_draw = rng.random()
    has_curfew = rf or (gps and curfew_draw < plan.gps_share) or (not gps and alcohol and curfew_draw < plan.alcohol_share)
    rf = rf or (has_curfew and not gps)  # a curfew without GPS is kept by an RF tag
    curfew = None
    if has_curfew:
        hours, start = _pick(rng, plan.hours, plan.hours_weights), _pick(rng, plan.start_hours, plan.start_weights)
        curfew = Curfew(EVERY_DAY, round(start * HOUR_S), round(hours * HOUR_S))
    exclusions: list[ExclusionZone] = []
    if gps:
        z = scenario.zones
        for _ in range(int(rng.integers(z.exclusion_min, z.exclusion_max + 1))):
            d, a = rng.uniform(z.exclusion_distance_min_m, z.exclusion_distance_max_m), rng.uniform(0, 2 * math.pi)
            exclusions.append(ExclusionZone(home[0] + d * math.cos(a), home[1] + d * math.sin(a),
                                            rng.uniform(z.exclusion_radius_min_m, z.exclusion_radius_max_m)))
    u = rng.random(6)
    traits = Traits(
        late_returner=has_curfew and u[0] < behaviour.late_returner,
        night_misser=has_curfew and u[1] < behaviour.night_misser,
        strap_remover=u[2] < behaviour.strap_remover,
        zone_enterer=bool(exclusions) and u[3] < behaviour.zone_enterer,
        drinker=alcohol and u[4] < behaviour.drinker,
        non_charger=gps and u[5] < behaviour.non_charger,
    )
    slots = tuple(s for s, worn in ((Slot.BASE_UNIT, rf), (Slot.RF_TAG, rf), (Slot.GPS_TAG, gps), (Slot.ALCOHOL_TAG, alcohol)) if worn)
    # Each device's fitting and clock are the device side's, from a stream of their own.
    fitting = streams.subject(index, Use.INSTALL)
    faults = supplier.faults
    faulty = tuple(s for s in slots if s is not Slot.RF_TAG and fitting.random() < faults.install_fault_share)
    drift = tuple(float(d) for d in fitting.normal(0.0, faults.clock_drift_ppm_sd, len(slots)))
    # Fitted at different times, the devices' timers do not all fire on the same second; drawn
    # from a stream of their own so that nothing else a subject draws moves.
    booted = tuple(float(streams.subject(index, Use.BOOT, slot).uniform(0.0, DAY_S)) for slot in slots)
    return Subject(index, home, area_of(*home, scenario), slots, curfew, tuple(exclusions), traits, faulty, drift, booted)


def case_of(subject: Subject, scenario: Scenario, params: DeviceParams) -> Case:
    """The detector's view: what the centre's case system knows (never the traits)."""
    lat0, lon0 = scenario.town.lat, scenario.town.lon
    devices = tuple(
        FittedDevice(subject.device(s), KIND_OF_SLOT[s], 0.0, subject.area, params.report_interval_s(KIND_OF_SLOT[s].value))
        for s in subject.slots
    )
    zones: list[Zone] = []
    if subject.wears(Slot.GPS_TAG):
        if subject.curfew is not None:
            lat, lon = to_lat_lon(*subject.home, lat0, lon0)
            zones.append(Zone(HOME_ZONE_ID, True, float(lat), float(lon), scenario.zones.home_radius_m))
        for j, zone in enumerate(subject.exclusions):
            lat, lon = to_lat_lon(zone.x, zone.y, lat0, lon0)
            zones.append(Zone(HOME_ZONE_ID + 1 + j, False, float(lat), float(lon), zone.radius_m))
    curfews = (subject.curfew,) if subject.curfew is not None else ()
    return Case(subject.index, devices, curfews, tuple(zones))
