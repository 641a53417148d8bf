"""The field force's work (``sim.operations.field.jobs``): the order flow the caseload implies,
and the centre's visits at subjects' homes."""

from __future__ import annotations

import numpy as np
import pytest

from sim.operations.field.jobs import NEW_ORDER, order_flow, visit_jobs
from sim.operations.field.params import load_field

DAY = 86400.0


def test_orders_start_and_end_at_the_caseloads_rates_in_working_hours_across_the_town() -> None:
    params = load_field()
    jobs = order_flow(params, 26_647, 10_000.0, 28 * DAY, np.random.default_rng(1))
    names = params.job_names
    fittings = jobs.kind == names.index("fitting")
    removals = jobs.kind == names.index("removal")
    assert fittings.sum() + removals.sum() == len(jobs)
    for mine, per_day in ((fittings, params.orders.starts_per_day(26_647)), (removals, params.orders.ends_per_day(26_647))):
        # A Poisson count over 28 days: within four standard deviations of its mean.
        assert abs(mine.sum() - 28 * per_day) < 4 * np.sqrt(28 * per_day)
    hour = (jobs.due % DAY) / 3600
    assert (hour >= params.orders.first_hour).all() and (hour < params.orders.last_hour).all()
    assert np.all(np.diff(jobs.due) >= 0) and (jobs.subject == NEW_ORDER).all()
    assert (np.hypot(jobs.x, jobs.y) <= 10_000.0).all()
    # Uniform over the disc: half the homes lie within 1/sqrt(2) of the radius.
    assert np.mean(np.hypot(jobs.x, jobs.y) < 10_000.0 / np.sqrt(2)) == pytest.approx(0.5, abs=0.03)


def test_the_order_flow_is_cut_at_the_horizon_and_the_same_for_the_same_stream() -> None:
    params = load_field()
    one = order_flow(params, 1_000, 10_000.0, 1.5 * DAY, np.random.default_rng(4))
    two = order_flow(params, 1_000, 10_000.0, 1.5 * DAY, np.random.default_rng(4))
    assert (one.due < 1.5 * DAY).all() and np.array_equal(one.due, two.due) and np.array_equal(one.x, two.x)


def test_visits_go_to_the_subjects_homes_and_an_unknown_job_is_refused() -> None:
    params = load_field()
    homes = np.array([[0.0, 0.0], [100.0, -50.0], [7.0, 8.0]])
    jobs = visit_jobs(np.array([5.0, 9.0]), np.array([1, 0]), np.array([2, 1]), homes, ("fault", "tamper"), params)
    assert [params.job_names[k] for k in jobs.kind] == ["tamper", "fault"]
    assert jobs.x.tolist() == [7.0, 100.0] and jobs.y.tolist() == [8.0, -50.0] and jobs.subject.tolist() == [2, 1]
    with pytest.raises(ValueError, match="visits of kind 'lab'"):
        visit_jobs(np.zeros(1), np.zeros(1, int), np.zeros(1, int), homes, ("lab",), params)
