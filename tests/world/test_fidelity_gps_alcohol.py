"""Two fidelities, one model: the fleet's GPS and alcohol tag models against the real stubs.

The same subjects (the smoke scenario's own, each wearing one GPS tag, or one
alcohol tag, with the traits that make alerts) live the same lives
(``sim.world.fleet.live_out``, from the same seed) at full fidelity
(``sim.world.full_tags``: the real ``GpsTag`` fed by the real ``GnssModule``
along the true track, the real ``AlcoholTag`` fed the TAC curve, every frame
and ack over a lossy link to the real ``Receiver``) and at fleet fidelity
(``sim.world.fleet.subject_frames`` and the real ``Receiver``). What the
fleet draws for the devices and the link is drawn ``FLEET_REPEATS`` times over
from fresh streams; the life is the same each time.

How every interval here is made: each statistic is a number per subject (a
count over the run, or a mean). For subject i, ``d_i`` is its full-fidelity
value less the mean of its fleet values over the repeats. The d_i are
independent across subjects and, if the fidelities agree, have mean 0: the
test holds 0 inside the 95% Student-t interval of their mean,
``mean(d) +- t(0.975, n - 1) * sd(d) / sqrt(n)``, and shows it beside both
means. Pairing by subject takes out what the lives differ in, so the interval
is narrow: a few percent of the mean for fixes and latency.

Runs cover a few days and count what happened before ``Both.count_end`` (an
upload interval short of the end, so a fix or reading taken before it is sent
at both fidelities); the full run goes on a day past the end so that all of it
reaches the centre.

These tests can fail, and found four disagreements. One was the fleet's, and
is fixed: its alcohol tag sent a positive reading at once but left the
readings before it for the daily upload, where the stub's first-in, first-out
queue sends them with it (reading latency, no strap removals: full 35,590 s,
fleet 39,930 s, interval [-5184, -3497]; after the fix the fleet's is 35,560 s
and the interval [-749, 811]; ``tests/world/test_devices.py`` pins the rule).
Three are between the stub and the fleet's model of it, and are strict
expected failures, each with its reason: the GPS tag's rest (fixes received,
and fix-to-centre latency), its zone flag indoors in curfew, and the alcohol
tag's strap.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from enum import Enum
from typing import NamedTuple

import numpy as np
import pytest
from scipy.stats import t as student_t

from firmware_stubs.protocol import AlcoholFlags, GpsFlags
from sim.centre.receiver import Receiver
from sim.detector.cases import CaseBook
from sim.detector.telemetry import Kind, Telemetry
from sim.policies import load_policy
from sim.scenario import Scenario, load_scenario, load_supplier
from sim.world.draws import DAY_S
from sim.world.fleet import Lived, WorldStats, subject_frames
from sim.world.full_tags import TagRun, run
from sim.intervals import EMPTY
from sim.world.population import Slot, Subject, Traits, build_subject, case_of
from sim.world.streams import Streams, Use
from sim.world.track import M_PER_DEG
from sim.world.truth import TruthLog

SEED = 1
BASE = load_scenario("smoke")
# Supplier B: its 12 h GPS battery, charged twice a day, runs flat whenever its wearer forgets a
# charge (every wearer here forgets about every other day), so the centre sees message gaps in
# a few subject-days.
SUPPLIER_BASE = load_supplier("supplier-b")
# No device faults but those under test: no false tampers, reboots, clock drift or install
# faults, none of which full fidelity models.
SUPPLIER = replace(SUPPLIER_BASE, faults=replace(SUPPLIER_BASE.faults, false_tampers_per_device_year=0.0,
                                                 reboots_per_device_year=0.0, clock_drift_ppm_sd=0.0, install_fault_share=0.0))
DEVICES = SUPPLIER.devices
GPS, ALCOHOL = DEVICES.gps_tag, DEVICES.alcohol_tag
# The smoke network with ten times its loss, so resends matter to latency and gaps; full
# fidelity models loss and latency only, so neither fidelity duplicates, reorders or corrupts.
LINK = replace(BASE.network, loss=0.1, duplicate=0.0, reorder=0.0, corrupt=0.0)
# The traits' events made daily or so, so a few subject-days count them in tens: the smoke
# scenario's rates are a few a subject-year. No mains cuts or cellular outages (full fidelity
# has no outages).
BEHAVIOUR = replace(BASE.behaviour, zone_entries_per_week=7.0, removals_per_week=3.5, forgetting_spells_per_week=7.0, forgotten_days_median=0.5,
                    drinking_episodes_per_week=5.0)
FAULTS = replace(BASE.faults, mains_cuts_per_unit_year=0.0, outages_per_area_year=0.0, regional_outages_per_year=0.0)
FLEET_REPEATS = 4


def scenario(days: int) -> Scenario:
    return replace(BASE, days=float(days), seed=SEED, network=LINK, behaviour=BEHAVIOUR, faults=FAULTS)


def wearers(slot: Slot, count: int, days: int, strap_remover: bool) -> list[Subject]:
    """The first ``count`` smoke subjects wearing only ``slot``'s tag, given the traits that tag
    reports on (a zone enterer only if they have zones)."""
    sc, out, i = scenario(days), [], 0
    streams = Streams(SEED)
    while len(out) < count:
        s = build_subject(i, sc, SUPPLIER, streams)
        i += 1
        if s.slots != (slot,):
            continue
        traits = Traits(strap_remover=strap_remover, zone_enterer=bool(s.exclusions), non_charger=slot is Slot.GPS_TAG,
                        drinker=slot is Slot.ALCOHOL_TAG)
        out.append(replace(s, traits=traits, faulty_install=(), drift_ppm=(0.0,)))
    return out


class _Redrawn(Streams):
    """The subject as ``Streams(seed)`` has them (who they are, how they live), with fresh draws
    for their devices, faults and links: one fleet repeat."""

    def __init__(self, seed: int, repeat: int) -> None:
        super().__init__(seed)
        self._devices = Streams(seed + 1000 + repeat)

    def subject(self, index: int, use: Use, *more: int) -> np.random.Generator:
        if use in (Use.PERSON, Use.ROUTINE):
            return super().subject(index, use, *more)
        return self._devices.subject(index, use, *more)


def fleet_records(subject: Subject, days: int, repeat: int) -> list[Telemetry]:
    sc = scenario(days)
    deliveries = subject_frames(subject, sc, SUPPLIER, _Redrawn(SEED, repeat), [EMPTY] * sc.town.areas, TruthLog(),
                                WorldStats())
    receiver = Receiver(CaseBook([case_of(subject, sc, DEVICES)]), acks=False)
    return [r for device, d in deliveries for t, data in zip(d.arrive_at.tolist(), d.data, strict=True)
            for r in receiver.receive(device, data, t)]


class Wearer(NamedTuple):
    subject: Subject
    lived: Lived  # as both fidelities live it


@dataclass
class Both:
    """Each subject's records at full fidelity, and at fleet fidelity in every repeat."""

    subjects: list[Subject]
    full: list[TagRun]
    fleet: list[list[list[Telemetry]]]  # [subject][repeat]
    count_end: float


