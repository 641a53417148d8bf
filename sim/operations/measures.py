"""What a run of the centre comes to: time to action by class, deadlines held, occupancy,
the queue over time, whether the centre is overloaded, Little's law as a check, and the
haystack in front of each genuine breach. JSON-ready (``docs/results.md``, ``operations``)."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import numpy as np

from sim.operations.centre import CentreRun
from sim.operations.params import CLASS_NAMES, CentreParams, HOUR_S

LITTLE_TOLERANCE = 0.01  # relative: the queue's time-average against arrival rate x mean wait


def centre_measures(run: CentreRun, params: CentreParams, genuine: np.ndarray) -> dict[str, Any]:
    """The measures of ``run``; ``genuine[i]`` says the i-th arrival is a true breach alert.
    Alerts raised at or after the horizon never reached the centre and are left out."""
    deadlines = np.array(params.classes.deadlines_s())
    arrived = run.arrival < run.horizon
    run = _arrived(run, arrived)
    genuine = np.asarray(genuine, dtype=bool)[arrived]
    wait, taken = run.wait, ~np.isnan(run.start)
    by_class = {}
    for k, name in enumerate(CLASS_NAMES):
        mine = run.klass == k
        deadline = float(deadlines[k])
        by_class[name] = {"alerts": int(mine.sum()), "taken_up": int((mine & taken).sum()), "deadline_s": deadline,
                          **_waits(wait[mine & taken]), "within_deadline_share": _within(wait[mine], taken[mine], deadline)}
    mean_handling = np.array(params.classes.mean_handling_s())
    offered = float(mean_handling[run.klass].sum() / run.desk_s) if run.desk_s else float("inf")
    hourly = hourly_queue(run)
    growth = _growth_per_hour(hourly)
    return {
        "operators": {"rostered": list(params.rota.operators), "at_desk": list(params.rota.at_desk),
                      "shrinkage": params.rota.shrinkage, "shift_hours": params.rota.shift_hours},
        "alerts": len(run.arrival),
        "occupancy": run.busy_s / run.desk_s if run.desk_s else None,
        "offered_load": offered,  # handling demanded over desk time offered: 1 or more never drains
        "overloaded": offered >= 1,
        "queue_growth_per_hour": growth,
        "waiting_at_end": int((~taken).sum()),
        "queue": {"mean": run.mean_queue(), "max": int(run.queue_steps.max()), "hourly_mean": hourly.tolist()},
        "classes": by_class,
        "genuine_breaches": _genuine(run, genuine, deadlines),
        "littles_law": littles_law(run),
    }


def littles_law(run: CentreRun) -> dict[str, Any]:
    """L = lambda W over the run: the time-average queue against the arrival rate times the mean
    wait (an alert still waiting at the end counts its wait so far), as a check of the model's
    bookkeeping: the two come from separate records (the queue's steps, each alert's times)."""
    arrived = run.arrival < run.horizon
    rate = float(arrived.sum() / run.horizon)
    mean_wait = float(run.wait[arrived].mean()) if arrived.any() else 0.0
    mean_queue = run.mean_queue()
    gap = abs(mean_queue - rate * mean_wait) / mean_queue if mean_queue else abs(rate * mean_wait)
    return {"mean_queue": mean_queue, "arrival_rate_per_s": rate, "mean_wait_s": mean_wait,
            "relative_gap": gap, "tolerance": LITTLE_TOLERANCE, "holds": gap <= LITTLE_TOLERANCE}


def hourly_queue(run: CentreRun) -> np.ndarray:
    """The time-average queue length in each hour of the run."""
    edges = np.append(np.arange(0.0, run.horizon, HOUR_S), run.horizon)
    area = _area_until(run, edges)
    return np.diff(area) / np.diff(edges)


def _area_until(run: CentreRun, t: np.ndarray) -> np.ndarray:
    """The queue length's integral from 0 to each of ``t``."""
    times, steps = run.queue_times, run.queue_steps
    cumulative = np.concatenate(([0.0], np.cumsum(steps[:-1] * np.diff(times))))
    at = np.searchsorted(times, t, side="right") - 1
    return cumulative[at] + steps[at] * (t - times[at])


def _growth_per_hour(hourly: np.ndarray) -> float:
    """The queue's least-squares slope over the run's second half, alerts an hour: near 0
    for a centre that keeps up, the backlog's growth for one that does not."""
    half = hourly[len(hourly) // 2 :]
    if len(half) < 2:
        return 0.0
    return float(np.polyfit(np.arange(len(half)), half, 1)[0])


def _waits(waits: np.ndarray) -> dict[str, float | None]:
    if not len(waits):
        return {"time_to_action_median_s": None, "time_to_action_p95_s": None}
    return {"time_to_action_median_s": float(np.median(waits)), "time_to_action_p95_s": float(np.percentile(waits, 95))}


def _within(wait: np.ndarray, taken: np.ndarray, deadline: float) -> float | None:
    """The share taken up within the deadline, of those taken up or already past it (one still
    waiting at the end, its deadline not yet come, is neither)."""
    decided = taken | (wait > deadline)
    return float(np.mean(wait[decided] <= deadline)) if decided.any() else None


def _arrived(run: CentreRun, arrived: np.ndarray) -> CentreRun:
    if arrived.all():
        return run
    return replace(run, arrival=run.arrival[arrived], klass=run.klass[arrived], start=run.start[arrived],
                   end=run.end[arrived])


def _genuine(run: CentreRun, genuine: np.ndarray, deadlines: np.ndarray) -> dict[str, Any]:
    """The genuine breach alerts (tampers among them): how many waited past their class's
    deadline, and how many other alerts the centre took up while each waited (the haystack
    before the needle: every alert taken up from the moment it arrived, those arriving with it
    and taken first among them, until it was reached)."""
    wait = run.wait[genuine]
    started = np.sort(run.start[~np.isnan(run.start)])
    reached = np.where(np.isnan(run.start), run.horizon, run.start)[genuine]
    before = np.searchsorted(started, reached, side="left") - np.searchsorted(started, run.arrival[genuine], side="left")
    return {
        "alerts": int(genuine.sum()),
        "past_deadline": int((wait > deadlines[run.klass[genuine]]).sum()),
        "items_taken_up_while_waiting_median": float(np.median(before)) if len(before) else None,
        "items_taken_up_while_waiting_p95": float(np.percentile(before, 95)) if len(before) else None,
    }
