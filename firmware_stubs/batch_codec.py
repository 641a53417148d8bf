"""Many frames decoded at once, exactly as ``protocol.decode_raw`` decodes each.

A fleet simulation's centre takes millions of chunks, nearly every one a
single whole frame (``0x00 | COBS body | 0x00``). ``decode_frames`` decodes
all of those together: headers and each fixed-layout message's fields are
read as numpy structured arrays, a GPS batch's fixes as one array for the
lot. COBS and the CRC run in C a frame at a time (``cobs.decode``,
``binascii.crc_hqx``): measured, a numpy pass a byte column at a time costs
more than both, since frames of one length are few and GPS batches long.

Only what the batch checks in full is claimed: a frame of a newer minor
version, a CONFIG, or anything that fails a check is handed to
``decode_raw`` itself, so every result and every rejection reason is the
per-frame decoder's own. ``protocol.py`` stays the reference.
"""

from __future__ import annotations

import binascii
import dataclasses
from dataclasses import dataclass
from itertools import repeat

import numpy as np
from cobs import cobs

from firmware_stubs.protocol import (
    _COUNT,
    _EVENT_CODES,
    _HEADER_DTYPE,
    CRC_SIZE,
    HEADER,
    LAT_E7_MAX,
    LON_E7_MAX,
    MAX_ENCODED_SIZE,
    PROTOCOL_MAJOR,
    PROTOCOL_MINOR,
    WIRE_FIX_DTYPE,
    Ack,
    AlcoholReading,
    BaseUnitEvent,
    FrameError,
    GpsStatus,
    MessageType,
    RawFrame,
    RfBeacon,
    TimeSync,
    decode_raw,
)


def _fields_dtype(cls: type) -> np.dtype:
    """A fixed-layout message's payload as a numpy record: its struct's codes, its field names."""
    codes = cls._ST.format.lstrip("<")  # type: ignore[attr-defined]
    dtype = np.dtype([(f.name, "<" + code) for f, code in zip(dataclasses.fields(cls), codes, strict=True)])
    assert dtype.itemsize == cls._ST.size  # type: ignore[attr-defined]
    return dtype


# The message types read here, each as its payload's record layout.
FIELDS_DTYPES: dict[MessageType, np.dtype] = {cls.TYPE: _fields_dtype(cls) for cls in (RfBeacon, BaseUnitEvent, GpsStatus, AlcoholReading, Ack, TimeSync)}
_EVENT_CODE_LIST = sorted(_EVENT_CODES)
_FIX_OFFSET = HEADER.size + _COUNT.size  # a GPS batch's first fix, from the start of the body


@dataclass(frozen=True)
class FrameBatch:
    """Chunks decoded together. Columns run over every chunk; only a ``decoded`` chunk's mean anything."""

    whole: np.ndarray  # bool: the chunk is one whole frame (a delimiter each end and none inside); no other is read
    decoded: np.ndarray  # bool: whole, and a good frame
    rejection: np.ndarray  # uint8: whole and not decoded, the ``Rejection`` decode_raw gave; else 0
    headers: np.ndarray  # the frames' headers, ``_HEADER_DTYPE``
    fields: dict[MessageType, tuple[np.ndarray, np.ndarray]]  # per type in FIELDS_DTYPES: its chunks' indices, their payloads
    fix_counts: np.ndarray  # int64: the fixes a decoded GPS batch carries, else 0
    fixes: np.ndarray  # WIRE_FIX_DTYPE: every decoded GPS batch's fixes, in chunk order
    others: dict[int, RawFrame]  # by chunk index: decoded frames decode_raw read (CONFIG, the rare DEVICE_BOOT and
    # QUEUE_OVERFLOW, a newer minor version)

    def raw_frame(self, index: int) -> RawFrame:
        """A decoded chunk's frame, as ``decode_raw`` gives it."""
        if not self.decoded[index]:
            raise ValueError(f"chunk {index} is not a decoded frame")
        if index in self.others:
            return self.others[index]
        _, mtype, device_id, seq, event_time_ms = self.headers[index].tolist()
        mtype = MessageType(mtype)
        if mtype is MessageType.GPS_FIX_BATCH:
            start = int(self.fix_counts[:index].sum())
            fields: tuple = (self.fixes[start : start + self.fix_counts[index]],)
        else:
            indices, rows = self.fields[mtype]
            fields = tuple(rows[int(np.searchsorted(indices, index))].tolist())
        return RawFrame(mtype, device_id, seq, event_time_ms, fields)