def both(slot: Slot, count: int, days: int, upload_s: float, strap_remover: bool = True) -> Both:
    people = wearers(slot, count, days, strap_remover)
    started = time.perf_counter()
    full = run(people, scenario(days), SUPPLIER, days * DAY_S + DAY_S)
    print(f"full fidelity, {count} {slot.name} subjects x {days} days: {time.perf_counter() - started:.1f} s")
    fleet = [[fleet_records(p, days, r) for r in range(FLEET_REPEATS)] for p in people]
    return Both(people, full.tags, fleet, days * DAY_S - upload_s)


GPS_SUBJECTS, GPS_DAYS = 16, 3
ALCOHOL_SUBJECTS, ALCOHOL_REMOVERS, ALCOHOL_DAYS = 30, 10, 7


@pytest.fixture(scope="module")
def gps() -> Both:
    return both(Slot.GPS_TAG, GPS_SUBJECTS, GPS_DAYS, GPS.upload_interval_s)


@pytest.fixture(scope="module")
def alcohol() -> Both:
    # Drinkers who leave the strap alone: the stub cannot report a removal (see below), and a
    # tampered reading's upload would change the fleet's latency.
    return both(Slot.ALCOHOL_TAG, ALCOHOL_SUBJECTS, ALCOHOL_DAYS, ALCOHOL.upload_interval_s, strap_remover=False)


@pytest.fixture(scope="module")
def alcohol_removers() -> Both:
    return both(Slot.ALCOHOL_TAG, ALCOHOL_REMOVERS, ALCOHOL_DAYS, ALCOHOL.upload_interval_s)


