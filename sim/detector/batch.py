"""The batch API: the detector's decisions over numpy arrays, for large replays.

``detect_batch`` takes event records as a ``RECORD_DTYPE`` array and GPS fixes
as a ``BATCH_FIX_DTYPE`` array (each upload's fixes contiguous), and makes
exactly the decisions the streaming API makes on the same records fed in the
same order: receive-time order, and on a tie events before uploads, each in
array order. It is the streaming engine driven from arrays, so the two cannot
drift apart.
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np

from sim.detector.cases import Case, CaseBook
from sim.detector.engine import Detector
from sim.detector.policy import Policy
from sim.detector.telemetry import BATCH_FIX_DTYPE, FIX_DTYPE, RECORD_DTYPE, Kind, Telemetry


def upload_bounds(fixes: np.ndarray) -> np.ndarray:
    """Start offsets of each upload in ``fixes``, and the end: an upload is a run of
    rows with the same device, sequence number and receive time."""
    if len(fixes) == 0:
        return np.zeros(1, dtype=np.int64)
    change = (
        (fixes["device"][1:] != fixes["device"][:-1])
        | (fixes["seq"][1:] != fixes["seq"][:-1])
        | (fixes["receive_time"][1:] != fixes["receive_time"][:-1])
    )
    return np.concatenate(([0], np.flatnonzero(change) + 1, [len(fixes)]))


def detect_batch(
    policy: Policy, cases: CaseBook | Iterable[Case], events: np.ndarray, fixes: np.ndarray, start: float, until: float
) -> Detector:
    """Run the detector over a whole replay; returns it, holding its alerts and stats."""
    if events.dtype != RECORD_DTYPE or fixes.dtype != BATCH_FIX_DTYPE:
        raise TypeError("events must be RECORD_DTYPE and fixes BATCH_FIX_DTYPE (see sim.detector.telemetry)")
    det = Detector(policy, cases, start)
    bounds = upload_bounds(fixes)
    starts = bounds[:-1]
    physical = np.empty(len(fixes), dtype=FIX_DTYPE)
    for name in FIX_DTYPE.names:  # type: ignore[union-attr]
        physical[name] = fixes[name]
    # One merged order: by receive time; events (0) before uploads (1) on a tie; stable within each.
    times = np.concatenate((events["receive_time"], fixes["receive_time"][starts]))
    source = np.concatenate((np.zeros(len(events), np.int8), np.ones(len(starts), np.int8)))
    index = np.concatenate((np.arange(len(events)), np.arange(len(starts))))
    order = np.lexsort((index, source, times))
    for k in order:
        i = int(index[k])
        if source[k] == 0:
            e = events[i]
            record = Telemetry(int(e["device"]), int(e["subject"]), Kind(int(e["kind"])), float(e["event_time"]),
                               float(e["receive_time"]), int(e["seq"]), int(e["flags"]), float(e["value"]))
        else:
            a, b = int(bounds[i]), int(bounds[i + 1])
            first = fixes[a]
            record = Telemetry(int(first["device"]), int(first["subject"]), Kind.GPS_FIXES, float(first["upload_time"]),
                               float(first["receive_time"]), int(first["seq"]), fixes=physical[a:b])
        det.feed((record,))
    det.advance(until)
    return det
