"""The field force's work: fittings of new orders and removals at orders' end (the order flow
the caseload implies), and the visits the monitoring centre asks for, each a job due at a time
and a place in the town."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from sim.operations.field.params import FITTING, REMOVAL, FieldParams
from sim.operations.rota import DAY_S, HOUR_S

NEW_ORDER = -1  # the subject of a fitting: a person not yet in the world


ORDER_FLOW, VISITS = 0, 1  # where a job came from: its draws are by its place among its source's jobs


@dataclass(frozen=True)
class FieldJobs:
    """Job ``i`` of kind ``kind[i]`` (an index into ``FieldParams.job_names``) is due at
    ``due[i]`` at (``x[i]``, ``y[i]``), metres east and north of the town centre, for
    ``subject[i]`` (``NEW_ORDER`` for a fitting); it is the ``rank[i]``-th job of ``source[i]``
    (``ORDER_FLOW`` or ``VISITS``), which fixes its draws: a fitting has the same time on site
    and the same doors answered whatever visits a policy asks for beside it."""

    due: np.ndarray
    kind: np.ndarray
    x: np.ndarray
    y: np.ndarray
    subject: np.ndarray
    source: np.ndarray
    rank: np.ndarray

    def __len__(self) -> int:
        return len(self.due)


def from_source(source: int, due: np.ndarray, kind: np.ndarray, x: np.ndarray, y: np.ndarray,
                subject: np.ndarray) -> FieldJobs:
    """One source's jobs, ranked in the order given."""
    n = len(due)
    return FieldJobs(np.asarray(due, dtype=float), np.asarray(kind, dtype=np.int64), np.asarray(x, dtype=float),
                     np.asarray(y, dtype=float), np.asarray(subject, dtype=np.int64), np.full(n, source, dtype=np.int64),
                     np.arange(n, dtype=np.int64))


def order_flow(params: FieldParams, subjects: int, town_radius_m: float, horizon: float,
               rng: np.random.Generator) -> FieldJobs:
    """The fittings and removals of a caseload of ``subjects`` over [0, horizon): each day a
    Poisson number of orders start and end, at times uniform between the orders' first and
    last hour, at homes uniform over the town (as the world places its subjects' homes)."""
    orders, names = params.orders, params.job_names
    days = math.ceil(horizon / DAY_S)
    parts = []
    for name, per_day in ((FITTING, orders.starts_per_day(subjects)), (REMOVAL, orders.ends_per_day(subjects))):
        count = rng.poisson(per_day, days)
        day = np.repeat(np.arange(days), count)
        due = day * DAY_S + rng.uniform(orders.first_hour, orders.last_hour, len(day)) * HOUR_S
        x, y = uniform_in_disc(len(day), town_radius_m, rng)
        parts.append((due, np.full(len(day), names.index(name)), x, y))
    due, kind, x, y = (np.concatenate(column) for column in zip(*parts))
    order = np.argsort(due, kind="stable")
    keep = order[due[order] < horizon]
    return from_source(ORDER_FLOW, due[keep], kind[keep], x[keep], y[keep], np.full(len(keep), NEW_ORDER))


def visit_jobs(time: np.ndarray, job: np.ndarray, subject: np.ndarray, homes: np.ndarray, centre_jobs: tuple[str, ...],
               params: FieldParams) -> FieldJobs:
    """The centre's visit requests (``job`` indexing ``centre_jobs``) as field jobs at each
    subject's home (``homes[subject]``, metres)."""
    names = params.job_names
    missing = sorted(set(centre_jobs) - set(names))
    if missing:
        raise ValueError(f"the centre asks for visits of kind {missing[0]!r}, which the field has no job for")
    kind = np.array([names.index(name) for name in centre_jobs], dtype=np.int64)[job] if len(job) else np.zeros(0, np.int64)
    return from_source(VISITS, time, kind, homes[subject, 0], homes[subject, 1], subject)


def merged(*parts: FieldJobs) -> FieldJobs:
    """Every job of ``parts``, by due time (ties in the order given)."""
    due = np.concatenate([p.due for p in parts])
    order = np.argsort(due, kind="stable")
    columns = ("kind", "x", "y", "subject", "source", "rank")
    return FieldJobs(due[order], *(np.concatenate([getattr(p, f) for p in parts])[order] for f in columns))


def uniform_in_disc(n: int, radius: float, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    r, bearing = radius * np.sqrt(rng.random(n)), rng.uniform(0, 2 * math.pi, n)
    return r * np.cos(bearing), r * np.sin(bearing)
