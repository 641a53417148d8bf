"""Inputs that try a stream decoder: good frames, and good frames broken every way a link or a
device can break them, cut into chunks anyhow. Seeded, so a failing input can be made again.

Each input is one chunk of bytes as a read would return it. The mutations:

- ``noise``: random bytes (delimiters among them, as line noise has);
- ``oversize``: a run of bytes longer than any frame, with no delimiter in it;
- ``truncated``: a frame cut short (its end lost);
- ``flipped``: a frame with bits flipped (what CRC is for);
- ``merged``: two frames with the delimiter between them lost;
- ``split``: a frame spread over several chunks;
- ``resized``: a frame whose payload is cut or padded, with a correct CRC (so the length
  check, not CRC, must catch it);
- ``versioned``: a frame of another protocol major version, with a correct CRC;
- ``retyped``: a frame of an unknown message type, with a correct CRC;
- ``good``: a frame as sent.
"""

from __future__ import annotations

import binascii
from collections.abc import Iterator, Sequence

import numpy as np
from cobs import cobs

from firmware_stubs.protocol import (
    CRC_SIZE, DELIMITER, HEADER, LAT_E7_MAX, LON_E7_MAX, MAX_ENCODED_SIZE, MESSAGE_CLASSES, PROTOCOL_MAJOR, Ack, AlcoholFlags, AlcoholReading, BaseEventCode,
    BaseUnitEvent, Config, ConfigParam, DeviceBoot, Frame, GpsFixBatch, GpsFlags, GpsStatus, QueueOverflow, RfBeacon, TagFlags,
    TimeSync, UnitFlags,
    encode_frame, make_wire_fixes,
)

MUTATIONS = ("noise", "oversize", "truncated", "flipped", "merged", "split", "resized", "versioned", "retyped", "good")
_TYPE_AT = 1  # the header's byte offsets: version, then message type
_UNKNOWN_TYPES = [t for t in range(256) if t not in {int(m) for m in MESSAGE_CLASSES}]


def good_frames(count: int, rng: np.random.Generator, devices: Sequence[int] = (1,)) -> list[bytes]:
    """``count`` good frames of every message type, from ``devices``, sequence numbers in turn."""
    def message(kind: int):  # type: ignore[no-untyped-def]
        u8 = int(rng.integers(256))
        if kind == 0:
            return RfBeacon(TagFlags(u8))
        if kind == 1:
            return BaseUnitEvent(BaseEventCode(int(rng.integers(1, 12))), int(rng.integers(2**32)), TagFlags(u8),
                                 UnitFlags(int(rng.integers(256))), int(rng.integers(101)))
        if kind == 2:
            n = int(rng.integers(0, 12))
            return GpsFixBatch(make_wire_fixes(rng.integers(0, 2**40, n, dtype=np.uint64), rng.integers(-LAT_E7_MAX, LAT_E7_MAX, n),
                                               rng.integers(-LON_E7_MAX, LON_E7_MAX, n), rng.integers(0, 2**16, n),
                                               rng.integers(0, 256, n)))
        if kind == 3:
            return GpsStatus(int(rng.integers(101)), GpsFlags(u8))
        if kind == 4:
            return AlcoholReading(int(rng.integers(2**16)), int(rng.integers(-2**15, 2**15)), AlcoholFlags(u8))
        if kind == 5:
            return Ack(int(rng.integers(2**16)))
        if kind == 6:
            return TimeSync(int(rng.integers(2**62)))
        if kind == 7:
            return DeviceBoot(int(rng.integers(1, 2**32)))
        if kind == 8:
            return QueueOverflow(int(rng.integers(1, 2**32)))
        return Config({ConfigParam.STATUS_INTERVAL_MS: int(rng.integers(2**32))})

    return [encode_frame(Frame(int(devices[i % len(devices)]), i % 2**16, int(rng.integers(2**40)),
                               message(int(rng.integers(10)))))
            for i in range(count)]


def fuzz_chunks(frames: Sequence[bytes], count: int, rng: np.random.Generator) -> Iterator[tuple[str, bytes]]:
    """``count`` inputs, each (its mutation, its bytes; a split frame is several), from good
    ``frames`` (each with both delimiters, as ``encode_frame`` gives them)."""
    for _ in range(count):
        kind = MUTATIONS[int(rng.integers(len(MUTATIONS)))]
        frame = frames[int(rng.integers(len(frames)))]
        if kind == "split":
            cuts = np.sort(rng.choice(np.arange(1, len(frame)), size=min(3, len(frame) - 1), replace=False))
            for part in np.split(np.frombuffer(frame, dtype=np.uint8), cuts):
                yield kind, part.tobytes()
            continue
        yield kind, _mutated(kind, frame, frames, rng)


def _mutated(kind: str, frame: bytes, frames: Sequence[bytes], rng: np.random.Generator) -> bytes:
    if kind == "noise":
        return rng.integers(0, 256, int(rng.integers(1, 64)), dtype=np.uint8).tobytes()
    if kind == "oversize":
        return rng.integers(1, 256, MAX_ENCODED_SIZE + int(rng.integers(1, 64)), dtype=np.uint8).tobytes() + DELIMITER
    if kind == "truncated":
        return frame[: int(rng.integers(1, len(frame) - 1))] + DELIMITER
    if kind == "flipped":
        body = bytearray(frame)
        bits = rng.choice(np.arange(8, 8 * (len(body) - 1)), size=int(rng.integers(1, 4)), replace=False)
        for bit in bits.tolist():  # distinct bits: two flips of one bit would undo each other
            body[bit // 8] ^= 1 << (bit % 8)
        return bytes(body)
    if kind == "merged":
        other = frames[int(rng.integers(len(frames)))]
        return frame[:-1] + other[1:]
    if kind in ("resized", "versioned", "retyped"):
        body = bytearray(cobs.decode(frame[1:-1])[:-CRC_SIZE])
        if kind == "resized":
            payload = len(body) - HEADER.size
            body = body[: HEADER.size + int(rng.integers(0, payload))] if payload and rng.random() < 0.5 else \
                body + rng.integers(0, 256, int(rng.integers(1, 16)), dtype=np.uint8).tobytes()
        elif kind == "versioned":
            body[0] = ((PROTOCOL_MAJOR + int(rng.integers(1, 15))) % 16) << 4 | (body[0] & 0x0F)
        else:
            body[_TYPE_AT] = _UNKNOWN_TYPES[int(rng.integers(len(_UNKNOWN_TYPES)))]
        return _framed(bytes(body))
    return frame


def _framed(body: bytes) -> bytes:
    """A body (header and payload) with its correct CRC, COBS-encoded between delimiters."""
    crc = binascii.crc_hqx(body, 0xFFFF).to_bytes(CRC_SIZE, "big")
    return DELIMITER + cobs.encode(body + crc) + DELIMITER
