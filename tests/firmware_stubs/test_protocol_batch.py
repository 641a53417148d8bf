"""The batch frame codec gives exactly what the per-frame codec gives, frame for frame, byte for byte."""

from __future__ import annotations

import re

import numpy as np
import pytest
from cobs import cobs
from hypothesis import given, settings
from hypothesis import strategies as st
from wire_strategies import frames, messages

from firmware_stubs.batch_codec import FIELDS_DTYPES, decode_frames
from firmware_stubs.protocol import (
    HEADER,
    LAT_E7_MAX,
    LON_E7_MAX,
    MAX_ENCODED_SIZE,
    PROTOCOL_MAJOR,
    PROTOCOL_MINOR,
    Ack,
    AlcoholReading,
    BaseEventCode,
    BaseUnitEvent,
    EncodeError,
    Frame,
    FrameError,
    GpsFixBatch,
    GpsStatus,
    MessageType,
    RawFrame,
    RfBeacon,
    TimeSync,
    crc16,
    decode_raw,
    encode_frame,
    encode_frames,
    make_wire_fixes,
)


# Field values at and just past what each check allows.
EDGE_BYTES = st.sampled_from([0, 1, 11, 12, 100, 101, 255])
EDGE_E7 = st.sampled_from([0, LAT_E7_MAX, LAT_E7_MAX + 1, -LAT_E7_MAX, -LAT_E7_MAX - 1, LON_E7_MAX, LON_E7_MAX + 1,
                           -LON_E7_MAX, -LON_E7_MAX - 1, -(2**31), 2**31 - 1])


@st.composite
def hand_made(draw: st.DrawFn) -> bytes:
    """A frame with a good CRC around any header and payload: unknown types and versions, payloads
    a byte short or long, fields at and past their limits, fixes at and beyond the poles."""
    version = draw(st.sampled_from([0x10, 0x10, 0x10, 0x11, 0x1F, 0x20, 0x00]))
    mtype = draw(st.sampled_from([*MessageType, 0x00, 0x7F]))
    if mtype == MessageType.GPS_FIX_BATCH:
        n = draw(st.integers(0, 4))
        fixes = make_wire_fixes([0] * n, draw(st.lists(EDGE_E7, min_size=n, max_size=n)), draw(st.lists(EDGE_E7, min_size=n, max_size=n)),
                                [1] * n, [2] * n)
        count = draw(st.sampled_from([n, n, n + 1, max(n - 1, 0)]))
        payload = count.to_bytes(2, "little") + fixes.tobytes() + draw(st.binary(max_size=2))
    else:
        size = FIELDS_DTYPES[mtype].itemsize if mtype in FIELDS_DTYPES else draw(st.integers(0, 12))
        size = draw(st.sampled_from([size, size, size - 1, size + 1, 0]))
        payload = bytes(draw(st.lists(EDGE_BYTES, min_size=max(size, 0), max_size=max(size, 0))))
    body = HEADER.pack(version, mtype, draw(st.integers(0, 2**32 - 1)), draw(st.integers(0, 0xFFFF)), draw(st.integers(0, 2**64 - 1))) + payload
    return b"\x00" + cobs.encode(body + crc16(body).to_bytes(2, "big")) + b"\x00"


@st.composite
def chunks(draw: st.DrawFn) -> bytes:
    """A whole frame, one byte of it changed (to anything, or never to 0x00 as the fleet's
    network does), a piece of one, two at once, or noise."""
    wire = draw(st.one_of(frames.map(encode_frame), hand_made()))
    how = draw(st.sampled_from(["whole"] * 4 + ["changed", "changed-not-zero", "piece", "two", "noise", "oversize"]))
    at = draw(st.integers(1, len(wire) - 2))
    byte = draw(st.integers(0, 255))
    if how == "changed":
        return wire[:at] + bytes([byte]) + wire[at + 1 :]
    if how == "changed-not-zero":
        return wire[:at] + bytes([byte ^ wire[at] or 1]) + wire[at + 1 :]
    if how == "piece":
        return wire[: draw(st.integers(0, len(wire)))]
    if how == "two":
        return wire + wire
    if how == "noise":
        return draw(st.binary(max_size=40))
    if how == "oversize":
        return b"\x00" + b"\x01" * (MAX_ENCODED_SIZE + 1) + b"\x00"
    return wire