# --- the interval ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Paired:
    """Per-subject full-fidelity values against the mean of each subject's fleet values."""

    what: str
    full: np.ndarray
    fleet: np.ndarray

    def interval(self) -> tuple[float, float]:
        d = self.full - self.fleet
        half = student_t.ppf(0.975, len(d) - 1) * d.std(ddof=1) / math.sqrt(len(d))
        return float(d.mean() - half), float(d.mean() + half)

    def agrees(self) -> bool:
        lo, hi = self.interval()
        return lo <= 0.0 <= hi

    def __str__(self) -> str:
        lo, hi = self.interval()
        return (f"{self.what}: full {self.full.mean():.4g}, fleet {self.fleet.mean():.4g} a subject; "
                f"full - fleet 95% interval [{lo:.4g}, {hi:.4g}] over {len(self.full)} subjects")


# A subject's figure from their life and what the centre got, counted before a time.
Statistic = Callable[[Wearer, list[Telemetry], float], float]


def paired(what: str, data: Both, statistic: Statistic) -> Paired:
    wearers = [Wearer(p, tag.lived) for p, tag in zip(data.subjects, data.full, strict=True)]
    full = np.array([statistic(w, tag.records, data.count_end) for w, tag in zip(wearers, data.full, strict=True)])
    fleet = np.array([np.mean([statistic(w, r, data.count_end) for r in repeats])
                      for w, repeats in zip(wearers, data.fleet, strict=True)])
    result = Paired(what, full, fleet)
    print(result)
    return result


# --- what the centre saw ---------------------------------------------------------------------


def first_copies(records: list[Telemetry], kind: Kind) -> list[Telemetry]:
    """One record per frame (the first copy received), in event time order."""
    seen: dict[int, Telemetry] = {}
    for r in records:
        if r.kind is kind:
            seen.setdefault(r.seq, r)
    return sorted(seen.values(), key=lambda r: (r.event_time, r.seq))


def fixes(records: list[Telemetry], end: float) -> tuple[np.ndarray, np.ndarray]:
    """Every fix taken before ``end`` that reached the centre: its structured row, and when its batch arrived."""
    batches = first_copies(records, Kind.GPS_FIXES)
    if not batches:
        return np.empty(0), np.empty(0)
    rows = np.concatenate([b.fixes for b in batches])
    arrived = np.concatenate([np.full(len(b.fixes), b.receive_time) for b in batches])
    keep = rows["time"] < end
    return rows[keep], arrived[keep]


def fixes_received(wearer: Wearer, records: list[Telemetry], end: float) -> float:
    return len(fixes(records, end)[0])


class Where(Enum):
    """Where the subject truly was when a fix was taken."""

    HOME = "at home"
    STILL = "still, away"  # dwelling at a tour's destination
    MOVING = "on the move"


def fixes_received_where(where: Where) -> Statistic:
    def count(wearer: Wearer, records: list[Telemetry], end: float) -> float:
        rows, _ = fixes(records, end)
        track = wearer.lived.track
        i = np.clip(np.searchsorted(track.t0, rows["time"], side="right") - 1, 0, len(track.t0) - 1)
        moving = (track.x0[i] != track.x1[i]) | (track.y0[i] != track.y1[i])
        home = track.home[i]
        kind = {Where.HOME: home, Where.STILL: ~home & ~moving, Where.MOVING: moving}[where]
        return int(np.count_nonzero(kind))
    return count


def fix_latency(wearer: Wearer, records: list[Telemetry], end: float) -> float:
    rows, arrived = fixes(records, end)
    return float(np.mean(arrived - rows["time"]))


def rising(flags: list[bool]) -> int:
    return int(np.count_nonzero(np.diff(np.array([False, *flags], dtype=int)) == 1))


def status_episodes(flag: GpsFlags) -> Statistic:
    def count(wearer: Wearer, records: list[Telemetry], end: float) -> float:
        return rising([bool(r.flags & flag) for r in first_copies(records, Kind.GPS_STATUS) if r.event_time < end])
    return count


