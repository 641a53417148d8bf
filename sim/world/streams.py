"""Random streams: one root seed, one independent stream per subject, device and fault process.

Every stream is ``SeedSequence(seed, spawn_key=key)`` for a fixed key, the
same tree ``SeedSequence.spawn`` builds, addressed directly: subject 7's
routine stream is the same whether the population has 10 subjects or
100,000, so adding a subject changes no one else's draws.
"""

from __future__ import annotations

from enum import IntEnum

import numpy as np


class Branch(IntEnum):
    """The first level of the tree: what a stream belongs to."""

    SUBJECT = 0
    AREA = 1
    REGION = 2
    OPERATIONS = 3  # the service behind the alerts: then sim.operations.service.Draws


class Use(IntEnum):
    """The second level under a subject: which process draws from it."""

    PERSON = 0  # home, devices, curfew, zones, behaviour
    ROUTINE = 1
    CHANNEL = 2
    GPS = 3
    ALCOHOL = 4
    FAULTS = 5
    LINK = 6  # then the device's slot
    BEACONS = 7  # an RF tag's beacon intervals, where the fleet needs one
    BOOT = 8  # then the device's slot: when it started, before the run


class Streams:
    def __init__(self, seed: int) -> None:
        self.seed = seed

    def rng(self, *key: int) -> np.random.Generator:
        return np.random.default_rng(np.random.SeedSequence(self.seed, spawn_key=tuple(int(k) for k in key)))

    def subject(self, index: int, use: Use, *more: int) -> np.random.Generator:
        return self.rng(Branch.SUBJECT, index, use, *more)
