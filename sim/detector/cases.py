"""The case book: who is monitored, with which devices, under which order.

The detector is told this up front, as a monitoring centre's case system
would tell it: each subject's fitted devices (with when and where they were
fitted), curfew windows and zones.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from enum import Enum

import numpy as np

DAY_S = 86400


class DeviceKind(Enum):
    __hash__ = object.__hash__  # singletons; Enum's own hash is Python code, and this is hot

    RF_TAG = "rf-tag"
    BASE_UNIT = "base-unit"
    GPS_TAG = "gps-tag"
    ALCOHOL_TAG = "alcohol-tag"


@dataclass(frozen=True, slots=True)
class FittedDevice:
    device: int
    kind: DeviceKind
    installed_at: float
    area: int = 0  # where it connects from (a cell area): what a regional outage shares
    # How often it is configured to report: a base unit's status check, a tag's upload
    # interval. The silence rules judge in multiples of it; 0: unknown (an RF tag, heard
    # through its unit, needs none).
    report_interval_s: float = 0.0


@dataclass(frozen=True, slots=True)
class Curfew:
    """A window ``start_s`` after midnight (UTC) on each day in the ``days`` mask
    (bit 0 Monday .. bit 6 Sunday), lasting ``duration_s``; it may cross midnight."""

    days: int
    start_s: int
    duration_s: int

    def windows(self, start: float, end: float) -> Iterator[tuple[float, float]]:
        """The window instances that overlap [start, end), in time order."""
        first_day = int(start // DAY_S) - 1
        last_day = int(end // DAY_S)
        for day in range(first_day, last_day + 1):
            if self.days >> ((day + 3) % 7) & 1:  # 1970-01-01 was a Thursday
                w_start = day * DAY_S + self.start_s
                w_end = w_start + self.duration_s
                if w_end > start and w_start < end:
                    yield w_start, w_end


def curfew_mask(t: np.ndarray, days: np.ndarray | int, start_s: np.ndarray | int, duration_s: np.ndarray | int) -> np.ndarray:
    """For each time, whether a curfew window (as ``Curfew``; arrays broadcast) contains it.

    Windows last at most a day, so only the latest start at or before ``t`` can
    contain it: one pass, whatever the day mask. Streaming and batch both judge
    fixes with this, so they agree to the last bit.
    """
    since = t - start_s
    start_day = np.floor(since / DAY_S)
    weekday = ((start_day + 3) % 7).astype(np.int64)  # 1970-01-01 was a Thursday
    return ((np.asarray(days) >> weekday) & 1).astype(bool) & (since - start_day * DAY_S < duration_s)


@dataclass(frozen=True, slots=True)
class Zone:
    zone_id: int
    inclusion: bool  # True: must be inside during curfew; False: must never be inside
    lat: float
    lon: float
    radius_m: float


@dataclass(frozen=True, slots=True)
class Case:
    subject: int
    devices: tuple[FittedDevice, ...]
    curfews: tuple[Curfew, ...] = ()
    zones: tuple[Zone, ...] = ()

    def in_curfew(self, t: float) -> tuple[float, float] | None:
        """The curfew window containing ``t``, if any."""
        for curfew in self.curfews:
            for window in curfew.windows(t, t + 1.0):  # a span, not an epsilon: at Unix times t + 1e-9 == t
                if window[0] <= t < window[1]:
                    return window
        return None

    def next_window(self, t: float) -> tuple[float, float] | None:
        """The earliest curfew window that has not ended by ``t``."""
        found = None
        for curfew in self.curfews:
            window = next(curfew.windows(t, t + 8 * DAY_S), None)  # every day mask repeats within a week
            if window is not None and (found is None or window < found):
                found = window
        return found

    def curfew_windows(self, start: float, end: float) -> list[tuple[float, float]]:
        return sorted(w for c in self.curfews for w in c.windows(start, end))


class CaseBook:
    """Every case, indexed by subject and by device."""

    def __init__(self, cases: Iterable[Case]) -> None:
        self.by_subject: dict[int, Case] = {}
        self.device_of: dict[int, tuple[Case, FittedDevice]] = {}
        for case in cases:
            if case.subject in self.by_subject:
                raise ValueError(f"subject {case.subject} appears twice in the case book")
            self.by_subject[case.subject] = case
            for fitted in case.devices:
                if fitted.device in self.device_of:
                    raise ValueError(f"device {fitted.device} is fitted to two subjects")
                self.device_of[fitted.device] = (case, fitted)