def decode_frames(chunks: list[bytes]) -> FrameBatch:
    """Every chunk that is one whole frame decoded, with ``decode_raw``'s result for each."""
    n = len(chunks)
    lengths = np.fromiter(map(len, chunks), np.int64, n)
    ends = np.cumsum(lengths)
    starts = ends - lengths
    stream = np.frombuffer(b"".join(chunks), np.uint8)
    zero_at = np.flatnonzero(stream == 0)
    whole = (np.searchsorted(zero_at, ends) - np.searchsorted(zero_at, starts) == 2) & (lengths > 2)
    whole[whole] &= (stream[starts[whole]] == 0) & (stream[ends[whole] - 1] == 0)

    rejection = np.zeros(n, np.uint8)
    headers = np.zeros(n, _HEADER_DTYPE)
    fix_counts = np.zeros(n, np.int64)
    others: dict[int, RawFrame] = {}
    candidates = np.flatnonzero(whole & (lengths - 2 <= MAX_ENCODED_SIZE))
    bodies = _cobs_decoded([chunks[i][1:-1] for i in candidates.tolist()])
    body_lengths = np.fromiter(map(len, bodies), np.int64, len(bodies))
    crcs = np.fromiter(map(binascii.crc_hqx, bodies, repeat(0xFFFF)), np.int64, len(bodies))
    sound = (body_lengths >= HEADER.size + CRC_SIZE) & (crcs == 0)
    body_ends = np.cumsum(body_lengths)
    body_starts = (body_ends - body_lengths)[sound]
    body_stream = np.frombuffer(b"".join(bodies), np.uint8)

    head = body_stream[body_starts[:, None] + np.arange(HEADER.size)].view(_HEADER_DTYPE).ravel()
    at = candidates[sound]
    payload_lengths = body_lengths[sound] - HEADER.size - CRC_SIZE
    # A newer minor version may append fields, which decode_raw skips: it reads those. An older
    # minor's messages are this one's (a minor version only adds).
    this_version = (head["version"] >> 4 == PROTOCOL_MAJOR) & (head["version"] & 0x0F <= PROTOCOL_MINOR)
    claimed = np.zeros(len(head), bool)
    fields: dict[MessageType, tuple[np.ndarray, np.ndarray]] = {}
    for mtype, dtype in FIELDS_DTYPES.items():
        mine = this_version & (head["type"] == mtype) & (payload_lengths == dtype.itemsize)
        rows = body_stream[(body_starts[mine] + HEADER.size)[:, None] + np.arange(dtype.itemsize)].view(dtype).ravel()
        good = _valid(mtype, rows)
        mine[mine] = good
        fields[mtype] = (at[mine], rows[good])
        claimed |= mine

    gps = this_version & (head["type"] == MessageType.GPS_FIX_BATCH) & (payload_lengths >= _COUNT.size)
    count_at = body_starts[gps] + HEADER.size
    counts = body_stream[count_at].astype(np.int64) | body_stream[count_at + 1].astype(np.int64) << 8
    gps[gps] = payload_lengths[gps] == _COUNT.size + counts * WIRE_FIX_DTYPE.itemsize
    gps_bodies = np.flatnonzero(sound)[gps]
    fixes = np.frombuffer(b"".join([bodies[i][_FIX_OFFSET:-CRC_SIZE] for i in gps_bodies.tolist()]), WIRE_FIX_DTYPE)
    counts = (payload_lengths[gps] - _COUNT.size) // WIRE_FIX_DTYPE.itemsize
    out_of_range = (np.abs(fixes["lat_e7"].astype(np.int64)) > LAT_E7_MAX) | (np.abs(fixes["lon_e7"].astype(np.int64)) > LON_E7_MAX)
    frame_of_fix = np.repeat(np.arange(len(counts)), counts)
    bad_batch = np.bincount(frame_of_fix[out_of_range], minlength=len(counts)) > 0
    fixes = fixes[~np.repeat(bad_batch, counts)]
    gps[gps] = ~bad_batch
    claimed |= gps
    fix_counts[at[gps]] = counts[~bad_batch]

    decoded = np.zeros(n, bool)
    decoded[at[claimed]] = True
    headers[at[claimed]] = head[claimed]
    # What the batch did not claim, decode_raw decodes: its result or its reason.
    for i in np.flatnonzero(whole & ~decoded).tolist():
        try:
            raw = decode_raw(chunks[i][1:-1])
        except FrameError as exc:
            rejection[i] = exc.reason
            continue
        decoded[i] = True
        others[i] = raw
        headers[i] = HEADER.unpack_from(cobs.decode(chunks[i][1:-1]))
    return FrameBatch(whole, decoded, rejection, headers, fields, fix_counts, fixes, others)


def _cobs_decoded(encoded: list[bytes]) -> list[bytes]:
    """Each COBS body decoded; one that does not decode comes back empty (too short to be a frame)."""
    try:
        return list(map(cobs.decode, encoded))
    except cobs.DecodeError:
        out = []
        for body in encoded:
            try:
                out.append(cobs.decode(body))
            except cobs.DecodeError:
                out.append(b"")
        return out


def _valid(mtype: MessageType, rows: np.ndarray) -> np.ndarray:
    """Which payloads pass the checks their class's ``unpack_fields`` makes."""
    if mtype is MessageType.BASE_UNIT_EVENT:
        return np.isin(rows["code"], _EVENT_CODE_LIST) & (rows["battery_pct"] <= 100)
    if mtype is MessageType.GPS_STATUS:
        return rows["battery_pct"] <= 100
    return np.ones(len(rows), bool)