def _same(got: RawFrame, want: RawFrame) -> bool:
    if got[:4] != want[:4] or type(got.type) is not type(want.type):
        return False
    if want.type is MessageType.GPS_FIX_BATCH:
        return got.fields[0].dtype == want.fields[0].dtype and got.fields[0].tobytes() == want.fields[0].tobytes()
    return got.fields == want.fields and [type(f) for f in got.fields] == [type(f) for f in want.fields]


@given(st.lists(chunks(), max_size=25))
@settings(max_examples=300, deadline=None)
def test_each_whole_frame_decodes_as_decode_raw_decodes_it(sent: list[bytes]) -> None:
    batch = decode_frames(sent)
    for i, chunk in enumerate(sent):
        assert batch.whole[i] == (len(chunk) > 2 and chunk[0] == 0 == chunk[-1] and chunk.count(0) == 2)
        if not batch.whole[i]:
            assert not batch.decoded[i] and batch.rejection[i] == 0
            continue
        try:
            want = decode_raw(chunk[1:-1])
        except FrameError as exc:
            assert not batch.decoded[i] and batch.rejection[i] == exc.reason
            continue
        assert batch.decoded[i] and batch.rejection[i] == 0
        assert _same(batch.raw_frame(i), want)
        assert batch.headers[i].tolist()[1:] == (want.type, want.device_id, want.seq, want.event_time_ms)


@given(st.lists(frames, max_size=25))
@settings(max_examples=200, deadline=None)
def test_a_gps_batch_s_fixes_are_its_own_in_the_batch_s_fix_array(sent: list) -> None:  # type: ignore[type-arg]
    batch = decode_frames([encode_frame(f) for f in sent])
    carried = [f.message.fixes for f in sent if f.type is MessageType.GPS_FIX_BATCH]
    assert batch.decoded.all()
    assert batch.fixes.tobytes() == b"".join(fixes.tobytes() for fixes in carried)
    assert batch.fix_counts.tolist() == [len(f.message.fixes) if f.type is MessageType.GPS_FIX_BATCH else 0 for f in sent]


def test_no_chunks_decode_to_nothing() -> None:
    batch = decode_frames([])
    assert len(batch.decoded) == len(batch.fixes) == 0
    assert all(len(at) == 0 for at, _ in batch.fields.values())


def test_a_frame_of_a_newer_minor_version_is_read_by_decode_raw_with_its_new_fields_skipped() -> None:
    body = HEADER.pack(PROTOCOL_MAJOR << 4 | PROTOCOL_MINOR + 1, MessageType.GPS_STATUS, 5, 6, 7) + bytes([80, 3, 99])
    chunk = b"\x00" + cobs.encode(body + crc16(body).to_bytes(2, "big")) + b"\x00"
    batch = decode_frames([chunk])
    assert batch.decoded[0] and batch.raw_frame(0) == RawFrame(MessageType.GPS_STATUS, 5, 6, 7, (80, 3))
    assert 0 in batch.others and np.array_equal(batch.fix_counts, [0])


def test_a_frame_of_protocol_1_0_is_read_by_the_batch_itself() -> None:
    body = HEADER.pack(0x10, MessageType.GPS_STATUS, 5, 6, 7) + bytes([80, 3])
    chunk = b"\x00" + cobs.encode(body + crc16(body).to_bytes(2, "big")) + b"\x00"
    batch = decode_frames([chunk])
    assert batch.decoded[0] and not batch.others and batch.raw_frame(0) == RawFrame(MessageType.GPS_STATUS, 5, 6, 7, (80, 3))


def _framed(version: int, mtype: int, payload: bytes) -> bytes:
    body = HEADER.pack(version, mtype, 9, 8, 7) + payload
    return b"\x00" + cobs.encode(body + crc16(body).to_bytes(2, "big")) + b"\x00"


