"""The centre's end of every device link: bytes in, telemetry records out, acks back.

Each link (a connection, named by any hashable the caller likes) has its own
``StreamDecoder``, so frames may be split and merged across ``receive`` calls
in any way. Every good frame from a device a case names, carrying a message a
device stores for upload, becomes one ``Telemetry`` record (a GPS batch stays
one record, its fixes one numpy array) stamped with the device's event time
and the centre's receive time, and is acked on the link it came in on.
``receive_batch`` takes many chunks at once and gives the same records as the
detector's batch arrays, never building a message or record object: the fleet
simulation's path, for millions of frames.

Acks are cumulative and only ever in order (``sim.centre.acks``, which
``DeviceSession`` acks through too). A duplicate is acked again and still
passed on: the detector drops duplicates itself, by device and sequence number.

Nothing is acked for a device no case names: the centre has no one to apply
its telemetry to, so the device keeps it until the case book catches up.

``receive`` never raises on its input. Whatever is not a record (decoder
rejections, frames not meant for the centre, unknown devices) is counted in
``stats`` and the last few kept in ``set_aside`` for diagnosis; a rejected
frame never costs the good frames around it.
"""

from __future__ import annotations

from collections import Counter, deque
from collections.abc import Hashable, Sequence
from dataclasses import dataclass, field
from typing import NamedTuple

import numpy as np

from firmware_stubs.protocol import (
    WIRE_FIX_DTYPE,
    Frame,
    MessageType,
    RawFrame,
    Rejection,
    StreamDecoder,
    to_frame,
)
from sim.centre.acks import AckTracker
from sim.detector.cases import CaseBook
from sim.detector.telemetry import BATCH_FIX_DTYPE, RECORD_DTYPE, Kind, Telemetry, from_batch

# How many set-aside items to keep for diagnosis (the counts in stats are exact).
SET_ASIDE_KEEP = 64

# What devices store and upload: each becomes a record. Anything else but a
# device's ack (an RF beacon, meant for its base unit; a TIME_SYNC or CONFIG,
# the centre's own commands echoed) is not for the centre.
_STORED = frozenset((MessageType.BASE_UNIT_EVENT, MessageType.GPS_FIX_BATCH, MessageType.GPS_STATUS,
                     MessageType.ALCOHOL_READING))
_FOR_CENTRE = _STORED | {MessageType.ACK}


@dataclass
class ReceiverStats:
    frames: int = 0  # good frames decoded, of every kind
    records: int = 0  # telemetry records returned, DEVICE_REBOOT included
    acks_sent: int = 0
    device_acks: int = 0  # devices' answers to the centre's commands
    not_for_centre: int = 0  # RF beacons, and commands (TIME_SYNC, CONFIG) coming back
    unknown_device: int = 0  # frames from a device no case names
    reboots: int = 0
    rejected: Counter[Rejection] = field(default_factory=Counter)  # summed over every link's decoder

    @property
    def rejected_total(self) -> int:
        return sum(self.rejected.values())


class SetAside(NamedTuple):
    """Something received that is not a record: where, why, and what (raw hex, or the frame)."""

    link: Hashable
    reason: str  # a Rejection name in lower case, "not_for_centre" or "unknown_device"
    item: str | Frame


class Receiver:
    """Every link's decoder, every device's ack tracking, and the acks owed on each link.

    A device that restarts its numbering (as ``AckTracker`` tells restarts)
    gets a ``DEVICE_REBOOT`` record, with seq 0 and that frame's event time,
    just before that frame's own record.
    """

    def __init__(self, cases: CaseBook, acks: bool = True) -> None:
        """``acks=False`` for a fleet simulation whose links model the acks themselves
        (``sim.links.network``): tracking goes on, no ack frames are built."""
        self.cases = cases
        self.acks = acks
        self.stats = ReceiverStats()
        self.set_aside: deque[SetAside] = deque(maxlen=SET_ASIDE_KEEP)
        self._decoders: dict[Hashable, StreamDecoder] = {}
        self._acks: dict[Hashable, bytearray] = {}
        self._sequences = AckTracker()
        self._subject_of = {device: case.subject for device, (case, _) in cases.device_of.items()}
        self._rejections_counted: dict[Hashable, Counter[Rejection]] = {}  # per link, of its decoder's tally

    def receive(self, link: Hashable, data: bytes, now: float) -> list[Telemetry]:
        """Records for the frames completed by ``data`` on ``link``, received at ``now`` (seconds)."""
        return from_batch(*self.receive_batch((link,), (data,), (now,)))

    def receive_batch(self, links: Sequence[Hashable], chunks: Sequence[bytes],
                      nows: Sequence[float]) -> tuple[np.ndarray, np.ndarray]:
        """``receive`` for each (link, chunk, now) in turn, its records as the detector's batch
        arrays (``docs/telemetry.md``): what ``to_batch`` makes of every record ``receive``
        would have returned, ``order`` numbering them from 0 in this call."""
        records = _Records()
        decoders = self._decoders
        for link, chunk, now in zip(links, chunks, nows, strict=True):
            decoder = decoders.get(link)
            if decoder is None:
                decoder = decoders[link] = StreamDecoder()
            rejected_before = decoder.stats.rejected_total
            frames = decoder.feed_raw(chunk)
            if decoder.stats.rejected_total != rejected_before:
                self._take_rejections(link, decoder, decoder.stats.rejected_total - rejected_before)
            self.stats.frames += len(frames)
            for frame in frames:
                self._on_frame(link, frame, now, records)
        self.stats.records += len(records)
        return records.arrays()

    def take_acks(self, link: Hashable) -> bytes:
        """The ack frames owed on ``link`` since the last call, to send back down it."""
        pending = self._acks.get(link)
        if not pending:
            return b""
        out = bytes(pending)
        pending.clear()
        return out

    # --- internals -----------------------------------------------------------------

    def _take_rejections(self, link: Hashable, decoder: StreamDecoder, count: int) -> None:
        counted = self._rejections_counted.setdefault(link, Counter())
        self.stats.rejected.update(decoder.stats.rejected - counted)
        counted.update(decoder.stats.rejected - counted)
        # The decoder keeps its last few rejects; the newest ``count`` are this chunk's.
        n = min(count, len(decoder.recent_rejects))
        for reason, raw in list(decoder.recent_rejects)[len(decoder.recent_rejects) - n :]:
            self.set_aside.append(SetAside(link, reason.name.lower(), raw.hex()))

    def _on_frame(self, link: Hashable, frame: RawFrame, now: float, records: _Records) -> None:
        if frame.type not in _FOR_CENTRE:
            self.stats.not_for_centre += 1
            self.set_aside.append(SetAside(link, "not_for_centre", to_frame(frame)))
            return
        subject = self._subject_of.get(frame.device_id)
        if subject is None:
            self.stats.unknown_device += 1
            self.set_aside.append(SetAside(link, "unknown_device", to_frame(frame)))
            return
        if frame.type is MessageType.ACK:
            self.stats.device_acks += 1  # not sequenced, and nobody acks an ack
            return
        if self._sequences.received(frame.device_id, frame.seq, frame.event_time_ms):
            self.stats.reboots += 1
            records.add(frame.device_id, subject, Kind.DEVICE_REBOOT, frame.event_time_ms, now, 0, 0, 0)
        records.add_stored(frame, subject, now)
        if self.acks:
            self._ack(link, frame.device_id, now)

    def _ack(self, link: Hashable, device: int, now: float) -> None:
        ack = self._sequences.ack(device, max(0, round(now * 1000)))
        self._acks.setdefault(link, bytearray()).extend(ack)
        self.stats.acks_sent += 1


