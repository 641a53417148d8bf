"""The service's passage, row by row, as CSV: every alert through the centre (``centre.csv``),
every field job (``field.csv``), and the centre's queue and the field's backlog hour by hour
(``hourly.csv``), each with a column naming the policy (``docs/results.md``)."""

from __future__ import annotations

import csv
from collections.abc import Mapping
from pathlib import Path

import numpy as np

from sim.operations.centre.desk import NO_VISIT
from sim.operations.centre.params import CLASS_NAMES
from sim.operations.field.params import FieldParams
from sim.operations.rota import HOUR_S
from sim.operations.service import ServiceRun
from sim.operations.steps import hourly_mean

CENTRE_COLUMNS = ("policy", "alert_id", "class", "raised_at", "taken_up_at", "done_at", "item", "joined_open_incident",
                  "called", "notified", "visit")
FIELD_COLUMNS = ("policy", "job", "kind", "subject", "x_m", "y_m", "due", "deadline", "first_on_site", "on_site", "done",
                 "attempts")
HOURLY_COLUMNS = ("policy", "hour", "centre_queue", "field_backlog", "fittings_waiting")


def write_service_csvs(services: Mapping[str, tuple[ServiceRun, list[int]]], field: FieldParams, folder: Path) -> None:
    """``services[policy]`` is the policy's service run and the id of each alert that reached
    the centre, in arrival order."""
    with (folder / "centre.csv").open("w", newline="") as fh:
        rows = csv.writer(fh)
        rows.writerow(CENTRE_COLUMNS)
        for name, (service, ids) in services.items():
            c = service.centre
            head = np.zeros(len(c.arrival), bool)
            first = np.unique(c.item[c.item >= 0], return_index=True)[1]
            head[np.flatnonzero(c.item >= 0)[first]] = True
            for i, alert_id in enumerate(ids):
                item = int(c.item[i])
                reached = item >= 0
                visit = int(c.item_visit[item]) if reached else NO_VISIT
                rows.writerow((name, alert_id, CLASS_NAMES[c.klass[i]], _time(c.arrival[i]), _time(c.start[i]),
                               _time(c.end[i]), item if reached else "", int(reached and not head[i]),
                               int(reached and c.item_called[item]), int(reached and c.item_notified[item]),
                               c.visit_jobs[visit] if visit != NO_VISIT else ""))
    names = field.job_names
    with (folder / "field.csv").open("w", newline="") as fh:
        rows = csv.writer(fh)
        rows.writerow(FIELD_COLUMNS)
        for name, (service, _) in services.items():
            f, jobs = service.field, service.field.jobs
            deadline = jobs.due + np.array([field.jobs[n].deadline_hours * HOUR_S for n in names])[jobs.kind]
            for j in range(len(jobs)):
                rows.writerow((name, j, names[jobs.kind[j]], int(jobs.subject[j]), round(float(jobs.x[j]), 1),
                               round(float(jobs.y[j]), 1), _time(jobs.due[j]), _time(deadline[j]),
                               _time(f.first_on_site[j]), _time(f.on_site[j]), _time(f.done[j]), int(f.attempts[j])))
    with (folder / "hourly.csv").open("w", newline="") as fh:
        rows = csv.writer(fh)
        rows.writerow(HOURLY_COLUMNS)
        for name, (service, _) in services.items():
            c, f = service.centre, service.field
            queue = hourly_mean(c.queue_times, c.queue_steps, c.horizon)
            backlog = hourly_mean(f.backlog_times, f.backlog_steps, f.horizon)
            fittings = hourly_mean(f.backlog_times, f.fitting_steps, f.horizon)
            for hour, row in enumerate(zip(queue, backlog, fittings, strict=True)):
                rows.writerow((name, hour, *(repr(round(float(v), 3)) for v in row)))


def _time(t: float) -> str:
    return "" if np.isnan(t) else repr(float(t))
