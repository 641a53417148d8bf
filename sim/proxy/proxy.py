"""The proxy: frames carried between a device (side A) and the centre (side B), with faults.

Both directions go through their own ``FaultLine`` (device data and replies
A to B; the centre's acks and commands B to A), each with its own random
stream spawned from the one seed (``numpy.random.SeedSequence.spawn``), so one
direction's traffic never changes the other's draws. Everything the proxy
writes to the centre is also decoded as the centre's decoder would, so at the
end the proxy can say which stored messages reached the centre intact
(``arrivals``), for the account (``sim.proxy.accounting``).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

import numpy as np

from firmware_stubs.protocol import StreamDecoder
# What the centre makes a record of (private there; the other centre module is being changed meanwhile).
from sim.centre.receiver import RECORDED
from sim.links.base import Link
from sim.proxy.accounting import Arrival
from sim.proxy.faults import FaultLine, FaultLog, Faults

TO_CENTRE, TO_DEVICE = "a>b", "b>a"
# Longest one read of a side waits: bounds the proxy's own added latency while the other side talks.
READ_WAIT_S = 0.005


class Proxy:
    def __init__(self, a: Link, b: Link, faults: Faults, seed: int, log: FaultLog,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.a, self.b = a, b
        rng_ab, rng_ba = (np.random.default_rng(s) for s in np.random.SeedSequence(seed).spawn(2))
        self.lines = {TO_CENTRE: FaultLine(TO_CENTRE, faults, rng_ab, log), TO_DEVICE: FaultLine(TO_DEVICE, faults, rng_ba, log)}
        self.log = log
        self.arrivals: list[Arrival] = []  # stored messages written to the centre intact, in order
        self._centre_decoder = StreamDecoder()
        self._clock = clock
        self._start = clock()

    def step(self) -> None:
        """Carry what each side has sent, and write what is due to each."""
        for source, direction in ((self.a, TO_CENTRE), (self.b, TO_DEVICE)):
            data = source.read(READ_WAIT_S)
            if data:
                self.lines[direction].feed(data, self._now())
        now = self._now()
        to_centre = self.lines[TO_CENTRE].take(now)
        if to_centre:
            self.b.write(to_centre)
            self.arrivals += [Arrival(f.device_id, f.seq, f.event_time_ms)
                              for f in self._centre_decoder.feed_raw(to_centre) if f.type in RECORDED]
        to_device = self.lines[TO_DEVICE].take(now)
        if to_device:
            self.a.write(to_device)

    def run(self, stop: threading.Event, duration_s: float = float("inf")) -> None:
        """``step`` until ``stop`` is set or ``duration_s`` seconds have passed."""
        while not stop.is_set() and self._now() < duration_s:
            self.step()

    def _now(self) -> float:
        return self._clock() - self._start
