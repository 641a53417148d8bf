"""The device kinds a user can name, and how to build each alone on a bench.

Each kind's module has ``standalone(device_id, now, params, rng)``, which
returns the device with whatever it needs beside it to run on its own (a base
unit gets its tag, a GPS tag its GNSS module), as one machine whose ``uplink``
port is the device's.
"""

from __future__ import annotations

import importlib

import numpy as np

from firmware_stubs.params import DeviceParams
from firmware_stubs.wiring import Machine

KIND_MODULES = {
    "rf-tag": "firmware_stubs.rf_tag",
    "base-unit": "firmware_stubs.base_unit",
    "gps-tag": "firmware_stubs.gps_tag",
    "alcohol-tag": "firmware_stubs.alcohol_tag",
}
KINDS = tuple(KIND_MODULES)


class UnknownKind(ValueError):
    def __init__(self, kind: str) -> None:
        super().__init__(f"unknown device kind {kind!r} (choose from {', '.join(KINDS)})")


def build_standalone(
    kind: str, device_id: int, now: float, params: DeviceParams, rng: np.random.Generator
) -> Machine:
    if kind not in KIND_MODULES:
        raise UnknownKind(kind)
    module = importlib.import_module(KIND_MODULES[kind])
    return module.standalone(device_id, now, params, rng)