# A record's fields as ``_Records`` collects them, in wire units.
_ROW_DTYPE = np.dtype([("device", "<u4"), ("subject", "<u4"), ("kind", "u1"), ("event_time_ms", "<u8"),
                       ("receive_time", "<f8"), ("seq", "<u2"), ("flags", "<u2"), ("value", "<f4")])


class _Records:
    """Records as rows of plain fields, in the order received, until ``arrays`` lays them out
    for the detector."""

    def __init__(self) -> None:
        self.rows: list[tuple[int, int, int, int, float, int, int, int]] = []
        self.fixes: list[tuple[int, np.ndarray]] = []  # (record number, wire fixes) of each GPS batch with any

    def add(self, device: int, subject: int, kind: int, event_time_ms: int, now: float, seq: int, flags: int,
            value: int) -> None:
        self.rows.append((device, subject, kind, event_time_ms, now, seq, flags, value))

    def add_stored(self, frame: RawFrame, subject: int, now: float) -> None:
        """The record for one stored message (a base-unit event, GPS batch or status, alcohol reading)."""
        f = frame.fields
        kind = frame.type
        if kind is MessageType.GPS_STATUS:
            self.rows.append((frame.device_id, subject, Kind.GPS_STATUS, frame.event_time_ms, now, frame.seq, f[1], f[0]))
        elif kind is MessageType.BASE_UNIT_EVENT:
            # The event codes and the record kinds share numbers 1..11 on purpose.
            self.rows.append((frame.device_id, subject, f[0], frame.event_time_ms, now, frame.seq, f[2] | f[3] << 8, f[4]))
        elif kind is MessageType.ALCOHOL_READING:
            self.rows.append((frame.device_id, subject, Kind.ALCOHOL_READING, frame.event_time_ms, now, frame.seq, f[2], f[0]))
        else:
            if len(f[0]):
                self.fixes.append((len(self.rows), f[0]))
            self.rows.append((frame.device_id, subject, Kind.GPS_FIXES, frame.event_time_ms, now, frame.seq, 0, 0))

    def __len__(self) -> int:
        return len(self.rows)

    def arrays(self) -> tuple[np.ndarray, np.ndarray]:
        """Events and fixes as ``to_batch`` lays them out; wire units become the detector's
        (ms to s, degrees x 1e7 to degrees, decimetres to metres)."""
        rows = np.array(self.rows, dtype=_ROW_DTYPE)
        event_time = rows["event_time_ms"] / 1000
        uploads = np.array([i for i, _ in self.fixes], dtype=np.int64)
        is_event = np.ones(len(rows), dtype=bool)
        is_event[uploads] = False
        events = np.empty(int(is_event.sum()), dtype=RECORD_DTYPE)
        events["order"] = np.flatnonzero(is_event)
        events["event_time"] = event_time[is_event]
        for name in ("device", "subject", "kind", "receive_time", "seq", "flags", "value"):
            events[name] = rows[name][is_event]

        # Joined as bytes: concatenating tens of thousands of small structured arrays is ten times slower.
        wire = np.frombuffer(b"".join([w.data for _, w in self.fixes]), dtype=WIRE_FIX_DTYPE)
        counts = [len(w) for _, w in self.fixes]
        fixes = np.empty(len(wire), dtype=BATCH_FIX_DTYPE)
        fixes["order"] = np.repeat(uploads, counts)
        fixes["upload_time"] = np.repeat(event_time[uploads], counts)
        for name in ("device", "subject", "receive_time", "seq"):
            fixes[name] = np.repeat(rows[name][uploads], counts)
        fixes["time"] = wire["time_ms"] / 1000
        fixes["lat"] = wire["lat_e7"] / 1e7
        fixes["lon"] = wire["lon_e7"] / 1e7
        fixes["accuracy_m"] = wire["accuracy_dm"] / 10
        return events, fixes
