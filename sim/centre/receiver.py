"""The centre's end of every device link: bytes in, telemetry records out, acks back.

Each link (a connection, named by any hashable the caller likes) has its own
``StreamDecoder``, so frames may be split and merged across ``receive`` calls
in any way. Every good frame from a device a case names, carrying a message a
device stores for upload, becomes one ``Telemetry`` record (a GPS batch stays
one record, its fixes one numpy array) stamped with the device's event time
and the centre's receive time, and is acked on the link it came in on.

Acks are cumulative and only ever in order, as ``DeviceSession`` sends them:
an ack covers the highest sequence number that arrived with nothing missing
before it, so a frame lost in flight is never covered and the device (which
keeps every frame until an ack covers it, and resends go-back-N) sends it
again. A duplicate is acked again and still passed on: the detector drops
duplicates itself, by device and sequence number.

Nothing is acked for a device no case names: the centre has no one to apply
its telemetry to, so the device keeps it until the case book catches up.

``receive`` never raises on its input. Whatever is not a record (decoder
rejections, frames not meant for the centre, unknown devices) is counted in
``stats`` and the last few kept in ``set_aside`` for diagnosis; a rejected
frame never costs the good frames around it.
"""

from __future__ import annotations

from collections import Counter, deque
from collections.abc import Hashable
from dataclasses import dataclass, field
from typing import NamedTuple

import numpy as np

from firmware_stubs.protocol import (
    SEQ_MODULUS,
    Ack,
    AlcoholReading,
    BaseUnitEvent,
    Frame,
    GpsFixBatch,
    GpsStatus,
    Rejection,
    StreamDecoder,
    encode_frame,
    seq_diff,
)
from sim.detector.cases import CaseBook
from sim.detector.telemetry import FIX_DTYPE, Kind, Telemetry

# A device that restarts numbers its frames from 0 again, so the first frames
# the centre then sees (any of its first go-back-N window, since seq 0 may be
# lost or overtaken) are far *behind* the newest it had sent. An ordinary
# device only ever resends within its window (8 frames by default, see
# seeds/devices/defaults.toml [uplink] window) of the newest, and a link may
# duplicate or reorder a few more; a frame this far behind, with a low
# sequence number and an event time no older than the newest frame's, is a
# restart. Larger values miss restarts of devices that had sent few frames
# since their last start; smaller ones risk taking a late copy for a restart.
REBOOT_MARGIN = 32

# How many set-aside items to keep for diagnosis (the counts in stats are exact).
SET_ASIDE_KEEP = 64

# The sequence number "just before 0": where ack tracking stands after a restart,
# so an ack covers nothing until seq 0 itself has arrived.
_BEFORE_ZERO = SEQ_MODULUS - 1

# What devices store and upload: each becomes a record. Anything else but a
# device's ack (an RF beacon, meant for its base unit; a TIME_SYNC or CONFIG,
# the centre's own commands echoed) is not for the centre.
_STORED = (BaseUnitEvent, GpsFixBatch, GpsStatus, AlcoholReading)


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


@dataclass(slots=True)
class _SeqTrack:
    """One device's sequence numbers, across every link it has used."""

    acked_upto: int  # highest seq received with nothing missing before it
    newest: int  # highest seq received, in serial-number order
    newest_event_ms: int  # the event time of that frame


