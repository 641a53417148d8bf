"""The wire protocol: exact round trips, and a decoder that survives any stream."""

from __future__ import annotations

import numpy as np
import pytest
from cobs import cobs
from hypothesis import given, settings
from hypothesis import strategies as st

from firmware_stubs.protocol import (
    WIRE_FIX_DTYPE,
    HEADER,
    LAT_E7_MAX,
    MAX_ENCODED_SIZE,
    MAX_FIXES_PER_FRAME,
    MESSAGE_CLASSES,
    PROTOCOL_MAJOR,
    PROTOCOL_MINOR,
    SEQ_MODULUS,
    U32_MAX,
    U64_MAX,
    Ack,
    AlcoholReading,
    BaseEventCode,
    BaseUnitEvent,
    Config,
    ConfigParam,
    CurfewWindow,
    EncodeError,
    Frame,
    FrameError,
    GpsFixBatch,
    GpsStatus,
    MessageType,
    Rejection,
    StreamDecoder,
    TimeSync,
    Zone,
    ZoneKind,
    crc16,
    decode_frame,
    encode_frame,
    encode_frames,
    seq_diff,
    seq_next,
)
from wire_strategies import MESSAGE_STRATEGIES, frames, messages, u16, u32



def raw_frame(body_without_crc: bytes, crc: int | None = None) -> bytes:
    """Wire bytes for a hand-made body, so tests can send what encode_frame refuses to."""
    crc = crc16(body_without_crc) if crc is None else crc
    return b"\x00" + cobs.encode(body_without_crc + crc.to_bytes(2, "big")) + b"\x00"


def header(mtype: int, version: int = PROTOCOL_MAJOR << 4 | PROTOCOL_MINOR) -> bytes:
    return HEADER.pack(version, mtype, 42, 7, 1_000)


def test_crc_is_ccitt_false() -> None:
    assert crc16(b"123456789") == 0x29B1


def test_every_message_type_has_a_strategy() -> None:
    assert set(MESSAGE_STRATEGIES) == set(MessageType) == set(MESSAGE_CLASSES)


@given(frames)
@settings(max_examples=400)
def test_every_frame_round_trips_exactly(frame: Frame) -> None:
    wire = encode_frame(frame)
    assert wire[0] == 0 and wire[-1] == 0 and b"\x00" not in wire[1:-1]
    assert decode_frame(wire[1:-1]) == frame


@pytest.mark.parametrize("mtype", list(MessageType))
@given(data=st.data())
def test_each_type_round_trips_through_the_stream_decoder(mtype: MessageType, data: st.DataObject) -> None:
    frame = Frame(data.draw(u32), data.draw(u16), data.draw(st.integers(0, U64_MAX)), data.draw(MESSAGE_STRATEGIES[mtype]))
    decoder = StreamDecoder()
    assert decoder.feed(encode_frame(frame)) == [frame]
    assert decoder.stats.frames == 1 and decoder.stats.rejected_total == 0


@given(st.lists(frames, min_size=1, max_size=8), st.data())
@settings(max_examples=150)
def test_any_chunking_gives_the_same_frames(sent: list[Frame], data: st.DataObject) -> None:
    stream = b"".join(encode_frame(f) for f in sent)
    cuts = sorted(data.draw(st.lists(st.integers(0, len(stream)), max_size=12)))
    decoder = StreamDecoder()
    got = []
    for start, end in zip([0, *cuts], [*cuts, len(stream)]):
        got += decoder.feed(stream[start:end])
    assert got == sent
    assert decoder.stats.rejected_total == 0


OVERSIZE_RUN = b"\x01" * (MAX_ENCODED_SIZE + 10)


@given(st.lists(st.one_of(frames, st.binary(max_size=40), st.just(OVERSIZE_RUN)), min_size=1, max_size=10))
@settings(max_examples=300)
def test_whole_frame_chunks_give_what_the_joined_stream_gives(items: list[Frame | bytes]) -> None:
    """A chunk that is one whole frame takes a short cut through the decoder; garbage chunks
    between them (which may leave bytes pending, or start an oversize run) must not tell the
    difference."""
    chunks = [encode_frame(item) if isinstance(item, Frame) else item for item in items]
    one_by_one, joined = StreamDecoder(), StreamDecoder()
    got = [frame for chunk in chunks for frame in one_by_one.feed(chunk)]
    assert got == joined.feed(b"".join(chunks))
    assert one_by_one.stats == joined.stats
    # (What is kept of an oversize run depends on where it was cut, so only the reasons.)
    assert [r for r, _ in one_by_one.recent_rejects] == [r for r, _ in joined.recent_rejects]


