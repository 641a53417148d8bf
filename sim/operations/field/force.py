"""The field force: officers by area on a rota, driving from job to job (SimPy).

The town is split into a grid of areas, each with its team; each shift's officers at work are
dealt to the areas in proportion to the homes in each (every area with homes has at least
one). An officer starts the shift at home, somewhere in the area, and takes jobs of the area
one after another: the highest priority first, within it one already past its deadline
first, then the nearest. A job that arrives while officers of its area are free goes to the
nearest of them. Routine jobs (fittings, removals, faults) wait for routine hours. An officer
drives there (``Travel``), and either finds the door answered and works the job for its time
on site, or finds no one in (the job's ``access`` share), leaves after ``no_access_minutes``,
and the job is due again ``retry_after_hours`` later. An officer whose shift ends finishes
the job in hand; the next shift's officers start from their own homes.

Every draw is made up front, by job in due order, or from a stream of each officer's own, so
two rosters give each job the same times on site and the same doors answered and each
officer the same home, and differ only by their staff.
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass

import numpy as np
import simpy

from sim.operations.field.jobs import FieldJobs, uniform_in_disc
from sim.operations.field.params import FITTING, FieldParams
from sim.operations.handling import quantiles
from sim.operations.rota import HOUR_S, MINUTE_S

# Attempts a job can take: the last always gets in (an order not fitted by the twelfth visit would
# go back to the court or probation; at 63.5% access again, about one job in a million gets there).
MOST_ATTEMPTS = 12


@dataclass(frozen=True)
class FieldRun:
    """Every job's passage through the field force, in due order, and the backlog's history.

    ``first_on_site`` is when an officer first reached the job, ``on_site`` when the attempt
    that got in began, ``done`` when it ended (nan: not reached, not got in, not done by the
    run's end). ``backlog_steps`` counts jobs due and not done after each change, at
    ``backlog_times``; ``fitting_steps`` the fittings among them."""

    jobs: FieldJobs
    attempts: np.ndarray
    first_on_site: np.ndarray
    on_site: np.ndarray
    done: np.ndarray
    backlog_times: np.ndarray
    backlog_steps: np.ndarray
    fitting_steps: np.ndarray
    travel_s: float  # officer-seconds driving, up to the horizon
    site_s: float  # officer-seconds on site (answered or not), up to the horizon
    work_s: float  # officer-seconds at work by the rota, up to the horizon
    officers_by_area: tuple[tuple[int, ...], ...]  # per shift, per area
    horizon: float


def simulate_field(jobs: FieldJobs, params: FieldParams, town_radius_m: float, horizon: float,
                   rng: np.random.Generator) -> FieldRun:
    """Feed the jobs (sorted by due time) to the field force until ``horizon``."""
    if len(jobs) and np.any(np.diff(jobs.due) < 0):
        raise ValueError("jobs must be sorted by due time")
    return _Force(jobs, params, town_radius_m, horizon, rng).run()


class _Force:
    def __init__(self, jobs: FieldJobs, params: FieldParams, radius: float, horizon: float,
                 rng: np.random.Generator) -> None:
        self.env = simpy.Environment()
        self.jobs, self.params, self.radius, self.horizon = jobs, params, radius, horizon
        self.rota, self.travel, self.routine_hours = params.rota, params.travel, params.routine_hours
        areas = params.areas
        self.officers = tuple(areas.deal(n) for n in self.rota.at_work)
        kinds = [params.jobs[name] for name in params.job_names]
        self.priority = np.array([k.priority for k in kinds])[jobs.kind]
        self.deadline = jobs.due + np.array([k.deadline_hours * HOUR_S for k in kinds])[jobs.kind]
        self.routine = np.array([k.routine for k in kinds], dtype=bool)[jobs.kind]
        self.retry_s = np.array([k.retry_after_hours * HOUR_S for k in kinds])[jobs.kind]
        self.no_access_s = np.array([k.no_access_minutes * MINUTE_S for k in kinds])[jobs.kind]
        self.area = areas.of(jobs.x, jobs.y, radius)
        n = len(jobs)
        # Up front, by job by its place among its source's: each attempt's time on site and
        # whether the door opens.
        u = np.empty((n, MOST_ATTEMPTS, 2))
        for source, stream in enumerate(rng.spawn(2)):
            mine = jobs.source == source
            if mine.any():
                u[mine] = stream.random((int(jobs.rank[mine].max()) + 1, MOST_ATTEMPTS, 2))[jobs.rank[mine]]
        access = np.array([k.access for k in kinds])[jobs.kind]
        again = np.array([k.access_again for k in kinds])[jobs.kind]
        self.answered = u[:, :, 0] < np.column_stack([access] + [again] * (MOST_ATTEMPTS - 1))
        self.answered[:, -1] = True
        self.site_time = quantiles(u[:, :, 1].ravel(), np.repeat(jobs.kind, MOST_ATTEMPTS),
                                   [k.on_site for k in kinds]).reshape(n, MOST_ATTEMPTS)
        self.home_seed = int(rng.integers(2**63))  # where each shift's officers start (``_home``)
        self.attempts = np.zeros(n, dtype=np.int64)
        self.first_on_site = np.full(n, np.nan)
        self.on_site = np.full(n, np.nan)
        self.done = np.full(n, np.nan)
        self.queue: list[list[int]] = [[] for _ in range(areas.count)]
        # Per area, each idle officer's wake-up: where they are and when their shift ends.
        self.idle: list[dict[simpy.Event, tuple[float, float, float]]] = [{} for _ in range(areas.count)]
        self.is_fitting = jobs.kind == params.job_names.index(FITTING)
        self.backlog_times, self.backlog_steps, self.fitting_steps = [0.0], [0], [0]
        self.outstanding = self.outstanding_fittings = 0
        self.travel_s = self.site_s = 0.0

    def run(self) -> FieldRun:
        env = self.env
        env.process(self._arrivals())
        env.process(self._shifts())
        env.process(self._routine_openings())
        env.run(until=self.horizon)
        return FieldRun(self.jobs, self.attempts, self.first_on_site, self.on_site, self.done,
                        np.array(self.backlog_times), np.array(self.backlog_steps), np.array(self.fitting_steps),
                        self.travel_s, self.site_s, self.rota.work_seconds(self.horizon), self.officers, self.horizon)

    # Jobs in and out

    def _arrivals(self):  # type: ignore[no-untyped-def]
        env = self.env
        for j, t in enumerate(self.jobs.due.tolist()):
            if t >= self.horizon:
                return
            if t > env.now:
                yield env.timeout(t - env.now)
            self._backlog(+1, j)
            self._queue(j)

    def _queue(self, j: int) -> None:
        area = int(self.area[j])
        self.queue[area].append(j)
        if not self.routine[j] or self.routine_hours.open_at(self.env.now):
            self._wake(area, float(self.jobs.x[j]), float(self.jobs.y[j]))

    def _wake(self, area: int, x: float, y: float) -> None:
        """The nearest idle officer of ``area`` to (x, y) whose shift goes on looks at the queue."""
        now = self.env.now
        idle = {event: (ex, ey) for event, (ex, ey, end) in self.idle[area].items() if end > now}
        if idle:
            nearest = min(idle, key=lambda event: (idle[event][0] - x) ** 2 + (idle[event][1] - y) ** 2)
            del self.idle[area][nearest]
            nearest.succeed()

    def _retry(self, j: int, after: float):  # type: ignore[no-untyped-def]
        yield self.env.timeout(after)
        self._queue(j)

    def _backlog(self, change: int, j: int) -> None:
        self.outstanding += change
        self.outstanding_fittings += change * int(self.is_fitting[j])
        self.backlog_times.append(self.env.now)
        self.backlog_steps.append(self.outstanding)
        self.fitting_steps.append(self.outstanding_fittings)

    def _choose(self, area: int, x: float, y: float) -> int | None:
        """The next job for an officer at (x, y): highest priority, overdue first, then nearest."""
        queue = self.queue[area]
        if not queue:
            return None
        index = np.array(queue)
        workable = ~self.routine[index] | self.routine_hours.open_at(self.env.now)
        if not workable.any():
            return None
        index = index[workable]
        distance = np.hypot(self.jobs.x[index] - x, self.jobs.y[index] - y)
        overdue = self.deadline[index] < self.env.now
        j = int(index[np.lexsort((distance, ~overdue, self.priority[index]))[0]])
        queue.remove(j)
        return j

    # Officers

    def _shifts(self):  # type: ignore[no-untyped-def]
        """At each shift's start, its officers set out from their homes in their areas."""
        env = self.env
        for turn in itertools.count():
            shift = self.rota.shift_at(env.now)
            end = self.rota.next_change(env.now)
            for area, count in enumerate(self.officers[shift]):
                for k in range(count):
                    env.process(self._officer(area, *self._home(turn, area, k), end))
            yield env.timeout(end - env.now)

    def _home(self, turn: int, area: int, k: int) -> tuple[float, float]:
        """Where officer ``k`` of ``area`` on the run's ``turn``-th shift starts: uniform over the
        town's part in the area, from a stream of its own, so that one more officer on a shift
        moves nobody else."""
        rng = np.random.default_rng((self.home_seed, turn, area, k))
        while True:
            x, y = uniform_in_disc(16, self.radius, rng)
            mine = np.flatnonzero(self.params.areas.of(x, y, self.radius) == area)
            if len(mine):
                return float(x[mine[0]]), float(y[mine[0]])

    def _routine_openings(self):  # type: ignore[no-untyped-def]
        """When routine hours open, every idle officer looks at the queue again."""
        env = self.env
        while True:
            yield env.timeout(self.routine_hours.next_opening(env.now) - env.now)
            for idle in self.idle:
                for event in list(idle):
                    event.succeed()
                idle.clear()

    def _officer(self, area: int, x: float, y: float, shift_end: float):  # type: ignore[no-untyped-def]
        env = self.env
        while env.now < shift_end:
            j = self._choose(area, x, y)
            if j is None:
                woken = env.event()
                self.idle[area][woken] = (x, y, shift_end)
                yield woken | env.timeout(shift_end - env.now)
                self.idle[area].pop(woken, None)
                if woken.triggered and env.now >= shift_end:  # woken as the shift ended: the next shift's turn
                    self._wake(area, x, y)
                continue
            drive = self.travel.seconds(math.hypot(self.jobs.x[j] - x, self.jobs.y[j] - y), self.radius)
            self.travel_s += min(drive, self.horizon - env.now)
            yield env.timeout(drive)
            x, y = float(self.jobs.x[j]), float(self.jobs.y[j])
            attempt = min(int(self.attempts[j]), MOST_ATTEMPTS - 1)
            self.attempts[j] += 1
            if math.isnan(self.first_on_site[j]):
                self.first_on_site[j] = env.now
            if self.answered[j, attempt]:
                self.on_site[j] = env.now
                stay = float(self.site_time[j, attempt])
            else:
                stay = float(self.no_access_s[j])
            self.site_s += min(stay, self.horizon - env.now)
            yield env.timeout(stay)
            if self.answered[j, attempt]:
                self.done[j] = env.now
                self._backlog(-1, j)
            else:
                env.process(self._retry(j, self.retry_s[j]))
