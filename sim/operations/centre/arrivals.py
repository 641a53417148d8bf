"""A policy's alerts as the monitoring centre receives them: operator-facing alerts, in the
order they were raised, each in its class (``CLASS_NAMES``) and its incident, with what the
truth says of it (which the operator's check is taken to find)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from sim.detector.alerts import Alert, AlertKind, Category
from sim.operations.centre.params import CLASS_NAMES
from sim.score import incident_keys

TAMPER_KINDS = frozenset({AlertKind.STRAP_TAMPER, AlertKind.BODY_TAMPER, AlertKind.GPS_STRAP, AlertKind.ALCOHOL_TAMPER})
CONFIRMED_VERDICTS = frozenset({"true", "real", "named"})  # sim.score: a genuine breach, a real fault, a silent device named
_CLASS = {name: i for i, name in enumerate(CLASS_NAMES)}


@dataclass(frozen=True)
class CentreArrivals:
    """``alert[i]`` (an index into the policy's raised alerts) arrives at ``time[i]`` in class
    ``klass[i]``, about ``subject[i]``, in incident ``incident[i]``; ``confirmed[i]`` says the
    truth bears it out, ``genuine[i]`` that it is a true breach alert."""

    alert: np.ndarray
    time: np.ndarray
    klass: np.ndarray
    subject: np.ndarray
    incident: np.ndarray
    confirmed: np.ndarray
    genuine: np.ndarray

    def __len__(self) -> int:
        return len(self.time)


def class_of(alert: Alert) -> int:
    """The centre's class of an operator-facing alert: tampers and missed charging (a day judged
    once it is over) apart from the other breaches."""
    if alert.category is Category.BREACH:
        if alert.kind in TAMPER_KINDS:
            return _CLASS["tamper"]
        return _CLASS["charging"] if alert.kind is AlertKind.NOT_CHARGING else _CLASS["breach"]
    return _CLASS[alert.category.value]


def centre_arrivals(raised: Sequence[Alert], verdicts: Sequence[str]) -> CentreArrivals:
    """The operator-facing alerts among ``raised`` (every one raised, as the scorer takes them;
    info alerts reach no one), by raised time, ties in the order they were raised;
    ``verdicts[i]`` is the scorer's verdict on ``raised[i]``."""
    if len(verdicts) != len(raised):
        raise ValueError(f"{len(verdicts)} verdicts for {len(raised)} alerts")
    index = np.array([i for i, a in enumerate(raised) if a.category is not Category.INFO], dtype=np.int64)
    items = [raised[i] for i in index]
    time = np.array([a.raised_at for a in items], dtype=float)
    order = np.argsort(time, kind="stable")
    confirmed = np.array([verdicts[i] in CONFIRMED_VERDICTS for i in index], dtype=bool)
    breach = np.array([a.category is Category.BREACH for a in items], dtype=bool)
    return CentreArrivals(
        alert=index[order],
        time=time[order],
        klass=np.array([class_of(a) for a in items], dtype=np.int64)[order],
        subject=np.array([a.subject for a in items], dtype=np.int64)[order],
        incident=incident_keys(items)[order],
        confirmed=confirmed[order],
        genuine=(confirmed & breach)[order],
    )


def plain_arrivals(time: np.ndarray, klass: np.ndarray) -> CentreArrivals:
    """Alerts with nothing but their times and classes, each its own incident and nothing
    confirmed: the queue alone, as a check against queueing theory or a staffing question."""
    n = len(time)
    return CentreArrivals(np.arange(n), np.asarray(time, dtype=float), np.asarray(klass, dtype=np.int64),
                          np.zeros(n, dtype=np.int64), np.arange(n, dtype=np.int64), np.zeros(n, bool), np.zeros(n, bool))
