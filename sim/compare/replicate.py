"""Running a comparison: every supplier on the same scenario, replication after replication,
each replication on a seed of its own and every supplier on that seed (common random numbers:
the same people, lives and breaches; only the devices differ, ``sim.world.streams``). With
``common`` off, each supplier's runs have seeds of their own instead: independent worlds,
what a comparison is without common random numbers.

With a fixed number of replications, that many; with a precision, replications are added one
at a time (after ``FEWEST_PAIRS``) until every pair's difference on every metric has an
interval within the target, or ``most`` replications have run.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from sim.compare.metrics import METRICS, STAFF_METRICS, Metric
from sim.compare.observations import Observations
from sim.compare.stats import FEWEST_PAIRS
from sim.compare.summary import precise
from sim.detector.policy import Policy
from sim.operations.centre.params import CentreParams
from sim.operations.field.params import FieldParams
from sim.operations.staffing import staff_service
from sim.pipeline.pool import LocalPool, Pool
from sim.run import caseload_of, results, run
from sim.scenario import Scenario, Supplier
from sim.score import ScoringRules

REPLICATION_BRANCH = 7  # the replications' seeds: SeedSequence(seed, spawn_key=(7, k)), then the supplier's if apart


def replication_seed(seed: int, k: int, supplier: int | None = None) -> int:
    """The k-th replication's root seed, independent of every other's; with ``supplier`` (an
    index), that supplier's own, for runs apart."""
    key = (REPLICATION_BRANCH, k) if supplier is None else (REPLICATION_BRANCH, k, supplier)
    return int(np.random.SeedSequence(seed, spawn_key=key).generate_state(1)[0])


@dataclass(frozen=True)
class Settings:
    rules: ScoringRules
    centre: CentreParams
    field: FieldParams
    workers: int = 1  # the local pool's, when no pool is given
    staff_share: float | None = None  # also search the staff each supplier needs, at this service level
    common: bool = True  # every supplier on each replication's seed; False: each on seeds of its own
    pool: Pool | None = None  # a cluster runs whole runs as its units, many at once


@dataclass(frozen=True)
class RunJob:
    """One supplier's run in one replication: a unit of work, whatever runs it."""

    scenario: Scenario
    supplier: Supplier
    policies: tuple[Policy, ...]
    metrics: tuple[Metric, ...]
    rules: ScoringRules
    centre: CentreParams
    field: FieldParams
    staff_share: float | None


def compare(scenario: Scenario, suppliers: Sequence[Supplier], policies: Sequence[Policy], settings: Settings,
            replications: int | None = None, precision: float | None = None, most: int = 20,
            on_run: Callable[[int, str], None] | None = None,
            on_replication: Callable[[Observations], None] | None = None) -> tuple[Observations, bool | None]:
    """Run the comparison; returns the observations and whether the precision asked for was met
    (None for a fixed number of replications). ``on_run(replication, supplier)`` is told of each
    run as it ends, ``on_replication`` of the observations after each replication. On a cluster
    (``settings.pool``) every run is a unit, a replication's runs at once, and with a fixed
    number of replications all of them at once."""
    if len({s.name for s in suppliers}) != len(suppliers) or len(suppliers) < 2:
        raise ValueError("a comparison needs two or more suppliers, each named once")
    if (replications is None) == (precision is None):
        raise ValueError("give the number of replications or the precision, not both")
    if precision is not None and most < FEWEST_PAIRS:
        raise ValueError(f"a precision is judged on {FEWEST_PAIRS} replications or more: the most must be at least that")
    metrics = METRICS + (STAFF_METRICS if settings.staff_share is not None else ())
    observed = Observations(scenario, list(suppliers), [p.name for p in policies], metrics)
    plan = replications if replications is not None else most
    distributed = settings.pool is not None and settings.pool.distributed
    # On a cluster a fixed plan's runs all start at once; they are still taken in replication
    # by replication, so progress and what is written after each come as they would.
    ahead = plan if distributed and precision is None else 1
    started: dict[int, Any] = {}
    for k in range(plan):
        for later in range(k, min(plan, k + ahead)):
            if later not in started:
                started[later] = _start(observed, later, tuple(policies), settings)
        _record(observed, k, started.pop(k), on_run)
        if on_replication is not None:
            on_replication(observed)
        if precision is not None and precise(observed, precision):
            return observed, True
    return observed, None if precision is None else False


@dataclass
class _Started:
    """A replication under way: its seeds, and its runs' outcomes to come, one a supplier."""

    seeds: list[int]
    outcomes: Iterator[dict[tuple[str, str], float | None]]
    since: float


def _start(observed: Observations, k: int, policies: tuple[Policy, ...], settings: Settings) -> _Started:
    seeds = [replication_seed(observed.scenario.seed, k, None if settings.common else i)
             for i in range(len(observed.suppliers))]
    jobs = [RunJob(observed.scenario.with_changes(seed=seed), supplier, policies, observed.metrics, settings.rules,
                   settings.centre, settings.field, settings.staff_share)
            for seed, supplier in zip(seeds, observed.suppliers, strict=True)]
    pool = settings.pool or LocalPool(settings.workers)
    if pool.distributed:  # whole runs are the units, each on one worker
        pending = pool.start(one_run, jobs)
        outcomes: Iterator[dict[tuple[str, str], float | None]] = iter(_Deferred(pending))
    else:  # one run after another when taken, each spreading its blocks over the pool
        outcomes = (one_run(job, pool) for job in jobs)
    return _Started(seeds, outcomes, time.perf_counter())


class _Deferred:
    """A cluster's runs, collected when first asked for."""

    def __init__(self, pending: Any) -> None:
        self.pending = pending

    def __iter__(self) -> Iterator[dict[tuple[str, str], float | None]]:
        yield from self.pending.results()


def _record(observed: Observations, k: int, started: _Started, on_run: Callable[[int, str], None] | None) -> None:
    """Replication ``k``'s runs, every supplier's in order, and its wall time: since it started,
    or since the one before it was recorded, whichever is later (runs started together)."""
    begun = max([started.since, *observed.recorded_at[-1:]])
    for supplier, outcome in zip(observed.suppliers, started.outcomes, strict=True):
        for (policy, metric), value in outcome.items():
            observed.add(supplier.name, policy, metric, value)
        if on_run is not None:
            on_run(k, supplier.name)
    observed.seeds.append(started.seeds)
    observed.recorded_at.append(time.perf_counter())
    observed.wall_s.append(observed.recorded_at[-1] - begun)


def one_run(job: RunJob, pool: Pool | None = None) -> dict[tuple[str, str], float | None]:
    """One supplier's run: every metric's value for each policy (a unit of work: what travels
    back is these numbers, not the run)."""
    result = run(job.scenario, job.supplier, list(job.policies), job.rules, centre=job.centre, field=job.field, pool=pool)
    out: dict[str, Any] = results(result)
    if job.staff_share is not None:
        caseload = caseload_of(result.world)
        out["staff"] = {name: _staff(p.arrivals, job, caseload) for name, p in result.policies.items()}
    return {(policy.name, metric.name): metric.read(out, policy.name) for policy in job.policies for metric in job.metrics}


def _staff(arrivals: Any, job: RunJob, caseload: Any) -> dict[str, int | None]:
    assert job.staff_share is not None
    answer = staff_service(arrivals, job.centre, job.field, caseload, job.staff_share)
    return {"operators": sum(answer.operators.staff) if answer.operators.staff else None,
            "field_officers": sum(answer.officers.staff) if answer.officers.staff else None}
