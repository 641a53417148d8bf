"""Alcohol: a positive reading confirmed by the next ones, and sensor tampers.

TAC at or over the threshold (0.02 g/dl by default, NHTSA 2007) in
``alcohol_confirm_readings`` readings in a row is a drinking breach, open
until a reading falls below. An IR obstruction, a skin temperature out of
body range or a strap tamper is a tamper, open until a clean reading. Under a policy that
tracks nothing, every positive or tampered reading is an alert.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

from sim.detector.alerts import AlertKey, AlertKind, Category, Severity
from sim.detector.telemetry import ALCOHOL_IR_OBSTRUCTION, ALCOHOL_STRAP_TAMPER, ALCOHOL_TEMPERATURE_TAMPER, Telemetry

if TYPE_CHECKING:
    from sim.detector.engine import Detector, DeviceState

_TAMPER = ALCOHOL_IR_OBSTRUCTION | ALCOHOL_TEMPERATURE_TAMPER | ALCOHOL_STRAP_TAMPER


class AlcoholRule:
    def __init__(self, det: Detector) -> None:
        self.det = det
        self._positive_run: dict[int, tuple[int, float]] = {}  # device -> (readings in a row, first one's time)
        self._newest: dict[int, float] = {}  # device -> event time of the newest reading applied

    def on_reading(self, device: DeviceState, r: Telemetry) -> None:
        det = self.det
        subject, dev = device.case.subject, device.fitted.device
        positive = r.value >= det.policy.alcohol_threshold_mg_dl
        tampered = bool(r.flags & _TAMPER)
        if not det.policy.track_conditions:
            if positive:
                self._raise(None, device, AlertKind.ALCOHOL, Severity.HIGH, r.event_time, f"TAC {r.value:.0f} mg/dl")
            if tampered:
                self._raise(None, device, AlertKind.ALCOHOL_TAMPER, Severity.MEDIUM, r.event_time, "sensor tamper")
            return
        if r.event_time <= self._newest.get(dev, -math.inf):
            return  # older than readings already applied: it cannot break a run or close an alert now
        self._newest[dev] = r.event_time
        drink_key = (subject, AlertKind.ALCOHOL, dev)
        if positive:
            count, first = self._positive_run.get(dev, (0, r.event_time))
            self._positive_run[dev] = (count + 1, first)
            if not det.book.fold(drink_key, det.now, f"TAC {r.value:.0f} mg/dl") and count + 1 >= det.policy.alcohol_confirm_readings:
                self._raise(drink_key, device, AlertKind.ALCOHOL, Severity.HIGH, first, f"{count + 1} readings at or over the threshold")
        else:
            self._positive_run.pop(dev, None)
            det.book.close(drink_key, det.now, r.event_time, "reading below the threshold")
        tamper_key = (subject, AlertKind.ALCOHOL_TAMPER, dev)
        if not tampered:
            det.book.close(tamper_key, det.now, r.event_time, "clean reading")
        elif not det.book.fold(tamper_key, det.now, "sensor tamper"):
            self._raise(tamper_key, device, AlertKind.ALCOHOL_TAMPER, Severity.MEDIUM, r.event_time, "sensor tamper")

    def _raise(self, key: AlertKey | None, device: DeviceState, kind: AlertKind, severity: Severity, began: float, note: str) -> None:
        alert = self.det.book.new(device.case.subject, device.fitted.device, kind, Category.BREACH, severity, began)
        self.det.book.raise_(key, alert, self.det.now, note)
