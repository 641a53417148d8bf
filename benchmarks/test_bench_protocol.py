"""Frame encode and decode rates, and the stream decoder on a noisy stream.

Each rate sits beside a reference measured in the same run: the C-speed
COBS decode plus CRC that any decoder must do, so the figure to watch is the
ratio, not the machine's absolute speed.
"""

from __future__ import annotations

import binascii

import numpy as np
import pytest
from cobs import cobs

from firmware_stubs.protocol import (
    AlcoholReading,
    BaseEventCode,
    BaseUnitEvent,
    Frame,
    GpsFixBatch,
    GpsStatus,
    RfBeacon,
    StreamDecoder,
    TagFlags,
    decode_frame,
    encode_frame,
    make_wire_fixes,
)

N = 20_000


def mixed_frames(n: int) -> list[Frame]:
    fixes = make_wire_fixes(np.arange(10) * 60_000, [515_000_000] * 10, [-1_000_000] * 10, [50] * 10, [9] * 10)
    kinds = [
        RfBeacon(TagFlags.NONE),
        BaseUnitEvent(BaseEventCode.STATUS_CHECK, 7, TagFlags.NONE),
        GpsStatus(80),
        AlcoholReading(0, 3350),
        GpsFixBatch(fixes),
    ]
    return [Frame(i % 5000, i % 65536, 1_760_000_000_000 + i, kinds[i % len(kinds)]) for i in range(n)]


def noisy_stream(frames: list[Frame], corrupt_every: int = 100) -> bytes:
    """The frames on the wire, one in ``corrupt_every`` with a byte flipped."""
    out = []
    for i, frame in enumerate(frames):
        wire = bytearray(encode_frame(frame))
        if i % corrupt_every == 0:
            wire[len(wire) // 2] ^= 0x5A
        out.append(bytes(wire))
    return b"".join(out)


@pytest.fixture(scope="module")
def frames() -> list[Frame]:
    return mixed_frames(N)


def test_reference_cobs_and_crc(benchmark, rate, frames) -> None:  # type: ignore[no-untyped-def]
    bodies = [encode_frame(f)[1:-1] for f in frames]

    def run() -> None:
        for body in bodies:
            binascii.crc_hqx(cobs.decode(body), 0xFFFF)

    benchmark(run)
    rate(N, "frames")


def test_encode(benchmark, rate, frames) -> None:  # type: ignore[no-untyped-def]
    benchmark(lambda: [encode_frame(f) for f in frames])
    rate(N, "frames")


def test_decode(benchmark, rate, frames) -> None:  # type: ignore[no-untyped-def]
    bodies = [encode_frame(f)[1:-1] for f in frames]
    decoded = benchmark(lambda: [decode_frame(b) for b in bodies])
    assert decoded == frames
    rate(N, "frames")


def test_stream_decoder_with_one_percent_corrupt(benchmark, rate, frames) -> None:  # type: ignore[no-untyped-def]
    stream = noisy_stream(frames)
    chunks = [stream[i : i + 4096] for i in range(0, len(stream), 4096)]

    def run() -> StreamDecoder:
        decoder = StreamDecoder()
        for chunk in chunks:
            decoder.feed(chunk)
        return decoder

    decoder = benchmark(run)
    assert decoder.stats.frames + decoder.stats.rejected_total == N
    assert decoder.stats.rejected_total == N // 100
    rate(N, "frames")
    benchmark.extra_info["bytes_per_s"] = len(stream) / benchmark.stats.stats.mean
