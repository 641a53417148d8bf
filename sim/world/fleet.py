"""One subject at fleet fidelity: what really happened, and every frame their devices send.

``subject_frames`` lives out one subject's run from their own streams, writes
the truth (whatever their devices manage to report), has each device they
wear (``sim.world.devices``) turn it into messages, encodes them as frames on
the device's own sequence numbers and clock, and sends them over the link
model (``sim.links.network``): the copies that reach the centre, and when.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from firmware_stubs.params import GpsTagParams
from firmware_stubs.protocol import SEQ_MODULUS, DeviceBoot, encode_frames
from sim.links.network import Delivery, deliver
from sim.scenario import ChargingHabit, Scenario, Supplier
from sim.world import devices as models
from sim.world.alcohol import Episode, over_threshold_intervals, readings
from sim.world.channel import spurious_leaves
from sim.world.draws import DAY_S, HOUR_S
from sim.world.faults import false_tampers, mains_cuts, reboots
from sim.intervals import EMPTY, clip, complement, contains, disjoint, intersect, union
from sim.world.population import KIND_OF_SLOT, Slot, Subject
from sim.world.routine import Life, live
from sim.world.streams import Streams, Use
from sim.world.track import Track, gps_fixes, inside_intervals
from sim.world.truth import TruthKind, TruthLog

@dataclass
class WorldStats:
    subjects: int = 0
    devices: int = 0
    messages: int = 0
    frames_sent: int = 0  # send attempts, resends included
    copies_arrived: int = 0
    lost: int = 0
    corrupted: int = 0
    duplicated: int = 0
    acks_lost: int = 0  # a copy arrived but its ack did not: resent, so it arrives again
    overwritten: int = 0  # store-and-forward queue overflow: never delivered
    spurious_leaves: int = 0


def subject_frames(subject: Subject, scenario: Scenario, supplier: Supplier, streams: Streams,
                    outages: list[np.ndarray], truth: TruthLog, stats: WorldStats) -> list[tuple[int, Delivery]]:
    """Everything one subject's devices send, as it arrives at the centre (each device's
    delivery); the truth on the way."""
    end = scenario.days * DAY_S
    lived = live_out(subject, scenario, supplier, streams)
    life, track, home, charging = lived.life, lived.track, lived.home, lived.charging
    windows = models.curfew_windows(subject.curfew, end)
    battery = models.gps_battery(charging, supplier.devices, end) if subject.wears(Slot.GPS_TAG) else None
    flat = EMPTY if battery is None else battery.flat
    zones, violations = _what_happened(subject, scenario, supplier, track, home, windows, life, charging, flat, outages, truth)
    params = supplier.devices
    s = subject.index
    out: list[tuple[int, Delivery]] = []
    worn_tag = next((slot for slot in (Slot.RF_TAG, Slot.GPS_TAG, Slot.ALCOHOL_TAG) if subject.wears(slot)), None)
    for slot, drift, booted in zip(subject.slots, subject.drift_ppm, subject.booted_s, strict=True):
        device = subject.device(slot)
        false = false_tampers(scenario, supplier, streams.subject(s, Use.FAULTS, slot, 0))
        restarts = reboots(scenario, supplier, streams.subject(s, Use.FAULTS, slot, 1))
        if slot is Slot.BASE_UNIT:  # the home's mains, the world's whatever the unit does
            cuts = mains_cuts(scenario, streams.subject(s, Use.MAINS))
            truth.add(s, device, TruthKind.MAINS_LOST, cuts)
        if slot is Slot.RF_TAG:
            continue  # heard through its base unit
        if slot in subject.faulty_install:
            truth.add(s, device, TruthKind.UNMONITORED, [(0.0, end)])
            continue
        tag_strap = life.removals if worn_tag is _TAG_OF[slot] else np.empty((0, 2))
        if false.size:
            truth.add(s, device, TruthKind.DEVICE_FAULTY, clip(false, 0.0, end))
        tampers = union(tag_strap, false)
        blocked = outages[subject.area]
        if slot is Slot.BASE_UNIT:
            spurious = spurious_leaves(supplier.rf_channel, home, params.rf_tag.beacon_interval_min_s,
                                       params.rf_tag.beacon_interval_max_s, params.base_unit.leave_time_s,
                                       streams.subject(s, Use.CHANNEL))
            stats.spurious_leaves += len(spurious)
            away = complement(home, 0.0, end)
            true_gone = away[away[:, 1] - away[:, 0] > params.base_unit.leave_time_s]
            true_gone = np.column_stack((true_gone[:, 0] + params.base_unit.leave_time_s, true_gone[:, 1]))
            gone = union(true_gone, spurious)
            box, dead = models.base_unit(models.UnitInputs(subject.device(Slot.RF_TAG), end, windows, gone, tampers, cuts, booted), params,
                                         streams.subject(s, Use.BEACONS))
            blocked = union(blocked, dead)
        elif slot is Slot.GPS_TAG:
            assert battery is not None  # made above for every GPS wearer
            box = _gps_box(subject, scenario, supplier, streams, track, home, zones, violations, charging, battery, tampers,
                           drift, booted, end)
            blocked = union(blocked, flat)
        else:
            box = _alcohol_box(subject, supplier, streams, home, life, tampers, booted, end)
        box = _with_boots(box, restarts)
        stats.messages += len(box.messages)
        frames = _frames(device, box, drift)
        delivery = deliver(frames, np.asarray(box.ready_at), scenario.network, params.uplink_for(KIND_OF_SLOT[slot].value), blocked,
                           streams.subject(s, Use.LINK, slot))
        stats.devices += 1
        stats.frames_sent += delivery.sent
        stats.lost += delivery.lost
        stats.corrupted += delivery.corrupted
        stats.duplicated += delivery.duplicated
        stats.acks_lost += delivery.acks_lost
        stats.overwritten += delivery.overwritten
        stats.copies_arrived += len(delivery.data)
        out.append((device, delivery))
    return out


@dataclass(frozen=True)
class Lived:
    """A subject's run as their devices meet it, at either fidelity."""

    life: Life
    track: Track  # covers the run, and any trip begun in it to its end
    home: np.ndarray  # (n, 2) at home, within [0, end)
    charging: np.ndarray  # (n, 2) a GPS tag on its charger (empty for a subject without one)