@given(u32, st.lists(st.tuples(u16, st.integers(0, U64_MAX), messages), max_size=6))
@settings(max_examples=200)
def test_encoding_many_frames_at_once_gives_each_frames_bytes(device: int, items: list[tuple[int, int, object]]) -> None:
    seqs = np.array([seq for seq, _, _ in items], dtype=np.uint16)
    times = np.array([t for _, t, _ in items], dtype=np.uint64)
    assert encode_frames(device, seqs, times, [m for _, _, m in items]) == [  # type: ignore[misc]
        encode_frame(Frame(device, seq, t, m)) for seq, t, m in items  # type: ignore[arg-type]
    ]


@pytest.mark.parametrize(
    ("device", "seq", "event_time_ms", "field"),
    [(-1, 0, 0, "device_id"), (U32_MAX + 1, 0, 0, "device_id"), (1, SEQ_MODULUS, 0, "seq"), (1, -1, 0, "seq"),
     (1, 0, -1, "event_time_ms")],
)
def test_header_fields_the_wire_cannot_carry_are_refused_by_name(device: int, seq: int, event_time_ms: int, field: str) -> None:
    with pytest.raises(EncodeError, match=field):
        encode_frame(Frame(device, seq, event_time_ms, Ack(1)))
    with pytest.raises(EncodeError, match=field):
        encode_frames(device, np.array([seq]), np.array([event_time_ms]), [Ack(1)])


def test_encoding_many_frames_wants_integer_fields_one_each() -> None:
    with pytest.raises(EncodeError, match="seq must be integers"):
        encode_frames(1, np.array([1.0]), np.array([0]), [Ack(1)])
    with pytest.raises(ValueError, match="2 sequence numbers, 1 times, 1 messages"):
        encode_frames(1, np.array([1, 2]), np.array([0]), [Ack(1)])


@given(st.lists(st.tuples(frames, st.binary(max_size=64)), min_size=1, max_size=6), st.integers(1, 17))
@settings(max_examples=150)
def test_resynchronises_after_garbage(pairs: list[tuple[Frame, bytes]], chunk: int) -> None:
    """Garbage before each frame costs nothing but a counted rejection."""
    stream = b"".join(garbage + encode_frame(frame) for frame, garbage in pairs)
    decoder = StreamDecoder()
    got = []
    for i in range(0, len(stream), chunk):
        got += decoder.feed(stream[i : i + chunk])
    sent = [frame for frame, _ in pairs]
    # Random garbage can, very rarely, itself be a valid frame; every real frame still arrives in order.
    assert [f for f in got if f in sent] == sent
    assert decoder.stats.frames == len(got)


@given(st.binary(max_size=2000), st.integers(1, 64))
@settings(max_examples=300)
def test_random_bytes_never_raise(noise: bytes, chunk: int) -> None:
    decoder = StreamDecoder()
    for i in range(0, len(noise), chunk):
        decoder.feed(noise[i : i + chunk])
    assert decoder.stats.bytes == len(noise)


def test_flipped_bit_is_a_crc_rejection_and_the_next_frame_survives() -> None:
    good = encode_frame(Frame(1, 2, 3, Ack(4)))
    body = bytearray(cobs.decode(good[1:-1]))
    body[8] ^= 0x10
    bad = b"\x00" + cobs.encode(bytes(body)) + b"\x00"
    decoder = StreamDecoder()
    assert decoder.feed(bad + good) == [Frame(1, 2, 3, Ack(4))]
    assert decoder.stats.rejected == {Rejection.CRC: 1}
    assert decoder.recent_rejects[-1] == (Rejection.CRC, bad[1:-1])


@pytest.mark.parametrize(
    ("wire", "reason"),
    [
        (raw_frame(header(0x7E)), Rejection.UNKNOWN_TYPE),
        (raw_frame(header(MessageType.ACK) + b"\x01"), Rejection.TRUNCATED),
        (raw_frame(b"\x10\x01\x02"), Rejection.TRUNCATED),
        (raw_frame(header(MessageType.ACK) + b"\x01\x00\x05"), Rejection.BAD_PAYLOAD),
        (raw_frame(header(MessageType.GPS_STATUS) + b"\x65\x00"), Rejection.BAD_PAYLOAD),
        (raw_frame(header(MessageType.BASE_UNIT_EVENT) + bytes([99, 0, 0, 0, 0, 0, 0, 50])), Rejection.BAD_PAYLOAD),
        (raw_frame(header(MessageType.ACK, version=(PROTOCOL_MAJOR + 1) << 4) + b"\x01\x00"), Rejection.UNSUPPORTED_VERSION),
        (raw_frame(header(MessageType.ACK), crc=0), Rejection.CRC),
        (b"\x00\x05\x01\x00", Rejection.BAD_COBS),
    ],
    ids=["unknown-type", "short-payload", "short-header", "long-payload", "battery-over-100",
         "unknown-event-code", "newer-major", "crc", "bad-cobs"],
)
def test_each_rejection_is_counted_by_reason(wire: bytes, reason: Rejection) -> None:
    decoder = StreamDecoder()
    follow = encode_frame(Frame(9, 9, 9, Ack(9)))
    assert decoder.feed(wire + follow) == [Frame(9, 9, 9, Ack(9))]
    assert decoder.stats.rejected == {reason: 1}


