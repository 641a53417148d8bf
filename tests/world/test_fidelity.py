"""Two fidelities, one model: the fleet's RF curfew models against the real stubs, beacon by beacon.

The same subjects (at home but for a two-hour trip each day, curfew every
night) run at full fidelity (``sim.world.full``: every beacon through the
real ``RfTag`` and ``BaseUnit``, every frame and ack over a lossy link to the
real ``Receiver``) and at fleet fidelity (``sim.world.channel``,
``sim.world.devices``, ``sim.links.network``). Each test states what it
counts, both rates, and a 95% interval; a rate outside it fails.

The full-fidelity runs are the cost here (about 20,000 beacons a second on
one core, so some 15 s a run); each is made once per module and shared.

These tests can fail. Checked by hand against the same full-fidelity run:
with the fleet's ``bad_to_good`` at 0.06 for the full run's 0.05, the strong
channel's full/fleet interval is [1.03, 1.47]; with the fleet's leave time at
280 s for 300 s, [0.65, 0.92]; with the fleet's link loss at 0.08 for 0.1, its
share of frames received only from a resend (0.081) falls below the full
run's interval [0.091, 0.126]. A 10% error in ``bad_to_good`` passes: that is
the resolution of 40 subject-days.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, replace

import numpy as np
import pytest
from scipy.stats import binomtest

from firmware_stubs.protocol import Frame, decode_frame, encode_frame
from sim.centre.receiver import Receiver
from sim.detector.cases import CaseBook, Curfew
from sim.detector.telemetry import Kind, Telemetry
from sim.links.network import deliver
from sim.scenario import NetworkParams, RfChannel, load_scenario, load_supplier
from sim.world.channel import spurious_leaves
from sim.world.devices import UnitInputs, base_unit, curfew_windows
from sim.world.draws import DAY_S, HOUR_S
from sim.world.full import FullRun, RfSubject, SubjectRun, run
from sim.intervals import EMPTY, union

SEED = 1
SUPPLIER = load_supplier("supplier-b")  # the noisier shipped RF channel
DEVICES = SUPPLIER.devices
TAG, UNIT, UPLINK = DEVICES.rf_tag, DEVICES.base_unit, DEVICES.uplink
# Ten times as often into the bad state as the shipped suppliers (about 20 times a subject-day)
# and 20 beacons there on average (supplier B: 12.5): about 3.7 spurious leaves a subject-day,
# so 40 subject-days count them in the hundreds.
STRONG = replace(SUPPLIER.rf_channel, good_to_bad=0.003, bad_to_good=0.05)
# The smoke scenario's network with ten times its loss, so resends count in the hundreds. Full
# fidelity models loss and latency only, so the fleet's link has no duplication, reordering
# or corruption either.
LINK = replace(load_scenario("smoke").network, loss=0.1, duplicate=0.0, reorder=0.0, corrupt=0.0)

SUBJECTS = 20
DAYS = 2
END = DAYS * DAY_S  # everything is counted in [0, END)
# Run on, all at home, for one status check and the longest resend wait, so what the unit
# declared before END reaches the centre.
DRAIN_S = UNIT.status_interval_s + UPLINK.max_backoff_s
CURFEW = Curfew(days=0x7F, start_s=round(19 * HOUR_S), duration_s=round(12 * HOUR_S))  # every night, 7 pm to 7 am
TRIP_S = 2 * HOUR_S
FLEET_REPEATS = 100  # the fleet draws the same subjects this many times over: it is cheap
DELIVER_REPEATS = 20


def subjects(tampers: bool) -> list[RfSubject]:
    """Out on a two-hour trip each day, starting between 9 am and noon; with ``tampers``,
    every fourth subject has a strap cut for an hour at home on day 1, and the next one
    has it cut and mended within the first day's trip."""
    out = []
    for i in range(SUBJECTS):
        leave = (9 + i % 4) * HOUR_S
        away = np.array([[d * DAY_S + leave, d * DAY_S + leave + TRIP_S] for d in range(DAYS)])
        cut = EMPTY
        if tampers and i % 4 == 0:
            cut = np.array([[DAY_S + 15 * HOUR_S, DAY_S + 16 * HOUR_S]])
        elif tampers and i % 4 == 1:
            cut = np.array([[leave + TRIP_S / 4, leave + 3 * TRIP_S / 4]])
        out.append(RfSubject(i, CURFEW, away, cut))
    return out


