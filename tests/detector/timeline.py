"""Timeline tests for the detector, in the style of Alertmanager's acceptance tests.

Push records at receive times, move the clock, and want alerts exactly::

    tl = Timeline(cases=[home_case()])
    tl.push(H(20), UNIT, Kind.TAG_LEAVE).run(H(21))
    assert tl.summary() == [("curfew-absence", "breach", H(20), H(20) + 600, None)]

Times are seconds from 1970-01-01 00:00 UTC (a Thursday); ``H(n)`` is n hours.
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np

from sim.detector import Alert, AlertKind, Case, Curfew, Detector, DeviceKind, FittedDevice, Kind, Telemetry, Zone
from sim.policies import load_policy
from sim.detector.policy import Policy

SUBJECT, UNIT, TAG, GPS, ALCOHOL = 1, 10, 11, 12, 13
EVERY_DAY = 0x7F
# Report intervals (seeds/devices/defaults.toml): hourly status checks, 10-minute GPS uploads, daily alcohol uploads.
UNIT_EVERY, GPS_EVERY, ALCOHOL_EVERY = 3600.0, 600.0, 86400.0


def H(hours: float) -> float:
    return hours * 3600.0


def home_case(
    subject: int = SUBJECT, unit: int = UNIT, tag: int = TAG, curfew: tuple[float, float] = (19, 12),
    gps: int | None = None, alcohol: int | None = None, zones: Iterable[Zone] = (), area: int = 0,
    unit_every: float = UNIT_EVERY,
) -> Case:
    """A subject with a base unit and RF tag fitted at time 0, curfew 19:00 for 12 h every day."""
    devices = [FittedDevice(unit, DeviceKind.BASE_UNIT, 0.0, area, unit_every), FittedDevice(tag, DeviceKind.RF_TAG, 0.0, area)]
    if gps is not None:
        devices.append(FittedDevice(gps, DeviceKind.GPS_TAG, 0.0, area, GPS_EVERY))
    if alcohol is not None:
        devices.append(FittedDevice(alcohol, DeviceKind.ALCOHOL_TAG, 0.0, area, ALCOHOL_EVERY))
    start, hours = curfew
    return Case(subject, tuple(devices), (Curfew(EVERY_DAY, int(H(start)), int(H(hours))),), tuple(zones))


class Timeline:
    def __init__(self, cases: Iterable[Case], policy: str | Policy = "standard", start: float = 0.0) -> None:
        self.policy = load_policy(policy) if isinstance(policy, str) else policy
        self.detector = Detector(self.policy, list(cases), start)
        self.records: list[Telemetry] = []
        self._seq: dict[int, int] = {}

    def push(
        self, at: float, device: int, kind: Kind, event_time: float | None = None, seq: int | None = None,
        flags: int = 0, value: float = 0.0, fixes: np.ndarray | None = None,
    ) -> Timeline:
        """A record received at ``at``; its event time defaults to ``at``, its seq to the device's next."""
        if seq is None:
            seq = self._seq.get(device, -1) + 1
        self._seq[device] = max(seq, self._seq.get(device, -1))
        subject = self.detector.cases.device_of[device][0].subject if device in self.detector.cases.device_of else 0
        record = Telemetry(device, subject, kind, at if event_time is None else event_time, at, seq, flags, value, fixes)
        self.records.append(record)
        self.detector.feed([record])
        return self

    def run(self, until: float) -> Timeline:
        self.detector.advance(until)
        return self

    def alerts(self, kind: AlertKind | None = None) -> list[Alert]:
        return [a for a in self.detector.alerts if kind is None or a.kind is kind]

    def summary(self, *kinds: AlertKind) -> list[tuple[str, str, float, float | None, float | None]]:
        """(kind, category, event time, raised at, closed at) of each raised alert, in order;
        an alert raised and closed in the same instant (a one-event alert) shows its close too."""
        return [
            (a.kind.value, a.category.value, a.event_time, a.raised_at, a.closed_at)
            for a in self.alerts()
            if not kinds or a.kind in kinds
        ]

    def reasons(self, alert: Alert) -> list[str]:
        return [d.reason.value for d in alert.decisions]
