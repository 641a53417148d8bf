"""Every event a device stored for upload, held against what reached the centre.

The device side is an upload log (format ``tagsim-upload-log``, version 1),
JSON Lines, one object a line, written by a device as it goes (``UploadLogFile``,
``tagsim stub --upload-log``) and flushed line by line, so a device stopped
at any moment leaves a whole log:

- line 1, the header: ``{"format": "tagsim-upload-log", "version": 1}``
- a message stored for upload:
  ``{"device": 7, "seq": 12, "event_time_ms": 1765..., "type": "alcohol_reading"}``
- a stored message its full queue overwrote before an ack covered it:
  ``{"device": 7, "seq": 3, "overwritten": true}``

The centre side is its records of stored messages, in the order received
(``Arrival``). The centre passes duplicates on and its detector drops them by
device and sequence number (``sim.detector.sequence.SequenceWindow``, started
afresh when the centre records a device reboot), so the account applies that
same window: an event is at the centre exactly once when one record with its
device, number and event time gets through the window. A record through the
window twice (a restart wrongly seen lets old copies in again) is *duplicated*;
one through the window that matches no logged event (damage the CRC missed, a
device without a log) is *unexpected*.
"""

from __future__ import annotations

import json
from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import NamedTuple, TextIO

from firmware_stubs.protocol import Message
from sim.detector.sequence import SequenceWindow

FORMAT = "tagsim-upload-log"
VERSION = 1

# Why an event the device stored is not at the centre.
QUEUE_OVERFLOW = "queue_overflow"  # the device's full queue overwrote it before it got through
MISSING = "missing"  # not overwritten, yet not at the centre: still queued when the run ended, or lost


class UploadLogError(ValueError):
    """An upload log that cannot be read; the message names the file and line."""


class UploadLogFile:
    """A device's ``UploadLog`` (``firmware_stubs.device``) written to a file, a line an event."""

    def __init__(self, out: TextIO) -> None:
        self._out = out
        self._put({"format": FORMAT, "version": VERSION})

    def stored(self, device_id: int, seq: int, event_time_ms: int, message: Message) -> None:
        self._put({"device": device_id, "seq": seq, "event_time_ms": event_time_ms, "type": message.TYPE.name.lower()})

    def overwritten(self, device_id: int, seq: int) -> None:
        self._put({"device": device_id, "seq": seq, "overwritten": True})

    def _put(self, record: dict[str, object]) -> None:
        self._out.write(json.dumps(record) + "\n")
        self._out.flush()


class Key(NamedTuple):
    """One stored message: its device, sequence number and event time (a number alone may wrap)."""

    device: int
    seq: int
    event_time_ms: int


class Arrival(NamedTuple):
    """A record at the centre: of a stored message, or (``reboot``) the centre's note that the
    device numbers from 0 again, on which its duplicate window starts afresh, as the detector's does."""

    device: int
    seq: int
    event_time_ms: int
    reboot: bool = False


@dataclass
class UploadLog:
    """What one or more upload logs say: every stored message in order, and which were overwritten."""

    stored: list[Key] = field(default_factory=list)
    overwritten: set[tuple[int, int]] = field(default_factory=set)  # (device, seq)


def read_upload_logs(paths: Iterable[Path]) -> UploadLog:
    """Every line of the logs at ``paths``. Raises ``UploadLogError`` naming the file and line
    of the first that is not a line of the format; a last line cut short (a device killed as
    it wrote) is left out."""
    log = UploadLog()
    for path in paths:
        try:
            lines = path.read_text(encoding="utf-8").split("\n")
        except (OSError, UnicodeDecodeError) as exc:
            raise UploadLogError(f"cannot read the upload log {path}: {getattr(exc, 'strerror', None) or exc}") from None
        last = len(lines) - 1  # after the final newline; anything there was cut short
        for number, line in enumerate(lines[:last], start=1):
            try:
                _take(json.loads(line), number == 1, log)
            except (ValueError, TypeError, KeyError) as exc:
                raise UploadLogError(f"{path} line {number}: not a {FORMAT} line ({exc})") from None
        if last == 0:
            raise UploadLogError(f"{path}: empty, expected the {FORMAT} header")
    return log