@pytest.fixture(scope="module")
def strong() -> tuple[list[RfSubject], FullRun]:
    people = subjects(tampers=True)
    started = time.perf_counter()
    result = run(people, END + DRAIN_S, DEVICES, STRONG, LINK, SEED)
    seconds = time.perf_counter() - started
    beacons = sum(s.beacons for s in result.subjects)
    print(f"full fidelity: {beacons} beacons in {seconds:.1f} s, {beacons / seconds:.0f} a second")
    return people, result


@pytest.fixture(scope="module")
def shipped() -> tuple[list[RfSubject], FullRun]:
    people = subjects(tampers=False)
    return people, run(people, END + DRAIN_S, DEVICES, SUPPLIER.rf_channel, LINK, SEED + 1)


# --- counting ------------------------------------------------------------------------------------


def home_days(people: list[RfSubject]) -> float:
    return sum(float(np.diff(p.at_home(END)).sum()) for p in people) / DAY_S


def split_leaves(result: SubjectRun, home: np.ndarray) -> tuple[int, int]:
    """(spurious, real): a leave is spurious if it was declared, and the tag heard again,
    within one at-home interval; otherwise it is the real departure (perhaps declared early)."""
    back = np.append(result.returns, np.inf)[np.searchsorted(result.returns, result.leaves, side="right")]
    i = np.searchsorted(home[:, 0], result.leaves, side="right") - 1
    spurious = (i >= 0) & (result.leaves < home[i, 1]) & (back < home[i, 1])
    real = (result.leaves < END) & ~spurious
    return int(spurious.sum()), int(real.sum())


@dataclass(frozen=True)
class Agreement:
    """Full-fidelity events against the fleet's, as a rate ratio with its exact 95% interval
    (conditional on the total, the full-fidelity count is binomial under equal rates)."""

    full: int
    full_exposure: float
    fleet: int
    fleet_exposure: float

    def ratio_interval(self) -> tuple[float, float]:
        share = binomtest(self.full, self.full + self.fleet).proportion_ci(0.95)
        odds = self.fleet_exposure / self.full_exposure
        hi = np.inf if share.high >= 1 else share.high / (1 - share.high) * odds
        return share.low / (1 - share.low) * odds, hi

    def __str__(self) -> str:
        lo, hi = self.ratio_interval()
        return (f"full {self.full}/{self.full_exposure:.4g} = {self.full / self.full_exposure:.4g}, "
                f"fleet {self.fleet}/{self.fleet_exposure:.4g} = {self.fleet / self.fleet_exposure:.4g}, "
                f"full/fleet 95% interval [{lo:.3f}, {hi:.3f}]")

    def agrees(self) -> bool:
        lo, hi = self.ratio_interval()
        return lo <= 1.0 <= hi


def leave_agreement(people: list[RfSubject], result: FullRun, channel: RfChannel) -> Agreement:
    """Spurious leaves per at-home subject-day at both fidelities; also checks every trip gave
    exactly one real leave at full fidelity."""
    full = 0
    for person, subject_run in zip(people, result.subjects, strict=True):
        spurious, real = split_leaves(subject_run, person.at_home(END))
        assert real == len(person.away), f"subject {person.index}: {real} real leaves for {len(person.away)} trips"
        full += spurious
    homes = np.concatenate([p.at_home(END) for p in people] * FLEET_REPEATS)
    fleet = spurious_leaves(channel, homes, TAG.beacon_interval_min_s, TAG.beacon_interval_max_s, UNIT.leave_time_s,
                            np.random.default_rng(SEED))
    days = home_days(people)
    return Agreement(full, days, len(fleet), days * FLEET_REPEATS)


