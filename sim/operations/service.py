"""The service behind one policy's alerts: the monitoring centre takes them, and the field force
takes the visits the centre asks for beside the fittings and removals of the order flow.

The draws come from the run's operations streams, one a purpose, so that every policy sees the
same order flow and every roster of one policy the same handling times and outcomes.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from enum import IntEnum
from typing import Any

import numpy as np

from sim.operations.centre.arrivals import CentreArrivals
from sim.operations.centre.desk import CentreRun, simulate_centre
from sim.operations.centre.measures import centre_measures
from sim.operations.centre.params import CENTRE_FILE, CentreParams
from sim.operations.field.force import FieldRun, simulate_field
from sim.operations.field.jobs import FieldJobs, merged, order_flow, visit_jobs
from sim.operations.field.measures import field_measures
from sim.operations.field.params import FIELD_FILE, FieldParams
from sim.seeds import ParamsError


class Draws(IntEnum):
    """The operations' random streams, one a purpose."""

    CENTRE = 0  # handling times and outcomes, one row an alert
    ORDERS = 1  # the order flow: fittings and removals
    FIELD = 2  # time on site, doors answered, where officers start


@dataclass(frozen=True)
class Caseload:
    """What the service needs of the world: its subjects' homes (metres from the town centre,
    one row a subject), the town's radius, the run's length, and the run's random stream for
    each purpose (``rng(purpose)`` gives the same fresh stream each time it is asked)."""

    homes: np.ndarray
    town_radius_m: float
    horizon: float
    rng: Callable[[Draws], np.random.Generator]

    @property
    def subjects(self) -> int:
        return len(self.homes)


@dataclass(frozen=True)
class ServiceRun:
    centre: CentreRun
    field: FieldRun


def check_visits(centre: CentreParams, field: FieldParams) -> None:
    """Every visit the centre's classes ask for is a job the field force knows; else one
    ``ParamsError`` naming the class, the job and the jobs there are, before anything runs."""
    for name, klass in centre.classes.by_name().items():
        if klass.visit_job and klass.visit_job not in field.jobs:
            raise ParamsError(f"{CENTRE_FILE}: classes: {name}: visit_job {klass.visit_job!r} is no job of {FIELD_FILE} "
                              f"(its jobs: {', '.join(field.job_names)})")


def run_centre(arrivals: CentreArrivals, centre: CentreParams, caseload: Caseload) -> CentreRun:
    return simulate_centre(arrivals, centre, caseload.horizon, caseload.rng(Draws.CENTRE))


def field_jobs(centre_run: CentreRun, field: FieldParams, caseload: Caseload) -> FieldJobs:
    """The order flow's fittings and removals with the centre's visits, by due time."""
    orders = order_flow(field, caseload.subjects, caseload.town_radius_m, caseload.horizon, caseload.rng(Draws.ORDERS))
    time, job, subject = centre_run.visits()
    visits = visit_jobs(time, job, subject, caseload.homes, centre_run.visit_jobs, field)
    return merged(orders, visits)


def run_field(jobs: FieldJobs, field: FieldParams, caseload: Caseload) -> FieldRun:
    return simulate_field(jobs, field, caseload.town_radius_m, caseload.horizon, caseload.rng(Draws.FIELD))


def run_service(arrivals: CentreArrivals, centre: CentreParams, field: FieldParams, caseload: Caseload) -> ServiceRun:
    """The centre on the alerts, then the field force on the centre's visits and the order flow."""
    centre_run = run_centre(arrivals, centre, caseload)
    return ServiceRun(centre_run, run_field(field_jobs(centre_run, field, caseload), field, caseload))


def service_measures(run: ServiceRun, arrivals: CentreArrivals, centre: CentreParams, field: FieldParams,
                     caseload: Caseload) -> dict[str, Any]:
    """The results dict's ``operations``: the centre's measures and the field's."""
    return {"centre": centre_measures(run.centre, centre, arrivals.genuine),
            "field": field_measures(run.field, field, caseload.subjects)}
