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
from itertools import repeat
from typing import NamedTuple

import numpy as np

from firmware_stubs.batch_codec import FrameBatch, decode_frames
from firmware_stubs.protocol import (
    SEQ_MODULUS,
    WIRE_FIX_DTYPE,
    Frame,
    MessageType,
    RawFrame,
    Rejection,
    StreamDecoder,
    to_frame,
)
from sim.centre.acks import AckTracker, Seen
from sim.detector.cases import CaseBook
from sim.detector.telemetry import BATCH_FIX_DTYPE, RECORD_DTYPE, Kind, Telemetry, from_batch

# How many set-aside items to keep for diagnosis (the counts in stats are exact).
SET_ASIDE_KEEP = 64

# What devices store and upload, each acked. Each becomes a record but a QUEUE_OVERFLOW, which
# stands for the messages a device's full queue overwrote (acked past and counted). Anything
# else but a device's ack (an RF beacon, meant for its base unit; a TIME_SYNC or CONFIG, the
# centre's own commands echoed) is not for the centre.
RECORDED = frozenset((MessageType.BASE_UNIT_EVENT, MessageType.GPS_FIX_BATCH, MessageType.GPS_STATUS,
                      MessageType.ALCOHOL_READING, MessageType.DEVICE_BOOT))
_STORED = RECORDED | {MessageType.QUEUE_OVERFLOW}
_FOR_CENTRE = _STORED | {MessageType.ACK}
_FOR_CENTRE_TYPES = np.array(sorted(_FOR_CENTRE), np.uint8)


@dataclass
class ReceiverStats:
    frames: int = 0  # good frames decoded, of every kind
    records: int = 0  # telemetry records returned, DEVICE_REBOOT included
    acks_sent: int = 0
    device_acks: int = 0  # devices' answers to the centre's commands
    not_for_centre: int = 0  # RF beacons, and commands (TIME_SYNC, CONFIG) coming back
    unknown_device: int = 0  # frames from a device no case names
    reboots: int = 0  # restarts: announced (protocol 1.1) and seen in the numbering (1.0)
    overwritten: int = 0  # messages devices' full queues overwrote before the centre had them (1.1)
    late_copies: int = 0  # copies from before a device's restart seen in its numbering, arriving after it
    rejected: Counter[Rejection] = field(default_factory=Counter)  # summed over every link's decoder

    @property
    def rejected_total(self) -> int:
        return sum(self.rejected.values())