# --- spurious leaves -----------------------------------------------------------------------------


def test_spurious_leaves_agree_on_a_channel_with_much_bad_time(strong: tuple[list[RfSubject], FullRun]) -> None:
    agreement = leave_agreement(*strong, STRONG)
    print(f"spurious leaves per at-home subject-day, {STRONG}: {agreement}")
    assert agreement.full >= 100, f"too few to test: {agreement}"
    assert agreement.agrees(), str(agreement)


def test_spurious_leaves_agree_on_a_shipped_channel(shipped: tuple[list[RfSubject], FullRun]) -> None:
    # About one in six subject-days: a handful in 40, so this catches gross errors only.
    agreement = leave_agreement(*shipped, SUPPLIER.rf_channel)
    print(f"spurious leaves per at-home subject-day, {SUPPLIER.name}: {agreement}")
    assert agreement.agrees(), str(agreement)


# --- upload losses -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Uploads:
    """The base units' frames first sent before END, and how they got to the centre."""

    frames: int
    late: int  # the centre got them only from a resend (first copy received a timeout or more after it went)
    resent: int  # the unit sent them more than once
    fleet_frames: int  # the same frames, from the same times, through ``deliver``, DELIVER_REPEATS times
    fleet_late: int  # of those, first received from a resend
    fleet_resent: int  # of those, sent more than once: first copy failed, or its ack was lost

    def interval(self, count: int) -> tuple[float, float]:
        """Exact 95% interval of a full-fidelity share of ``frames``."""
        ci = binomtest(count, self.frames).proportion_ci(0.95)
        return ci.low, ci.high

    def describe(self, count: int, fleet: int, what: str) -> str:
        lo, hi = self.interval(count)
        return (f"{what}: full {count}/{self.frames} = {count / self.frames:.4f} (95% [{lo:.4f}, {hi:.4f}]), "
                f"fleet {fleet}/{self.fleet_frames} = {fleet / self.fleet_frames:.4f}")


def uploads(result: FullRun, link: NetworkParams) -> Uploads:
    """Counted at full fidelity and through ``deliver`` over ``link``."""
    frames = late = resent = fleet_frames = fleet_late = fleet_resent = 0
    rng = np.random.default_rng(SEED)
    for subject_run in result.subjects:
        keep = subject_run.first_sent < END
        sent_at, copies = subject_run.first_sent[keep], subject_run.copies[keep]
        wires = [w for w, k in zip(subject_run.frames, keep.tolist(), strict=True) if k]
        received: dict[int, float] = {}
        for record in subject_run.records:
            received.setdefault(record.seq, record.receive_time)
        seqs = [decode_frame(w[1:-1]).seq for w in wires]
        missing = [s for s in seqs if s not in received]
        assert not missing, f"subject {subject_run.subject}: frames {missing} never reached the centre"
        frames += len(wires)
        late += int(np.count_nonzero(np.array([received[s] for s in seqs]) - sent_at >= UPLINK.retransmit_timeout_s))
        resent += int(np.count_nonzero(copies > 1))
        for _ in range(DELIVER_REPEATS):
            delivery = deliver(wires, sent_at, link, UPLINK, EMPTY, rng)
            index, first = np.unique(delivery.frame_index, return_index=True)
            fleet_frames += len(wires)
            came_late = delivery.arrive_at[first] - sent_at[index] >= UPLINK.retransmit_timeout_s
            fleet_late += int(np.count_nonzero(came_late))
            # The link here neither duplicates nor corrupts: a second copy is a resend after a lost ack.
            fleet_resent += int(np.count_nonzero(came_late | (np.bincount(delivery.frame_index, minlength=len(wires))[index] > 1)))
    return Uploads(frames, late, resent, fleet_frames, fleet_late, fleet_resent)


