"""The field force's parameters (``seeds/operations/field.toml``) as checked dataclasses: the
officers' rota and areas, travel, the order flow that brings fittings and removals, and each
kind of job. A wrong value is one ``ParamsError`` naming the file and the key, before anything
runs."""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from pathlib import Path

from sim.operations.field.areas import Areas
from sim.operations.handling import Handling
from sim.operations.rota import HOUR_S, Rota, with_staff
from sim.seeds import ParamsError, load_file, seeds_dir

FIELD_FILE = Path("operations") / "field.toml"
FITTING, REMOVAL = "fitting", "removal"  # the jobs the order flow brings; the centre's visits bring the rest


@dataclass(frozen=True, slots=True)
class Travel:
    """The town holds the whole caseload in a small disc; officers cover the country it stands
    for. Between two places an officer drives ``road_factor`` x the straight line, with the
    town's distances stretched by sqrt(``country_km2`` / the town's area), at ``speed_kmh``."""

    country_km2: float
    road_factor: float
    speed_kmh: float

    def __post_init__(self) -> None:
        if min(self.country_km2, self.road_factor, self.speed_kmh) <= 0:
            raise ValueError("country_km2, road_factor and speed_kmh must be positive")

    def scale(self, town_radius_m: float) -> float:
        return math.sqrt(self.country_km2 * 1e6 / (math.pi * town_radius_m**2))

    def seconds(self, town_metres: float, town_radius_m: float) -> float:
        """The drive between two places ``town_metres`` apart in the town."""
        return town_metres * self.scale(town_radius_m) * self.road_factor / (self.speed_kmh / 3.6)


@dataclass(frozen=True, slots=True)
class Orders:
    """Orders end at ``subjects / mean_order_days`` a day (the caseload turning over); new orders
    start at that rate plus the caseload's growth, ``subjects x growth_share_per_year / 365`` a
    day; each between ``first_hour`` and ``last_hour``."""

    mean_order_days: float
    growth_share_per_year: float
    first_hour: float
    last_hour: float

    def __post_init__(self) -> None:
        if self.mean_order_days <= 0:
            raise ValueError(f"mean_order_days must be positive, got {self.mean_order_days}")
        if not 0 <= self.first_hour < self.last_hour <= 24:
            raise ValueError(f"orders start between first_hour and last_hour: need 0 <= {self.first_hour} < "
                             f"{self.last_hour} <= 24")

    def starts_per_day(self, subjects: int) -> float:
        return subjects / self.mean_order_days + subjects * self.growth_share_per_year / 365.0

    def ends_per_day(self, subjects: int) -> float:
        return subjects / self.mean_order_days


@dataclass(frozen=True, slots=True)
class RoutineHours:
    """Routine jobs (fittings, removals, faults) are visited only between these hours."""

    first_hour: float
    last_hour: float

    def __post_init__(self) -> None:
        if not 0 <= self.first_hour < self.last_hour <= 24:
            raise ValueError(f"need 0 <= first_hour ({self.first_hour}) < last_hour ({self.last_hour}) <= 24")

    def open_at(self, t: float) -> bool:
        hour = (t % (24 * HOUR_S)) / HOUR_S
        return self.first_hour <= hour < self.last_hour

    def next_opening(self, t: float) -> float:
        """The first time after ``t`` that routine hours begin."""
        opening = (t // (24 * HOUR_S)) * 24 * HOUR_S + self.first_hour * HOUR_S
        return opening if opening > t else opening + 24 * HOUR_S


@dataclass(frozen=True, slots=True)
class Job:
    """One kind of field job: its priority (1 first), the deadline from its being due to an
    officer on site, the time on site, whether it waits for routine hours, and the share of
    first attempts that find the door answered (``access``; otherwise the officer leaves after
    ``no_access_minutes`` and it is tried again ``retry_after_hours`` later), and of later
    attempts (``access_again``: someone out once is likelier to be out again)."""

    priority: int
    deadline_hours: float
    on_site: Handling
    routine: bool
    access: float = 1.0
    access_again: float = 1.0
    no_access_minutes: float = 10.0
    retry_after_hours: float = 24.0

    def __post_init__(self) -> None:
        for name in ("access", "access_again"):
            if not 0 < getattr(self, name) <= 1:
                raise ValueError(f"{name} is a share of attempts and must lie in (0, 1], got {getattr(self, name)}")
        if self.deadline_hours <= 0:
            raise ValueError(f"deadline_hours must be positive, got {self.deadline_hours}")


@dataclass(frozen=True, slots=True)
class FieldParams:
    rota: Rota
    areas: Areas
    travel: Travel
    orders: Orders
    routine_hours: RoutineHours
    jobs: dict[str, Job]

    def __post_init__(self) -> None:
        for name in (FITTING, REMOVAL):
            if name not in self.jobs:
                raise ValueError(f"jobs: the order flow needs a job {name!r}")
        for i, at_work in enumerate(self.rota.at_work):
            try:
                self.areas.deal(at_work)
            except ValueError as exc:
                raise ValueError(f"staff: shift {i + 1}: {exc}") from None

    @property
    def job_names(self) -> tuple[str, ...]:
        """The job kinds in a fixed order (index by job kind)."""
        return tuple(sorted(self.jobs))


def with_officers(params: FieldParams, counts: tuple[int, ...]) -> FieldParams:
    """``params`` with ``counts`` officers rostered on the day's shifts in turn (one count:
    every shift); a count that leaves a shift uncovered is a ``ParamsError``."""
    rota = with_staff(params.rota, counts, "--field-officers")
    try:
        return replace(params, rota=rota)
    except ValueError as exc:
        raise ParamsError(f"--field-officers {','.join(map(str, counts))}: {exc}") from None


def load_field(path: Path | None = None) -> FieldParams:
    """The field force's parameters: the shipped ``seeds/operations/field.toml`` or a file."""
    path = path or seeds_dir() / FIELD_FILE
    return load_file(FieldParams, path)
