"""Fixtures for the centre's tests."""

from __future__ import annotations

import dataclasses
import time

import numpy as np
import pytest

from firmware_stubs.kinds import build_standalone
from firmware_stubs.protocol import TagFlags
from firmware_stubs.wiring import Assembly
from sim.realtime import set_unix_clock
from sim.scenario import default_device_params

UNIT = 40


@pytest.fixture
def severed_unit() -> Assembly:
    """A standalone base unit whose tag beacons five times a second, its strap already cut."""
    params = default_device_params()
    params = dataclasses.replace(params, rf_tag=dataclasses.replace(params.rf_tag, beacon_interval_min_s=0.2,
                                                                    beacon_interval_max_s=0.3))
    now = time.monotonic()
    machine = build_standalone("base-unit", UNIT, now, params, np.random.default_rng(0))
    assert isinstance(machine, Assembly)
    set_unix_clock(machine, now)
    machine.peers[0].set_condition(now, TagFlags.STRAP_SEVERED, True)  # type: ignore[attr-defined]
    return machine
