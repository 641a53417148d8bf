"""The monitoring centre's parameters (``seeds/operations/centre.toml``) as checked dataclasses.

A staff count of 0, a negative handling time, a share outside [0, 1] or a rota that leaves a
shift with nobody at a desk is one ``ParamsError`` naming the file and the key, before anything
runs.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path

from sim.operations.handling import Handling
from sim.operations.rota import MINUTE_S, Rota, with_staff
from sim.seeds import load_file, seeds_dir

CENTRE_FILE = Path("operations") / "centre.toml"
CLASS_NAMES = ("breach", "tamper", "equipment", "unmonitored", "charging")


@dataclass(frozen=True, slots=True)
class Outcome:
    """What follows the desk's check of an alert: the share that need a call to the subject,
    the share that need a field visit, and whether probation or the police are notified."""

    call: float = 0.0
    visit: float = 0.0
    notify: bool = False

    def __post_init__(self) -> None:
        for name in ("call", "visit"):
            if not 0 <= getattr(self, name) <= 1:
                raise ValueError(f"{name} is a share and must lie in [0, 1], got {getattr(self, name)}")


@dataclass(frozen=True, slots=True)
class AlertClass:
    """``confirmed`` follows when the truth bears the alert out (a genuine breach, a real
    fault, a device truly silent: the operator's check is taken to find the truth), otherwise
    ``unconfirmed``; a visit is a field job of kind ``visit_job`` (``field.toml``)."""

    priority: int  # 1 is taken first
    deadline_minutes: float  # for an operator to take the alert up
    handling: Handling
    preemptible: bool = False  # an operator leaves it for an alert of a higher priority
    confirmed: Outcome = Outcome()
    unconfirmed: Outcome = Outcome()
    visit_job: str = ""


@dataclass(frozen=True, slots=True)
class Classes:
    breach: AlertClass
    tamper: AlertClass
    equipment: AlertClass
    unmonitored: AlertClass
    charging: AlertClass

    def __post_init__(self) -> None:
        for name, klass in self.by_name().items():
            if (klass.confirmed.visit or klass.unconfirmed.visit) and not klass.visit_job:
                raise ValueError(f"{name}: visits need a visit_job (a job kind of field.toml)")

    def by_name(self) -> dict[str, AlertClass]:
        return {name: getattr(self, name) for name in CLASS_NAMES}

    def mean_handling_s(self) -> tuple[float, ...]:
        """Each class's mean desk handling time, s, in ``CLASS_NAMES`` order (index by class)."""
        return tuple(c.handling.mean_minutes * MINUTE_S for c in self.by_name().values())

    def deadlines_s(self) -> tuple[float, ...]:
        """Each class's deadline, s, in ``CLASS_NAMES`` order (index by class)."""
        return tuple(c.deadline_minutes * MINUTE_S for c in self.by_name().values())


@dataclass(frozen=True, slots=True)
class Incidents:
    """Alerts of one incident (one subject, one breach family or category) that arrive while
    an earlier one of it waits or is in hand are handled with it, for ``join_minutes`` more."""

    join_minutes: float


@dataclass(frozen=True, slots=True)
class Task:
    """A step after the desk's check (a call, a notification) and its time."""

    handling: Handling


@dataclass(frozen=True, slots=True)
class Notification:
    """Probation or the police told of a confirmed breach, within ``deadline_minutes`` of its
    alert being raised; ``handling`` is the operator's time to do it."""

    deadline_minutes: float
    handling: Handling


@dataclass(frozen=True, slots=True)
class CentreParams:
    rota: Rota
    classes: Classes
    incidents: Incidents
    call: Task
    notification: Notification

    @property
    def notify_deadline_s(self) -> float:
        return self.notification.deadline_minutes * MINUTE_S


def with_operators(params: CentreParams, counts: tuple[int, ...]) -> CentreParams:
    """``params`` with ``counts`` operators rostered on the day's shifts in turn (one count:
    every shift); a count that leaves a shift uncovered is a ``ParamsError``."""
    return replace(params, rota=with_staff(params.rota, counts, "--operators"))


def load_centre(path: Path | None = None) -> CentreParams:
    """The centre's parameters: the shipped ``seeds/operations/centre.toml`` or a file."""
    path = path or seeds_dir() / CENTRE_FILE
    return load_file(CentreParams, path)