class SetAside(NamedTuple):
    """Something received that is not a record: where, why, and what (raw hex, or the frame)."""

    link: Hashable
    reason: str  # a Rejection name in lower case, "not_for_centre", "unknown_device" or "late_copy"
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
        self._boots: dict[int, int] = {}  # each device's newest count of starts (DEVICE_BOOT)
        self._subject_of = {device: case.subject for device, (case, _) in cases.device_of.items()}
        self._rejections_counted: dict[Hashable, Counter[Rejection]] = {}  # per link, of its decoder's tally

    def fitted_new(self, device: int) -> None:
        """``device`` was fitted new and numbers its stored messages from 0. Otherwise the first
        frame heard starts its tracking wherever it stands, so a lost seq 0 with seq 1 through
        is acked over and never resent; a centre that knows the device is new waits for 0."""
        self._sequences.cover(device, SEQ_MODULUS - 1)

    def receive(self, link: Hashable, data: bytes, now: float) -> list[Telemetry]:
        """Records for the frames completed by ``data`` on ``link``, received at ``now`` (seconds).
        Frame by frame: the reference ``receive_batch`` is held to."""
        records = _Records()
        self._take_chunk(link, data, now, records)
        self.stats.records += len(records)
        return from_batch(*records.arrays())

    def receive_batch(self, links: Sequence[Hashable], chunks: Sequence[bytes],
                      nows: Sequence[float]) -> tuple[np.ndarray, np.ndarray]:
        """``receive`` for each (link, chunk, now) in turn, its records as the detector's batch
        arrays (``docs/telemetry.md``): what ``to_batch`` makes of every record ``receive``
        would have returned, ``order`` numbering them from 0 in this call.

        Chunks that are each one whole frame on a link at a frame boundary (all a fleet's
        links deliver) are decoded together (``firmware_stubs.batch_codec``); any other chunk,
        and a frame only ``decode_raw`` reads, goes through ``receive``'s path in its turn."""
        if not len(links) == len(chunks) == len(nows):
            raise ValueError(f"{len(links)} links, {len(chunks)} chunks, {len(nows)} receive times")
        records = _Records()
        batch = decode_frames(list(chunks))
        columns = _RecordColumns.of(batch)
        held = {link for link in set(links) if (d := self._decoders.get(link)) is not None and not d.at_frame_boundary}
        one_by_one = sorted(set(np.flatnonzero(~batch.whole).tolist()) | set(batch.others)) + [len(chunks)]
        i, k = 0, 0
        while i < len(chunks):
            if one_by_one[k] < i:
                k += 1
                continue
            link = links[i]
            if one_by_one[k] == i or link in held:
                self._take_chunk(link, chunks[i], nows[i], records)
                if self._decoders[link].at_frame_boundary:
                    held.discard(link)
                else:
                    held.add(link)
                i += 1
                continue
            stop = one_by_one[k]
            if held:
                stop = next((j for j in range(i, stop) if links[j] in held), stop)
            self._take_whole(batch, columns, i, stop, links, chunks, nows, records)
            i = stop
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

    def _take_chunk(self, link: Hashable, chunk: bytes, now: float, records: _Records) -> None:
        """One chunk through its link's stream decoder, and each frame it completes."""
        decoder = self._decoders.get(link)
        if decoder is None:
            decoder = self._decoders[link] = StreamDecoder()
        rejected_before = decoder.stats.rejected_total
        frames = decoder.feed_raw(chunk)
        if decoder.stats.rejected_total != rejected_before:
            self._take_rejections(link, decoder, decoder.stats.rejected_total - rejected_before)
        self.stats.frames += len(frames)
        for frame in frames:
            self._on_frame(link, frame, now, records)

    def _take_whole(self, batch: FrameBatch, columns: _RecordColumns, lo: int, hi: int, links: Sequence[Hashable],
                    chunks: Sequence[bytes], nows: Sequence[float], records: _Records) -> None:
        """Chunks ``lo`` to ``hi``, each one whole frame the batch decoded or rejected, on links at a
        frame boundary: what ``_take_chunk`` does to each in turn, done to them all at once."""
        span = slice(lo, hi)
        seg_links = links[lo:hi]
        number: dict[Hashable, int] = {}
        link_number = np.fromiter((number.setdefault(link, len(number)) for link in seg_links), np.int64, hi - lo)
        decoded = batch.decoded[span]
        sizes = np.fromiter(map(len, chunks[lo:hi]), np.int64, hi - lo)
        link_bytes = np.bincount(link_number, weights=sizes, minlength=len(number)).astype(np.int64)
        link_frames = np.bincount(link_number[decoded], minlength=len(number))
        for link, n_bytes, n_frames in zip(number, link_bytes.tolist(), link_frames.tolist(), strict=True):
            decoder = self._decoders.get(link)
            if decoder is None:
                decoder = self._decoders[link] = StreamDecoder()
            decoder.count_whole(n_bytes, n_frames)
        self.stats.frames += int(decoded.sum())

        headers = batch.headers[span]
        types, devices = headers["type"], headers["device_id"]
        for_centre = np.flatnonzero(decoded & np.isin(types, _FOR_CENTRE_TYPES))
        subjects = np.fromiter(map(self._subject_of.get, devices[for_centre].tolist(), repeat(-1)), np.int64, len(for_centre))
        known = subjects >= 0
        is_ack = types[for_centre] == MessageType.ACK
        self.stats.device_acks += int((known & is_ack).sum())
        stored, subjects = for_centre[known & ~is_ack], subjects[known & ~is_ack]

        device_list = devices[stored].tolist()
        seqs, times = headers["seq"][stored], headers["event_time_ms"][stored]
        if self.acks:
            seen = []
            for j, device, seq, time_ms in zip(stored.tolist(), device_list, seqs.tolist(), times.tolist(), strict=True):
                seen.append(self._sequences.received(device, seq, time_ms))
                self._ack(seg_links[j], device, nows[lo + j])
        else:
            seen = list(map(self._sequences.received, device_list, seqs.tolist(), times.tolist()))
        seen_as = np.array(seen, np.int8)
        late = seen_as == Seen.LATE_COPY
        # What is set aside, in turn (as receive would): rejections, frames not for the centre,
        # unknown devices, late copies from before a restart.
        aside = [(j, 0) for j in np.flatnonzero(~decoded).tolist()]
        aside += [(j, 1) for j in np.flatnonzero(decoded & ~np.isin(types, _FOR_CENTRE_TYPES)).tolist()]
        aside += [(j, 2) for j in for_centre[~known].tolist()]
        aside += [(j, 3) for j in stored[late].tolist()]
        for j, why in sorted(aside):
            link = seg_links[j]
            if why == 0:
                decoder = self._decoders[link]
                decoder.reject(Rejection(int(batch.rejection[lo + j])), chunks[lo + j][1:-1])
                self._take_rejections(link, decoder, 1)
            elif why == 1:
                self.stats.not_for_centre += 1
                self.set_aside.append(SetAside(link, "not_for_centre", to_frame(batch.raw_frame(lo + j))))
            elif why == 2:
                self.stats.unknown_device += 1
                self.set_aside.append(SetAside(link, "unknown_device", to_frame(batch.raw_frame(lo + j))))
            else:
                self._set_aside_late_copy(link, to_frame(batch.raw_frame(lo + j)))
        if late.any():  # rare (protocol 1.0 restarts only): no copy of five arrays every batch
            stored, subjects, seqs, times, seen_as = (x[~late] for x in (stored, subjects, seqs, times, seen_as))

        reboot = seen_as == Seen.RESTART
        self.stats.reboots += int(reboot.sum())

        at = stored + lo
        place = np.arange(len(stored)) + np.cumsum(reboot)  # each record's row, after the reboots before it
        rows = np.empty(len(stored) + int(reboot.sum()), _ROW_DTYPE)
        receive_times = np.asarray(nows[lo:hi], dtype=np.float64)[stored]
        for name, values in (("device", devices[stored]), ("subject", subjects), ("event_time_ms", times),
                             ("receive_time", receive_times)):
            rows[name][place] = values
            rows[name][place[reboot] - 1] = values[reboot]
        for name, values in (("kind", columns.kind[at]), ("seq", seqs), ("flags", columns.flags[at]), ("value", columns.value[at])):
            rows[name][place] = values
        reboot_rows = rows[place[reboot] - 1]
        reboot_rows["kind"], reboot_rows["seq"], reboot_rows["flags"], reboot_rows["value"] = Kind.DEVICE_REBOOT, 0, 0, 0
        rows[place[reboot] - 1] = reboot_rows

        counts = batch.fix_counts[at]
        uploads = counts > 0
        records.add_part(rows, place[uploads], counts[uploads], batch.fixes[_ranges(columns.first_fix[at][uploads], counts[uploads])])

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
        if frame.type is MessageType.QUEUE_OVERFLOW:
            # Not a record: what it tells is that records are gone, which the count keeps.
            self.stats.overwritten += self._sequences.overwritten(frame.device_id, frame.seq)
        else:
            seen = self._sequences.received(frame.device_id, frame.seq, frame.event_time_ms)
            if seen is Seen.LATE_COPY:
                self._set_aside_late_copy(link, to_frame(frame))
            else:
                if seen is Seen.RESTART:
                    self.stats.reboots += 1
                    records.add(frame.device_id, subject, Kind.DEVICE_REBOOT, frame.event_time_ms, now, 0, 0, 0)
                if frame.type is MessageType.DEVICE_BOOT:
                    self._count_boot(frame.device_id, frame.fields[0])
                records.add_stored(frame, subject, now)
        if self.acks:
            self._ack(link, frame.device_id, now)

    def _set_aside_late_copy(self, link: Hashable, frame: Frame) -> None:
        """A copy from before its device's restart, arriving after it (protocol 1.0's numbering):
        acked, kept for diagnosis, never a record, which would take the detector's duplicate
        window far ahead of the new run. If the centre never had the original, the event is
        lost with it, and counted here."""
        self.stats.late_copies += 1
        self.set_aside.append(SetAside(link, "late_copy", frame))

    def _count_boot(self, device: int, boots: int) -> None:
        """Count the restarts a device's count of starts shows since the last it told (since its
        fitting, the first start, for the first heard); a copy already taken shows none."""
        last = self._boots.get(device, 1)
        if boots > last:
            self.stats.reboots += boots - last
            self._boots[device] = boots

    def _ack(self, link: Hashable, device: int, now: float) -> None:
        ack = self._sequences.ack(device, max(0, round(now * 1000)))
        self._acks.setdefault(link, bytearray()).extend(ack)
        self.stats.acks_sent += 1


