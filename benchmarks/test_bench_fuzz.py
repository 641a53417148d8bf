"""Fuzzing at depth (issue 16): a million fuzzed inputs (``firmware_stubs.fuzz``) through the
stream decoder and through the receiver, none raising; ``extra_info`` holds every rejection by
its reason, the inputs by mutation and the rate. Slow: run it alone with ``-m slow``; the tests
run a smaller one (``tests/centre/test_fuzz.py``)."""

from __future__ import annotations

import time
from collections import Counter

import numpy as np
import pytest

from firmware_stubs.fuzz import fuzz_chunks, good_frames
from firmware_stubs.protocol import StreamDecoder
from sim.centre.receiver import Receiver
from sim.detector.cases import Case, CaseBook, DeviceKind, FittedDevice

INPUTS = 1_000_000
CASES = CaseBook([Case(1, (FittedDevice(700, DeviceKind.BASE_UNIT, 0.0), FittedDevice(701, DeviceKind.RF_TAG, 0.0))),
                  Case(2, (FittedDevice(800, DeviceKind.GPS_TAG, 0.0),))])


@pytest.mark.slow
def test_a_million_fuzzed_inputs_through_the_decoder_and_the_receiver(benchmark) -> None:  # type: ignore[no-untyped-def]
    figures: dict[str, object] = {}

    def fuzz() -> None:
        rng = np.random.default_rng(16)
        frames = good_frames(1_000, rng, devices=(700, 800, 4242))
        decoder, receiver, kinds = StreamDecoder(), Receiver(CASES), Counter()
        started = time.perf_counter()
        for i, (kind, chunk) in enumerate(fuzz_chunks(frames, INPUTS, rng)):
            kinds[kind] += 1
            decoder.feed_raw(chunk)
            receiver.receive(i % 4, chunk, float(i))
        figures.update(inputs=INPUTS, chunks=sum(kinds.values()), by_mutation=dict(kinds),
                       decoder_frames=decoder.stats.frames,
                       decoder_rejected={r.name.lower(): n for r, n in decoder.stats.rejected.items()},
                       receiver_frames=receiver.stats.frames, receiver_records=receiver.stats.records,
                       receiver_rejected={r.name.lower(): n for r, n in receiver.stats.rejected.items()},
                       inputs_per_s=INPUTS / (time.perf_counter() - started))

    benchmark.pedantic(fuzz, rounds=1)
    benchmark.extra_info.update(figures)
    assert figures["decoder_rejected"] and figures["receiver_frames"]
