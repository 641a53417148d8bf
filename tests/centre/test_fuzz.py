"""The stream decoder and the receiver under fuzzed input (``firmware_stubs.fuzz``): random bytes,
frames cut short, bit-flipped, merged, split, oversize, resized, of another version or an unknown
type. Nothing raises, every rejection is counted by its reason, and every good frame among the
garbage still comes through. (The million-input run is ``benchmarks/test_bench_fuzz.py``.)"""

from __future__ import annotations

from collections import Counter

import numpy as np

from firmware_stubs.fuzz import MUTATIONS, fuzz_chunks, good_frames
from firmware_stubs.protocol import Rejection, StreamDecoder
from sim.centre.receiver import Receiver

from receiver_cases import CASES, GPS, STRANGER, UNIT

INPUTS = 30_000


def test_the_decoder_takes_every_kind_of_garbage_and_loses_no_good_frame() -> None:
    rng = np.random.default_rng(11)
    frames = good_frames(300, rng)
    decoder = StreamDecoder()
    kinds: Counter[str] = Counter()
    for kind, chunk in fuzz_chunks(frames, INPUTS, rng):
        kinds[kind] += 1
        decoder.feed_raw(chunk)  # never raises
    decoder.feed_raw(b"\x00")  # the stream's end
    stats = decoder.stats
    assert set(kinds) == set(MUTATIONS)
    assert set(stats.rejected) == set(Rejection)  # every reason met, each counted
    assert stats.rejected_total == sum(stats.rejected.values())
    # Every good frame and every split one (a part a chunk) comes through; garbage almost
    # never passes for a frame (CRC-16 lets one random frame in 65,536 through).
    whole = kinds["good"] + kinds["split"] // 4
    assert whole <= stats.frames <= whole + 3


def test_the_receiver_takes_garbage_on_every_link_and_records_every_good_frame() -> None:
    rng = np.random.default_rng(12)
    frames = good_frames(300, rng, devices=(UNIT, GPS, STRANGER))
    receiver = Receiver(CASES)
    good = 0
    for i, (kind, chunk) in enumerate(fuzz_chunks(frames, INPUTS // 3, rng)):
        receiver.receive(i % 3, chunk, float(i))  # three links, each its own stream
        good += kind == "good"
    assert receiver.stats.rejected_total > 0
    assert receiver.stats.frames >= good  # every good frame decoded (strangers' make no record)