def message_gaps(interval_s: float, multiple: float) -> Statistic:
    """Silences at the centre (between first copies received, from fitting) longer than the
    policy's no-contact threshold: ``multiple`` report intervals."""
    def count(wearer: Wearer, records: list[Telemetry], end: float) -> float:
        got = np.unique([r.receive_time for r in records if r.receive_time < end])
        return int(np.count_nonzero(np.diff(np.concatenate(([0.0], got, [end]))) > multiple * interval_s))
    return count


# --- GPS -------------------------------------------------------------------------------------

POLICY = load_policy("reference")


def per_day(statistic: Statistic) -> Statistic:
    return lambda w, r, end: statistic(w, r, end) / (end / DAY_S)


# The stub is at rest once its fixes have stayed within ``rest_motion_threshold_m`` (25 m) of
# where it stopped for ``rest_after_s``; the fleet has it at rest at home, and only there.
# Indoors a fix's error (supplier B: 100 m CEP90) moves it past 25 m every few fixes, so at full
# fidelity the tag never rests at home and tries every minute; dwelling outdoors at a
# destination (10 m CEP90) it rests, where the fleet tries every minute.
REST_DISAGREES = pytest.mark.xfail(strict=True, reason=(
    "the GPS stub's rest is by its own fixes (25 m): indoor error keeps it from resting at home, "
    "and it rests when still away; the fleet rests at home only"))


@REST_DISAGREES
def test_gps_fixes_received_per_subject_day_agree(gps: Both) -> None:
    result = paired("GPS fixes received per subject-day", gps, per_day(fixes_received))
    assert result.agrees(), str(result)


# On the move the stub takes fewer fixes: at rest it looks again only at its next hourly fix, so
# it misses up to an hour of a tour begun while it rested (the fleet leaves rest as the subject
# leaves home); and it fixes every 15 s from its first fix inside a zone, the fleet from the true
# entry.
MOVING_DISAGREES = pytest.mark.xfail(strict=True, reason=(
    "the GPS stub leaves rest only at its next hourly fix, and speeds up from its first fix inside a "
    "zone; the fleet does both at the true moment"))


@pytest.mark.parametrize("where", [pytest.param(Where.HOME, marks=REST_DISAGREES), pytest.param(Where.STILL, marks=REST_DISAGREES),
                                   pytest.param(Where.MOVING, marks=MOVING_DISAGREES)], ids=lambda w: w.name.lower())
def test_gps_fixes_received_where_the_subject_was_agree(gps: Both, where: Where) -> None:
    result = paired(f"GPS fixes received per subject-day, taken {where.value}", gps, per_day(fixes_received_where(where)))
    assert result.agrees(), str(result)


def test_gps_fix_latency_agrees(gps: Both) -> None:
    # From the fix to its batch at the centre: up to an upload interval, and a flat spell's hold.
    result = paired("GPS fix to centre, mean s", gps, fix_latency)
    assert result.agrees(), str(result)


def status_latency(wearer: Wearer, records: list[Telemetry], end: float) -> float:
    return float(np.mean([r.receive_time - r.event_time for r in first_copies(records, Kind.GPS_STATUS) if r.event_time < end]))


def test_gps_upload_latency_agrees(gps: Both) -> None:
    # From an upload (its status's event time) to the centre: the link's latency, resends after a
    # loss or a lost ack, and what a flat battery holds.
    result = paired("GPS upload to centre, mean s", gps, status_latency)
    assert result.agrees(), str(result)


def exclusion_episodes(wearer: Wearer, records: list[Telemetry], end: float) -> float:
    """Runs of received fixes inside an exclusion zone, as the reference policy opens and ends
    them (the first fix inside opens one, the first outside ends it; no accuracy)."""
    rows, _ = fixes(records, end)
    rows = np.sort(rows, order="time")
    lat0, lon0 = BASE.town.lat, BASE.town.lon
    x = (rows["lon"] - lon0) * M_PER_DEG * math.cos(math.radians(lat0))
    y = (rows["lat"] - lat0) * M_PER_DEG
    inside = np.zeros(len(rows), dtype=bool)
    for z in wearer.subject.exclusions:
        inside |= np.hypot(x - z.x, y - z.y) <= z.radius_m
    return rising(inside.tolist())


def test_gps_exclusion_zone_episodes_agree(gps: Both) -> None:
    result = paired("GPS exclusion-zone episodes in received fixes", gps, exclusion_episodes)
    assert result.full.sum() >= 10, f"too few to test: {result}"
    assert result.agrees(), str(result)


