"""The floor of a run's work, timed on this machine now: the same-run reference for end-to-end benchmarks.

A run's cost is per-frame Python (each frame built, sent and received) and
numpy passes over its telemetry. The reference does the least of each: a bare
Python loop making one small dict a frame, and a bare numpy pass over as many
bytes as the run's telemetry holds. Its rates are taken just before the run
and just after, and the reference's time for the run's frames and bytes is
worked out at their mean rate, so the reference brackets the run and slows
with the machine: a benchmark's ratio to it moves with the code more than
with whatever else the machine is doing. Each rate is the median of a few
short tries, so one burst of another process's work does not make it.
"""

from __future__ import annotations

import statistics
import time
from dataclasses import dataclass

import numpy as np

from sim.detector.telemetry import BATCH_FIX_DTYPE, RECORD_DTYPE

# Enough work for a steady rate, little beside the runs the reference sits by.
FRAMES_A_TRY = 500_000
# The numpy pass reads this buffer over and over: big enough to leave the caches, small
# beside any run's peak memory, so measuring does not move the figures it sits beside.
BUFFER_BYTES = 64 * 2**20
PASSES_A_TRY = 4
TRIES = 3


def telemetry_bytes(records: int, fixes: int) -> int:
    """The bytes of a run's telemetry as the detector's batch arrays, from its detector's counts
    (a GPS upload counted as a record row as well as its fixes: a little over the truth)."""
    return records * RECORD_DTYPE.itemsize + fixes * BATCH_FIX_DTYPE.itemsize


def bare_python_s(frames: int) -> float:
    """Seconds for a bare loop of one small dict a frame, kept by device as a receiver would."""
    last: dict[int, float] = {}
    start = time.perf_counter()
    for i in range(frames):
        frame = {"device": i & 0xFFFF, "t": float(i)}
        last[frame["device"]] = frame["t"]
    return time.perf_counter() - start


def bare_numpy_s(buffer: np.ndarray, passes: int) -> float:
    """Seconds for ``passes`` numpy sums over ``buffer``."""
    start = time.perf_counter()
    for _ in range(passes):
        buffer.sum()
    return time.perf_counter() - start


@dataclass(frozen=True)
class ReferenceRates:
    frames_per_s: float  # the bare Python loop's
    bytes_per_s: float  # the bare numpy pass's


def reference_rates() -> ReferenceRates:
    """The reference's rates on this machine now, each the median of ``TRIES`` tries."""
    buffer = np.ones(BUFFER_BYTES // 8)
    python_s = statistics.median(bare_python_s(FRAMES_A_TRY) for _ in range(TRIES))
    numpy_s = statistics.median(bare_numpy_s(buffer, PASSES_A_TRY) for _ in range(TRIES))
    return ReferenceRates(FRAMES_A_TRY / python_s, PASSES_A_TRY * BUFFER_BYTES / numpy_s)


def reference_figures(before: ReferenceRates, after: ReferenceRates, frames: int, nbytes: int,
                      wall_s: float) -> dict[str, float]:
    """The reference's seconds for ``frames`` and ``nbytes`` at the mean of the rates taken
    before and after the run, and the run's ``ratio_to_reference`` (the reference's time over
    the run's ``wall_s``: higher is faster), as ``extra_info`` names them."""
    frames_per_s = (before.frames_per_s + after.frames_per_s) / 2
    bytes_per_s = (before.bytes_per_s + after.bytes_per_s) / 2
    python_s, numpy_s = frames / frames_per_s, nbytes / bytes_per_s
    return {
        "reference_frames_per_s_before": before.frames_per_s, "reference_frames_per_s_after": after.frames_per_s,
        "reference_bytes_per_s_before": before.bytes_per_s, "reference_bytes_per_s_after": after.bytes_per_s,
        "reference_python_s": python_s, "reference_numpy_s": numpy_s, "reference_s": python_s + numpy_s,
        "ratio_to_reference": (python_s + numpy_s) / wall_s,
    }
