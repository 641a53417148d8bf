"""A rota: shifts around the clock, so many staff rostered on each, a share of their time lost
to breaks, training and absence. The monitoring centre's operators and the field officers both
work one (``seeds/operations/centre.toml``, ``field.toml``)."""

from __future__ import annotations

import math
from dataclasses import dataclass, replace

from sim.seeds import ParamsError

HOUR_S = 3600.0
MINUTE_S = 60.0
DAY_S = 24 * HOUR_S


@dataclass(frozen=True, slots=True)
class Rota:
    """Shifts of ``shift_hours`` around the clock from ``first_shift_hour``, ``staff[i]``
    rostered on the day's i-th shift, ``shrinkage`` of their time away from work."""

    shift_hours: float
    first_shift_hour: float
    staff: tuple[int, ...]
    shrinkage: float

    def __post_init__(self) -> None:
        shifts = 24 / self.shift_hours if self.shift_hours > 0 else 0
        if not shifts or shifts != int(shifts):
            raise ValueError(f"shift_hours must divide the day, got {self.shift_hours}")
        if len(self.staff) != int(shifts):
            raise ValueError(f"staff: {int(shifts)} shifts of {self.shift_hours:g} h a day need {int(shifts)} "
                             f"counts, got {len(self.staff)}")
        if not 0 <= self.shrinkage < 1:
            raise ValueError(f"shrinkage must lie in [0, 1), got {self.shrinkage}")
        if not 0 <= self.first_shift_hour < 24:
            raise ValueError(f"first_shift_hour must lie in [0, 24), got {self.first_shift_hour}")
        for i, at_work in enumerate(self.at_work):
            if at_work < 1:
                raise ValueError(f"staff: shift {i + 1} has {self.staff[i]} rostered, {at_work} at work "
                                 f"after {self.shrinkage:.0%} shrinkage: no cover")

    @property
    def at_work(self) -> tuple[int, ...]:
        """Staff at work on each shift: the rostered less shrinkage, rounded down (a share of a
        person does no work)."""
        return tuple(math.floor(round(n * (1 - self.shrinkage), 9)) for n in self.staff)

    @property
    def least_rostered(self) -> int:
        """The fewest rostered for one at work after shrinkage."""
        return with_shrinkage(1, self.shrinkage)

    def shift_at(self, t: float) -> int:
        """The day's shift in force at ``t`` seconds from the run's start (midnight)."""
        return self._slot(t) % len(self.staff)

    def next_change(self, t: float) -> float:
        """The first shift change after ``t``."""
        change = self.first_shift_hour * HOUR_S + (self._slot(t) + 1) * self.shift_hours * HOUR_S
        return change if change > t else change + self.shift_hours * HOUR_S  # rounding at a change: never stand still

    def work_seconds(self, horizon: float) -> float:
        """Staff-seconds at work by the rota over [0, horizon)."""
        total, t = 0.0, 0.0
        while t < horizon:
            change = min(self.next_change(t), horizon)
            total += self.at_work[self.shift_at(t)] * (change - t)
            t = change
        return total

    def _slot(self, t: float) -> int:
        """Shifts begun since the first shift of day one (-1 before it: the night before's)."""
        return math.floor((t - self.first_shift_hour * HOUR_S) / (self.shift_hours * HOUR_S))


def with_staff(rota: Rota, counts: tuple[int, ...], where: str) -> Rota:
    """``rota`` with ``counts`` rostered on the day's shifts in turn (one count: every shift); a
    count that leaves a shift uncovered is a ``ParamsError`` naming ``where`` (the option given)."""
    staff = counts * len(rota.staff) if len(counts) == 1 else counts
    try:
        return replace(rota, staff=staff)
    except ValueError as exc:
        raise ParamsError(f"{where} {','.join(map(str, counts))}: {exc}") from None


def with_shrinkage(at_work: int, shrinkage: float) -> int:
    """Staff to roster so that ``at_work`` are at work when ``shrinkage`` (breaks, training,
    absence) takes its share of everyone's time."""
    if not 0 <= shrinkage < 1:
        raise ValueError(f"shrinkage must lie in [0, 1), got {shrinkage}")
    # Rounded first: 14 / (1 - 0.3) is 20.000000000000004 in floating point, and needs 20, not 21.
    return math.ceil(round(at_work / (1 - shrinkage), 9))