@pytest.mark.xfail(strict=True, reason=(
    "indoors in curfew the GPS stub flags a zone violation whenever its fix's error carries it out "
    "of the home inclusion zone; the fleet flags only true violations"))
def test_gps_zone_violation_reports_agree(gps: Both) -> None:
    # Episodes as the tag flags them: in an exclusion zone, or out of the home zone in curfew.
    result = paired("GPS zone-violation flag episodes", gps, status_episodes(GpsFlags.ZONE_VIOLATION))
    assert result.full.sum() >= 10, f"too few to test: {result}"
    assert result.agrees(), str(result)


def test_gps_message_gaps_agree(gps: Both) -> None:
    result = paired("GPS message gaps", gps, message_gaps(GPS.upload_interval_s, POLICY.no_contact_gps_intervals))
    assert result.full.sum() >= 10, f"too few to test: {result}"
    assert result.agrees(), str(result)


def test_gps_tamper_reports_agree(gps: Both) -> None:
    result = paired("GPS strap-open reports", gps, status_episodes(GpsFlags.STRAP_OPEN))
    assert result.full.sum() >= 10, f"too few to test: {result}"
    assert result.agrees(), str(result)


# --- alcohol ---------------------------------------------------------------------------------

_TAMPERS = AlcoholFlags.STRAP_TAMPER | AlcoholFlags.TEMPERATURE_TAMPER | AlcoholFlags.IR_OBSTRUCTION


def readings(records: list[Telemetry], end: float) -> list[Telemetry]:
    return [r for r in first_copies(records, Kind.ALCOHOL_READING) if r.event_time < end]


def drinking_detected(wearer: Wearer, records: list[Telemetry], end: float) -> float:
    """Runs of consecutive readings at or over the threshold: episodes the centre sees."""
    return rising([r.value >= ALCOHOL.tac_threshold_mg_dl for r in readings(records, end)])


def alcohol_latency(wearer: Wearer, records: list[Telemetry], end: float) -> float:
    got = readings(records, end)
    return float(np.mean([r.receive_time - r.event_time for r in got]))


def alcohol_tampers(wearer: Wearer, records: list[Telemetry], end: float) -> float:
    return rising([bool(r.flags & _TAMPERS) for r in readings(records, end)])


def test_drinking_episodes_detected_agree(alcohol: Both) -> None:
    result = paired("drinking episodes detected", alcohol, drinking_detected)
    assert result.full.sum() >= 30, f"too few to test: {result}"
    assert result.agrees(), str(result)


def test_alcohol_upload_latency_agrees(alcohol: Both) -> None:
    result = paired("alcohol reading upload latency, mean s", alcohol, alcohol_latency)
    assert result.agrees(), str(result)


@pytest.mark.xfail(strict=True, reason=(
    "the alcohol stub has no strap sensor and never sets STRAP_TAMPER; the fleet flags every reading "
    "taken during a removal so, and uploads it at once"))
def test_alcohol_tamper_reports_agree(alcohol_removers: Both) -> None:
    # A removal at full fidelity reaches the stub only as what its sensors read, and the world
    # gives them the skin's TAC and temperature as if the tag were worn: nothing is reported.
    result = paired("alcohol tamper reports", alcohol_removers, alcohol_tampers)
    assert result.fleet.sum() >= 10, f"too few to test: {result}"
    assert result.agrees(), str(result)


# --- reproducible ----------------------------------------------------------------------------


def test_full_fidelity_is_reproducible_and_a_subject_added_changes_no_one_else() -> None:
    # A day of two GPS subjects and an alcohol subject (to its first daily upload): the first two
    # alone, twice, then all three.
    days = 1
    people = wearers(Slot.GPS_TAG, 2, days, strap_remover=True) + wearers(Slot.ALCOHOL_TAG, 1, days, strap_remover=True)
    until = DAY_S + ALCOHOL.reading_interval_s
    alone = run(people[:2], scenario(days), SUPPLIER, until)
    again = run(people[:2], scenario(days), SUPPLIER, until)
    joined = run(people, scenario(days), SUPPLIER, until)
    for a, b, c in zip(alone.tags, again.tags, joined.tags[:2], strict=True):
        assert len(a.records) > 10
        assert a.records == b.records == c.records
    assert joined.tags[2].records and joined.tags[2].device not in {t.device for t in alone.tags}
