"""The upstream end of a link to one device: what the harness and device tests hold.

A ``DeviceSession`` reads and decodes everything the device sends, keeps it
with its arrival time, sends commands with its own sequence numbers, acks the
device's frames when asked to (cumulatively and in order, through the
centre's own ``AckTracker``), and logs every byte both ways. ``expect``
waits for a frame; when it times out, the error shows the last frames in hex,
the time and the log path, so a failure can be read without a rerun.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TextIO

from firmware_stubs.device import BROADCAST_ID
from firmware_stubs.protocol import (
    Ack,
    Frame,
    Message,
    MessageType,
    StreamDecoder,
    encode_frame,
    seq_next,
)
from sim.centre.acks import AckTracker
from sim.links.base import Link


@dataclass(frozen=True, slots=True)
class Arrival:
    t: float  # seconds since the session opened
    frame: Frame
    wire: bytes  # the frame's bytes as sent, delimiters included

    def describe(self) -> str:
        f = self.frame
        return f"t={self.t:7.3f}s dev={f.device_id} seq={f.seq} {f.type.name} {self.wire.hex()}"


COMMAND_TYPES = frozenset({MessageType.CONFIG, MessageType.TIME_SYNC})


class ExpectTimeout(AssertionError):
    """``expect`` saw nothing matching in time; the message carries the evidence."""


class DeviceSession:
    def __init__(self, link: Link, log_path: Path, clock: Callable[[], float] = time.monotonic) -> None:
        self.link = link
        self.log_path = log_path
        self.arrivals: list[Arrival] = []
        self.decoder = StreamDecoder()
        self.device_id: int | None = None
        self.auto_ack = False
        self.not_from_a_device = 0
        self._clock = clock
        self._start = clock()
        self._next_command_seq = 1
        self._acks = AckTracker()
        self._cursor = 0  # arrivals already offered to expect()
        self._log: TextIO = log_path.open("w", encoding="utf-8")
        self._log.write(f"# tagsim device session on {link.name}\n")

    def close(self) -> None:
        self._log.close()
        self.link.close()

    def __enter__(self) -> DeviceSession:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @property
    def acked_upto(self) -> int | None:
        """The highest device sequence number acked so far."""
        return None if self.device_id is None else self._acks.acked_upto(self.device_id)

    @property
    def elapsed(self) -> float:
        return self._clock() - self._start

    # --- sending -----------------------------------------------------------------

    def send(self, message: Message) -> int:
        """Send a command to the device (or to every device before it is known)."""
        seq, wire = self.command_frame(message)
        self.send_raw(wire)
        return seq

    def command_frame(self, message: Message) -> tuple[int, bytes]:
        """The next command's sequence number and wire bytes, not yet sent."""
        seq = self._next_command_seq
        self._next_command_seq = seq_next(seq)
        return seq, encode_frame(Frame(self._target(), seq, self._now_ms(), message))

    def send_raw(self, data: bytes) -> None:
        self._log.write(f"{self.elapsed:9.3f} tx {data.hex()}\n")
        self.link.write(data)

    def ack(self, seq: int) -> None:
        """Ack the device's frames up to ``seq`` by hand, whatever has arrived. Before any frame
        has come, the device is unknown: the ack goes out, but ``acked_upto`` stays None and
        auto-acks start from the first frame's own number."""
        if self.device_id is not None:
            self._acks.cover(self.device_id, seq)
        self.send_raw(encode_frame(Frame(self._target(), 0, self._now_ms(), Ack(seq))))

    # --- receiving ---------------------------------------------------------------

    def pump(self, timeout: float) -> list[Arrival]:
        """Read for up to ``timeout`` seconds; return the frames that arrived."""
        data = self.link.read(timeout)
        if not data:
            return []
        now = self.elapsed
        self._log.write(f"{now:9.3f} rx {data.hex()}\n")
        new = []
        for frame in self.decoder.feed(data):
            if frame.device_id == BROADCAST_ID or frame.type in COMMAND_TYPES:
                self.not_from_a_device += 1  # an echo of our own commands, or a confused peer
            else:
                new.append(Arrival(now, frame, encode_frame(frame)))
        for arrival in new:
            if self.device_id is None:
                self.device_id = arrival.frame.device_id
            if self.auto_ack and arrival.frame.type is not MessageType.ACK:
                f = arrival.frame
                if f.type is MessageType.QUEUE_OVERFLOW:
                    self._acks.overwritten(f.device_id, f.seq)
                else:
                    self._acks.received(f.device_id, f.seq, f.event_time_ms)
                self.send_raw(self._acks.ack(f.device_id, self._now_ms()))
        self.arrivals += new
        return new

    def listen(self, duration: float) -> list[Arrival]:
        """Everything that arrives in the next ``duration`` seconds."""
        end = self.elapsed + duration
        got = []
        while (left := end - self.elapsed) > 0:
            got += self.pump(min(left, 0.05))
        return got

    def expect(self, predicate: Callable[[Frame], bool], timeout: float, what: str) -> Arrival:
        """The first frame not yet offered to ``expect`` that matches, within ``timeout``."""
        end = self.elapsed + timeout
        while True:
            for i in range(self._cursor, len(self.arrivals)):
                if predicate(self.arrivals[i].frame):
                    self._cursor = i + 1
                    return self.arrivals[i]
            self._cursor = len(self.arrivals)
            left = end - self.elapsed
            if left <= 0:
                raise ExpectTimeout(self.evidence(f"expected {what} within {timeout:g} s"))
            self.pump(min(left, 0.05))

    def skip_seen(self) -> int:
        """Let ``expect`` look only at frames that arrive from now on; returns the mark."""
        self.pump(0)
        self._cursor = len(self.arrivals)
        return self._cursor

    def since(self, mark: int) -> list[Arrival]:
        return self.arrivals[mark:]

    def evidence(self, headline: str, last: int = 8) -> str:
        lines = [f"{headline} (at t={self.elapsed:.3f} s on {self.link.name})"]
        recent = self.arrivals[-last:]
        lines.append(f"last {len(recent)} frames received:" if recent else "no frames received")
        lines += [f"  {a.describe()}" for a in recent]
        if self.not_from_a_device:
            lines.append(f"  {self.not_from_a_device} frames set aside that no device sends (an echo of our own commands?)")
        for reason, raw in list(self.decoder.recent_rejects)[-3:]:
            lines.append(f"  rejected ({reason.name.lower()}): {raw.hex()}")
        lines.append(f"log: {self.log_path}")
        self._log.flush()
        return "\n".join(lines)

    def sequenced(self) -> Iterator[Arrival]:
        """The device's own sequenced frames (everything but its acks)."""
        return (a for a in self.arrivals if a.frame.type is not MessageType.ACK)

    def _target(self) -> int:
        return BROADCAST_ID if self.device_id is None else self.device_id

    def _now_ms(self) -> int:
        return round(time.time() * 1000)
