"""The fleet simulation: a monitored population, its devices and faults, and the truth.

``simulate(scenario)`` builds the population, lets each subject live out the
run, turns what happened into the messages each device sends (fleet
fidelity: ``sim.world.devices``), sends every message as protocol frames
over a virtual link (``sim.world.uplink``) to the centre's receiver, and
returns the telemetry records the receiver made, in receive order, with
the ground truth beside them.

SimPy runs the centre: a process that takes in, day by day, every frame
that has arrived, in arrival order. Subjects are independent until their
frames meet at the centre, so each subject's devices are simulated whole,
one subject at a time, from the subject's own streams.
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import numpy as np
import simpy

from firmware_stubs.params import GpsTagParams
from firmware_stubs.protocol import Frame, encode_frame
from sim.centre.receiver import Receiver
from sim.detector.cases import Case, CaseBook
from sim.detector.telemetry import Telemetry
from sim.scenario import Scenario, Supplier, load_supplier
from sim.world import devices as models
from sim.world.alcohol import Episode, over_threshold_intervals, readings
from sim.world.channel import spurious_leaves
from sim.world.draws import DAY_S, HOUR_S
from sim.world.intervals import clip, complement, contains, disjoint, intersect, union
from sim.world.faults import area_outages, false_tampers, mains_cuts, reboots
from sim.world.population import Slot, Subject, build_subject, case_of
from sim.world.routine import Life, live
from sim.world.streams import Streams, Use
from sim.world.track import Track, gps_fixes, inside_intervals
from sim.world.truth import TruthKind, TruthLog
from sim.world.uplink import deliver

SEQ_MODULUS = 1 << 16


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
    simpy_events: int = 0


@dataclass
class WorldRun:
    scenario: Scenario
    supplier: Supplier
    subjects: list[Subject]
    cases: list[Case]
    records: list[Telemetry]  # in receive order
    truth: np.ndarray  # TRUTH_DTYPE
    stats: WorldStats
    receiver: Receiver
    wire_digest: str  # SHA-256 of every copy that reached the centre: time, device, bytes
    end: float


@dataclass(frozen=True)
class _Arrival:
    arrive_at: float
    device: int
    index: int
    data: bytes


def simulate(scenario: Scenario, supplier: Supplier | None = None, progress: Callable[[float], None] | None = None) -> WorldRun:
    """Run ``scenario`` at fleet fidelity. ``progress`` is told the simulated time each day."""
    supplier = supplier or load_supplier(scenario.supplier)
    streams = Streams(scenario.seed)
    end = scenario.days * DAY_S
    outages = area_outages(scenario, streams)
    truth = TruthLog()
    stats = WorldStats()
    subjects, arrivals = [], []
    for index in range(scenario.subjects):
        subject = build_subject(index, scenario, supplier, streams)
        subjects.append(subject)
        arrivals.extend(_subject_frames(subject, scenario, supplier, streams, outages, truth, stats))
    stats.subjects = len(subjects)
    cases = [case_of(s, scenario) for s in subjects]
    arrivals.sort(key=lambda a: (a.arrive_at, a.device, a.index))
    receiver = Receiver(CaseBook(cases), acks=False)  # the links model acks: see sim.world.uplink
    records: list[Telemetry] = []
    digest = hashlib.sha256()
    env = simpy.Environment()
    env.process(_centre(env, iter(arrivals), receiver, records, digest, end, progress))
    while env.peek() != math.inf:
        env.step()
        stats.simpy_events += 1
    return WorldRun(scenario, supplier, subjects, cases, records, truth.table(), stats, receiver, digest.hexdigest(), end)


def _centre(env: simpy.Environment, arrivals: Iterator[_Arrival], receiver: Receiver, records: list[Telemetry],
            digest: hashlib._Hash, end: float, progress: Callable[[float], None] | None) -> simpy.events.ProcessGenerator:
    """Each day, take in every copy that arrived by its end, in arrival order."""
    pending = next(arrivals, None)
    while pending is not None:
        yield env.timeout(DAY_S)
        while pending is not None and pending.arrive_at < env.now:
            digest.update(f"{pending.arrive_at!r} {pending.device} ".encode() + pending.data)
            records.extend(receiver.receive(pending.device, pending.data, pending.arrive_at))
            pending = next(arrivals, None)
        if progress is not None:
            progress(min(env.now, end))


def _subject_frames(subject: Subject, scenario: Scenario, supplier: Supplier, streams: Streams,
                    outages: list[np.ndarray], truth: TruthLog, stats: WorldStats) -> list[_Arrival]:
    """Everything one subject's devices send, as it arrives at the centre; the truth on the way."""
    end = scenario.days * DAY_S
    life = live(subject, scenario, streams.subject(subject.index, Use.ROUTINE))
    # A trip begun in the run may end after it: the track covers it, the truth is cut at the end.
    last_back = max((t.leave_s + t.dwell_s + 2 * math.dist(subject.home, t.destination_xy) / t.speed_m_s for t in life.trips), default=0.0)
    track = Track.from_trips(subject.home, life.trips, 0.0, max(end, last_back + 1.0))
    home = _home_intervals(track, end)
    away = complement(home, 0.0, end)
    windows = models.curfew_windows(subject.curfew, end)
    params = supplier.devices
    fault_rng = streams.subject(subject.index, Use.FAULTS)
    s = subject.index
    out: list[_Arrival] = []
    area_blocked = outages[subject.area]
    truth.add(s, 0, TruthKind.CELLULAR_OUTAGE, clip(area_blocked, 0.0, end))
    worn_tag = next((slot for slot in (Slot.RF_TAG, Slot.GPS_TAG, Slot.ALCOHOL_TAG) if subject.wears(slot)), None)
    if worn_tag is not None:
        truth.add(s, subject.device(worn_tag), TruthKind.STRAP_TAMPERED, life.removals)
    for slot, drift in zip(subject.slots, subject.drift_ppm, strict=True):
        device = subject.device(slot)
        false = false_tampers(scenario, supplier, fault_rng)
        restarts = reboots(scenario, supplier, fault_rng)
        if slot is Slot.RF_TAG:
            continue  # heard through its base unit
        if slot in subject.faulty_install:
            truth.add(s, device, TruthKind.UNMONITORED, [(0.0, end)])
            continue
        tag_strap = life.removals if worn_tag is _TAG_OF[slot] else np.empty((0, 2))
        if false.size:
            truth.add(s, device, TruthKind.DEVICE_FAULTY, false)
        tampers = union(tag_strap, false)
        blocked = area_blocked
        if slot is Slot.BASE_UNIT:
            truth.add(s, 0, TruthKind.ABSENT_IN_CURFEW, intersect(away, windows))
            cuts = mains_cuts(scenario, fault_rng)
            truth.add(s, device, TruthKind.MAINS_LOST, cuts)
            spurious = spurious_leaves(supplier.rf_channel, home, params.rf_tag.beacon_interval_min_s,
                                       params.rf_tag.beacon_interval_max_s, params.base_unit.leave_time_s,
                                       streams.subject(s, Use.CHANNEL))
            stats.spurious_leaves += len(spurious)
            true_gone = away[away[:, 1] - away[:, 0] > params.base_unit.leave_time_s]
            true_gone = np.column_stack((true_gone[:, 0] + params.base_unit.leave_time_s, true_gone[:, 1])) if len(true_gone) else true_gone
            gone = union(true_gone, spurious)
            box, dead = models.base_unit(models.UnitInputs(subject.device(Slot.RF_TAG), end, windows, gone, tampers, cuts), params)
            blocked = union(blocked, dead)
        elif slot is Slot.GPS_TAG:
            box, flat = _gps_box(subject, scenario, supplier, streams, track, home, windows, life, tampers, end, truth)
            truth.add(s, device, TruthKind.DEVICE_FLAT, flat)
            blocked = union(blocked, flat)
        else:
            box = _alcohol_box(subject, scenario, supplier, streams, home, life, tampers, end, truth)
        stats.messages += len(box.messages)
        frames = _frames(device, box, drift, restarts)
        delivery = deliver(frames, np.asarray(box.ready_at), scenario.link, params.uplink, blocked, streams.subject(s, Use.LINK, slot))
        stats.devices += 1
        stats.frames_sent += delivery.sent
        stats.lost += delivery.lost
        stats.corrupted += delivery.corrupted
        stats.duplicated += delivery.duplicated
        stats.acks_lost += delivery.acks_lost
        stats.overwritten += delivery.overwritten
        stats.copies_arrived += len(delivery.data)
        out.extend(_Arrival(float(t), device, int(i), d) for t, i, d in zip(delivery.arrive_at, delivery.frame_index, delivery.data, strict=True))
    return out


