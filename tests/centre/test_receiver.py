"""The centre's receiver: wire frames in, detector records out, acks back in order."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from firmware_stubs.kinds import build_standalone
from firmware_stubs.reliable import ReliableUplink
from firmware_stubs.protocol import (
    Ack,
    AlcoholFlags,
    AlcoholReading,
    BaseEventCode,
    BaseUnitEvent,
    Config,
    DeviceBoot,
    Frame,
    GpsFixBatch,
    GpsFlags,
    GpsStatus,
    Message,
    QueueOverflow,
    Rejection,
    RfBeacon,
    StreamDecoder,
    TagFlags,
    TimeSync,
    UnitFlags,
    encode_frame,
    make_wire_fixes,
)
from firmware_stubs.wiring import Machine
from receiver_cases import ALCOHOL, CASES, GPS, STRANGER, TAG, UNIT
from sim.centre import REBOOT_MARGIN, Receiver
from sim.detector.sequence import SequenceWindow
from sim.detector.telemetry import (
    FIX_DTYPE,
    TAG_CASE_OPEN,
    TAG_STRAP_SEVERED,
    UNIT_ON_BACKUP,
    UNIT_VIOLATION,
    Kind,
    Telemetry,
    from_batch,
    to_batch,
)
from sim.scenario import default_device_params

SUBJECT = {UNIT: 1, TAG: 1, GPS: 2, ALCOHOL: 3}
T0_MS = 1_700_000_000_000  # a device clock in 2023, in ms
STATUS = BaseUnitEvent(BaseEventCode.STATUS_CHECK, TAG, TagFlags.NONE, UnitFlags.TAG_PRESENT, 97)


def wire(seq: int, message: Message = STATUS, device: int = UNIT, t_ms: int | None = None) -> bytes:
    return encode_frame(Frame(device, seq, T0_MS + seq * 1000 if t_ms is None else t_ms, message))


def acks(receiver: Receiver, link: object = "a") -> list[tuple[int, int]]:
    """(device, acked seq) of each ack owed on ``link``, checking each is an unsequenced ack."""
    out = []
    for frame in StreamDecoder().feed(receiver.take_acks(link)):
        assert isinstance(frame.message, Ack) and frame.seq == 0
        out.append((frame.device_id, frame.message.seq))
    return out


def feed_seqs(receiver: Receiver, seqs: list[int], now: float = 5.0) -> list[Telemetry]:
    return receiver.receive("a", b"".join(wire(s) for s in seqs), now)


# --- mapping -------------------------------------------------------------------------


def test_every_base_unit_event_code_maps_to_the_kind_with_its_number() -> None:
    receiver = Receiver(CASES)
    kinds = []
    for seq, code in enumerate(BaseEventCode):
        event = BaseUnitEvent(code, TAG, TagFlags.NONE, UnitFlags.NONE, seq)
        (record,) = receiver.receive("a", wire(seq, event, t_ms=T0_MS + 250 * seq), 1000.0 + seq)
        assert record == Telemetry(UNIT, 1, Kind[code.name], (T0_MS + 250 * seq) / 1000, 1000.0 + seq, seq, 0, float(seq))
        assert record.kind == int(code)
        kinds.append(record.kind)
    assert sorted(kinds) == [Kind(n) for n in range(1, 12)]


def test_base_unit_flags_carry_the_tag_in_the_low_byte_and_the_unit_in_the_high() -> None:
    event = BaseUnitEvent(
        BaseEventCode.STRAP_TAMPER,
        TAG,
        TagFlags.STRAP_SEVERED | TagFlags.CASE_OPEN,
        UnitFlags.ON_BACKUP_BATTERY | UnitFlags.VIOLATION,
        42,
    )
    (record,) = Receiver(CASES).receive("a", wire(7, event), 9.0)
    assert record.flags == TAG_STRAP_SEVERED | TAG_CASE_OPEN | UNIT_ON_BACKUP | UNIT_VIOLATION == 0x0905
    assert (record.kind, record.value, record.seq, record.subject) == (Kind.STRAP_TAMPER, 42.0, 7, 1)


def test_a_gps_batch_becomes_one_record_with_its_fixes_in_physical_units() -> None:
    time_ms = [T0_MS, T0_MS + 1, 18_446_744_073_709, 0]
    lat_e7 = [515_072_001, -900_000_000, 900_000_000, -1]
    lon_e7 = [-1_234_567, 1_800_000_000, -1_800_000_000, 7]
    accuracy_dm = [47, 0, 65535, 1]
    batch = GpsFixBatch(make_wire_fixes(time_ms, lat_e7, lon_e7, accuracy_dm, [9, 0, 12, 3]))
    (record,) = Receiver(CASES).receive("a", wire(3, batch, device=GPS, t_ms=T0_MS + 60_000), 2000.0)
    assert (record.device, record.subject, record.kind, record.seq) == (GPS, 2, Kind.GPS_FIXES, 3)
    assert (record.event_time, record.receive_time) == ((T0_MS + 60_000) / 1000, 2000.0)
    fixes = record.fixes
    assert fixes is not None and fixes.dtype == FIX_DTYPE and len(fixes) == 4
    for i in range(4):
        assert fixes["time"][i] == time_ms[i] / 1000
        assert fixes["lat"][i] == lat_e7[i] / 1e7
        assert fixes["lon"][i] == lon_e7[i] / 1e7
        assert fixes["accuracy_m"][i] == np.float32(accuracy_dm[i] / 10)


def test_an_empty_gps_batch_is_a_record_with_no_fixes() -> None:
    empty = GpsFixBatch(make_wire_fixes([], [], [], [], []))
    (record,) = Receiver(CASES).receive("a", wire(0, empty, device=GPS), 1.0)
    assert record.kind is Kind.GPS_FIXES and record.fixes is not None
    assert record.fixes.dtype == FIX_DTYPE and len(record.fixes) == 0


def test_gps_status_and_alcohol_reading_map_flags_and_value() -> None:
    receiver = Receiver(CASES)
    status = GpsStatus(63, GpsFlags.CHARGING | GpsFlags.BATTERY_LOW | GpsFlags.ZONE_VIOLATION)
    reading = AlcoholReading(23, -150, AlcoholFlags.IR_OBSTRUCTION | AlcoholFlags.BATTERY_LOW)
    records = receiver.receive("a", wire(5, status, device=GPS) + wire(6, reading, device=ALCOHOL), 50.0)
    assert records == [
        Telemetry(GPS, 2, Kind.GPS_STATUS, (T0_MS + 5000) / 1000, 50.0, 5, 0x51, 63.0),
        Telemetry(ALCOHOL, 3, Kind.ALCOHOL_READING, (T0_MS + 6000) / 1000, 50.0, 6, 0x09, 23.0),
    ]


# --- the byte stream -------------------------------------------------------------------


def test_frames_split_byte_by_byte_or_merged_give_the_same_records() -> None:
    stream = wire(0) + wire(1, GpsStatus(80), device=GPS) + wire(2, AlcoholReading(0, 3300), device=ALCOHOL)
    merged = Receiver(CASES).receive("a", stream, 7.0)
    split = Receiver(CASES)
    got: list[Telemetry] = []
    completed_at = []
    for i in range(len(stream)):
        new = split.receive("a", stream[i : i + 1], 7.0)
        got += new
        completed_at += [i] * len(new)
    assert [r.kind for r in merged] == [Kind.STATUS_CHECK, Kind.GPS_STATUS, Kind.ALCOHOL_READING]
    assert got == merged
    # Each record comes out with the trailing delimiter of its own frame, not later.
    ends = np.cumsum([len(wire(0)), len(wire(1, GpsStatus(80), device=GPS)), len(wire(2, AlcoholReading(0, 3300), device=ALCOHOL))])
    assert completed_at == list(ends - 1)


def test_each_link_has_its_own_decoder() -> None:
    receiver = Receiver(CASES)
    first, second = wire(0), wire(0, GpsStatus(70), device=GPS)
    assert receiver.receive("a", first[:5], 1.0) == []
    assert receiver.receive("b", second[:9], 1.0) == []
    assert [r.device for r in receiver.receive("a", first[5:], 2.0)] == [UNIT]
    assert [r.device for r in receiver.receive("b", second[9:], 2.0)] == [GPS]
    assert receiver.stats.rejected_total == 0


def test_garbage_between_frames_is_counted_and_set_aside_and_the_frames_around_it_kept() -> None:
    receiver = Receiver(CASES)
    corrupt = bytearray(wire(1))
    corrupt[10] ^= 0x40  # a flipped bit inside the body: the CRC catches it
    stream = wire(0) + bytes(corrupt) + b"\x13\x37noise" + wire(2)
    records = receiver.receive("a", stream, 3.0)
    assert [r.seq for r in records] == [0, 2]
    assert receiver.stats.rejected[Rejection.CRC] == 1
    assert receiver.stats.rejected_total == 2  # the noise, glued to frame 2's leading delimiter
    assert [(s.link, s.reason) for s in receiver.set_aside][0] == ("a", "crc")
    assert receiver.set_aside[0].item == bytes(corrupt).strip(b"\x00").hex()
    # Garbage in a later chunk costs nothing already decoded, and the stream recovers.
    assert receiver.receive("a", b"\xff" * 5000 + b"\x00", 4.0) == []
    assert receiver.stats.rejected[Rejection.OVERSIZE] == 1
    assert [r.seq for r in receiver.receive("a", wire(3), 5.0)] == [3]
    assert receiver.stats.frames == 3 and receiver.stats.records == 3


def test_a_device_no_case_names_is_set_aside_and_not_acked() -> None:
    receiver = Receiver(CASES)
    assert receiver.receive("a", wire(0, device=STRANGER) + wire(0), 1.0) == [
        Telemetry(UNIT, 1, Kind.STATUS_CHECK, T0_MS / 1000, 1.0, 0, 0x0400, 97.0)
    ]
    assert acks(receiver) == [(UNIT, 0)]
    assert receiver.stats.unknown_device == 1 and receiver.stats.acks_sent == 1
    (aside,) = receiver.set_aside
    assert aside.reason == "unknown_device" and aside.item == Frame(STRANGER, 0, T0_MS, STATUS)


def test_beacons_commands_and_device_acks_are_counted_not_recorded_nor_acked() -> None:
    receiver = Receiver(CASES)
    stream = (
        wire(11, RfBeacon(TagFlags.CASE_OPEN), device=TAG)
        + wire(3, TimeSync(T0_MS))
        + wire(4, Config())
        + encode_frame(Frame(UNIT, 0, T0_MS, Ack(3)))
    )
    assert receiver.receive("a", stream, 1.0) == []
    assert receiver.take_acks("a") == b""
    s = receiver.stats
    assert (s.frames, s.records, s.not_for_centre, s.device_acks, s.acks_sent) == (4, 0, 3, 1, 0)
    assert [a.reason for a in receiver.set_aside] == ["not_for_centre"] * 3
    assert isinstance(receiver.set_aside[0].item, Frame) and receiver.set_aside[0].item.device_id == TAG


# --- acks ------------------------------------------------------------------------------


def test_acks_are_cumulative_in_order_and_stamped_with_the_centre_time() -> None:
    receiver = Receiver(CASES)
    feed_seqs(receiver, [0, 1, 2], now=12.3456)
    frames = StreamDecoder().feed(receiver.take_acks("a"))
    assert frames == [Frame(UNIT, 0, 12346, Ack(s)) for s in (0, 1, 2)]
    assert receiver.take_acks("a") == b""  # taken once


def test_a_gap_re_acks_the_last_contiguous_until_it_fills() -> None:
    receiver = Receiver(CASES)
    records = feed_seqs(receiver, [0, 2, 3])
    assert acks(receiver) == [(UNIT, 0), (UNIT, 0), (UNIT, 0)]
    records += feed_seqs(receiver, [1, 2, 3])  # go-back-N: the lost frame, then the rest again
    assert acks(receiver) == [(UNIT, 1), (UNIT, 2), (UNIT, 3)]
    assert [r.seq for r in records] == [0, 2, 3, 1, 2, 3]  # duplicates passed on; the detector drops them


def test_duplicates_are_re_acked_and_passed_on() -> None:
    receiver = Receiver(CASES)
    records = feed_seqs(receiver, [0, 1, 2, 0, 1, 2, 1])
    assert [a for _, a in acks(receiver)] == [0, 1, 2, 2, 2, 2, 2]
    assert [r.seq for r in records] == [0, 1, 2, 0, 1, 2, 1]
    assert receiver.stats.acks_sent == 7


def test_acks_go_back_on_the_link_each_frame_came_in_on() -> None:
    receiver = Receiver(CASES)
    receiver.receive("a", wire(0), 1.0)
    receiver.receive("b", wire(1), 2.0)  # the device reconnected on another link
    receiver.receive("b", wire(3, GpsStatus(50), device=GPS), 2.0)
    assert acks(receiver, "a") == [(UNIT, 0)]
    assert acks(receiver, "b") == [(UNIT, 1), (GPS, 3)]  # tracked per device, across links


def test_the_first_frame_heard_starts_a_devices_tracking_where_it_stands() -> None:
    receiver = Receiver(CASES)
    feed_seqs(receiver, [500, 501, 503])
    assert [a for _, a in acks(receiver)] == [500, 501, 501]


def test_a_device_fitted_new_waits_for_its_seq_0() -> None:
    # Not told, the centre starts at the first frame it hears and acks over a lost seq 0.
    told, untold = Receiver(CASES), Receiver(CASES)
    told.fitted_new(UNIT)
    feed_seqs(told, [1, 2])
    feed_seqs(untold, [1, 2])
    assert [a for _, a in acks(untold)] == [1, 2]
    assert [a for _, a in acks(told)] == [65535, 65535]  # nothing yet: the device keeps seq 0 and resends it
    feed_seqs(told, [0, 1, 2])
    assert [a for _, a in acks(told)] == [0, 1, 2]


def test_an_ordinary_wrap_is_not_a_restart() -> None:
    receiver = Receiver(CASES)
    records = feed_seqs(receiver, [65533, 65534, 65535, 0, 1])
    assert [r.kind for r in records] == [Kind.STATUS_CHECK] * 5
    assert [a for _, a in acks(receiver)] == [65533, 65534, 65535, 0, 1]
    assert receiver.stats.reboots == 0


# --- restarts --------------------------------------------------------------------------


def run_up(receiver: Receiver, upto: int) -> int:
    """Frames 0..upto, one a second; returns the newest event time in ms."""
    feed_seqs(receiver, list(range(upto + 1)))
    receiver.take_acks("a")
    return T0_MS + upto * 1000


def test_a_restart_emits_device_reboot_before_the_first_record_after_it() -> None:
    receiver = Receiver(CASES)
    newest_ms = run_up(receiver, 100)
    records = receiver.receive("a", wire(0, t_ms=newest_ms + 5000), 300.0)
    t = (newest_ms + 5000) / 1000
    assert records == [
        Telemetry(UNIT, 1, Kind.DEVICE_REBOOT, t, 300.0, 0),
        Telemetry(UNIT, 1, Kind.STATUS_CHECK, t, 300.0, 0, 0x0400, 97.0),
    ]
    assert receiver.stats.reboots == 1 and receiver.stats.records == 103
    receiver.receive("a", wire(1, t_ms=newest_ms + 6000), 301.0)
    assert [a for _, a in acks(receiver)] == [0, 1]  # tracking restarted at 0


def test_a_restart_at_the_same_millisecond_counts() -> None:
    receiver = Receiver(CASES)
    newest_ms = run_up(receiver, 100)
    records = receiver.receive("a", wire(0, t_ms=newest_ms), 300.0)
    assert [r.kind for r in records] == [Kind.DEVICE_REBOOT, Kind.STATUS_CHECK]


def test_a_late_copy_of_seq_0_is_not_a_restart() -> None:
    receiver = Receiver(CASES)
    run_up(receiver, 100)
    records = receiver.receive("a", wire(0), 300.0)  # its original, older event time
    assert [r.kind for r in records] == [Kind.STATUS_CHECK]
    assert acks(receiver) == [(UNIT, 100)] and receiver.stats.reboots == 0


def test_a_frame_far_behind_with_a_high_sequence_number_is_not_a_restart() -> None:
    receiver = Receiver(CASES)
    newest_ms = run_up(receiver, 200)
    # A late copy stamped after the newest (its clock was set back since): a restart starts at 0.
    records = receiver.receive("a", wire(REBOOT_MARGIN, t_ms=newest_ms + 1000), 300.0)
    assert [r.kind for r in records] == [Kind.STATUS_CHECK]
    assert acks(receiver) == [(UNIT, 200)] and receiver.stats.reboots == 0


@pytest.mark.parametrize(("newest", "restart"), [(REBOOT_MARGIN, False), (REBOOT_MARGIN + 1, True)])
def test_seq_0_must_be_more_than_the_margin_behind_the_newest(newest: int, restart: bool) -> None:
    receiver = Receiver(CASES)
    newest_ms = run_up(receiver, newest)
    records = receiver.receive("a", wire(0, t_ms=newest_ms + 1000), 300.0)
    assert (records[0].kind is Kind.DEVICE_REBOOT) is restart
    assert acks(receiver) == [(UNIT, 0 if restart else newest)]


def test_a_restart_whose_seq_0_is_overtaken_acks_nothing_until_0_arrives() -> None:
    receiver = Receiver(CASES)
    newest_ms = run_up(receiver, 100)
    records = receiver.receive("a", wire(1, t_ms=newest_ms + 2000) + wire(2, t_ms=newest_ms + 3000), 300.0)
    assert [(r.kind, r.seq) for r in records] == [(Kind.DEVICE_REBOOT, 0), (Kind.STATUS_CHECK, 1), (Kind.STATUS_CHECK, 2)]
    # 65535 is "before 0" to the device: it covers none of the new run, and certainly not up to 100.
    assert [a for _, a in acks(receiver)] == [65535, 65535]
    receiver.receive("a", wire(0, t_ms=newest_ms + 1000) + wire(1, t_ms=newest_ms + 2000), 330.0)
    assert [a for _, a in acks(receiver)] == [0, 1]
    assert receiver.stats.reboots == 1


def test_a_late_copy_from_before_a_restart_seen_is_not_another_restart_nor_a_record() -> None:
    receiver, detector = Receiver(CASES), SequenceWindow()
    newest_ms = run_up(receiver, 200)
    restart = receiver.receive("a", wire(0, t_ms=newest_ms + 5000), 300.0)
    late = receiver.receive("a", wire(163), 301.0)  # the old run's, stamped before the restart
    after = receiver.receive("a", b"".join(wire(s, t_ms=newest_ms + 6000 + s) for s in range(1, 6)), 302.0)
    assert [r.kind for r in restart + late + after] == [Kind.DEVICE_REBOOT, Kind.STATUS_CHECK] + [Kind.STATUS_CHECK] * 5
    assert late == [] and receiver.stats.late_copies == 1 and receiver.set_aside[-1].reason == "late_copy"
    assert receiver.stats.reboots == 1 and [a for _, a in acks(receiver)] == [0, 0, 1, 2, 3, 4, 5]
    # The detector's duplicate window, started afresh at the restart, takes every frame of the
    # new run: a record of the late copy would have taken it to 163 and made 1 to 5 stale.
    admitted = []
    for r in restart + late + after:
        if r.kind is Kind.DEVICE_REBOOT:
            detector.restart()
        else:
            admitted.append(detector.admit(r.seq))
    assert admitted == [True] * 6


# --- protocol 1.1: restarts said, overflows passed ----------------------------------------------


def test_a_device_boot_is_a_record_and_counts_the_restarts_its_count_shows() -> None:
    receiver = Receiver(CASES)
    newest_ms = run_up(receiver, 100)
    records = receiver.receive("a", wire(101, DeviceBoot(2), t_ms=newest_ms + 1000), 300.0)
    assert records == [Telemetry(UNIT, 1, Kind.DEVICE_BOOT, (newest_ms + 1000) / 1000, 300.0, 101, 0, 2.0)]
    receiver.receive("a", wire(101, DeviceBoot(2), t_ms=newest_ms + 1000), 301.0)  # a copy: no new restart
    assert receiver.stats.reboots == 1
    receiver.receive("a", wire(102, DeviceBoot(4), t_ms=newest_ms + 2000), 302.0)  # the third start's was lost
    assert receiver.stats.reboots == 3
    fitted = Receiver(CASES)
    fitted.receive("a", wire(0, DeviceBoot(1)), 1.0)  # the fitting's own start: no restart
    fitted.receive("a", wire(1, DeviceBoot(3)), 2.0)  # the second start's overwritten: two restarts
    assert fitted.stats.reboots == 2
    assert [a for _, a in acks(receiver)] == [101, 101, 102]  # numbering carried on: no guess made


def test_a_queue_overflow_is_no_record_and_lets_the_ack_pass_the_messages_overwritten() -> None:
    receiver = Receiver(CASES)
    run_up(receiver, 10)
    assert receiver.receive("a", wire(13, QueueOverflow(3)), 300.0) == []  # 11, 12 and 13 were overwritten
    assert feed_seqs(receiver, [14], 301.0)[0].seq == 14
    assert [a for _, a in acks(receiver)] == [13, 14] and receiver.stats.overwritten == 3
    receiver.receive("a", wire(13, QueueOverflow(3)), 302.0)  # a copy passes nothing more
    assert receiver.stats.overwritten == 3 and acks(receiver) == [(UNIT, 14)]


def test_a_queue_that_overflowed_while_its_link_was_down_drains_once_the_link_is_back() -> None:
    """Before protocol 1.1 the centre acked only up to the first overwritten message, so the
    device sent the same window for ever; now every message still queued arrives once."""
    receiver = Receiver(CASES)
    uplink = ReliableUplink(UNIT, capacity=5, window=2, retransmit_timeout_s=10.0, max_backoff_s=10.0)
    records: list[Telemetry] = []

    def link_up_for(polls: int, now: float) -> None:
        for _ in range(polls):
            for data in uplink.poll(now):
                records.extend(receiver.receive("a", data, now))
            for _, acked in acks(receiver):
                uplink.acknowledge(acked)
            now += 10.0

    for seq in range(3):
        uplink.enqueue(STATUS, T0_MS + seq)
    uplink.open_session()
    link_up_for(5, 0.0)
    assert len(uplink) == 0 and len(records) == 3
    for seq in range(3, 20):  # the link is down: 17 messages sent, never arriving, 12 overwritten
        uplink.enqueue(STATUS, T0_MS + seq)
        uplink.open_session()
        uplink.poll(float(seq))
    assert uplink.dropped == 12 and len(uplink) == 5 + 1  # five messages and the overflow
    link_up_for(20, 100.0)
    assert len(uplink) == 0 and receiver.stats.overwritten == 12
    assert sorted(r.seq for r in records) == [0, 1, 2, 15, 16, 17, 18, 19]  # each kept message once

# --- end to end with a real stub, in virtual time ---------------------------------------------

DEFAULTS = default_device_params()
PARAMS = replace(
    DEFAULTS,
    uplink=replace(DEFAULTS.uplink, window=8, retransmit_timeout_s=30.0, max_backoff_s=120.0),
    base_unit=replace(DEFAULTS.base_unit, status_interval_s=60.0),
    gps_tag=replace(DEFAULTS.gps_tag, upload_interval_s=120.0),
    alcohol_tag=replace(DEFAULTS.alcohol_tag, reading_interval_s=60.0, upload_interval_s=300.0),
)


class Bench:
    """A stub on one link to the receiver: what it sends is decoded alongside, and the
    receiver's acks go straight back; ``lose`` can drop a frame's first copy in flight."""

    def __init__(self, machine: Machine, receiver: Receiver, lose: Callable[[Frame], bool] = lambda f: False) -> None:
        self.machine, self.receiver, self.lose = machine, receiver, lose
        self.sent: list[Frame] = []
        self.arrived: list[Frame] = []
        self.records: list[Telemetry] = []
        self._tap = StreamDecoder()
        self._lost: set[int] = set()

    def run(self, until: float, stop: Callable[[], bool] = lambda: False) -> None:
        while (t := self.machine.next_deadline()) <= until and not stop():
            self.machine.tick(t)
            self._carry(t)

    def _carry(self, t: float) -> None:
        while data := self.machine.drain():
            for frame in self._tap.feed(data):
                self.sent.append(frame)
                if self.lose(frame) and frame.seq not in self._lost:
                    self._lost.add(frame.seq)
                    continue
                self.arrived.append(frame)
                self.records += self.receiver.receive("link", encode_frame(frame), t)
            if acked := self.receiver.take_acks("link"):
                self.machine.receive(t, acked)


def expected_kind(message: Message) -> Kind:
    if isinstance(message, BaseUnitEvent):
        return Kind(int(message.code))
    return {GpsFixBatch: Kind.GPS_FIXES, GpsStatus: Kind.GPS_STATUS, AlcoholReading: Kind.ALCOHOL_READING}[type(message)]


@pytest.mark.parametrize(("kind", "device"), [("base-unit", UNIT), ("gps-tag", GPS), ("alcohol-tag", ALCOHOL)])
def test_a_stub_on_the_receiver_gets_everything_acked_and_recorded_as_sent(kind: str, device: int) -> None:
    machine = build_standalone(kind, device, 0.0, PARAMS, np.random.default_rng(7))
    lost_seq = 2
    bench = Bench(machine, Receiver(CASES), lose=lambda f: f.seq == lost_seq)
    bench.run(1800.0)
    queue = machine.device.queue if hasattr(machine, "device") else machine.queue  # type: ignore[attr-defined]
    assert queue.next_seq > 8, "the stub sent too little to exercise the window"
    # A tag keeps taking readings, so its queue is empty only just after an upload.
    bench.run(1800.0 + 2 * PARAMS.alcohol_tag.upload_interval_s, stop=lambda: len(queue) == 0)
    assert len(queue) == 0, f"{len(queue)} frames never acked"
    assert queue.retransmissions > 0  # the lost frame came again
    # One record per frame that arrived (duplicates included), in the order sent, each exactly as sent.
    arrived = bench.arrived
    assert len(arrived) == len(bench.sent) - 1
    assert [(r.device, r.subject, r.seq, r.kind, r.event_time) for r in bench.records] == [
        (device, SUBJECT[device], f.seq, expected_kind(f.message), f.event_time_ms / 1000) for f in arrived
    ]
    assert sorted({r.seq for r in bench.records}) == list(range(queue.next_seq))
    for r, f in zip(bench.records, arrived):
        if isinstance(f.message, GpsFixBatch):
            assert r.fixes is not None and np.array_equal(r.fixes["time"], f.message.fixes["time_ms"] / 1000)
            assert np.array_equal(r.fixes["lat"], f.message.fixes["lat_e7"] / 1e7)


def test_a_stub_started_again_is_seen_as_a_reboot_and_its_new_run_acked() -> None:
    receiver = Receiver(CASES)
    first = build_standalone("base-unit", UNIT, 0.0, PARAMS, np.random.default_rng(1))
    Bench(first, receiver).run(3600.0)
    assert first.device.queue.next_seq > REBOOT_MARGIN + 1  # type: ignore[attr-defined]
    again = build_standalone("base-unit", UNIT, 3700.0, PARAMS, np.random.default_rng(2))
    bench = Bench(again, receiver)
    bench.run(3700.0 + 900.0)
    assert receiver.stats.reboots == 1
    assert [(r.kind, r.seq) for r in bench.records[:2]] == [(Kind.DEVICE_REBOOT, 0), (Kind.INSTALLATION, 0)]
    assert len(again.device.queue) == 0  # type: ignore[attr-defined]
    assert Kind.DEVICE_REBOOT not in [r.kind for r in bench.records[2:]]


# --- the batch path ----------------------------------------------------------------------

BATCH_MESSAGES = st.one_of(
    st.just(STATUS),
    st.builds(GpsStatus, st.integers(0, 100), st.integers(0, 0x7F).map(GpsFlags)),
    st.builds(AlcoholReading, st.integers(0, 0xFFFF), st.integers(-0x8000, 0x7FFF), st.integers(0, 7).map(AlcoholFlags)),
    st.integers(0, 3).map(lambda n: GpsFixBatch(make_wire_fixes([T0_MS + i for i in range(n)], [515_000_000 + i for i in range(n)],
                                                           [-1_000_000] * n, [50] * n, [8] * n))),
    st.just(RfBeacon(TagFlags.NONE)),
    st.builds(Ack, st.integers(0, 9)),
    st.builds(DeviceBoot, st.integers(1, 5)),
    st.builds(QueueOverflow, st.integers(1, 5)),
)
SENT = st.tuples(
    st.sampled_from(["a", "b"]),  # link
    st.sampled_from([UNIT, GPS, ALCOHOL, STRANGER]),
    st.integers(0, 80),  # seq: low numbers far behind the newest look like restarts
    st.integers(-10**6, 10**6),  # event-time step, ms: back too, for copies from before a restart
    BATCH_MESSAGES,
    st.sampled_from(["whole", "corrupt", "split"]),
)


@given(st.lists(SENT, max_size=30))
@settings(max_examples=200, deadline=None)
def test_a_batch_gives_what_receive_gives_call_by_call(sent: list[tuple]) -> None:  # type: ignore[type-arg]
    """One ``receive_batch`` over many chunks makes the records, stats, set-asides and acks of
    ``receive`` chunk by chunk (tracking carried across calls, records numbered across them),
    and ``from_batch`` gives the records back from the arrays."""
    links, chunks, nows = [], [], []
    t_ms = T0_MS
    for n, (link, device, seq, step, message, how) in enumerate(sent):
        t_ms += step
        data = encode_frame(Frame(device, seq, t_ms, message))
        if how == "corrupt":
            data = data[:5] + bytes([data[5] ^ 0x40 or 1]) + data[6:]
        parts = [data[:4], data[4:]] if how == "split" else [data]
        for part in parts:
            links.append(link)
            chunks.append(part)
            nows.append(100.0 + n)
    one_by_one, batch = Receiver(CASES), Receiver(CASES)
    records = [r for link, chunk, now in zip(links, chunks, nows) for r in one_by_one.receive(link, chunk, now)]
    events, fixes = batch.receive_batch(links, chunks, nows)
    want_events, want_fixes = to_batch(records)
    assert events.tobytes() == want_events.tobytes() and fixes.tobytes() == want_fixes.tobytes()
    assert batch.stats == one_by_one.stats
    assert list(batch.set_aside) == list(one_by_one.set_aside)
    assert [batch.take_acks(link) for link in "ab"] == [one_by_one.take_acks(link) for link in "ab"]
    assert from_batch(events, fixes) == records