@pytest.fixture(scope="module")
def strong_uploads(strong: tuple[list[RfSubject], FullRun]) -> Uploads:
    return uploads(strong[1], LINK)


def test_frames_that_reach_the_centre_only_by_a_resend_agree(strong_uploads: Uploads) -> None:
    # What the centre sees: how many frames came late, by a resend, because their first copy was
    # lost. The fleet's share (from 20 times the frames) is taken as exact; the interval is the
    # full-fidelity share's.
    up = strong_uploads
    print(up.describe(up.late, up.fleet_late, f"frames received only from a resend, link loss {LINK.loss}"))
    lo, hi = up.interval(up.late)
    assert lo <= up.fleet_late / up.fleet_frames <= hi, up.describe(up.late, up.fleet_late, "frames received only from a resend")


def test_frames_the_unit_resends_agree(strong_uploads: Uploads) -> None:
    # A frame is resent if its copy or its ack was lost (loss both ways); go-back-N's resends of
    # the rest of a window after a loss are left out of ``deliver`` and must stay within the interval.
    up = strong_uploads
    print(up.describe(up.resent, up.fleet_resent, f"frames resent, link loss {LINK.loss} both ways"))
    lo, hi = up.interval(up.resent)
    assert lo <= up.fleet_resent / up.fleet_frames <= hi, up.describe(up.resent, up.fleet_resent, "frames resent")


def test_the_full_fidelity_network_loses_copies_at_its_loss_rate_both_ways(strong: tuple[list[RfSubject], FullRun]) -> None:
    # Each copy is lost with the link's loss, frames to the centre and acks back alike: a
    # two-sided binomial test at 1% on the whole run (one seed, so the outcome is fixed).
    result = strong[1]
    sent_up = sum(s.sent for s in result.subjects)
    lost_up = sum(s.lost_up for s in result.subjects)
    lost_down = sum(s.lost_down for s in result.subjects)
    acks = result.receiver.stats.acks_sent
    assert sent_up > 500 and acks > 500
    assert binomtest(lost_up, sent_up, LINK.loss).pvalue > 0.01, (lost_up, sent_up)
    assert binomtest(lost_down, acks, LINK.loss).pvalue > 0.01, (lost_down, acks)


# --- tampers -------------------------------------------------------------------------------------


def event_times(records: list[Telemetry], kind: Kind) -> np.ndarray:
    """One time per frame (by sequence number), however many copies arrived."""
    seen = {r.seq: r.event_time for r in records if r.kind is kind}
    return np.sort(np.fromiter(seen.values(), float, len(seen)))


