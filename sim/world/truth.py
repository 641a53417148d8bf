"""Ground truth: what really happened, as intervals with exact start and end.

The world writes the truth; it never passes through a device or a link. The
scorer holds the detector's alerts against it. An interval belongs to a
subject and, where it is about one device (flat, faulty, not reporting), to
that device (0 otherwise).
"""

from __future__ import annotations

from enum import IntEnum

import numpy as np


class TruthKind(IntEnum):
    ABSENT_IN_CURFEW = 1  # away from home while a curfew window is in force
    STRAP_TAMPERED = 2  # strap cut or removed
    IN_EXCLUSION_ZONE = 3
    OUT_OF_INCLUSION_ZONE = 4  # away from the home zone in curfew (GPS subjects)
    DRINKING = 5  # TAC over the threshold
    DEVICE_FLAT = 6  # a GPS tag's battery ran out
    DEVICE_FAULTY = 7  # a sensor reporting what did not happen (a false tamper)
    UNMONITORED = 8  # fitted but not reporting: an installation fault
    MAINS_LOST = 9  # a base unit's mains cut (equipment)
    CELLULAR_OUTAGE = 10  # the device's area had no network (equipment)
    CHARGE_MISSED = 11  # a whole day (from midnight) a GPS tag was on charge less than the condition asks

    @property
    def label(self) -> str:
        return self.name.lower().replace("_", "-")


TRUTH_DTYPE = np.dtype([("subject", "<u4"), ("device", "<u4"), ("kind", "u1"), ("start", "<f8"), ("end", "<f8")])


class TruthLog:
    """Intervals as the world finds them; ``table()`` gives them sorted, as one array."""

    def __init__(self) -> None:
        self._parts: list[np.ndarray] = []

    def add(self, subject: int, device: int, kind: TruthKind, intervals: np.ndarray | list[tuple[float, float]]) -> None:
        spans = np.asarray(intervals, dtype=float).reshape(-1, 2)
        spans = spans[spans[:, 1] > spans[:, 0]]
        if not len(spans):
            return
        part = np.empty(len(spans), dtype=TRUTH_DTYPE)
        part["subject"], part["device"], part["kind"] = subject, device, kind
        part["start"], part["end"] = spans[:, 0], spans[:, 1]
        self._parts.append(part)

    def table(self) -> np.ndarray:
        """Every interval, sorted by subject, kind, start, device: the same run gives the same bytes."""
        if not self._parts:
            return np.empty(0, dtype=TRUTH_DTYPE)
        rows = np.concatenate(self._parts)
        return rows[np.lexsort((rows["device"], rows["end"], rows["start"], rows["kind"], rows["subject"]))]
