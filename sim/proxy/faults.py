"""What the proxy does to the frames of one direction: the fault semantics, with time passed in.

A ``FaultLine`` takes the bytes arriving from one side, cuts them into frames
at the protocol's 0x00 delimiters (``docs/protocol.md``: every frame is
delimited on both sides, so whatever lies between two delimiters is one frame,
or noise) and decides each frame's fate in turn, before handing it on:

- **cut**: while the link is cut (``Faults.cut_at``) every frame is dropped,
  on arrival and on its way out; nothing else is drawn for it.
- **drop**, with chance ``drop``: the frame is gone.
- **corrupt**, with chance ``corrupt``: one COBS data byte is changed to
  another non-zero byte (``sim.links.network.flip_byte``, the fleet model's own
  damage): a single-byte error, which CRC-16 always catches, so the receiver
  rejects the frame and never loses the frames around it.
- **duplicate**, with chance ``duplicate``: the frame goes twice, back to back.
- **reorder**, with chance ``reorder``: the frame is held back and goes just
  after the next frame in the same direction (the two swap), or after
  ``REORDER_HOLD_S`` if no frame follows by then. One frame is held at a time.
- **delay**: every frame leaves ``delay_s`` after it arrived, in order.

Every frame takes the same draws from the direction's own generator whatever
its fate, so a frame's fate depends only on the seed and its place in its
direction's stream (and a cut on when it came): the same frames in the same
order meet the same faults. Each fault applied is written to the log.
"""

from __future__ import annotations

import json
import math
from collections import Counter, deque
from dataclasses import asdict, dataclass
from typing import TextIO

import numpy as np

from firmware_stubs.protocol import DELIMITER, MAX_ENCODED_SIZE
from sim.links.network import flip_byte

# Longest a reordered frame waits for one to follow: past it a quiet direction
# (a device waiting for an ack) would turn a reorder into a drop.
REORDER_HOLD_S = 1.0

LOG_FORMAT = "tagsim-proxy-log"
LOG_VERSION = 1


@dataclass(frozen=True)
class Faults:
    """The faults of a link, the same both ways. Chances are per frame; times in seconds."""

    drop: float = 0.0
    corrupt: float = 0.0
    duplicate: float = 0.0
    reorder: float = 0.0
    delay_s: float = 0.0
    cut_every_s: float = 0.0  # 0: never cut
    cut_for_s: float = 0.0

    def __post_init__(self) -> None:
        for name in ("drop", "corrupt", "duplicate", "reorder"):
            value = getattr(self, name)
            if not 0 <= value <= 1:
                raise ValueError(f"--{name} {value} is not a probability between 0 and 1")
        if not math.isfinite(self.delay_s) or self.delay_s < 0:
            raise ValueError(f"--delay {self.delay_s} is not a number of seconds at or above 0")
        if self.cut_every_s and not 0 < self.cut_for_s < self.cut_every_s:
            raise ValueError(f"--cut {self.cut_every_s:g}/{self.cut_for_s:g}: the cut must last more than 0 "
                             "and less than its period")

    def cut_at(self, t: float) -> bool:
        """Whether the link is dead ``t`` seconds after the proxy started: up for EVERY - FOR
        seconds, then dead for FOR, over and over."""
        return bool(self.cut_every_s) and t % self.cut_every_s >= self.cut_every_s - self.cut_for_s


class FaultLog:
    """Every fault applied, one JSON object a line on ``out`` (if given), and their counts."""

    def __init__(self, out: TextIO | None, header: dict[str, object]) -> None:
        self.out = out
        self.counts: Counter[tuple[str, str]] = Counter()  # (direction, fault)
        self._put({"format": LOG_FORMAT, "version": LOG_VERSION, **header})

    def fault(self, t: float, direction: str, frame: int, fault: str, **detail: int) -> None:
        self.counts[direction, fault] += 1
        self._put({"t": round(t, 6), "dir": direction, "frame": frame, "fault": fault, **detail})

    def _put(self, record: dict[str, object]) -> None:
        if self.out is not None:
            self.out.write(json.dumps(record) + "\n")
            self.out.flush()


def log_header(a: str, b: str, seed: int, faults: Faults) -> dict[str, object]:
    return {"a": a, "b": b, "seed": seed, "faults": asdict(faults)}


class FaultLine:
    """One direction: bytes in with ``feed``, what is due out with ``take``; ``now`` in seconds
    since the proxy started, never going back."""

    def __init__(self, direction: str, faults: Faults, rng: np.random.Generator, log: FaultLog) -> None:
        self.direction = direction
        self.faults = faults
        self.rng = rng
        self.log = log
        self.frames = 0  # frames seen: the next frame's number
        self._partial = bytearray()
        self._out: deque[tuple[float, int, bytes]] = deque()  # (due, frame number, bytes), in due order
        self._held: tuple[float, int, bytes] | None = None  # a reordered frame: (held since, number, bytes)

    def feed(self, data: bytes, now: float) -> None:
        self._partial += data
        while (end := self._partial.find(DELIMITER)) >= 0:
            body = bytes(self._partial[:end])
            del self._partial[: end + 1]
            if body:  # two delimiters in a row: a frame's trailing one and the next's leading one
                self._on_frame(DELIMITER + body + DELIMITER, now)
        if len(self._partial) > MAX_ENCODED_SIZE:
            # No delimiter for longer than any frame: noise. It goes on (a receiver drops it as
            # oversize) as one unit, so a line that never sends a 0x00 cannot grow this without end.
            body = bytes(self._partial)
            self._partial.clear()
            self._on_frame(body, now)

    def take(self, now: float) -> bytes:
        """The bytes due out by ``now``, in order; a frame due while the link is cut is dropped."""
        if self._held is not None and now - self._held[0] >= REORDER_HOLD_S:
            self._send(self._held[1], self._held[2], now)
            self._held = None
        out = bytearray()
        while self._out and self._out[0][0] <= now:
            due, number, frame = self._out.popleft()
            if self.faults.cut_at(due):
                self.log.fault(due, self.direction, number, "cut")
            else:
                out += frame
        return bytes(out)

    def _on_frame(self, frame: bytes, now: float) -> None:
        number = self.frames
        self.frames += 1
        f = self.faults
        # The same draws for every frame, used or not, so each frame's fate is fixed by its number.
        drop, corrupt, duplicate, reorder, where = self.rng.random(5).tolist()
        mask = int(self.rng.integers(1, 255))
        if f.cut_at(now):
            self.log.fault(now, self.direction, number, "cut")
            return
        if drop < f.drop:
            self.log.fault(now, self.direction, number, "drop")
            return
        if corrupt < f.corrupt:
            damaged = flip_byte(frame, where, mask)
            if damaged != frame:
                offset = next(i for i, (x, y) in enumerate(zip(frame, damaged)) if x != y)
                self.log.fault(now, self.direction, number, "corrupt", offset=offset)
                frame = damaged
        if duplicate < f.duplicate:
            self.log.fault(now, self.direction, number, "duplicate")
            frame += frame
        if self._held is None and reorder < f.reorder:
            self.log.fault(now, self.direction, number, "reorder")
            self._held = (now, number, frame)
            return
        self._send(number, frame, now)
        if self._held is not None:
            self._send(self._held[1], self._held[2], now)
            self._held = None

    def _send(self, number: int, frame: bytes, now: float) -> None:
        self._out.append((now + self.faults.delay_s, number, frame))