def fleet_tampers(person: RfSubject, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """STRAP_TAMPER and TAMPER_CLEARED times at the centre when ``person`` runs at fleet fidelity
    on the strong channel: the unit's model, ``deliver``, and the real receiver."""
    spurious = spurious_leaves(STRONG, person.at_home(END), TAG.beacon_interval_min_s, TAG.beacon_interval_max_s,
                               UNIT.leave_time_s, rng)
    away = person.away[person.away[:, 1] - person.away[:, 0] > UNIT.leave_time_s]
    gone = union(np.column_stack((away[:, 0] + UNIT.leave_time_s, away[:, 1])), spurious)
    box, _ = base_unit(UnitInputs(person.tag_id, END, curfew_windows(person.curfew, END), gone, person.strap_cut, EMPTY),
                       DEVICES, rng)
    wires = [encode_frame(Frame(person.unit_id, seq, round(t * 1000), m))
             for seq, (t, m) in enumerate(zip(box.event_time, box.messages, strict=True))]
    delivery = deliver(wires, np.asarray(box.ready_at), LINK, UPLINK, EMPTY, rng)
    receiver = Receiver(CaseBook([person.case()]))
    records = [r for t, d in zip(delivery.arrive_at.tolist(), delivery.data, strict=True)
               for r in receiver.receive(person.unit_id, d, t)]
    return event_times(records, Kind.STRAP_TAMPER), event_times(records, Kind.TAMPER_CLEARED)


def cut_at_home(person: RfSubject) -> bool:
    if not len(person.strap_cut):
        return False
    (start, stop), away = person.strap_cut[0], person.away
    return not np.any((away[:, 0] < stop) & (start < away[:, 1]))


def test_a_strap_cut_at_home_gives_one_tamper_and_one_clear_at_both_fidelities(
        strong: tuple[list[RfSubject], FullRun]) -> None:
    people, result = strong
    rng = np.random.default_rng(SEED)
    checked = 0
    for person, subject_run in zip(people, result.subjects, strict=True):
        if not cut_at_home(person):
            continue
        start, stop = person.strap_cut[0]
        for fidelity, (tamper, cleared) in (("full", (subject_run.strap_tampers, subject_run.tampers_cleared)),
                                            ("fleet", fleet_tampers(person, rng))):
            where = f"subject {person.index} at {fidelity} fidelity, cut [{start}, {stop}): tamper {tamper}, cleared {cleared}"
            assert len(tamper) == 1 and len(cleared) == 1, where
            assert start <= tamper[0] < stop <= cleared[0], where
        checked += 1
    assert checked == SUBJECTS // 4


def away_cuts(people: list[RfSubject]) -> list[int]:
    return [i for i, p in enumerate(people) if len(p.strap_cut) and not cut_at_home(p)]


def test_a_strap_cut_while_away_is_reported_on_return_at_full_fidelity(strong: tuple[list[RfSubject], FullRun]) -> None:
    # The tag latches the flag until a beacon carrying it is acked (DOMAIN.md: "a tamper while
    # away is reported on return").
    people, result = strong
    for i in away_cuts(people):
        person, subject_run = people[i], result.subjects[i]
        home_again = person.away[0, 1]
        where = f"subject {i}: tamper {subject_run.strap_tampers}, cleared {subject_run.tampers_cleared}, home at {home_again}"
        assert len(subject_run.strap_tampers) == 1 and len(subject_run.tampers_cleared) == 1, where
        assert home_again <= subject_run.strap_tampers[0] < subject_run.tampers_cleared[0], where


def test_the_fleet_reports_a_strap_cut_while_away_on_return(strong: tuple[list[RfSubject], FullRun]) -> None:
    people = strong[0]
    rng = np.random.default_rng(SEED)
    for i in away_cuts(people):
        tamper, cleared = fleet_tampers(people[i], rng)
        assert len(tamper) == 1 and len(cleared) == 1, f"subject {i}: tamper {tamper}, cleared {cleared}"


def test_a_strap_cut_while_away_is_cleared_about_one_beacon_after_its_report_at_both_fidelities(
        strong: tuple[list[RfSubject], FullRun]) -> None:
    # The report's beacon is acked and the tag clears its latch: the next beacon heard clears it
    # at the unit. At full fidelity a lost beacon can add an interval; never less than one.
    people, result = strong
    rng = np.random.default_rng(SEED)
    checked = 0
    for i in away_cuts(people):
        fleet = fleet_tampers(people[i], rng)
        full = (result.subjects[i].strap_tampers, result.subjects[i].tampers_cleared)
        for fidelity, (tamper, cleared), most in (("full", full, UNIT.leave_time_s), ("fleet", fleet, TAG.beacon_interval_max_s)):
            where = f"subject {i} at {fidelity} fidelity: tamper {tamper}, cleared {cleared}"
            assert TAG.beacon_interval_min_s <= cleared[0] - tamper[0] <= most, where
        checked += 1
    assert checked == SUBJECTS // 4
