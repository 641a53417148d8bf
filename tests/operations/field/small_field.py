"""A field force for the tests, small enough to reason about exactly: one area, a town of radius 1 km whose
metres an officer drives at a metre a second, fixed times on site."""

from __future__ import annotations

import math

import numpy as np

from sim.operations.field.areas import Areas
from sim.operations.field.jobs import NEW_ORDER, ORDER_FLOW, FieldJobs, from_source
from sim.operations.field.params import FieldParams, Job, Orders, RoutineHours, Travel
from sim.operations.handling import Handling
from sim.operations.rota import Rota

RADIUS = 1000.0
HOUR = 3600.0


def job(priority: int, minutes: float = 30.0, routine: bool = False, access: float = 1.0,
        access_again: float | None = None) -> Job:
    return Job(priority, 72.0, Handling("lognormal", minutes, 1e-9), routine, access=access,
               access_again=access if access_again is None else access_again, no_access_minutes=10.0,
               retry_after_hours=24.0)


def small_field(officers: tuple[int, ...] = (1,), shift_hours: float = 24.0, grid: int = 1,
                routine: tuple[float, float] = (0.0, 24.0), **jobs: Job) -> FieldParams:
    return FieldParams(
        Rota(shift_hours, 0.0, officers, 0.0), Areas(grid),
        Travel(country_km2=math.pi * RADIUS**2 / 1e6, road_factor=1.0, speed_kmh=3.6),  # a town metre a second
        Orders(100.0, 0.5, 9.0, 18.0), RoutineHours(*routine),
        {"fitting": job(2, routine=True), "removal": job(4, routine=True), "breach": job(1), **jobs})


def jobs_at(params: FieldParams, rows: list[tuple[float, str, float, float]]) -> FieldJobs:
    """Jobs from (due, kind, x, y) rows, sorted by due time."""
    rows = sorted(rows, key=lambda r: r[0])
    names = params.job_names
    return from_source(ORDER_FLOW, np.array([r[0] for r in rows]), np.array([names.index(r[1]) for r in rows]),
                       np.array([r[2] for r in rows]), np.array([r[3] for r in rows]), np.full(len(rows), NEW_ORDER))
