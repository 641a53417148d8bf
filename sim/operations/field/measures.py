"""What a run of the field force comes to: each kind of job's time to an officer on site and
the share within its deadline, the fitting of new orders (waits, the published installation
measures' analogues, the person-days a person waited unmonitored), the backlog over time and
whether it drains, and where the officers' time went. JSON-ready (``docs/results.md``,
``operations.field``)."""

from __future__ import annotations

from typing import Any

import numpy as np

from sim.operations.field.force import FieldRun
from sim.operations.field.params import FITTING, FieldParams
from sim.operations.deadlines import decided, percentile, within_share
from sim.operations.rota import DAY_S, HOUR_S
from sim.operations.steps import hourly_mean, means_between, time_average

# The backlog drains unless, from one whole day to the next over the run's second half, its
# daily mean gains at least this share of a day's jobs: a steady service's backlog rises and
# falls with the day (and with doors left unanswered until the next day's retry) but not
# from one day to the next.
GROWTH_OF_A_DAYS_JOBS = 0.05


def field_measures(run: FieldRun, params: FieldParams, subjects: int) -> dict[str, Any]:
    """The measures of ``run`` for a caseload of ``subjects``."""
    jobs, names = run.jobs, params.job_names
    horizon = run.horizon
    # A job's deadline is for an officer at the door: what the force's staff decide. A door not
    # answered (and the retry a day later) is the subject's doing, counted in the fittings'
    # installation measures below, not against the deadline.
    attended = ~np.isnan(run.first_on_site)
    by_job = {}
    for k, name in enumerate(names):
        mine = jobs.kind == k
        job = params.jobs[name]
        to_site = np.where(attended, run.first_on_site, horizon)[mine] - jobs.due[mine]
        by_job[name] = {
            "jobs": int(mine.sum()), "done": int((~np.isnan(run.done) & mine).sum()),
            "attempts": int(run.attempts[mine].sum()), "deadline_s": job.deadline_hours * HOUR_S,
            "time_to_site_median_s": percentile(to_site[attended[mine]], 50),
            "time_to_site_p95_s": percentile(to_site[attended[mine]], 95),
            "within_deadline_share": within_share(to_site, attended[mine], job.deadline_hours * HOUR_S),
        }
    hourly = hourly_mean(run.backlog_times, run.backlog_steps, horizon)
    growth_per_day = _daily_growth(run)
    jobs_per_day = len(jobs) / (horizon / DAY_S)
    visits = int(run.attempts.sum())
    return {
        "officers": {"rostered": list(params.rota.staff), "at_work": list(params.rota.at_work),
                     "by_area": [list(a) for a in run.officers_by_area], "shrinkage": params.rota.shrinkage,
                     "shift_hours": params.rota.shift_hours},
        "jobs": len(jobs),
        "visits": visits,
        "visits_per_subject_year": visits / (subjects * horizon / DAY_S / 365.0) if subjects else None,
        "occupancy": (run.travel_s + run.site_s) / run.work_s if run.work_s else None,
        "work_hours_a_day": (run.travel_s + run.site_s) / HOUR_S / (horizon / DAY_S),
        "travel_share": run.travel_s / run.work_s if run.work_s else None,
        "travel_per_visit_s": run.travel_s / visits if visits else None,
        "backlog": {"mean": time_average(run.backlog_times, run.backlog_steps, horizon),
                    "max": int(run.backlog_steps.max()), "at_end": int(run.backlog_steps[-1]),
                    "growth_per_day": growth_per_day, "hourly_mean": hourly.tolist(),
                    "fittings_hourly_mean": hourly_mean(run.backlog_times, run.fitting_steps, horizon).tolist()},
        "overloaded": _overloaded(growth_per_day, jobs_per_day),
        "by_job": by_job,
        "fitting": _fitting(run, params),
    }


def _overloaded(growth_per_day: float | None, jobs_per_day: float) -> bool | None:
    """None when the run is too short to tell growth from the day's rhythm."""
    if growth_per_day is None:
        return None
    return bool(jobs_per_day > 0 and growth_per_day >= GROWTH_OF_A_DAYS_JOBS * jobs_per_day)


def _daily_growth(run: FieldRun) -> float | None:
    """The least-squares slope of the backlog's daily means over the whole days of the run's
    second half, jobs a day; None for a run with fewer than two such days."""
    days = int(run.horizon // DAY_S)
    edges = np.arange(days // 2, days + 1) * DAY_S
    if len(edges) < 3:
        return None
    daily = means_between(run.backlog_times, run.backlog_steps, edges)
    return float(np.polyfit(np.arange(len(daily)), daily, 1)[0])


def _fitting(run: FieldRun, params: FieldParams) -> dict[str, Any]:
    """New orders: the wait from an order's start to its tag being fitted (the person
    unmonitored meanwhile), and the analogues of the published installation measures, by when
    the officer who got in reached the door: the share installed within the window, EMS SL004A
    (in at the first attempt, within the window) and SL004B (of those that needed another
    attempt, in within the window). Unlike every job's deadline (an officer at the door), these
    count a door not answered against the window, as the published measures do."""
    mine = run.jobs.kind == params.job_names.index(FITTING)
    due, fitted, reached = run.jobs.due[mine], run.done[mine], run.on_site[mine]
    window = params.jobs[FITTING].deadline_hours * HOUR_S
    done, got_in = ~np.isnan(fitted), ~np.isnan(reached)
    wait = np.where(done, fitted, run.horizon) - due
    to_site = np.where(got_in, reached, run.horizon) - due
    in_window = got_in & (to_site <= window)
    attempts = run.attempts[mine]
    settled = decided(to_site, got_in, window)
    further = settled & (attempts > 1)
    return {
        "orders": int(mine.sum()), "fitted": int(done.sum()), "waiting_at_end": int((~done).sum()),
        "window_s": window,
        "wait_median_s": percentile(wait[done], 50), "wait_p95_s": percentile(wait[done], 95),
        "within_window_share": within_share(to_site, got_in, window),
        "first_attempt_within_window_share": float(np.mean((in_window & (attempts == 1))[settled]))
        if settled.any() else None,
        "further_attempts_within_window_share": float(np.mean(in_window[further])) if further.any() else None,
        "unmonitored_person_days": float(wait.sum() / DAY_S),
        "person_days_past_window": float(np.maximum(wait - window, 0.0).sum() / DAY_S),
    }