def _take(record: dict, header: bool, log: UploadLog) -> None:
    if header:
        if record.get("format") != FORMAT or record.get("version") != VERSION:
            raise ValueError(f"expected the {FORMAT} version {VERSION} header")
        return
    device, seq = int(record["device"]), int(record["seq"])
    if record.get("overwritten"):
        log.overwritten.add((device, seq))
    else:
        log.stored.append(Key(device, seq, int(record["event_time_ms"])))


@dataclass(frozen=True)
class Lost:
    key: Key
    reason: str  # QUEUE_OVERFLOW or MISSING


@dataclass
class DeviceAccount:
    device: int
    logged: int = 0  # messages the device stored
    delivered: int = 0  # of them, at the centre exactly once
    records: int = 0  # the centre's records of this device, duplicates included
    admitted: int = 0  # of them, through the centre's duplicate window
    lost: list[Lost] = field(default_factory=list)
    duplicated: list[Key] = field(default_factory=list)  # through the centre's duplicate window twice or more
    unexpected: list[Arrival] = field(default_factory=list)  # through the window, but no event logged matches

    @property
    def copies_dropped(self) -> int:
        """Records the centre received and its duplicate window dropped (resends, duplicates)."""
        return self.records - self.admitted


@dataclass
class Account:
    devices: dict[int, DeviceAccount]

    @property
    def lost(self) -> list[Lost]:
        return [lost for d in self.devices.values() for lost in d.lost]

    def lost_because(self, reason: str) -> list[Lost]:
        return [lost for lost in self.lost if lost.reason == reason]

    @property
    def duplicated(self) -> list[Key]:
        return [key for d in self.devices.values() for key in d.duplicated]

    @property
    def unexpected(self) -> list[Arrival]:
        return [a for d in self.devices.values() for a in d.unexpected]

    def report(self) -> str:
        """The account as lines of text: a line a device, then every event lost with its reason."""
        lines = ["device  logged  at centre once  lost (overflow, missing)  duplicated  unexpected  copies dropped"]
        for d in sorted(self.devices.values(), key=lambda d: d.device):
            overflow = sum(lost.reason == QUEUE_OVERFLOW for lost in d.lost)
            lines.append(f"{d.device:>6}  {d.logged:>6}  {d.delivered:>14}  {len(d.lost):>5} ({overflow}, "
                         f"{len(d.lost) - overflow}){'':>12}  {len(d.duplicated):>10}  {len(d.unexpected):>10}  "
                         f"{d.copies_dropped:>14}")
        for lost in self.lost:
            k = lost.key
            lines.append(f"lost: device {k.device} seq {k.seq} event time {k.event_time_ms} ms: {lost.reason}")
        verdict = "every logged event is at the centre exactly once, or listed as lost with its reason"
        if self.duplicated or self.unexpected:
            verdict = "NOT exactly once: duplicated or unexpected records at the centre"
        lines.append(verdict)
        return "\n".join(lines)


def account(log: UploadLog, arrivals: Iterable[Arrival]) -> Account:
    """Hold every message in ``log`` against the centre's records ``arrivals`` (stored messages
    only, in the order received)."""
    windows: defaultdict[int, SequenceWindow] = defaultdict(SequenceWindow)
    devices: dict[int, DeviceAccount] = {}

    def of(device: int) -> DeviceAccount:
        return devices.setdefault(device, DeviceAccount(device))

    logged = set(log.stored)
    passed: Counter[Key] = Counter()
    for arrival in arrivals:
        d = of(arrival.device)
        if arrival.reboot:
            # A restart the centre saw wrongly lets every copy the window had seen through again.
            windows[arrival.device].restart()
            continue
        d.records += 1
        if not windows[arrival.device].admit(arrival.seq):
            continue
        d.admitted += 1
        key = Key(arrival.device, arrival.seq, arrival.event_time_ms)
        if key in logged:
            passed[key] += 1
        else:
            d.unexpected.append(arrival)
    for key in log.stored:
        d = of(key.device)
        d.logged += 1
        n = passed[key]
        if n == 0:
            overflowed = (key.device, key.seq) in log.overwritten
            d.lost.append(Lost(key, QUEUE_OVERFLOW if overflowed else MISSING))
        elif n == 1:
            d.delivered += 1
        else:
            d.duplicated.append(key)
    return Account(devices)