_TAG_OF = {Slot.BASE_UNIT: Slot.RF_TAG, Slot.GPS_TAG: Slot.GPS_TAG, Slot.ALCOHOL_TAG: Slot.ALCOHOL_TAG}


def _home_intervals(track: Track, end: float) -> np.ndarray:
    return clip(disjoint(np.column_stack((track.t0[track.home], track.t1[track.home]))), 0.0, end)


def _frames(device: int, box: models.Outbox, drift_ppm: float, restarts: np.ndarray) -> list[bytes]:
    """Sequence numbers in queue order, from 0 again after each reboot; event times on the
    device's drifting clock."""
    frames, seq, r = [], 0, 0
    for ready, t, message in zip(box.ready_at, box.event_time, box.messages, strict=True):
        while r < len(restarts) and restarts[r] <= ready:
            seq, r = 0, r + 1
        ms = max(0, round(t * (1 + drift_ppm * 1e-6) * 1000))
        frames.append(encode_frame(Frame(device, seq, ms, message)))
        seq = (seq + 1) % SEQ_MODULUS
    return frames


def _gps_box(subject: Subject, scenario: Scenario, supplier: Supplier, streams: Streams, track: Track, home: np.ndarray,
             windows: np.ndarray, life: Life, tampers: np.ndarray, end: float, truth: TruthLog) -> tuple[models.Outbox, np.ndarray]:
    p = supplier.devices.gps_tag
    s = subject.index
    zones = [clip(inside_intervals(track, z.x, z.y, z.radius_m), 0.0, end) for z in subject.exclusions]
    for spans in zones:
        truth.add(s, 0, TruthKind.IN_EXCLUSION_ZONE, spans)
    if subject.curfew is not None:
        at_home_zone = inside_intervals(track, subject.home[0], subject.home[1], scenario.zones.home_radius_m)
        truth.add(s, 0, TruthKind.OUT_OF_INCLUSION_ZONE, intersect(complement(at_home_zone, 0.0, end), windows))
    flat = clip(life.flat, 0.0, end)
    times = _fix_schedule(home, zones, p, end)
    times = times[~contains(flat, times)]
    fixes = gps_fixes(track, times, supplier.gps, streams.subject(s, Use.GPS), lat0=scenario.town.lat, lon0=scenario.town.lon)
    # A tag at home long enough to be still is at rest (hourly fixes): the schedule already says so.
    at_rest = contains(home, times - p.rest_after_s) & contains(home, times)
    charging = _charging(home, flat, p.charge_hours_to_full, end)
    violation_starts = np.sort(np.concatenate([spans[:, 0] for spans in zones])) if zones else np.empty(0)
    got = fixes.got_fix
    inputs = models.GpsInputs(end, times, got, _spread(fixes.lat, got), _spread(fixes.lon, got), _spread(fixes.accuracy_m, got),
                              at_rest, violation_starts, tampers, flat, charging)
    return models.gps_tag(inputs, supplier.devices), flat


