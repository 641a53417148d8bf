"""A policy's alerts as the monitoring centre receives them: operator-facing alerts, in the
order they were raised, each in its class (``sim.operations.params.CLASS_NAMES``)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from sim.detector.alerts import Alert, AlertKind, Category
from sim.operations.params import CLASS_NAMES

TAMPER_KINDS = frozenset({AlertKind.STRAP_TAMPER, AlertKind.BODY_TAMPER, AlertKind.GPS_STRAP, AlertKind.ALCOHOL_TAMPER})
_CLASS = {name: i for i, name in enumerate(CLASS_NAMES)}


@dataclass(frozen=True)
class CentreArrivals:
    """``alert[i]`` (an index into the policy's raised alerts) arrives at ``time[i]`` in class ``klass[i]``."""

    alert: np.ndarray
    time: np.ndarray
    klass: np.ndarray


def class_of(alert: Alert) -> int:
    """The centre's class of an operator-facing alert: tampers and missed charging (a day judged
    once it is over) apart from the other breaches."""
    if alert.category is Category.BREACH:
        if alert.kind in TAMPER_KINDS:
            return _CLASS["tamper"]
        return _CLASS["charging"] if alert.kind is AlertKind.NOT_CHARGING else _CLASS["breach"]
    return _CLASS[alert.category.value]


def centre_arrivals(raised: Sequence[Alert]) -> CentreArrivals:
    """The operator-facing alerts among ``raised`` (every one raised, as the scorer takes
    them; info alerts reach no one), by raised time, ties in the order they were raised."""
    index = [i for i, a in enumerate(raised) if a.category is not Category.INFO]
    time = np.array([raised[i].raised_at for i in index], dtype=float)
    order = np.argsort(time, kind="stable")
    klass = np.array([class_of(raised[i]) for i in index], dtype=np.int64)
    return CentreArrivals(np.asarray(index, dtype=np.int64)[order], time[order], klass[order])
