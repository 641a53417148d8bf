"""What a field run comes to (``sim.operations.field.measures``): fitting waits and the published
installation measures' analogues, person-days unmonitored, deadlines, overload."""

from __future__ import annotations

import numpy as np
import pytest

from sim.operations.field.force import FieldRun, simulate_field
from sim.operations.field.measures import field_measures

from small_field import HOUR, RADIUS, jobs_at, small_field

DAY = 24 * HOUR


def test_fittings_waits_first_attempts_and_person_days_unmonitored() -> None:
    # Four orders over a 10-day run with a 72-hour window: fitted in 1 h at the first attempt;
    # fitted in 30 h at the second; fitted in 100 h at the first (late); still waiting after
    # 9 days. A fifth, due at the run's last hour, is waiting but not yet late: undecided.
    params = small_field()
    jobs = jobs_at(params, [(0.0, "fitting", 0.0, 0.0)] * 4 + [(10 * DAY - HOUR, "fitting", 0.0, 0.0)])
    done = np.array([1 * HOUR, 30 * HOUR, 100 * HOUR, np.nan, np.nan])
    run = FieldRun(jobs, attempts=np.array([1, 2, 1, 3, 0]), first_on_site=done - HOUR, on_site=done - 0.5 * HOUR,
                   done=done, backlog_times=np.array([0.0]), backlog_steps=np.array([0]), fitting_steps=np.array([0]),
                   travel_s=0.0, site_s=0.0, work_s=DAY, officers_by_area=((1,),), horizon=10 * DAY)
    fitting = field_measures(run, params, 100)["fitting"]
    assert fitting["orders"] == 5 and fitting["fitted"] == 3 and fitting["waiting_at_end"] == 2
    assert fitting["within_window_share"] == pytest.approx(2 / 4)  # the fifth is undecided
    assert fitting["first_attempt_within_window_share"] == pytest.approx(1 / 4)  # SL004A's analogue
    assert fitting["further_attempts_within_window_share"] == pytest.approx(1 / 2)  # SL004B's: the second and fourth
    waited_h = 1 + 30 + 100 + 240 + 1
    assert fitting["unmonitored_person_days"] == pytest.approx(waited_h / 24)
    assert fitting["person_days_past_window"] == pytest.approx((100 - 72 + 240 - 72) / 24)


def test_a_field_force_too_small_is_overloaded_and_one_large_enough_is_not() -> None:
    gen = np.random.default_rng(4)
    n = 700  # a hundred jobs a day, an hour each on site with the drives
    rows = [(float(t), "removal", float(x), float(y)) for t, x, y in
            zip(np.sort(gen.uniform(0, 7 * DAY, n)), gen.uniform(-700, 700, n), gen.uniform(-700, 700, n))]
    for officers, overloaded in ((2, True), (8, False)):
        params = small_field(officers=(officers,))
        run = simulate_field(jobs_at(params, rows), params, RADIUS, 7 * DAY, np.random.default_rng(5))
        measures = field_measures(run, params, 1_000)
        assert measures["overloaded"] is overloaded, officers
        assert measures["visits"] == int(run.attempts.sum())
        assert measures["visits_per_subject_year"] == pytest.approx(measures["visits"] / (1_000 * 7 / 365))
    assert measures["by_job"]["removal"]["within_deadline_share"] == 1.0


def test_a_run_too_short_to_tell_growth_from_the_days_rhythm_says_so_and_no_jobs_are_no_overload() -> None:
    params = small_field(officers=(4,))
    gen = np.random.default_rng(7)
    rows = [(float(t), "removal", float(x), 0.0) for t, x in zip(np.sort(gen.uniform(0, 2 * DAY, 100)), gen.uniform(-500, 500, 100))]
    short = field_measures(simulate_field(jobs_at(params, rows), params, RADIUS, 2 * DAY, np.random.default_rng(1)), params, 10)
    assert short["overloaded"] is None and short["backlog"]["growth_per_day"] is None
    idle = field_measures(simulate_field(jobs_at(params, []), params, RADIUS, 7 * DAY, np.random.default_rng(1)), params, 10)
    assert idle["overloaded"] is False and idle["jobs"] == 0 and idle["fitting"]["within_window_share"] is None


def test_a_door_not_answered_counts_against_the_installation_not_against_the_force() -> None:
    # A fitting reached at 2 h finds nobody in; the retry gets in at 74 h, past the 72-hour
    # window. The force was at the door in time (its deadline holds); the installation was late.
    params = small_field()
    jobs = jobs_at(params, [(0.0, "fitting", 0.0, 0.0)])
    run = FieldRun(jobs, attempts=np.array([2]), first_on_site=np.array([2 * HOUR]), on_site=np.array([74 * HOUR]),
                   done=np.array([75 * HOUR]), backlog_times=np.array([0.0]), backlog_steps=np.array([0]),
                   fitting_steps=np.array([0]), travel_s=0.0, site_s=0.0, work_s=DAY, officers_by_area=((1,),),
                   horizon=10 * DAY)
    measures = field_measures(run, params, 100)
    assert measures["by_job"]["fitting"]["within_deadline_share"] == 1.0
    assert measures["by_job"]["fitting"]["time_to_site_median_s"] == 2 * HOUR
    assert measures["fitting"]["within_window_share"] == 0.0 and measures["fitting"]["further_attempts_within_window_share"] == 0.0
