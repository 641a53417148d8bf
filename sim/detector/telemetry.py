"""Telemetry records: what the detector reads. The detector owns this schema.

A record is one thing a device reported, as the centre received it: which
device and subject, what kind of event, the device's event time, the
centre's receive time, the device's sequence number, and a small payload
(``flags`` and ``value``, whose meaning depends on the kind; GPS fixes come
as a numpy array). ``docs/telemetry.md`` is the reference.

Times are seconds (Unix time, or any epoch the whole run shares).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import IntEnum

import numpy as np


class Kind(IntEnum):
    # Base unit (home monitoring unit) events: the same numbers as the wire's event codes
    # (docs/protocol.md), so the receiver maps them by number; its tests check every one.
    TAG_LEAVE = 1
    TAG_RETURN = 2
    STRAP_TAMPER = 3
    BODY_TAMPER = 4
    UNIT_MOVED = 5
    MAINS_LOST = 6
    MAINS_RESTORED = 7
    BACKUP_BATTERY_LOW = 8
    STATUS_CHECK = 9
    INSTALLATION = 10
    TAMPER_CLEARED = 11
    # GPS tag.
    GPS_FIXES = 20
    GPS_STATUS = 21
    # Alcohol tag.
    ALCOHOL_READING = 30
    # Any device: the receiver saw its sequence numbers start again (protocol 1.0).
    DEVICE_REBOOT = 40
    # Any device: it said it had started again (protocol 1.1), its numbering carrying on;
    # the value is its count of starts.
    DEVICE_BOOT = 41


# Flags in base-unit records: the tag's flags in the low byte, the unit's in the high.
TAG_STRAP_SEVERED = 0x01
TAG_PARTIAL_CUT = 0x02
TAG_CASE_OPEN = 0x04
TAG_BATTERY_LOW = 0x08
UNIT_ON_BACKUP = 0x01 << 8
UNIT_IN_CURFEW = 0x02 << 8
UNIT_TAG_PRESENT = 0x04 << 8
UNIT_VIOLATION = 0x08 << 8

# Flags in GPS_STATUS records (the wire's GpsFlags).
GPS_CHARGING = 0x01
GPS_NO_FIX = 0x02
GPS_STRAP_OPEN = 0x04
GPS_CASE_OPEN = 0x08
GPS_BATTERY_LOW = 0x10
GPS_AT_REST = 0x20

# Flags in ALCOHOL_READING records (the wire's AlcoholFlags).
ALCOHOL_IR_OBSTRUCTION = 0x01
ALCOHOL_STRAP_TAMPER = 0x02
ALCOHOL_TEMPERATURE_TAMPER = 0x04


@dataclass(frozen=True, slots=True, eq=False)
class Telemetry:
    """One received record.

    ``value`` is the backup battery % for base-unit events, the battery % for
    GPS status, and TAC in mg/dl for an alcohol reading. ``fixes`` is set for
    GPS_FIXES only: an array of ``FIX_DTYPE``.
    """

    device: int
    subject: int
    kind: Kind
    event_time: float
    receive_time: float
    seq: int
    flags: int = 0
    value: float = 0.0
    fixes: np.ndarray | None = None

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Telemetry):
            return NotImplemented
        same = (self.device, self.subject, self.kind, self.event_time, self.receive_time, self.seq, self.flags, self.value) == (
            other.device, other.subject, other.kind, other.event_time, other.receive_time, other.seq, other.flags, other.value
        )
        if self.fixes is None or other.fixes is None:
            return same and self.fixes is other.fixes
        return same and np.array_equal(self.fixes, other.fixes)

    __hash__ = None  # type: ignore[assignment]


FIX_DTYPE = np.dtype([("time", "<f8"), ("lat", "<f8"), ("lon", "<f8"), ("accuracy_m", "<f4")])

# The batch form of records other than GPS_FIXES: one row a record.
RECORD_DTYPE = np.dtype(
    [
        ("order", "<u8"),  # the record's position in the receive order, across both arrays
        ("device", "<u4"),
        ("subject", "<u4"),
        ("kind", "u1"),
        ("event_time", "<f8"),
        ("receive_time", "<f8"),
        ("seq", "<u2"),
        ("flags", "<u2"),
        ("value", "<f4"),
    ]
)

# The batch form of GPS fixes from many uploads: one row a fix, with the upload's identity.
BATCH_FIX_DTYPE = np.dtype(
    [
        ("order", "<u8"),  # the upload record's position in the receive order: one value an upload
        ("device", "<u4"),
        ("subject", "<u4"),
        ("upload_time", "<f8"),  # the upload record's own event time
        ("receive_time", "<f8"),
        ("seq", "<u2"),
        ("time", "<f8"),
        ("lat", "<f8"),
        ("lon", "<f8"),
        ("accuracy_m", "<f4"),
    ]
)


def make_fixes(time: list[float] | np.ndarray, lat: list[float] | np.ndarray, lon: list[float] | np.ndarray,
               accuracy_m: list[float] | np.ndarray) -> np.ndarray:
    fixes = np.empty(len(time), dtype=FIX_DTYPE)
    fixes["time"], fixes["lat"], fixes["lon"], fixes["accuracy_m"] = time, lat, lon, accuracy_m
    return fixes


def to_batch(records: list[Telemetry]) -> tuple[np.ndarray, np.ndarray]:
    """Records as the two arrays the batch API takes: events, and GPS fixes (an
    upload's fixes contiguous), each row carrying its record's position in
    ``records`` as ``order``. An upload with no fixes has no fix row, so it
    travels as an event row of kind GPS_FIXES."""
    def has_fixes(r: Telemetry) -> bool:
        return r.kind is Kind.GPS_FIXES and r.fixes is not None and len(r.fixes) > 0

    events = [(i, r) for i, r in enumerate(records) if not has_fixes(r)]
    rows = np.empty(len(events), dtype=RECORD_DTYPE)
    for row, (i, r) in enumerate(events):
        rows[row] = (i, r.device, r.subject, r.kind, r.event_time, r.receive_time, r.seq, r.flags, r.value)
    uploads = [(i, r) for i, r in enumerate(records) if has_fixes(r)]
    fixes = np.empty(sum(len(r.fixes) for _, r in uploads), dtype=BATCH_FIX_DTYPE)  # type: ignore[arg-type]
    at = 0
    for i, r in uploads:
        n = len(r.fixes)  # type: ignore[arg-type]
        block = fixes[at : at + n]
        block["order"], block["device"], block["subject"], block["seq"] = i, r.device, r.subject, r.seq
        block["upload_time"], block["receive_time"] = r.event_time, r.receive_time
        for name in FIX_DTYPE.names:  # type: ignore[union-attr]
            block[name] = r.fixes[name]  # type: ignore[index]
        at += n
    return rows, fixes


def from_batch(events: np.ndarray, fixes: np.ndarray) -> list[Telemetry]:
    """The records ``to_batch`` laid out, back in ``order``. A GPS_FIXES event row (an upload
    with no fixes) comes back with an empty fix array; ``value`` comes back through the
    array's float32."""
    out: list[tuple[int, Telemetry]] = []
    for order, device, subject, kind, event_time, receive_time, seq, flags, value in events.tolist():
        empty = np.empty(0, FIX_DTYPE) if kind == Kind.GPS_FIXES else None
        out.append((order, Telemetry(device, subject, Kind(kind), event_time, receive_time, seq, flags, value, empty)))
    starts = np.flatnonzero(np.concatenate(([True], fixes["order"][1:] != fixes["order"][:-1]))) if len(fixes) else []
    for a, b in zip(starts, [*starts[1:], len(fixes)]):
        head = fixes[a]
        block = np.empty(b - a, dtype=FIX_DTYPE)
        for name in FIX_DTYPE.names:  # type: ignore[union-attr]
            block[name] = fixes[name][a:b]
        out.append((int(head["order"]), Telemetry(int(head["device"]), int(head["subject"]), Kind.GPS_FIXES,
                                                  float(head["upload_time"]), float(head["receive_time"]),
                                                  int(head["seq"]), fixes=block)))
    out.sort(key=lambda item: item[0])
    return [record for _, record in out]
