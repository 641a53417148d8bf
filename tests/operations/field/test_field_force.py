"""The field force (``sim.operations.field.force``): officers take jobs by priority, overdue,
then nearest, drive there at the travel model's speed, wait for routine hours, retry a door not
answered, finish the job in hand at a shift's end; and the bookkeeping adds up."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

from sim.operations.field.force import MOST_ATTEMPTS, _Force, simulate_field
from sim.operations.handling import Handling
from sim.operations.field.jobs import ORDER_FLOW, from_source, merged, visit_jobs
from sim.operations.steps import time_average

from small_field import HOUR, RADIUS, job, jobs_at, small_field

SITE = 30 * 60.0  # every job's time on site here


@pytest.fixture
def rng() -> np.random.Generator:
    return np.random.default_rng(1)


def test_priority_comes_before_distance_and_each_drive_is_the_distance_at_a_metre_a_second(rng: np.random.Generator) -> None:
    params = small_field()
    jobs = jobs_at(params, [(0.0, "breach", 0.0, 0.0), (0.0, "removal", 100.0, 0.0), (0.0, "fitting", 800.0, 0.0)])
    run = simulate_field(jobs, params, RADIUS, 10 * HOUR, rng)
    breach, fitting, removal = (params.job_names.index(k) for k in ("breach", "fitting", "removal"))
    at = {int(k): i for i, k in enumerate(jobs.kind)}
    assert run.done[at[breach]] == pytest.approx(run.on_site[at[breach]] + SITE)
    assert run.on_site[at[fitting]] == pytest.approx(run.done[at[breach]] + 800.0)  # the fitting first, though farther
    assert run.on_site[at[removal]] == pytest.approx(run.done[at[fitting]] + 700.0)
    assert run.attempts.tolist() == [1, 1, 1] and run.travel_s == pytest.approx(run.on_site[at[breach]] + 1500.0)


def test_within_a_priority_the_nearest_job_goes_first(rng: np.random.Generator) -> None:
    params = small_field()
    jobs = jobs_at(params, [(0.0, "breach", 0.0, 0.0), (1.0, "fitting", 500.0, 0.0), (2.0, "fitting", -200.0, 0.0)])
    run = simulate_field(jobs, params, RADIUS, 10 * HOUR, rng)
    assert run.on_site[2] == pytest.approx(run.done[0] + 200.0)
    assert run.on_site[1] == pytest.approx(run.done[2] + 700.0)


def test_routine_jobs_wait_for_routine_hours_and_urgent_ones_do_not(rng: np.random.Generator) -> None:
    params = small_field(routine=(8.0, 22.0))
    jobs = jobs_at(params, [(2 * HOUR, "fitting", 0.0, 0.0), (2 * HOUR, "breach", 10.0, 0.0)])
    run = simulate_field(jobs, params, RADIUS, 24 * HOUR, rng)
    assert run.on_site[1] < 2 * HOUR + 2 * RADIUS + 1  # a drive across the town at most
    assert run.on_site[0] == pytest.approx(8 * HOUR + 10.0)  # from the breach, at 08:00


def test_a_door_not_answered_is_tried_again_a_day_later_with_its_own_chance() -> None:
    # First doors open 60% of the time, later ones 80%: attempts average 1 + 0.4 / 0.8.
    params = small_field(officers=(60,), fitting=job(2, access=0.6, access_again=0.8))
    rows = [(float(i * 60), "fitting", 0.0, 0.0) for i in range(600)]
    run = simulate_field(jobs_at(params, rows), params, RADIUS, 8 * 24 * HOUR, np.random.default_rng(3))
    done = ~np.isnan(run.done)
    assert done.mean() > 0.99
    assert run.attempts[done].mean() == pytest.approx(1 + 0.4 / 0.8, rel=0.06)
    assert (run.attempts[done] == 1).mean() == pytest.approx(0.6, abs=0.05)
    again = done & (run.attempts > 1)
    assert (run.on_site[again] - run.first_on_site[again] >= 24 * HOUR).all()
    assert np.allclose(run.first_on_site[done & (run.attempts == 1)], run.on_site[done & (run.attempts == 1)])


def test_an_officer_finishes_the_job_in_hand_and_the_next_shift_sets_out_meanwhile(rng: np.random.Generator) -> None:
    params = small_field(officers=(1, 1), shift_hours=12.0, breach=job(1, minutes=600.0), tamper=job(1))
    jobs = jobs_at(params, [(10 * HOUR, "breach", 0.0, 0.0), (12.5 * HOUR, "tamper", 0.0, 0.0)])
    run = simulate_field(jobs, params, RADIUS, 2 * 24 * HOUR, rng)
    assert run.on_site[0] < 11 * HOUR and run.done[0] > 20 * HOUR  # the day's officer stays on
    assert run.on_site[1] < 13 * HOUR  # the night's officer takes the tamper


def test_each_job_keeps_its_time_on_site_whatever_the_roster() -> None:
    params = small_field(officers=(3,), fitting=job(2, minutes=45.0, routine=True, access=0.8))
    params_many = small_field(officers=(6,), fitting=job(2, minutes=45.0, routine=True, access=0.8))
    gen = np.random.default_rng(9)
    rows = [(float(t), "fitting", float(x), float(y)) for t, x, y in
            zip(np.sort(gen.uniform(0, 3 * 24 * HOUR, 300)), gen.uniform(-500, 500, 300), gen.uniform(-500, 500, 300))]
    few, many = (simulate_field(jobs_at(p, rows), p, RADIUS, 6 * 24 * HOUR, np.random.default_rng(5)) for p in (params, params_many))
    both = ~np.isnan(few.done) & ~np.isnan(many.done)
    assert both.sum() > 250
    assert np.allclose((few.done - few.on_site)[both], (many.done - many.on_site)[both])
    assert np.array_equal(few.attempts[both], many.attempts[both])


def test_the_backlog_is_every_job_due_and_not_done_over_time() -> None:
    # The backlog's time-average over the run is each job's time outstanding, summed, over the run.
    params = small_field(officers=(2,))
    gen = np.random.default_rng(2)
    rows = [(float(t), str(gen.choice(["fitting", "removal", "breach"])), float(x), float(y)) for t, x, y in
            zip(np.sort(gen.uniform(0, 2 * 24 * HOUR, 150)), gen.uniform(-600, 600, 150), gen.uniform(-600, 600, 150))]
    jobs = jobs_at(params, rows)
    horizon = 2 * 24 * HOUR
    run = simulate_field(jobs, params, RADIUS, horizon, np.random.default_rng(6))
    outstanding = np.where(np.isnan(run.done), horizon, run.done) - jobs.due
    assert time_average(run.backlog_times, run.backlog_steps, horizon) * horizon == pytest.approx(outstanding.sum())
    assert run.backlog_steps[-1] == np.isnan(run.done).sum()
    assert 0 < run.travel_s + run.site_s <= run.work_s + 3 * HOUR


def test_jobs_out_of_order_are_refused(rng: np.random.Generator) -> None:
    params = small_field()
    jobs = jobs_at(params, [(0.0, "breach", 0.0, 0.0), (5.0, "breach", 0.0, 0.0)])
    backwards = replace(jobs, due=jobs.due[::-1])
    with pytest.raises(ValueError, match="sorted by due time"):
        simulate_field(backwards, params, RADIUS, HOUR, rng)


def homes_at(monkeypatch: pytest.MonkeyPatch, places: dict[tuple[int, int], tuple[float, float]]) -> None:
    """Officer ``k`` of ``area`` starts every shift at ``places[(area, k)]``."""
    monkeypatch.setattr(_Force, "_home", lambda self, turn, area, k: places[(area, k)])


def test_a_job_goes_to_the_nearest_free_officer_of_its_area(monkeypatch: pytest.MonkeyPatch, rng: np.random.Generator) -> None:
    homes_at(monkeypatch, {(0, 0): (-900.0, 0.0), (0, 1): (300.0, 0.0)})
    params = small_field(officers=(2,))
    run = simulate_field(jobs_at(params, [(HOUR, "breach", 500.0, 0.0)]), params, RADIUS, 10 * HOUR, rng)
    assert run.first_on_site[0] == pytest.approx(HOUR + 200.0)  # from (300, 0), not from (-900, 0)


def test_each_area_serves_its_own_jobs(monkeypatch: pytest.MonkeyPatch, rng: np.random.Generator) -> None:
    # Four areas (a 2 x 2 grid, row by row from the south-west), an officer in each near its
    # corner of the town; a job in the north-east quarter is driven to from the north-east.
    homes_at(monkeypatch, {(0, 0): (-500.0, -500.0), (1, 0): (500.0, -500.0), (2, 0): (-500.0, 500.0),
                           (3, 0): (500.0, 500.0)})
    params = small_field(officers=(4,), grid=2)
    run = simulate_field(jobs_at(params, [(HOUR, "breach", 600.0, 500.0)]), params, RADIUS, 10 * HOUR, rng)
    assert run.first_on_site[0] == pytest.approx(HOUR + 100.0)
    assert run.officers_by_area == ((1, 1, 1, 1),)


def test_a_job_due_at_the_very_shift_change_goes_to_the_next_shift(rng: np.random.Generator) -> None:
    params = small_field(officers=(1, 1), shift_hours=12.0)
    jobs = jobs_at(params, [(11 * HOUR, "breach", 0.0, 0.0), (12 * HOUR, "breach", 0.0, 0.0)])
    run = simulate_field(jobs, params, RADIUS, 36 * HOUR, rng)
    assert run.done[0] < 12 * HOUR and run.first_on_site[1] < 12 * HOUR + 2 * RADIUS + 1


def test_the_twelfth_attempt_gets_in() -> None:
    params = small_field(fitting=job(2, routine=True, access=1e-9))
    run = simulate_field(jobs_at(params, [(0.0, "fitting", 0.0, 0.0)]), params, RADIUS, 20 * 24 * HOUR,
                         np.random.default_rng(1))
    assert run.attempts[0] == MOST_ATTEMPTS and not np.isnan(run.done[0])
    assert run.on_site[0] - run.first_on_site[0] >= (MOST_ATTEMPTS - 1) * 24 * HOUR


def test_an_order_flow_job_keeps_its_draws_whatever_visits_come_beside_it() -> None:
    # Two policies' field jobs: the same fittings, and different visits among them. Each fitting
    # gets the same doors answered and the same time on site in both.
    varied = replace(job(2, routine=True, access=0.7), on_site=Handling("lognormal", 45.0, 0.5))
    params = small_field(officers=(6,), fitting=varied)
    homes = np.zeros((10, 2))
    gen = np.random.default_rng(3)
    when = np.sort(gen.uniform(0, 3 * 24 * HOUR, 300))
    orders = from_source(ORDER_FLOW, when, np.full(300, params.job_names.index("fitting")), gen.uniform(-500, 500, 300),
                         gen.uniform(-500, 500, 300), np.full(300, -1))
    runs = []
    for visits in (40, 90):
        asked = visit_jobs(np.sort(gen.uniform(0, 3 * 24 * HOUR, visits)), np.zeros(visits, int), np.zeros(visits, int),
                           homes, ("breach",), params)
        jobs = merged(orders, asked)
        run = simulate_field(jobs, params, RADIUS, 8 * 24 * HOUR, np.random.default_rng(5))
        fitting = jobs.source == ORDER_FLOW
        runs.append((jobs.rank[fitting], run.attempts[fitting], (run.done - run.on_site)[fitting]))
    (rank_a, attempts_a, site_a), (rank_b, attempts_b, site_b) = runs
    both = ~np.isnan(site_a) & ~np.isnan(site_b)
    assert np.array_equal(rank_a, rank_b) and both.sum() > 280
    assert np.array_equal(attempts_a[both], attempts_b[both]) and np.allclose(site_a[both], site_b[both])
    assert np.std(site_a[both]) > 60.0  # times on site that differ from job to job
