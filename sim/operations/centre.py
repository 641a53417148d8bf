"""The monitoring centre: operators on a rota taking alerts in priority order (SimPy).

Each alert arrives at the time it was raised and waits in one queue, highest priority
first and, within a priority, oldest first. An operator at a desk takes the next one,
handles it for its time (drawn from its class's distribution), and takes the next; an
operator whose shift ends stays on to finish the alert in hand while the next shift's
operator takes the desk, and a desk whose shift has no one does nothing. Nothing is pre-empted: an operator in the middle of an equipment alert finishes
it before a breach that arrived meanwhile. What comes of an alert after the desk (a call,
a field visit, a notification) is not modelled here.
"""

from __future__ import annotations

import heapq
import math
from dataclasses import dataclass

import numpy as np
import simpy
from scipy.special import ndtri

from sim.operations.params import CLASS_NAMES, MINUTE_S, CentreParams, Handling


@dataclass(frozen=True)
class CentreRun:
    """Every alert's passage through the centre, by arrival order, and the queue's history.

    ``start`` and ``end`` are nan for an alert not yet taken up (or not finished) when the
    run ended; ``queue_steps`` is the queue length after each change, at ``queue_times``."""

    arrival: np.ndarray  # s
    klass: np.ndarray  # index into CLASS_NAMES
    start: np.ndarray  # s, when an operator took it up
    end: np.ndarray  # s, when the operator was done with it
    queue_times: np.ndarray
    queue_steps: np.ndarray
    busy_s: float  # operator-seconds spent handling, up to the horizon
    desk_s: float  # operator-seconds at a desk by the rota, up to the horizon (time staying on to finish is not in it)
    horizon: float

    @property
    def wait(self) -> np.ndarray:
        """Arrival to take-up, s; for one still waiting at the horizon, the wait so far."""
        return np.where(np.isnan(self.start), self.horizon - self.arrival, self.start - self.arrival)

    def mean_queue(self, since: float = 0.0) -> float:
        """The time-average queue length over [since, horizon)."""
        times = np.append(np.maximum(self.queue_times, since), self.horizon)
        return float(np.sum(self.queue_steps * np.diff(times)) / (self.horizon - since))


def simulate_centre(arrival: np.ndarray, klass: np.ndarray, params: CentreParams, horizon: float,
                    rng: np.random.Generator) -> CentreRun:
    """Feed the alerts (arrival times in s from midnight of the run's first day, sorted;
    their classes as indices into ``CLASS_NAMES``) to the centre until ``horizon``; each
    alert's handling time is drawn from ``rng``, one draw an alert in arrival order."""
    arrival = np.asarray(arrival, dtype=float)
    klass = np.asarray(klass, dtype=np.int64)
    if len(arrival) != len(klass):
        raise ValueError(f"{len(arrival)} arrival times for {len(klass)} classes")
    if len(arrival) and (np.any(np.diff(arrival) < 0) or arrival[0] < 0):
        raise ValueError("arrival times must be sorted and not negative")
    return _Centre(arrival, klass, params, horizon, rng).run()


class _Centre:
    def __init__(self, arrival: np.ndarray, klass: np.ndarray, params: CentreParams, horizon: float,
                 rng: np.random.Generator) -> None:
        self.env = simpy.Environment()
        self.arrival, self.klass, self.horizon = arrival, klass, horizon
        self.rota = params.rota
        classes = params.classes.by_name()
        self.priority = [classes[name].priority for name in CLASS_NAMES]
        self.handling = [classes[name].handling for name in CLASS_NAMES]
        # Drawn up front, one per alert by arrival: two rosters, or two runs of the same alerts,
        # give each alert the same handling time, so they differ only by their staff.
        self.handling_s = handling_times(klass, self.handling, rng)
        self.start = np.full(len(arrival), np.nan)
        self.end = np.full(len(arrival), np.nan)
        self.waiting: list[tuple[int, float, int]] = []  # (priority, arrival, alert)
        self.idle: list[simpy.Event] = []  # operators at a desk with nothing to do
        self.queue_times, self.queue_steps = [0.0], [0]
        self.busy_s = 0.0

    def run(self) -> CentreRun:
        self.env.process(self._arrivals())
        for desk in range(max(self.rota.at_desk)):
            self.env.process(self._operator(desk))
        self.env.run(until=self.horizon)
        return CentreRun(self.arrival, self.klass, self.start, self.end, np.array(self.queue_times),
                         np.array(self.queue_steps), self.busy_s, self.rota.desk_seconds(self.horizon), self.horizon)

    def _queue_changed(self) -> None:
        self.queue_times.append(self.env.now)
        self.queue_steps.append(len(self.waiting))

    def _arrivals(self):  # type: ignore[no-untyped-def]
        env = self.env
        for i, t in enumerate(self.arrival.tolist()):
            if t >= self.horizon:
                return
            if t > env.now:
                yield env.timeout(t - env.now)
            heapq.heappush(self.waiting, (self.priority[self.klass[i]], t, i))
            self._queue_changed()
            if self.idle:
                self.idle.pop(0).succeed()

    def _operator(self, desk: int):  # type: ignore[no-untyped-def]
        """Desk ``desk`` is staffed on the shifts that have more than ``desk`` operators at desks."""
        env, rota = self.env, self.rota
        while True:
            change = min(rota.next_change(env.now), self.horizon)
            if rota.at_desk[rota.shift_at(env.now)] <= desk:
                yield env.timeout(change - env.now)
            elif not self.waiting:
                woken = env.event()
                self.idle.append(woken)
                yield woken | env.timeout(change - env.now)
                if not woken.triggered:
                    self.idle.remove(woken)
            else:
                _, _, i = heapq.heappop(self.waiting)
                self._queue_changed()
                self.start[i] = env.now
                done = env.now + self.handling_s[i]
                self.busy_s += min(done, self.horizon) - env.now
                if done <= self.horizon:
                    self.end[i] = done
                # An alert running past the shift's end is finished by its operator staying on;
                # the desk is the next shift's from the change.
                yield env.timeout(min(done, change) - env.now)


def handling_times(klass: np.ndarray, handling: list[Handling], rng: np.random.Generator) -> np.ndarray:
    """Each alert's handling time, s, from its class's distribution: one uniform draw an alert,
    through the distribution's inverse."""
    u = rng.random(len(klass))
    out = np.empty(len(klass))
    for k, h in enumerate(handling):
        mine = klass == k
        mean = h.mean_minutes * MINUTE_S
        if h.distribution == "exponential":
            out[mine] = -mean * np.log1p(-u[mine])
        else:
            sigma = math.sqrt(math.log1p(h.cv**2))
            out[mine] = np.exp(math.log(mean) - sigma**2 / 2 + sigma * ndtri(u[mine]))
    return out
