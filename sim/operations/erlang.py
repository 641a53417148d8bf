"""Erlang C: the M/M/c queue's waiting figures in closed form.

The operations model is a simulation; Erlang C is its check (a pure M/M/c case
must agree with it) and its first guess at a staffing level. Times are in any
one unit, the same for the arrival rate, the handling time and the target.
"""

from __future__ import annotations

import math
from dataclasses import dataclass


@dataclass(frozen=True)
class ErlangC:
    """``servers`` agents taking Poisson arrivals at ``rate`` with exponential handling times
    of mean ``handling``; ``load`` (rate x handling, in erlangs) must be below ``servers``."""

    rate: float
    handling: float
    servers: int

    def __post_init__(self) -> None:
        if self.servers < 1:
            raise ValueError(f"servers must be at least 1, got {self.servers}")
        if self.rate <= 0 or self.handling <= 0:
            raise ValueError(f"rate and handling must be positive, got {self.rate} and {self.handling}")
        if self.load >= self.servers:
            raise ValueError(f"a load of {self.load:g} erlangs on {self.servers} servers never drains")

    @property
    def load(self) -> float:
        return self.rate * self.handling

    @property
    def occupancy(self) -> float:
        """The share of the servers' time spent handling."""
        return self.load / self.servers

    @property
    def wait_probability(self) -> float:
        """The chance an arrival finds every server busy and waits (Erlang's C formula), from
        Erlang B's recursion, which stays finite where the factorials would overflow."""
        a, blocking = self.load, 1.0
        for k in range(1, self.servers + 1):
            blocking = a * blocking / (k + a * blocking)
        return self.servers * blocking / (self.servers - a * (1 - blocking))

    @property
    def mean_wait(self) -> float:
        """The mean wait over every arrival, those served at once included."""
        return self.wait_probability * self.handling / (self.servers - self.load)

    @property
    def mean_queue(self) -> float:
        """The mean number waiting (Little's law on ``mean_wait``)."""
        return self.rate * self.mean_wait

    def within(self, target: float) -> float:
        """The share of arrivals whose wait is at most ``target`` (the service level)."""
        return 1 - self.wait_probability * math.exp(-(self.servers - self.load) * target / self.handling)


def servers_for(rate: float, handling: float, target: float, share: float) -> int:
    """The fewest servers for which at least ``share`` of arrivals wait at most ``target``."""
    if not 0 < share < 1:
        raise ValueError(f"share must lie between 0 and 1, got {share}")
    servers = max(1, math.floor(rate * handling) + 1)
    while ErlangC(rate, handling, servers).within(target) < share:
        servers += 1
    return servers