def _spread(values: np.ndarray, got: np.ndarray) -> np.ndarray:
    """Values for the times a fix was got, laid out over every time tried (NaN where none)."""
    out = np.full(len(got), np.nan)
    out[got] = values
    return out


def _fix_schedule(home: np.ndarray, zones: list[np.ndarray], p: GpsTagParams, end: float) -> np.ndarray:
    """When the tag tries for a fix: every fix interval, hourly once at rest at home, and every
    violation interval inside an exclusion zone."""
    regular = np.arange(p.fix_interval_s, end, p.fix_interval_s)
    resting = contains(home, regular - p.rest_after_s) & contains(home, regular)
    times = [regular[~resting], np.arange(p.rest_fix_interval_s, end, p.rest_fix_interval_s)]
    times[1] = times[1][contains(home, times[1] - p.rest_after_s) & contains(home, times[1])]
    for spans in zones:
        for a, b in spans:
            times.append(np.arange(a, b, p.violation_fix_interval_s))
    return np.unique(np.concatenate(times))


def _charging(home: np.ndarray, flat: np.ndarray, hours_to_full: float, end: float) -> np.ndarray:
    """A compliant wearer charges on getting home each evening (the first at-home stretch after
    18:00 long enough), for the hours a full charge takes; a tag gone flat is charged when found."""
    charge = hours_to_full * HOUR_S
    spans = [(a, a + charge) for a, b in home if b - a >= charge and (a % DAY_S) >= 18 * HOUR_S]
    spans += [(b, b + charge) for _, b in flat]
    return clip(disjoint(spans), 0.0, end)


def _alcohol_box(subject: Subject, scenario: Scenario, supplier: Supplier, streams: Streams, home: np.ndarray,
                 life: Life, tampers: np.ndarray, end: float, truth: TruthLog) -> models.Outbox:
    p = supplier.devices.alcohol_tag
    rng = streams.subject(subject.index, Use.ALCOHOL)
    episodes = [Episode(float(start), float(peak)) for start, peak in life.drinking]
    truth.add(subject.index, 0, TruthKind.DRINKING, clip(over_threshold_intervals(episodes, p.tac_threshold_mg_dl), 0.0, end))
    detected = rng.random(len(episodes)) < supplier.alcohol.detection_share
    times = np.arange(p.reading_interval_s, end, p.reading_interval_s)
    tac = readings(episodes, times, detected, rng)
    skin = rng.normal(p.bench_skin_temp_c, p.bench_skin_temp_sd_c, len(times))
    away = complement(home, 0.0, end + DAY_S)
    return models.alcohol_tag(models.AlcoholInputs(end, times, tac, skin, tampers, away), supplier.devices)