# A record's fields as ``_Records`` collects them, in wire units.
_ROW_DTYPE = np.dtype([("device", "<u4"), ("subject", "<u4"), ("kind", "u1"), ("event_time_ms", "<u8"),
                       ("receive_time", "<f8"), ("seq", "<u2"), ("flags", "<u2"), ("value", "<f4")])


class _Records:
    """Records as rows of plain fields, in the order received, until ``arrays`` lays them out
    for the detector. Rows come one at a time (``add``, ``add_stored``) or as laid-out parts."""

    def __init__(self) -> None:
        self.rows: list[tuple[int, int, int, int, float, int, int, int]] = []
        self.fixes: list[tuple[int, np.ndarray]] = []  # (row number in ``rows``, wire fixes) of each GPS batch with any
        # Each: rows (_ROW_DTYPE), the row numbers of its GPS batches with fixes, their fix counts, the fixes.
        self._parts: list[tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]] = []
        self._in_parts = 0

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
        elif kind is MessageType.DEVICE_BOOT:
            self.rows.append((frame.device_id, subject, Kind.DEVICE_BOOT, frame.event_time_ms, now, frame.seq, 0, f[0]))
        else:
            if len(f[0]):
                self.fixes.append((len(self.rows), f[0]))
            self.rows.append((frame.device_id, subject, Kind.GPS_FIXES, frame.event_time_ms, now, frame.seq, 0, 0))

    def add_part(self, rows: np.ndarray, uploads: np.ndarray, counts: np.ndarray, fixes: np.ndarray) -> None:
        """Rows already laid out (``_ROW_DTYPE``), after every record so far; ``uploads`` numbers
        the rows of GPS batches with fixes, ``counts`` their fixes, which are ``fixes`` in turn."""
        self._lay_out_rows()
        self._parts.append((rows, uploads, counts, fixes))
        self._in_parts += len(rows)

    def _lay_out_rows(self) -> None:
        if not self.rows:
            return
        # Joined as bytes: concatenating tens of thousands of small structured arrays is ten times slower.
        self._parts.append((np.array(self.rows, dtype=_ROW_DTYPE), np.array([i for i, _ in self.fixes], dtype=np.int64),
                            np.array([len(w) for _, w in self.fixes], dtype=np.int64),
                            np.frombuffer(b"".join([w.data for _, w in self.fixes]), dtype=WIRE_FIX_DTYPE)))
        self._in_parts += len(self.rows)
        self.rows, self.fixes = [], []

    def __len__(self) -> int:
        return self._in_parts + len(self.rows)

    def arrays(self) -> tuple[np.ndarray, np.ndarray]:
        """Events and fixes as ``to_batch`` lays them out; wire units become the detector's
        (ms to s, degrees x 1e7 to degrees, decimetres to metres)."""
        self._lay_out_rows()
        parts = self._parts or [(np.empty(0, _ROW_DTYPE), np.empty(0, np.int64), np.empty(0, np.int64), np.empty(0, WIRE_FIX_DTYPE))]
        offsets = np.cumsum([0] + [len(rows) for rows, _, _, _ in parts[:-1]])
        rows = np.concatenate([rows for rows, _, _, _ in parts])
        uploads = np.concatenate([u + offset for (_, u, _, _), offset in zip(parts, offsets.tolist(), strict=True)])
        counts = np.concatenate([c for _, _, c, _ in parts])
        wire = np.concatenate([w for _, _, _, w in parts])
        event_time = rows["event_time_ms"] / 1000
        is_event = np.ones(len(rows), dtype=bool)
        is_event[uploads] = False
        events = np.empty(int(is_event.sum()), dtype=RECORD_DTYPE)
        events["order"] = np.flatnonzero(is_event)
        events["event_time"] = event_time[is_event]
        for name in ("device", "subject", "kind", "receive_time", "seq", "flags", "value"):
            events[name] = rows[name][is_event]

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


