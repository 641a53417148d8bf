"""A link straight into a stub, in virtual time: reading is what moves the clock.

The device answers at the virtual instant its state machine says, so a
conformance run or a device test that would take seconds on a PTY takes
milliseconds, and comes out the same every time.
"""

from __future__ import annotations

from firmware_stubs.wiring import Machine


class VirtualClock:
    def __init__(self, start: float = 0.0) -> None:
        self.now = start

    def __call__(self) -> float:
        return self.now


class MachineLink:
    def __init__(self, machine: Machine, clock: VirtualClock, name: str = "virtual") -> None:
        self.machine = machine
        self.clock = clock
        self.name = name

    def write(self, data: bytes) -> None:
        self.machine.receive(self.clock.now, data)

    def read(self, timeout: float) -> bytes:
        end = self.clock.now + timeout
        out = self.machine.drain()
        while not out:
            deadline = self.machine.next_deadline()
            if deadline > end:
                self.clock.now = end
                break
            self.clock.now = max(self.clock.now, deadline)
            self.machine.tick(self.clock.now)
            out = self.machine.drain()
            if not out and self.machine.next_deadline() <= self.clock.now:
                # A machine due now that has nothing to say: let time pass.
                self.clock.now = end
                break
        return out

    def close(self) -> None:
        """Nothing to release: the machine lives on for inspection."""
