"""Device parameters as the seeds give them: each kind's own store-and-forward queue."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

from firmware_stubs.alcohol_tag import AlcoholTag
from firmware_stubs.base_unit import BaseUnit
from firmware_stubs.kinds import KINDS, build_standalone
from firmware_stubs.wiring import Assembly
from sim.scenario import default_device_params

DEFAULTS = default_device_params()


def test_each_kind_that_stores_messages_has_its_own_queue_capacity() -> None:
    # "Up to 2,500 stored events" (STI receiver) is a base unit's; "a queue of up to 100 alarm
    # messages" (SecureAlert TrackerPAL) a GPS tag's; the alcohol tag's is an assumption.
    capacities = {kind: DEFAULTS.uplink_for(kind).queue_capacity for kind in KINDS}
    assert capacities["base-unit"] == 2500
    assert capacities["gps-tag"] == 100
    assert capacities["alcohol-tag"] == DEFAULTS.alcohol_tag.queue_capacity
    # A day of half-hourly readings never overwrites the oldest before the daily upload.
    assert capacities["alcohol-tag"] > 86400 / DEFAULTS.alcohol_tag.reading_interval_s
    for kind in KINDS:  # the rest of the uplink is every kind's
        assert replace(DEFAULTS.uplink_for(kind), queue_capacity=DEFAULTS.uplink.queue_capacity) == DEFAULTS.uplink
    with pytest.raises(ValueError, match="unknown device kind 'pager'"):
        DEFAULTS.uplink_for("pager")


@pytest.mark.parametrize("kind, device", [("base-unit", BaseUnit), ("alcohol-tag", AlcoholTag)])
def test_a_bench_stub_stores_what_its_kind_stores(kind: str, device: type) -> None:
    machine = build_standalone(kind, 40, 0.0, DEFAULTS, np.random.default_rng(1))
    stub = machine.device if isinstance(machine, Assembly) else machine
    assert isinstance(stub, device)
    assert stub.queue.capacity == DEFAULTS.uplink_for(kind).queue_capacity


def test_each_kind_reports_at_its_configured_interval_and_an_rf_tag_through_its_unit() -> None:
    intervals = {kind: DEFAULTS.report_interval_s(kind) for kind in KINDS}
    assert intervals == {"base-unit": DEFAULTS.base_unit.status_interval_s, "gps-tag": DEFAULTS.gps_tag.upload_interval_s,
                         "alcohol-tag": DEFAULTS.alcohol_tag.upload_interval_s, "rf-tag": 0.0}
    assert all(v > 0 for k, v in intervals.items() if k != "rf-tag")
    with pytest.raises(ValueError, match="pager"):
        DEFAULTS.report_interval_s("pager")
