"""What a run of the centre comes to: time to action by class, deadlines held (taking up each
alert, notifying each confirmed breach), what followed the desk, occupancy, the queue over time,
whether the centre is overloaded, Little's law as a check, and the haystack in front of each
genuine breach. JSON-ready (``docs/results.md``, ``operations.centre``)."""

from __future__ import annotations

from typing import Any

import numpy as np

from sim.operations.centre.desk import NO_VISIT, CentreRun
from sim.operations.centre.params import CLASS_NAMES, CentreParams
from sim.operations.deadlines import percentile, within_share
from sim.operations.rota import DAY_S, HOUR_S
from sim.operations.steps import growth_per_hour, hourly_mean


LITTLE_TOLERANCE = 0.01  # relative: the queue's time-average against arrival rate x mean time queued


def centre_measures(run: CentreRun, params: CentreParams, genuine: np.ndarray) -> dict[str, Any]:
    """The measures of ``run``; ``genuine[i]`` says the i-th arrival is a true breach alert.
    Alerts raised at or after the horizon never reached the centre and are left out."""
    deadlines = np.array(params.classes.deadlines_s())
    arrived = run.arrival < run.horizon
    genuine = np.asarray(genuine, dtype=bool) & arrived
    wait, taken = run.wait, ~np.isnan(run.start)
    by_class = {}
    for k, name in enumerate(CLASS_NAMES):
        mine = arrived & (run.klass == k)
        deadline = float(deadlines[k])
        by_class[name] = {"alerts": int(mine.sum()), "taken_up": int((mine & taken).sum()), "deadline_s": deadline,
                          **_waits(wait[mine & taken]), "within_deadline_share": within_share(wait[mine], taken[mine], deadline)}
    offered = float(run.item_work_s.sum() / run.desk_s) if run.desk_s else float("inf")
    hourly = hourly_mean(run.queue_times, run.queue_steps, run.horizon)
    return {
        "operators": {"rostered": list(params.rota.staff), "at_desk": list(params.rota.at_work),
                      "shrinkage": params.rota.shrinkage, "shift_hours": params.rota.shift_hours},
        "alerts": int(arrived.sum()),
        "items": len(run.item_arrival),
        "joined_open_incident": int(arrived.sum()) - len(run.item_arrival),
        "interruptions": run.interruptions,
        "occupancy": run.busy_s / run.desk_s if run.desk_s else None,
        "offered_load": offered,  # work demanded over desk time offered: 1 or more never drains
        "work_hours_a_day": float(run.item_work_s.sum() / HOUR_S / (run.horizon / DAY_S)),
        "overloaded": offered >= 1,
        "queue_growth_per_hour": growth_per_hour(hourly),
        "waiting_at_end": run.waiting_at_end,
        "queue": {"mean": run.mean_queue(), "max": int(run.queue_steps.max()), "hourly_mean": hourly.tolist()},
        "classes": by_class,
        "followed_up": _followed_up(run),
        "notification": _notification(run, genuine, params.notify_deadline_s),
        "genuine_breaches": _genuine(run, genuine, deadlines),
        "littles_law": littles_law(run),
    }


def littles_law(run: CentreRun) -> dict[str, Any]:
    """L = lambda W over the run: the time-average number of items queued against the rate items
    arrive times the mean time each spent queued (one still waiting at the end counts its time
    so far; one interrupted counts its time back in the queue), as a check of the model's
    bookkeeping: the two come from separate records (the queue's steps, each item's times)."""
    rate = len(run.item_arrival) / run.horizon
    mean_wait = float(run.item_queued_s.mean()) if len(run.item_queued_s) else 0.0
    mean_queue = run.mean_queue()
    gap = abs(mean_queue - rate * mean_wait) / mean_queue if mean_queue else abs(rate * mean_wait)
    return {"mean_queue": mean_queue, "arrival_rate_per_s": rate, "mean_wait_s": mean_wait,
            "relative_gap": gap, "tolerance": LITTLE_TOLERANCE, "holds": gap <= LITTLE_TOLERANCE}


def _waits(waits: np.ndarray) -> dict[str, float | None]:
    return {"time_to_action_median_s": percentile(waits, 50), "time_to_action_p95_s": percentile(waits, 95)}


def _followed_up(run: CentreRun) -> dict[str, Any]:
    """What the finished items led to: calls to the subject, notices, field visits by job."""
    done = ~np.isnan(run.item_end)
    return {"items_done": int(done.sum()), "calls": int((run.item_called & done).sum()),
            "notices": int((run.item_notified & done).sum()),
            "visits": {job: int((run.item_visit == j).sum()) for j, job in enumerate(run.visit_jobs)},
            "visits_total": int((run.item_visit != NO_VISIT).sum())}


def _notification(run: CentreRun, genuine: np.ndarray, deadline: float) -> dict[str, Any]:
    """The genuine breach alerts whose item told probation or the police: raised to notified
    (the item's end), against the notification deadline."""
    notified = genuine & (run.item >= 0)
    notified[notified] = run.item_notified[run.item[notified]]
    done = ~np.isnan(run.end[notified])
    took = np.where(done, run.end[notified], run.horizon) - run.arrival[notified]
    return {"alerts": int(notified.sum()), "deadline_s": deadline,
            "time_to_notify_median_s": percentile(took[done], 50), "time_to_notify_p95_s": percentile(took[done], 95),
            "within_deadline_share": within_share(took, done, deadline)}


def _genuine(run: CentreRun, genuine: np.ndarray, deadlines: np.ndarray) -> dict[str, Any]:
    """The genuine breach alerts (tampers among them): how many waited past their class's
    deadline, and how many items the centre took up while each waited (the haystack before the
    needle: every item taken up from the moment it arrived, those arriving with it and taken
    first among them, until it was reached)."""
    wait = run.wait[genuine]
    started = np.sort(run.item_start[~np.isnan(run.item_start)])
    reached = np.where(np.isnan(run.start), run.horizon, run.start)[genuine]
    before = np.searchsorted(started, reached, side="left") - np.searchsorted(started, run.arrival[genuine], side="left")
    return {
        "alerts": int(genuine.sum()),
        "past_deadline": int((wait > deadlines[run.klass[genuine]]).sum()),
        "items_taken_up_while_waiting_median": percentile(before, 50),
        "items_taken_up_while_waiting_p95": percentile(before, 95),
    }