class Receiver:
    """Every link's decoder, every device's ack tracking, and the acks owed on each link.

    A device that restarts its numbering (a frame with a sequence number below
    ``REBOOT_MARGIN`` arriving more than ``REBOOT_MARGIN`` behind the newest it
    sent, stamped no earlier than that newest frame) gets a ``DEVICE_REBOOT``
    record, with seq 0 and that frame's event time, just before that frame's
    own record; its ack tracking starts again from "before 0".
    """

    def __init__(self, cases: CaseBook, acks: bool = True) -> None:
        """``acks=False`` for a fleet simulation whose links model the acks themselves
        (``sim.world.uplink``): tracking goes on, no ack frames are built."""
        self.cases = cases
        self.acks = acks
        self.stats = ReceiverStats()
        self.set_aside: deque[SetAside] = deque(maxlen=SET_ASIDE_KEEP)
        self._decoders: dict[Hashable, StreamDecoder] = {}
        self._acks: dict[Hashable, bytearray] = {}
        self._tracks: dict[int, _SeqTrack] = {}
        self._rejections_counted: dict[Hashable, Counter[Rejection]] = {}  # per link, of its decoder's tally

    def receive(self, link: Hashable, data: bytes, now: float) -> list[Telemetry]:
        """Records for the frames completed by ``data`` on ``link``, received at ``now`` (seconds)."""
        decoder = self._decoders.get(link)
        if decoder is None:
            decoder = self._decoders[link] = StreamDecoder()
        rejected_before = decoder.stats.rejected_total
        frames = decoder.feed(data)
        if decoder.stats.rejected_total != rejected_before:
            self._take_rejections(link, decoder, decoder.stats.rejected_total - rejected_before)
        records: list[Telemetry] = []
        for frame in frames:
            self.stats.frames += 1
            self._on_frame(link, frame, now, records)
        self.stats.records += len(records)
        return records

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

    def _on_frame(self, link: Hashable, frame: Frame, now: float, records: list[Telemetry]) -> None:
        message = frame.message
        if not isinstance(message, (Ack, *_STORED)):
            self.stats.not_for_centre += 1
            self.set_aside.append(SetAside(link, "not_for_centre", frame))
            return
        fitted = self.cases.device_of.get(frame.device_id)
        if fitted is None:
            self.stats.unknown_device += 1
            self.set_aside.append(SetAside(link, "unknown_device", frame))
            return
        if isinstance(message, Ack):
            self.stats.device_acks += 1  # not sequenced, and nobody acks an ack
            return
        subject = fitted[0].subject
        event_time = frame.event_time_ms / 1000
        if self._restarted(frame):
            self.stats.reboots += 1
            records.append(Telemetry(frame.device_id, subject, Kind.DEVICE_REBOOT, event_time, now, 0))
        records.append(_record(frame, subject, event_time, now))
        self._ack(link, frame, now)

    def _restarted(self, frame: Frame) -> bool:
        """True if this frame shows the device numbering from 0 again; restarts its tracking."""
        track = self._tracks.get(frame.device_id)
        if track is None:
            return False
        restarted = (
            frame.seq < REBOOT_MARGIN
            and seq_diff(frame.seq, track.newest) < -REBOOT_MARGIN
            and frame.event_time_ms >= track.newest_event_ms
        )
        if restarted:
            # Numbering begins again at 0: nothing is covered until 0 itself arrives,
            # so a later frame of the new run arriving first is a gap, not an ack that
            # would make the device drop frames the centre never had.
            self._tracks[frame.device_id] = _SeqTrack(_BEFORE_ZERO, frame.seq, frame.event_time_ms)
        return restarted

    def _ack(self, link: Hashable, frame: Frame, now: float) -> None:
        track = self._tracks.get(frame.device_id)
        seq = frame.seq
        if track is None:
            # The first frame heard from a device starts its tracking wherever its
            # numbering stands: the centre may be newer than the device's queue.
            track = self._tracks[frame.device_id] = _SeqTrack(seq, seq, frame.event_time_ms)
        else:
            if seq_diff(seq, track.newest) > 0:
                track.newest, track.newest_event_ms = seq, frame.event_time_ms
            if seq_diff(seq, track.acked_upto) == 1:
                track.acked_upto = seq
        if not self.acks:
            return
        now_ms = max(0, round(now * 1000))
        ack = encode_frame(Frame(frame.device_id, 0, now_ms, Ack(track.acked_upto)))
        self._acks.setdefault(link, bytearray()).extend(ack)
        self.stats.acks_sent += 1


def _record(frame: Frame, subject: int, event_time: float, now: float) -> Telemetry:
    """The record for one stored message (a base-unit event, GPS batch or status, alcohol reading)."""
    m = frame.message
    head = (frame.device_id, subject)
    if isinstance(m, BaseUnitEvent):
        # The event codes and the record kinds share numbers 1..11 on purpose.
        flags = int(m.tag_flags) | int(m.unit_flags) << 8
        return Telemetry(*head, Kind(int(m.code)), event_time, now, frame.seq, flags, float(m.battery_pct))
    if isinstance(m, GpsFixBatch):
        return Telemetry(*head, Kind.GPS_FIXES, event_time, now, frame.seq, fixes=_physical_fixes(m.fixes))
    if isinstance(m, GpsStatus):
        return Telemetry(*head, Kind.GPS_STATUS, event_time, now, frame.seq, int(m.flags), float(m.battery_pct))
    assert isinstance(m, AlcoholReading)  # _on_frame passes only _STORED messages here
    return Telemetry(*head, Kind.ALCOHOL_READING, event_time, now, frame.seq, int(m.flags), float(m.tac_mg_dl))


def _physical_fixes(wire: np.ndarray) -> np.ndarray:
    """Wire-unit fixes (ms, degrees x 1e7, decimetres) in the detector's units (s, degrees, metres)."""
    fixes = np.empty(len(wire), dtype=FIX_DTYPE)
    fixes["time"] = wire["time_ms"] / 1000
    fixes["lat"] = wire["lat_e7"] / 1e7
    fixes["lon"] = wire["lon_e7"] / 1e7
    fixes["accuracy_m"] = wire["accuracy_dm"] / 10
    return fixes
