"""Frame encode and decode rates, and the stream decoder on a noisy stream.

Each rate sits beside a reference measured in the same run: the C-speed
COBS decode plus CRC that any decoder must do, so the figure to watch is the
ratio, not the machine's absolute speed.
"""

from __future__ import annotations

import binascii
import time
from collections.abc import Callable

import numpy as np
import pytest
from cobs import cobs

from firmware_stubs.batch_codec import decode_frames
from firmware_stubs.protocol import (
    AlcoholReading,
    BaseEventCode,
    BaseUnitEvent,
    Frame,
    FrameError,
    GpsFixBatch,
    GpsStatus,
    RfBeacon,
    StreamDecoder,
    TagFlags,
    decode_frame,
    decode_raw,
    encode_frame,
    encode_frames,
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


def _best_of(run: Callable[[], object], rounds: int = 5) -> float:
    best = float("inf")
    for _ in range(rounds):
        start = time.perf_counter()
        run()
        best = min(best, time.perf_counter() - start)
    return best


def test_batch_decode_beside_decode_raw(benchmark, rate, frames) -> None:  # type: ignore[no-untyped-def]
    """The batch codec on whole-frame chunks, one in a hundred corrupt, as a fleet's centre takes
    them; ``speedup`` is the per-frame ``decode_raw`` time over the batch's, both this run."""
    chunks = [encode_frame(f) for f in frames]
    for i in range(0, N, 100):
        chunks[i] = chunks[i][:9] + bytes([chunks[i][9] ^ 0x5A or 1]) + chunks[i][10:]

    def one_by_one() -> None:
        for chunk in chunks:
            try:
                decode_raw(chunk[1:-1])
            except FrameError:
                pass

    batch = benchmark(lambda: decode_frames(chunks))
    assert int(batch.decoded.sum()) == N - N // 100
    rate(N, "frames")
    benchmark.extra_info["per_frame_s"] = _best_of(one_by_one)
    benchmark.extra_info["speedup"] = benchmark.extra_info["per_frame_s"] / benchmark.stats.stats.min


def test_batch_encode_beside_encode_frame(benchmark, rate, frames) -> None:  # type: ignore[no-untyped-def]
    """``encode_frames`` (headers packed together) a hundred frames a call, as the fleet encodes
    a device's outbox; ``speedup`` is ``encode_frame`` frame by frame over it, both this run.
    Packing payloads as numpy records too measured slower here (a call holds few of each type)."""
    calls = [frames[i : i + 100] for i in range(0, N, 100)]
    seqs = [np.array([f.seq for f in call]) for call in calls]
    times = [np.array([f.event_time_ms for f in call], dtype=np.uint64) for call in calls]
    messages = [[f.message for f in call] for call in calls]

    def together() -> list[list[bytes]]:
        return [encode_frames(7, s, t, m) for s, t, m in zip(seqs, times, messages, strict=True)]

    def one_by_one() -> list[list[bytes]]:
        return [[encode_frame(Frame(7, f.seq, f.event_time_ms, f.message)) for f in call] for call in calls]

    assert benchmark(together) == one_by_one()
    rate(N, "frames")
    benchmark.extra_info["per_frame_s"] = _best_of(one_by_one)
    benchmark.extra_info["speedup"] = benchmark.extra_info["per_frame_s"] / benchmark.stats.stats.min
