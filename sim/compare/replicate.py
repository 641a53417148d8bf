"""Running a comparison: every supplier on the same scenario, replication after replication,
each replication on a seed of its own and every supplier on that seed (common random numbers:
the same people, lives and breaches; only the devices differ, ``sim.world.streams``).

With a fixed number of replications, that many; with a precision, replications are added one
at a time (after ``FIRST_REPLICATIONS``) until every pair's difference on every metric has an
interval within the target, or ``most`` replications have run.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from sim.compare.metrics import METRICS, STAFF_METRICS, Metric
from sim.compare.summary import precise
from sim.detector.policy import Policy
from sim.operations.centre.params import CentreParams
from sim.operations.field.params import FieldParams
from sim.operations.staffing import staff_service
from sim.run import caseload_of, results, run
from sim.scenario import Scenario, Supplier
from sim.score import ScoringRules

FIRST_REPLICATIONS = 3  # the fewest a precision is judged on: two give an interval, three a usable one
REPLICATION_BRANCH = 7  # the replications' seeds: SeedSequence(seed, spawn_key=(7, k))


@dataclass
class Observations:
    """Every metric's value for each supplier and policy, one a replication (None where the run
    gave none, e.g. a latency with nothing detected)."""

    scenario: Scenario
    suppliers: list[Supplier]
    policies: list[str]
    metrics: tuple[Metric, ...]
    seeds: list[int] = field(default_factory=list)
    values: dict[tuple[str, str, str], list[float | None]] = field(default_factory=dict)
    wall_s: list[float] = field(default_factory=list)  # each replication's, every supplier's run in it

    def add(self, supplier: str, policy: str, metric: str, value: float | None) -> None:
        self.values.setdefault((supplier, policy, metric), []).append(value)


def replication_seed(seed: int, k: int) -> int:
    """The k-th replication's root seed, independent of every other's."""
    return int(np.random.SeedSequence(seed, spawn_key=(REPLICATION_BRANCH, k)).generate_state(1)[0])


@dataclass(frozen=True)
class Settings:
    rules: ScoringRules
    centre: CentreParams
    field: FieldParams
    workers: int = 1
    staff_share: float | None = None  # also search the staff each supplier needs, at this service level


def compare(scenario: Scenario, suppliers: Sequence[Supplier], policies: Sequence[Policy], settings: Settings,
            replications: int | None = None, precision: float | None = None, most: int = 20,
            on_run: Callable[[int, str], None] | None = None) -> tuple[Observations, bool]:
    """Run the comparison; returns the observations and whether the precision asked for was met
    (True when a fixed number of replications was asked for). ``on_run(replication, supplier)``
    is told of each run as it ends."""
    if len({s.name for s in suppliers}) != len(suppliers) or len(suppliers) < 2:
        raise ValueError("a comparison needs two or more suppliers, each named once")
    if (replications is None) == (precision is None):
        raise ValueError("give the number of replications or the precision, not both")
    metrics = METRICS + (STAFF_METRICS if settings.staff_share is not None else ())
    observed = Observations(scenario, list(suppliers), [p.name for p in policies], metrics)
    wanted = replications if replications is not None else most
    for k in range(wanted):
        _replicate(observed, k, policies, settings, on_run)
        if precision is not None and k + 1 >= FIRST_REPLICATIONS and precise(observed, precision):
            return observed, True
    return observed, precision is None


def _replicate(observed: Observations, k: int, policies: Sequence[Policy], settings: Settings,
               on_run: Callable[[int, str], None] | None) -> None:
    seed = replication_seed(observed.scenario.seed, k)
    scenario = observed.scenario.with_changes(seed=seed)
    started = time.perf_counter()
    for supplier in observed.suppliers:
        result = run(scenario, supplier, list(policies), settings.rules, workers=settings.workers, centre=settings.centre,
                     field=settings.field)
        out: dict[str, Any] = results(result)
        if settings.staff_share is not None:
            caseload = caseload_of(result.world)
            out["staff"] = {name: _staff(p.arrivals, settings, caseload) for name, p in result.policies.items()}
        for policy in observed.policies:
            for metric in observed.metrics:
                observed.add(supplier.name, policy, metric.name, metric.read(out, policy))
        if on_run is not None:
            on_run(k, supplier.name)
    observed.seeds.append(seed)
    observed.wall_s.append(time.perf_counter() - started)


def _staff(arrivals: Any, settings: Settings, caseload: Any) -> dict[str, int | None]:
    assert settings.staff_share is not None
    answer = staff_service(arrivals, settings.centre, settings.field, caseload, settings.staff_share)
    return {"operators": sum(answer.operators.staff) if answer.operators.staff else None,
            "field_officers": sum(answer.officers.staff) if answer.officers.staff else None}
