"""The monitoring centre's parameters (``seeds/operations/centre.toml``) as checked dataclasses.

A staff count of 0, a negative handling time or a rota that leaves a shift with nobody at a
desk is one ``ParamsError`` naming the file and the key, before anything runs.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from pathlib import Path

from sim.seeds import ParamsError, build, load_toml, seeds_dir

CENTRE_FILE = Path("operations") / "centre.toml"
DISTRIBUTIONS = ("lognormal", "exponential")
HOUR_S = 3600.0
MINUTE_S = 60.0


@dataclass(frozen=True, slots=True)
class Handling:
    """An operator's time on one alert: ``exponential`` with the mean, or ``lognormal``
    with the mean and the coefficient of variation."""

    distribution: str
    mean_minutes: float
    cv: float = 1.0

    def __post_init__(self) -> None:
        if self.distribution not in DISTRIBUTIONS:
            raise ValueError(f"distribution must be one of {', '.join(DISTRIBUTIONS)}, got {self.distribution!r}")
        if self.mean_minutes <= 0:
            raise ValueError(f"mean_minutes must be positive, got {self.mean_minutes}")
        if self.distribution == "lognormal" and self.cv <= 0:
            raise ValueError(f"a lognormal's cv must be positive, got {self.cv}")


@dataclass(frozen=True, slots=True)
class AlertClass:
    priority: int  # 1 is taken first
    deadline_minutes: float  # for an operator to take the alert up
    handling: Handling


@dataclass(frozen=True, slots=True)
class Classes:
    breach: AlertClass
    tamper: AlertClass
    equipment: AlertClass
    unmonitored: AlertClass
    charging: AlertClass

    def by_name(self) -> dict[str, AlertClass]:
        return {name: getattr(self, name) for name in CLASS_NAMES}

    def mean_handling_s(self) -> tuple[float, ...]:
        """Each class's mean handling time, s, in ``CLASS_NAMES`` order (index by class)."""
        return tuple(c.handling.mean_minutes * MINUTE_S for c in self.by_name().values())

    def deadlines_s(self) -> tuple[float, ...]:
        """Each class's deadline, s, in ``CLASS_NAMES`` order (index by class)."""
        return tuple(c.deadline_minutes * MINUTE_S for c in self.by_name().values())


CLASS_NAMES = ("breach", "tamper", "equipment", "unmonitored", "charging")


@dataclass(frozen=True, slots=True)
class Rota:
    """Shifts of ``shift_hours`` around the clock from ``first_shift_hour``, ``operators[i]``
    rostered on the day's i-th shift, ``shrinkage`` of their time away from the desk."""

    shift_hours: float
    first_shift_hour: float
    operators: tuple[int, ...]
    shrinkage: float

    def __post_init__(self) -> None:
        shifts = 24 / self.shift_hours if self.shift_hours > 0 else 0
        if not shifts or shifts != int(shifts):
            raise ValueError(f"shift_hours must divide the day, got {self.shift_hours}")
        if len(self.operators) != int(shifts):
            raise ValueError(f"operators: {int(shifts)} shifts of {self.shift_hours:g} h a day need {int(shifts)} "
                             f"counts, got {len(self.operators)}")
        if not 0 <= self.shrinkage < 1:
            raise ValueError(f"shrinkage must lie in [0, 1), got {self.shrinkage}")
        if not 0 <= self.first_shift_hour < 24:
            raise ValueError(f"first_shift_hour must lie in [0, 24), got {self.first_shift_hour}")
        for i, at_desk in enumerate(self.at_desk):
            if at_desk < 1:
                raise ValueError(f"operators: shift {i + 1} has {self.operators[i]} rostered, {at_desk} at a desk "
                                 f"after {self.shrinkage:.0%} shrinkage: no cover")

    @property
    def at_desk(self) -> tuple[int, ...]:
        """Operators at their desks on each shift: the rostered less shrinkage, rounded down
        (a share of an operator answers nothing)."""
        return tuple(math.floor(round(n * (1 - self.shrinkage), 9)) for n in self.operators)

    def shift_at(self, t: float) -> int:
        """The day's shift in force at ``t`` seconds from the run's start (midnight)."""
        return self._slot(t) % len(self.operators)

    def next_change(self, t: float) -> float:
        """The first shift change after ``t``."""
        change = self.first_shift_hour * HOUR_S + (self._slot(t) + 1) * self.shift_hours * HOUR_S
        return change if change > t else change + self.shift_hours * HOUR_S  # rounding at a change: never stand still

    def desk_seconds(self, horizon: float) -> float:
        """Operator-seconds at a desk by the rota over [0, horizon)."""
        total, t = 0.0, 0.0
        while t < horizon:
            change = min(self.next_change(t), horizon)
            total += self.at_desk[self.shift_at(t)] * (change - t)
            t = change
        return total

    def _slot(self, t: float) -> int:
        """Shifts begun since the first shift of day one (-1 before it: the night before's)."""
        return math.floor((t - self.first_shift_hour * HOUR_S) / (self.shift_hours * HOUR_S))


@dataclass(frozen=True, slots=True)
class CentreParams:
    rota: Rota
    classes: Classes


def with_operators(params: CentreParams, counts: tuple[int, ...]) -> CentreParams:
    """``params`` with ``counts`` operators rostered on the day's shifts in turn (one count:
    every shift); a count that leaves a shift uncovered is a ``ParamsError``."""
    operators = counts * len(params.rota.operators) if len(counts) == 1 else counts
    try:
        return replace(params, rota=replace(params.rota, operators=operators))
    except ValueError as exc:
        raise ParamsError(f"--operators {','.join(map(str, counts))}: {exc}") from None


def load_centre(path: Path | None = None) -> CentreParams:
    """The centre's parameters: the shipped ``seeds/operations/centre.toml`` or a file."""
    path = path or seeds_dir() / CENTRE_FILE
    try:
        return build(CentreParams, load_toml(path), str(path))
    except ParamsError:
        raise
    except ValueError as exc:
        raise ParamsError(f"{path}: {exc}") from None
