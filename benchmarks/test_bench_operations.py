"""The service behind the alerts at the doubled caseload's scale: the monitoring centre on a week
of alerts and the field force on a week of jobs, each as a rate beside a reference measured in
the same run on the same data (``ratio_to_reference`` in ``extra_info``):

- the centre: a bare ``heapq`` priority queue pushing and popping every alert (the floor of
  any Python queue of prioritised work);
- the field: a bare loop over the jobs finding each one's nearest among a hundred others in
  numpy (the floor of a nearest-job dispatch).

No target is named for either (issue 13); the rates are tracked per commit. The staffing
search simulates the centre and the field some tens of times each, so its wall time is about
that many of these rounds.
"""

from __future__ import annotations

import heapq

import numpy as np
import pytest
from best_rate import best_rate

from sim.operations.centre.arrivals import CentreArrivals
from sim.operations.centre.params import CLASS_NAMES, load_centre, with_operators
from sim.operations.field.jobs import merged, order_flow, visit_jobs
from sim.operations.field.params import load_field, with_officers
from sim.operations.service import Caseload, run_centre, run_field

DOUBLED = 53_294
DAYS = 7.0
HORIZON = DAYS * 86400.0
# The standard policy's operator-facing alerts at baseline: about 0.134 a subject-day, by class
# in a week of `tagsim run baseline`: breach, tamper, equipment, unmonitored, charging.
ALERTS_PER_SUBJECT_DAY = 0.134
CLASS_MIX = (0.175, 0.163, 0.604, 0.009, 0.049)


@pytest.fixture(scope="module")
def caseload() -> Caseload:
    rng = np.random.default_rng(1)
    radius = 10_000.0 * np.sqrt(rng.random(DOUBLED))
    bearing = rng.uniform(0, 2 * np.pi, DOUBLED)
    homes = np.column_stack([radius * np.cos(bearing), radius * np.sin(bearing)])
    return Caseload(homes, 10_000.0, HORIZON, lambda purpose: np.random.default_rng((2, purpose)))


@pytest.fixture(scope="module")
def alerts() -> CentreArrivals:
    rng = np.random.default_rng(3)
    n = int(ALERTS_PER_SUBJECT_DAY * DOUBLED * DAYS)
    time_ = np.sort(rng.uniform(0, HORIZON, n))
    klass = rng.choice(len(CLASS_NAMES), n, p=CLASS_MIX)
    subject = rng.integers(0, DOUBLED, n)
    confirmed = rng.random(n) < 0.4
    return CentreArrivals(np.arange(n), time_, klass, subject, subject * 8 + klass, confirmed, confirmed & (klass < 2))


def heap_reference(alerts: CentreArrivals) -> float:
    priority = alerts.klass.tolist()
    times = alerts.time.tolist()

    def run() -> None:
        queue: list[tuple[int, float, int]] = []
        for i, (p, t) in enumerate(zip(priority, times)):
            heapq.heappush(queue, (p, t, i))
        while queue:
            heapq.heappop(queue)

    return best_rate(len(times), run)


def test_the_centre_on_a_week_of_the_doubled_caseloads_alerts(benchmark, alerts, caseload) -> None:  # type: ignore[no-untyped-def]
    centre = with_operators(load_centre(), (110, 80))  # well over twice today's roster: a queue that drains
    run = benchmark.pedantic(lambda: run_centre(alerts, centre, caseload), rounds=3)
    rate = len(alerts) / benchmark.stats.stats.min
    reference = heap_reference(alerts)
    benchmark.extra_info.update(alerts=len(alerts), items=len(run.item_arrival), interruptions=run.interruptions,
                                alerts_per_s=rate, reference_alerts_per_s=reference, ratio_to_reference=rate / reference)


def nearest_reference(x: np.ndarray, y: np.ndarray) -> float:
    def run() -> None:
        for j in range(len(x)):
            lo = max(0, j - 100)
            np.argmin(np.hypot(x[lo : j + 1] - x[j], y[lo : j + 1] - y[j]))

    return best_rate(len(x), run)


def test_the_field_force_on_a_week_of_the_doubled_caseloads_jobs(benchmark, caseload) -> None:  # type: ignore[no-untyped-def]
    field = with_officers(load_field(), (220, 160, 30))  # twice today's roster
    rng = np.random.default_rng(4)
    visits = int(0.03 * DOUBLED * DAYS)  # tamper and fault visits, about what the standard policy asks
    when = np.sort(rng.uniform(0, HORIZON, visits))
    jobs = merged(order_flow(field, DOUBLED, 10_000.0, HORIZON, rng),
                  visit_jobs(when, rng.integers(0, 2, visits), rng.integers(0, DOUBLED, visits), caseload.homes,
                             ("fault", "tamper"), field))
    run = benchmark.pedantic(lambda: run_field(jobs, field, caseload), rounds=3)
    rate = len(jobs) / benchmark.stats.stats.min
    reference = nearest_reference(jobs.x, jobs.y)
    benchmark.extra_info.update(jobs=len(jobs), visits=int(run.attempts.sum()), jobs_per_s=rate,
                                reference_jobs_per_s=reference, ratio_to_reference=rate / reference)
