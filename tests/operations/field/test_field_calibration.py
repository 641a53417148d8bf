"""The field force held to the published installation measures: with the shipped access shares
and today's roster, sixteen weeks of today's order flow (enough orders that need a second
visit for their share to settle) fit as EMS SL004A and SL004B report (ranges of ten quarters,
Oct 2017 - Mar 2020, seeds/calibration.toml)."""

from __future__ import annotations

import numpy as np

from sim.calibration.published import load_calibration
from sim.operations.field.force import simulate_field
from sim.operations.field.jobs import order_flow
from sim.operations.field.measures import field_measures
from sim.operations.field.params import load_field

DAY = 86400.0
BASELINE = 26_647
SL004A = (0.949, 0.989)
SL004B = (0.806, 0.919)


def test_todays_order_flow_fits_within_the_published_installation_ranges() -> None:
    params = load_field()
    horizon = 112 * DAY
    jobs = order_flow(params, BASELINE, 10_000.0, horizon, np.random.default_rng(11))
    run = simulate_field(jobs, params, 10_000.0, horizon, np.random.default_rng(12))
    fitting = field_measures(run, params, BASELINE)["fitting"]
    assert fitting["orders"] > 30_000
    assert SL004A[0] <= fitting["first_attempt_within_window_share"] <= SL004A[1]
    assert SL004B[0] <= fitting["further_attempts_within_window_share"] <= SL004B[1]
    published = {f.measure: f.value for f in load_calibration().figures}
    assert SL004A[0] <= published["field.first_attempt_within_window_share"] <= SL004A[1]
    assert SL004B[0] <= published["field.further_attempts_within_window_share"] <= SL004B[1]