def live_out(subject: Subject, scenario: Scenario, supplier: Supplier, streams: Streams) -> Lived:
    """The subject's life from their routine stream, the track it makes, and when they charge a
    GPS tag: what both fidelities run the devices on."""
    end = scenario.days * DAY_S
    life = live(subject, scenario, streams.subject(subject.index, Use.ROUTINE))
    # A trip begun in the run may end after it: the track covers it, the truth is cut at the end.
    last_back = max((t.leave_s + t.dwell_s + 2 * math.dist(subject.home, t.destination_xy) / t.speed_m_s for t in life.trips), default=0.0)
    track = Track.from_trips(subject.home, life.trips, 0.0, max(end, last_back + 1.0))
    home = _home_intervals(track, end)
    charging = EMPTY
    if subject.wears(Slot.GPS_TAG):
        charging = _charging(home, life, scenario.charging, supplier.devices.gps_tag, end)
    return Lived(life, track, home, charging)


def _what_happened(subject: Subject, scenario: Scenario, supplier: Supplier, track: Track, home: np.ndarray, windows: np.ndarray,
                   life: Life, charging: np.ndarray, flat: np.ndarray, outages: list[np.ndarray],
                   truth: TruthLog) -> tuple[list[np.ndarray], np.ndarray]:
    """The subject's truth, whatever their devices manage to report (``charging``: when a GPS
    tag was on charge; ``flat``: when its battery was empty off charge); and, for a GPS tag, when the subject was in each exclusion
    zone and when a zone rule was broken."""
    s, end = subject.index, scenario.days * DAY_S
    truth.add(s, 0, TruthKind.CELLULAR_OUTAGE, clip(outages[subject.area], 0.0, end))
    truth.add(s, 0, TruthKind.ABSENT_IN_CURFEW, intersect(complement(home, 0.0, end), windows))
    worn_tag = next((slot for slot in (Slot.RF_TAG, Slot.GPS_TAG, Slot.ALCOHOL_TAG) if subject.wears(slot)), None)
    if worn_tag is not None:
        truth.add(s, subject.device(worn_tag), TruthKind.STRAP_TAMPERED, clip(life.removals, 0.0, end))
    if subject.wears(Slot.ALCOHOL_TAG):
        episodes = [Episode(float(start), float(peak)) for start, peak in life.drinking]
        over = over_threshold_intervals(episodes, scenario.behaviour.drinking_tac_mg_dl)
        truth.add(s, 0, TruthKind.DRINKING, clip(over, 0.0, end))
    if not subject.wears(Slot.GPS_TAG):
        return [], np.empty((0, 2))
    truth.add(s, subject.device(Slot.GPS_TAG), TruthKind.DEVICE_FLAT, flat)
    truth.add(s, subject.device(Slot.GPS_TAG), TruthKind.CHARGE_MISSED, _charge_missed(charging, scenario.charging, end))
    zones = [clip(inside_intervals(track, z.x, z.y, z.radius_m), 0.0, end) for z in subject.exclusions]
    for spans in zones:
        truth.add(s, 0, TruthKind.IN_EXCLUSION_ZONE, spans)
    out_of_home_zone = np.empty((0, 2))
    if subject.curfew is not None:
        at_home_zone = inside_intervals(track, subject.home[0], subject.home[1], scenario.zones.home_radius_m)
        out_of_home_zone = intersect(complement(at_home_zone, 0.0, end), windows)
        truth.add(s, 0, TruthKind.OUT_OF_INCLUSION_ZONE, out_of_home_zone)
    return zones, union(out_of_home_zone, *zones)


