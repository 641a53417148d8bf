"""The Gilbert-Elliott chain under the RF presence channel: what ``RfChannel``'s four figures mean.

Two states, good and bad, stepped once per beacon: a beacon is lost with its
state's loss, then the chain leaves its state with that state's chance (so a
stay in a state is geometric in beacons). Every at-home interval starts in the
stationary distribution. Written once here for all who run the chain: the
fleet sampler and its every-beacon reference (``sim.world.channel``), which
draw whole stays at a time, and the full-fidelity radio (``sim.world.full``),
which steps a ``Chain`` per beacon.
"""

from __future__ import annotations

from collections.abc import Callable

from sim.scenario import RfChannel


def stationary_bad(channel: RfChannel) -> float:
    """The chain's stationary chance of the bad state: where each at-home interval starts."""
    return channel.good_to_bad / (channel.good_to_bad + channel.bad_to_good)


def loss(channel: RfChannel, bad: bool) -> float:
    """The chance a beacon is lost in the given state."""
    return channel.loss_bad if bad else channel.loss_good


def leave_chance(channel: RfChannel, bad: bool) -> float:
    """The chance, per beacon, that the chain leaves the given state."""
    return channel.bad_to_good if bad else channel.good_to_bad


def miss_rate(channel: RfChannel) -> float:
    """The long-run share of beacons lost, which every fidelity must reproduce."""
    bad = stationary_bad(channel)
    return loss(channel, False) * (1.0 - bad) + loss(channel, True) * bad


class Chain:
    """One tag's chain stepped beacon by beacon, started stationary, drawing from ``uniform``."""

    def __init__(self, channel: RfChannel, uniform: Callable[[], float]) -> None:
        self.channel = channel
        self.uniform = uniform
        self.bad = uniform() < stationary_bad(channel)

    def step(self, in_range: bool) -> bool:
        """Whether this beacon is heard (never out of range, and then no draw for it);
        the chain moves on either way, so it is still stationary when the tag comes back."""
        heard = in_range and self.uniform() >= loss(self.channel, self.bad)
        if self.uniform() < leave_chance(self.channel, self.bad):
            self.bad = not self.bad
        return heard