def test_newer_major_version_names_the_versions() -> None:
    wire = raw_frame(header(MessageType.ACK, version=(PROTOCOL_MAJOR + 1) << 4 | 3) + b"\x01\x00")
    with pytest.raises(FrameError, match=rf"protocol {PROTOCOL_MAJOR + 1}\.3.*speaks {PROTOCOL_MAJOR}\.x") as info:
        decode_frame(wire[1:-1])
    assert info.value.reason is Rejection.UNSUPPORTED_VERSION


def test_newer_minor_version_may_append_fields() -> None:
    newer = PROTOCOL_MAJOR << 4 | (PROTOCOL_MINOR + 1)
    wire = raw_frame(header(MessageType.ACK, version=newer) + b"\x05\x00" + b"future")
    assert decode_frame(wire[1:-1]).message == Ack(5)


def test_oversize_run_is_dropped_until_the_next_delimiter() -> None:
    decoder = StreamDecoder()
    junk = b"\x01" * (MAX_ENCODED_SIZE + 10)
    follow = encode_frame(Frame(1, 1, 1, Ack(1)))
    got = []
    for i in range(0, len(junk), 1000):
        got += decoder.feed(junk[i : i + 1000])
    got += decoder.feed(follow)
    assert got == [Frame(1, 1, 1, Ack(1))]
    assert decoder.stats.rejected == {Rejection.OVERSIZE: 1}


def test_truncated_frame_at_end_of_stream_is_held_not_lost() -> None:
    wire = encode_frame(Frame(1, 1, 1, TimeSync(123)))
    decoder = StreamDecoder()
    assert decoder.feed(wire[:-3]) == []
    assert decoder.feed(wire[-3:]) == [Frame(1, 1, 1, TimeSync(123))]


@pytest.mark.parametrize(
    "message",
    [
        GpsStatus(101),
        BaseUnitEvent(BaseEventCode.STATUS_CHECK, tag_id=U32_MAX + 1),
        Ack(SEQ_MODULUS),
        AlcoholReading(0x10000, 0),
        Config({ConfigParam.LEAVE_TIME_MS: U32_MAX + 1}),
        Config(curfews=(CurfewWindow(0x80, 0, 0),)),
        Config(zones=(Zone(1, ZoneKind.EXCLUSION, LAT_E7_MAX + 1, 0, 5),)),
    ],
)
def test_encoding_refuses_values_the_wire_cannot_carry(message: object) -> None:
    with pytest.raises(EncodeError):
        encode_frame(Frame(1, 1, 1, message))  # type: ignore[arg-type]


def test_gps_batch_limits() -> None:
    too_many = np.zeros(MAX_FIXES_PER_FRAME + 1, dtype=WIRE_FIX_DTYPE)
    with pytest.raises(EncodeError, match="exceed"):
        GpsFixBatch(too_many).pack()
    with pytest.raises(EncodeError, match="WIRE_FIX_DTYPE"):
        GpsFixBatch(np.zeros(3))
    full = np.zeros(MAX_FIXES_PER_FRAME, dtype=WIRE_FIX_DTYPE)
    assert len(encode_frame(Frame(1, 1, 1, GpsFixBatch(full)))) <= MAX_ENCODED_SIZE + 2


def test_sequence_arithmetic_wraps() -> None:
    assert seq_next(0xFFFF) == 0
    assert seq_diff(2, 0xFFFE) == 4
    assert seq_diff(0xFFFE, 2) == -4
    assert seq_diff(5, 5) == 0


@pytest.mark.parametrize(
    ("unix_s", "inside"),
    [
        (4 * 86400 + 19 * 3600 - 1, False),  # Monday 1970-01-05 18:59:59
        (4 * 86400 + 19 * 3600, True),  # Monday 19:00
        (5 * 86400 + 6 * 3600 + 59 * 60, True),  # Tuesday 06:59, the Monday window past midnight
        (5 * 86400 + 7 * 3600, False),  # Tuesday 07:00, window over
        (5 * 86400 + 20 * 3600, False),  # Tuesday evening: Monday-only window
    ],
)
def test_curfew_window_runs_past_midnight_on_its_start_day(unix_s: int, inside: bool) -> None:
    monday_7pm_to_7am = CurfewWindow(days=0b0000001, start_s=19 * 3600, duration_s=12 * 3600)
    assert monday_7pm_to_7am.contains(unix_s) is inside


def test_curfew_next_start_skips_days_off_and_is_strictly_after() -> None:
    mondays = CurfewWindow(days=0b0000001, start_s=19 * 3600, duration_s=3600)
    monday_7pm = 4 * 86400 + 19 * 3600  # 1970-01-05
    assert mondays.next_start(0.0) == monday_7pm
    assert mondays.next_start(monday_7pm) == monday_7pm + 7 * 86400
    assert CurfewWindow(days=0, start_s=0, duration_s=60).next_start(0.0) == float("inf")
