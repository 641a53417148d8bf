"""What the centre may ack: every device's sequence numbers as received, and its restarts.

Acks are cumulative and only ever in order: an ack covers the highest sequence
number that arrived with nothing missing before it, so a frame lost in flight
is never covered and the device (which keeps every frame until an ack covers
it, and resends go-back-N) sends it again. The centre's ``Receiver`` and the
harness's ``DeviceSession`` both ack through an ``AckTracker``.

A device that restarts numbers its frames from 0 again, so the first frames
the centre then sees (any of its first go-back-N window, since seq 0 may be
lost or overtaken) are far *behind* the newest it had sent. An ordinary
device only ever resends within its window (8 frames by default, see
seeds/devices/defaults.toml [uplink] window) of the newest, and a link may
duplicate or reorder a few more; a frame more than ``REBOOT_MARGIN`` behind,
with a sequence number below it and an event time no older than the newest
frame's, is a restart. That guess is protocol 1.0's: it misses a restart
within ``REBOOT_MARGIN`` frames of the last. A 1.1 device numbers on across a
restart and says it restarted (``DEVICE_BOOT``), so nothing of it is guessed,
and its overwritten messages are passed over when it says which
(``QUEUE_OVERFLOW``, ``overwritten``).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import IntEnum

from firmware_stubs.protocol import SEQ_MODULUS, Ack, Frame, encode_frame, seq_diff

# Larger values miss restarts of devices that had sent few frames since their
# last start; smaller ones risk taking a late copy for a restart.
REBOOT_MARGIN = 32

# The sequence number "just before 0": where ack tracking stands after a restart,
# so an ack covers nothing until seq 0 itself has arrived.
_BEFORE_ZERO = SEQ_MODULUS - 1


@dataclass(slots=True)
class _SeqTrack:
    """One device's sequence numbers, across every link it has used."""

    acked_upto: int  # highest seq received with nothing missing before it
    newest: int  # highest seq received, in serial-number order
    newest_event_ms: int  # the event time of that frame
    restart_event_ms: int = -1  # the event time of the frame that showed the last restart


class Seen(IntEnum):
    """What a sequenced frame shows of its device's numbering."""

    NEXT = 0  # in the run the device is numbering now (a duplicate, a gap or the next)
    RESTART = 1  # the device numbers from 0 again (protocol 1.0's sign of a restart)
    LATE_COPY = 2  # a copy from before the last restart, arriving after it: no record


class AckTracker:
    """Every device's received sequence numbers, and the cumulative ack each is owed."""

    def __init__(self) -> None:
        self._tracks: dict[int, _SeqTrack] = {}

    def received(self, device: int, seq: int, event_time_ms: int) -> Seen:
        """Track a sequenced frame from ``device``: what it shows of the device's numbering."""
        track = self._tracks.get(device)
        if track is None:
            # The first frame heard from a device starts its tracking wherever its
            # numbering stands: the centre may be newer than the device's queue.
            self._tracks[device] = _SeqTrack(seq, seq, event_time_ms)
            return Seen.NEXT
        ahead = seq_diff(seq, track.newest)
        if ahead > REBOOT_MARGIN and event_time_ms < track.restart_event_ms:
            # Far ahead of the new run, and from before the restart: a late copy of the old
            # run's (a resend, or a copy the link held back), never the next of this run.
            # Passed on, it would take the detector's duplicate window (started afresh at
            # the restart) far ahead and make it drop the new run's frames as stale.
            return Seen.LATE_COPY
        restarted = seq < REBOOT_MARGIN and ahead < -REBOOT_MARGIN and event_time_ms >= track.newest_event_ms
        if restarted:
            # Numbering begins again at 0: nothing is covered until 0 itself arrives,
            # so a later frame of the new run arriving first is a gap, not an ack that
            # would make the device drop frames the centre never had.
            track.acked_upto, track.newest, track.newest_event_ms = _BEFORE_ZERO, seq, event_time_ms
            track.restart_event_ms = event_time_ms
        elif ahead > 0:
            track.newest, track.newest_event_ms = seq, event_time_ms
        if seq_diff(seq, track.acked_upto) == 1:
            track.acked_upto = seq
        return Seen.RESTART if restarted else Seen.NEXT

    def overwritten(self, device: int, seq: int) -> int:
        """Take a ``QUEUE_OVERFLOW`` at ``seq`` from ``device``: every message up to it was either
        received or overwritten in the device's queue, so the ack may pass them. Returns how many
        the centre never had (0 if tracking starts here: it cannot tell)."""
        track = self._tracks.get(device)
        if track is None:
            self._tracks[device] = _SeqTrack(seq, seq, 0)
            return 0
        missed = seq_diff(seq, track.acked_upto)
        if missed <= 0:
            return 0
        track.acked_upto = seq
        if seq_diff(seq, track.newest) > 0:
            track.newest = seq
        return missed

    def acked_upto(self, device: int) -> int | None:
        """The highest seq from ``device`` received with nothing missing before it; None before its first."""
        track = self._tracks.get(device)
        return None if track is None else track.acked_upto

    def ack(self, device: int, now_ms: int) -> bytes:
        """The ack frame owed to ``device`` (which must have sent a sequenced frame), stamped ``now_ms``."""
        return encode_frame(Frame(device, 0, now_ms, Ack(self._tracks[device].acked_upto)))

    def cover(self, device: int, seq: int) -> None:
        """Take every frame from ``device`` up to ``seq`` as received, as an ack sent by hand does
        (a test harness withholding and then giving acks); never moves tracking back."""
        track = self._tracks.get(device)
        if track is None:
            self._tracks[device] = _SeqTrack(seq, seq, 0)
        elif seq_diff(seq, track.acked_upto) > 0:
            track.acked_upto = seq
            if seq_diff(seq, track.newest) > 0:
                track.newest = seq