@dataclass(frozen=True)
class _RecordColumns:
    """Per chunk of a ``FrameBatch``, the record a stored message makes: its kind, flags and value
    as ``_Records.add_stored`` sets them, and where its fixes begin in the batch's fixes."""

    kind: np.ndarray
    flags: np.ndarray
    value: np.ndarray
    first_fix: np.ndarray

    @classmethod
    def of(cls, batch: FrameBatch) -> _RecordColumns:
        n = len(batch.decoded)
        kind, flags, value = np.zeros(n, np.uint8), np.zeros(n, np.uint16), np.zeros(n, np.float32)
        at, f = batch.fields[MessageType.GPS_STATUS]
        kind[at], flags[at], value[at] = Kind.GPS_STATUS, f["flags"], f["battery_pct"]
        at, f = batch.fields[MessageType.BASE_UNIT_EVENT]
        kind[at], flags[at], value[at] = f["code"], f["tag_flags"] | f["unit_flags"].astype(np.uint16) << 8, f["battery_pct"]
        at, f = batch.fields[MessageType.ALCOHOL_READING]
        kind[at], flags[at], value[at] = Kind.ALCOHOL_READING, f["flags"], f["tac_mg_dl"]
        kind[batch.decoded & (batch.headers["type"] == MessageType.GPS_FIX_BATCH)] = Kind.GPS_FIXES
        return cls(kind, flags, value, np.cumsum(batch.fix_counts) - batch.fix_counts)


def _ranges(starts: np.ndarray, counts: np.ndarray) -> np.ndarray:
    """The indices ``start .. start + count`` of each range in turn, joined."""
    ends = np.cumsum(counts)
    return np.arange(int(ends[-1]) if len(ends) else 0) - np.repeat(ends - counts - starts, counts)
