"""Random streams: one root seed, one independent stream per subject, device and fault process.

Every stream is ``SeedSequence(seed, spawn_key=key)`` for a fixed key, the
same tree ``SeedSequence.spawn`` builds, addressed directly: subject 7's
routine stream is the same whether the population has 10 subjects or
100,000, so adding a subject changes no one else's draws.

A subject's streams are of two sides, and no draw on one moves the other: the world's (who
they are, how they live, their home's mains) and the devices' (their radio, fixes, sensing,
faults, fitting, link, when they started), one stream a purpose and a device. Comparing
suppliers on one seed is then common random numbers: the same people, lives and breaches,
and each device's draws for each purpose the same uniforms, turned into outcomes by each
supplier's own figures (twice the position error is twice the same error). A draw whose
count depends on a supplier's figure (a fix an interval, a fault at a rate) moves only its
own stream.
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

    PERSON = 0  # home, devices worn, curfew, zones, behaviour
    ROUTINE = 1
    CHANNEL = 2
    GPS = 3
    ALCOHOL = 4  # the tag's sensing: which episodes it detects, its readings' noise
    FAULTS = 5  # then the device's slot and 0 (false tampers) or 1 (reboots)
    LINK = 6  # then the device's slot
    BEACONS = 7  # an RF tag's beacon intervals, where the fleet needs one
    BOOT = 8  # then the device's slot: when it started, before the run
    MAINS = 9  # the home's mains supply: when it is cut
    INSTALL = 10  # each device's fitting (faulty or not) and its clock's drift


class Streams:
    def __init__(self, seed: int) -> None:
        self.seed = seed

    def rng(self, *key: int) -> np.random.Generator:
        return np.random.default_rng(np.random.SeedSequence(self.seed, spawn_key=tuple(int(k) for k in key)))

    def subject(self, index: int, use: Use, *more: int) -> np.random.Generator:
        return self.rng(Branch.SUBJECT, index, use, *more)
