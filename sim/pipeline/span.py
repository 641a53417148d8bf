"""The stream's unit: the records received in one span of receive time."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from sim.world.draws import DAY_S

# A span holds the records of about this many subject-days, whatever the caseload: each detection
# process holds one span's merge (about 1 GB at 13,000 subject-days, with its temporaries) beside
# its detectors, so that memory stays flat as the caseload grows.
SUBJECT_DAYS_PER_SPAN = 6_000


def span_length(subjects: int) -> float:
    """The stream's unit of receive time for a run of ``subjects``: a whole number of seconds
    that divides the day (so that span edges are exact in floating point), at most a quarter of
    it. Detection does not depend on it (the detector takes a batch as it would the same
    records one by one); only memory and the spill's file count do."""
    spans = max(4, math.ceil(subjects / SUBJECT_DAYS_PER_SPAN))
    while DAY_S % spans:
        spans += 1
    return DAY_S / spans


@dataclass(frozen=True)
class TelemetrySpan:
    """The records received in [start, end), as the detector's batch arrays
    (``docs/telemetry.md``), ``order`` numbering them in receive order within the span."""

    index: int
    start: float
    end: float
    events: np.ndarray  # RECORD_DTYPE
    fixes: np.ndarray  # BATCH_FIX_DTYPE