_TAG_OF = {Slot.BASE_UNIT: Slot.RF_TAG, Slot.GPS_TAG: Slot.GPS_TAG, Slot.ALCOHOL_TAG: Slot.ALCOHOL_TAG}


def _home_intervals(track: Track, end: float) -> np.ndarray:
    return clip(disjoint(np.column_stack((track.t0[track.home], track.t1[track.home]))), 0.0, end)


def _with_boots(box: models.Outbox, restarts: np.ndarray) -> models.Outbox:
    """The device's messages with the ``DEVICE_BOOT`` it stores first on each restart (its
    fitting was start 1, before the run)."""
    if not len(restarts):
        return box
    for count, t in enumerate(restarts.tolist(), start=2):
        box.put(t, t, DeviceBoot(count))
    return box.in_queue_order()


def _frames(device: int, box: models.Outbox, drift_ppm: float) -> list[bytes]:
    """Sequence numbers in queue order, carrying on across reboots (protocol 1.1); event times
    on the device's drifting clock."""
    seqs = np.arange(len(box.ready_at)) % SEQ_MODULUS
    ms = np.maximum(0, np.round(np.asarray(box.event_time, dtype=float) * (1 + drift_ppm * 1e-6) * 1000)).astype(np.uint64)
    return encode_frames(device, seqs, ms, box.messages)


def _gps_box(subject: Subject, scenario: Scenario, supplier: Supplier, streams: Streams, track: Track, home: np.ndarray,
             zones: list[np.ndarray], violations: np.ndarray, charging: np.ndarray, battery: models.Battery,
             tampers: np.ndarray, drift_ppm: float, booted: float, end: float) -> models.Outbox:
    p = supplier.devices.gps_tag
    # At home when the run begins is at home since before it, and so already at rest: the run
    # starts in the middle of everyone's life, not with every tag just come home at once.
    settled = home.copy()
    if len(settled) and settled[0, 0] <= 0.0:
        settled[0, 0] = -math.inf
    schedule = _fix_schedule(settled, violations, p, booted, end)
    times = np.union1d(schedule[~contains(battery.flat, schedule)], models.revivals(battery.flat, schedule, end))
    fixes = gps_fixes(track, times, supplier.gps, streams.subject(subject.index, Use.GPS), lat0=scenario.town.lat, lon0=scenario.town.lon)
    # A tag at home long enough to be still is at rest (hourly fixes): the schedule already says so.
    at_rest = contains(settled, times - p.rest_after_s) & contains(settled, times)
    got = fixes.got_fix
    inputs = models.GpsInputs(end, times, got, _spread(fixes.lat, got), _spread(fixes.lon, got), _spread(fixes.accuracy_m, got),
                              at_rest, violations, tampers, charging, battery, 1 + drift_ppm * 1e-6, booted)
    return models.gps_tag(inputs, supplier.devices)