def _fixes(lat: int, lon: int) -> bytes:
    return (1).to_bytes(2, "little") + make_wire_fixes([0], [lat], [lon], [1], [2]).tobytes()


LIMITS = [
    *(_framed(0x10, MessageType.GPS_STATUS, bytes([pct, 0])) for pct in (100, 101, 255)),
    *(_framed(0x10, MessageType.BASE_UNIT_EVENT, bytes([code, 1, 0, 0, 0, 0, 0, pct])) for code in (0, 1, 11, 12) for pct in (100, 101)),
    *(_framed(0x10, mtype, bytes(size)) for mtype, dtype in FIELDS_DTYPES.items() for size in (dtype.itemsize - 1, dtype.itemsize + 1)),
    *(_framed(0x10, MessageType.GPS_FIX_BATCH, _fixes(lat, lon)) for lat, lon in
      ((LAT_E7_MAX, LON_E7_MAX), (LAT_E7_MAX + 1, 0), (-LAT_E7_MAX - 1, 0), (0, LON_E7_MAX + 1), (0, -LON_E7_MAX - 1), (-(2**31), 0))),
    _framed(0x10, MessageType.GPS_FIX_BATCH, _fixes(0, 0)[:-1]),
    _framed(0x10, MessageType.GPS_FIX_BATCH, _fixes(0, 0) + b"\x01"),
    _framed(0x10, MessageType.GPS_FIX_BATCH, b"\x01"),
    _framed(0x20, MessageType.GPS_STATUS, bytes([1, 0])),
    _framed(0x10, 0x7F, b""),
    _framed(0x10, MessageType.CONFIG, bytes(3)),
]


def test_fields_at_and_past_their_limits_decode_or_are_rejected_as_decode_raw_says() -> None:
    batch = decode_frames(LIMITS)
    for i, chunk in enumerate(LIMITS):
        try:
            want = decode_raw(chunk[1:-1])
        except FrameError as exc:
            assert (batch.decoded[i], batch.rejection[i]) == (False, exc.reason), (i, exc)
            continue
        assert batch.decoded[i] and _same(batch.raw_frame(i), want), i


# --- encoding -------------------------------------------------------------------------------


@given(st.integers(0, 2**32 - 1), st.lists(st.tuples(st.integers(0, 0xFFFF), st.integers(0, 2**64 - 1), messages), max_size=40))
@settings(max_examples=300, deadline=None)
def test_frames_encoded_together_are_byte_for_byte_encode_frame_s(device: int, items: list) -> None:  # type: ignore[type-arg]
    seqs = np.array([seq for seq, _, _ in items], dtype=np.int64)
    times = np.array([t for _, t, _ in items], dtype=np.uint64)
    assert encode_frames(device, seqs, times, [m for _, _, m in items]) == [
        encode_frame(Frame(device, seq, t, m)) for seq, t, m in items
    ]


REFUSED = [GpsStatus(101), BaseUnitEvent(BaseEventCode.STATUS_CHECK, battery_pct=-1), AlcoholReading(0x10000, 0),
           AlcoholReading(0, -0x8001), GpsStatus(50.0), Ack(0x10000), TimeSync(-1), BaseUnitEvent(BaseEventCode.STATUS_CHECK, 2**32)]  # type: ignore[arg-type]


@pytest.mark.parametrize("refused", REFUSED, ids=repr)
@pytest.mark.parametrize("before", [GpsStatus(5), GpsFixBatch(make_wire_fixes([0], [LAT_E7_MAX + 1], [0], [1], [2]))], ids=["good", "bad-gps"])
def test_a_message_pack_refuses_is_refused_as_encode_frame_refuses_the_first(refused: object, before: object) -> None:
    sent = [before, GpsStatus(1), refused, RfBeacon()]
    with pytest.raises(EncodeError) as want:
        for seq, m in enumerate(sent):
            encode_frame(Frame(3, seq, 4, m))  # type: ignore[arg-type]
    with pytest.raises(EncodeError, match=f"^{re.escape(str(want.value))}$"):
        encode_frames(3, np.arange(4), np.full(4, 4), sent)  # type: ignore[arg-type]
