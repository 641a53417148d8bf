"""Random streams: one root seed, one independent stream per subject, device and fault process.

Every stream is ``SeedSequence(seed, spawn_key=key)`` for a fixed key, the
same tree ``SeedSequence.spawn`` builds, addressed directly: subject 7's
routine stream is the same whether the population has 10 subjects or
100,000, so adding a subject changes no one else's draws.

A subject's streams are of two sides. The world's (who they are, how they live, their home's
mains) are the same whichever supplier's devices they wear: comparing suppliers on one seed
compares them on the same people, routines and breaches (common random numbers). The
devices' (their radio, fixes, sensors, faults, link, when they started) are keyed by the
supplier too: each supplier's devices have their own luck, so a profile run under another
name differs by that luck alone.
"""

from __future__ import annotations

import zlib
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


WORLD_USES = frozenset({Use.PERSON, Use.ROUTINE, Use.MAINS})  # the same whatever the supplier


class Streams:
    """The streams of root ``seed``; ``devices`` keys the device side (``device_luck``)."""

    def __init__(self, seed: int, devices: int = 0) -> None:
        self.seed = seed
        self.devices = devices

    def rng(self, *key: int) -> np.random.Generator:
        return np.random.default_rng(np.random.SeedSequence(self.seed, spawn_key=tuple(int(k) for k in key)))

    def subject(self, index: int, use: Use, *more: int) -> np.random.Generator:
        if use in WORLD_USES:
            return self.rng(Branch.SUBJECT, index, use, *more)
        return self.rng(Branch.SUBJECT, index, use, self.devices, *more)


def device_luck(supplier: str) -> int:
    """The device side's key for a supplier, from its name: stable from run to run and machine
    to machine (a CRC, not Python's salted hash)."""
    return zlib.crc32(supplier.encode())