def _spread(values: np.ndarray, got: np.ndarray) -> np.ndarray:
    """Values for the times a fix was got, laid out over every time tried (NaN where none)."""
    out = np.full(len(got), np.nan)
    out[got] = values
    return out


def _fix_schedule(home: np.ndarray, violations: np.ndarray, p: GpsTagParams, booted: float, end: float) -> np.ndarray:
    """When the tag tries for a fix: every fix interval, hourly once at rest at home, and every
    violation interval while a zone rule is broken; the timers from the tag's start, ``booted``
    seconds before the run."""
    regular = models.timer(p.fix_interval_s, end, booted)
    resting = contains(home, regular - p.rest_after_s) & contains(home, regular)
    times = [regular[~resting], models.timer(p.rest_fix_interval_s, end, booted)]
    times[1] = times[1][contains(home, times[1] - p.rest_after_s) & contains(home, times[1])]
    for a, b in violations:
        times.append(np.arange(a, b, p.violation_fix_interval_s))
    return np.unique(np.concatenate(times))


def _charging(home: np.ndarray, life: Life, habit: ChargingHabit, p: GpsTagParams, end: float) -> np.ndarray:
    """When the wearer has the tag on charge, for the full charge time: at their own hour each
    evening (and, for a battery that cannot last a day, as often more a day as it needs, evenly
    spaced), or as near it as being at home allows, before going out or on getting back, within
    ``within_h`` either side (a day at home is no reason to skip it); never in a spell they
    forget."""
    full, near = p.charge_hours_to_full * HOUR_S, habit.within_h * HOUR_S
    every = DAY_S / math.ceil(24.0 / p.battery_life_hours)
    dues = np.arange(life.charge_hour_s - DAY_S + every, end, every)
    dues = dues[(dues >= 0) & ~contains(life.forgotten, dues)]
    spans = []
    stretches = home.tolist()
    for due in dues.tolist():
        for a, b in stretches:
            if b <= due - near + full:
                continue
            if a >= due + near:
                break
            if b - a >= full:
                start = max(a, min(due, b - full))
                spans.append((start, start + full))
                break
    return clip(disjoint(spans), 0.0, end)


def _charge_missed(charging: np.ndarray, habit: ChargingHabit, end: float) -> np.ndarray:
    """The whole days (from midnight) with less time on charge than the condition asks."""
    days = np.arange(0.0, math.floor(end / DAY_S) * DAY_S, DAY_S)
    on = np.array([np.sum(np.diff(clip(charging, d, d + DAY_S), axis=1)) for d in days.tolist()], dtype=float)
    short = days[on < habit.min_hours_a_day * HOUR_S]
    return np.column_stack((short, short + DAY_S))


def _alcohol_box(subject: Subject, supplier: Supplier, streams: Streams, home: np.ndarray, life: Life,
                 tampers: np.ndarray, booted: float, end: float) -> models.Outbox:
    p = supplier.devices.alcohol_tag
    rng = streams.subject(subject.index, Use.ALCOHOL)
    episodes = [Episode(float(start), float(peak)) for start, peak in life.drinking]
    detected = rng.random(len(episodes)) < supplier.alcohol.detection_share(life.drinking[:, 1])
    times = models.timer(p.reading_interval_s, end, booted)
    tac = readings(episodes, times, detected, rng)
    skin = rng.normal(p.bench_skin_temp_c, p.bench_skin_temp_sd_c, len(times))
    away = complement(home, 0.0, end + DAY_S)
    return models.alcohol_tag(models.AlcoholInputs(end, times, tac, skin, tampers, away, booted), supplier.devices)
