"""What a comparison has seen so far: every metric's value for each supplier and policy, one a
replication, and each replication's seeds and wall time."""

from __future__ import annotations

from dataclasses import dataclass, field

from sim.compare.metrics import Metric
from sim.scenario import Scenario, Supplier


@dataclass
class Observations:
    """Every metric's value for each supplier and policy, one a replication (None where the run
    gave none, e.g. a latency with nothing detected)."""

    scenario: Scenario
    suppliers: list[Supplier]
    policies: list[str]
    metrics: tuple[Metric, ...]
    seeds: list[list[int]] = field(default_factory=list)  # per replication, each supplier's seed
    values: dict[tuple[str, str, str], list[float | None]] = field(default_factory=dict)
    wall_s: list[float] = field(default_factory=list)  # each replication's, every supplier's run in it
    recorded_at: list[float] = field(default_factory=list)  # when each replication was recorded (perf_counter)

    def add(self, supplier: str, policy: str, metric: str, value: float | None) -> None:
        self.values.setdefault((supplier, policy, metric), []).append(value)
