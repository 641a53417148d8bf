"""Several state machines wired port to port, driven as one.

A base unit on the bench needs its tag beside it, a GPS tag its GNSS module.
An ``Assembly`` carries bytes along its wires as soon as they are written, and
shows the driver a single machine with one port (the device under test's
uplink), so the real-time runner and a test drive it like any lone stub.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Protocol

from firmware_stubs.device import UPLINK


class Machine(Protocol):
    """What a driver needs of a stub (``firmware_stubs.device.Device`` and the GNSS module)."""

    def receive(self, now: float, data: bytes, port: str = UPLINK) -> None: ...
    def tick(self, now: float) -> None: ...
    def drain(self, port: str = UPLINK) -> bytes: ...
    def next_deadline(self) -> float: ...


@dataclass(frozen=True)
class Wire:
    """Bytes drained from ``source``'s port arrive at ``target``'s port."""

    source: Machine
    source_port: str
    target: Machine
    target_port: str


class Assembly:
    def __init__(self, device: Machine, peers: list[Machine], wires: list[Wire]) -> None:
        self.device = device
        self.peers = peers
        self.wires = wires

    def receive(self, now: float, data: bytes, port: str = UPLINK) -> None:
        self.device.receive(now, data, port)
        self._carry(now)

    def tick(self, now: float) -> None:
        for machine in (*self.peers, self.device):
            machine.tick(now)
        self._carry(now)

    def drain(self, port: str = UPLINK) -> bytes:
        return self.device.drain(port)

    def next_deadline(self) -> float:
        return min((m.next_deadline() for m in (*self.peers, self.device)), default=math.inf)

    def _carry(self, now: float) -> None:
        # Until quiet: a delivery can make the target answer on another wire.
        moved = True
        while moved:
            moved = False
            for wire in self.wires:
                data = wire.source.drain(wire.source_port)
                if data:
                    wire.target.receive(now, data, wire.target_port)
                    moved = True
