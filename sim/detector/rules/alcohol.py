"""Alcohol: a positive reading confirmed by the next ones, and sensor tampers.

TAC at or over the threshold (0.02 g/dl by default, NHTSA 2007) in
``alcohol_confirm_readings`` readings in a row is a drinking breach, open
until a reading falls below. An IR obstruction, a skin temperature out of
body range or a strap tamper in as many readings in a row is a tamper, open until
a clean reading; one a clean reading ends sooner is a suspect sensor (equipment). With
tracking off, ``rules.raw.RawAlcoholRule`` stands in.

A reading resent after later ones is merged into the device's history of readings
(within the allowed lateness): a confirmed run of positives it completes is raised
then, late, with its own event times.
"""

from __future__ import annotations

import bisect
import math

from sim.detector.alerts import AlertKey, AlertKind, Category, Severity
from sim.detector.context import RuleContext
from sim.detector.state import DeviceState
from sim.detector.telemetry import ALCOHOL_IR_OBSTRUCTION, ALCOHOL_STRAP_TAMPER, ALCOHOL_TEMPERATURE_TAMPER, Telemetry


TAMPER_FLAGS = ALCOHOL_IR_OBSTRUCTION | ALCOHOL_TEMPERATURE_TAMPER | ALCOHOL_STRAP_TAMPER


class AlcoholRule:
    def __init__(self, ctx: RuleContext) -> None:
        self.ctx = ctx
        self._positive_run: dict[int, tuple[int, float]] = {}  # device -> (readings in a row, first one's time)
        self._tamper_run: dict[int, int] = {}  # device -> tampered readings in a row
        self._newest: dict[int, float] = {}  # device -> event time of the newest reading applied
        # device -> (event time, positive) of its readings within the allowed lateness, in time
        # order, and the (first, last) reading times of each drinking alert raised among them.
        self._history: dict[int, list[tuple[float, bool]]] = {}
        self._drinking: dict[int, list[tuple[float, float]]] = {}

    def on_reading(self, device: DeviceState, r: Telemetry) -> None:
        ctx = self.ctx
        subject, dev = device.case.subject, device.fitted.device
        positive = r.value >= ctx.policy.alcohol_threshold_mg_dl
        tampered = bool(r.flags & TAMPER_FLAGS)
        newest = self._newest.get(dev, -math.inf)
        if r.event_time <= newest:
            if r.event_time < newest:  # (an equal time is a second reading of that moment: nothing to merge)
                self._late(device, r.event_time, positive)
            return  # it cannot break the current run or close an alert now
        self._newest[dev] = r.event_time
        self._remember(dev, r.event_time, positive)
        drink_key = (subject, AlertKind.ALCOHOL, dev)
        if positive:
            count, first = self._positive_run.get(dev, (0, r.event_time))
            self._positive_run[dev] = (count + 1, first)
            if ctx.book.fold(drink_key, ctx.now, f"TAC {r.value:.0f} mg/dl"):
                self._extend(dev, r.event_time)
            elif count + 1 >= ctx.policy.alcohol_confirm_readings:
                self._raise(drink_key, device, AlertKind.ALCOHOL, Severity.HIGH, first, f"{count + 1} readings at or over the threshold")
                self._drinking.setdefault(dev, []).append((first, r.event_time))
        else:
            self._positive_run.pop(dev, None)
            ctx.book.close(drink_key, ctx.now, r.event_time, "reading below the threshold")
        self._tamper(device, r, tampered)

    def _tamper(self, device: DeviceState, r: Telemetry, tampered: bool) -> None:
        """A tamper seen in ``alcohol_confirm_readings`` readings in a row is a breach, open until
        a clean reading; one that a clean reading ends sooner is a suspect sensor, filed as
        equipment (the tag reads every half hour, so a sensor fault of minutes shows in one)."""
        ctx = self.ctx
        subject, dev = device.case.subject, device.fitted.device
        key = (subject, AlertKind.ALCOHOL_TAMPER, dev)
        held = ctx.book.held.get(key)
        if not tampered:
            self._tamper_run.pop(dev, None)
            if held is not None:
                ctx.book.file_as_suspect(key, ctx.now, r.event_time, "a clean reading next: suspect sensor")
            else:
                ctx.book.close(key, ctx.now, r.event_time, "clean reading")
            return
        if ctx.book.fold(key, ctx.now, "sensor tamper"):
            return
        count = self._tamper_run.get(dev, 0) + 1
        self._tamper_run[dev] = count
        if held is None:
            held = ctx.book.new(subject, dev, AlertKind.ALCOHOL_TAMPER, Category.BREACH, Severity.MEDIUM, r.event_time)
            ctx.book.hold(key, held, ctx.now, f"confirmation by {ctx.policy.alcohol_confirm_readings} readings in a row")
        else:
            held.count += 1
        if count >= ctx.policy.alcohol_confirm_readings:
            ctx.book.raise_(key, held, ctx.now, f"sensor tamper in {count} readings in a row")

    def _remember(self, dev: int, t: float, positive: bool) -> None:
        history = self._history.setdefault(dev, [])
        history.append((t, positive))
        horizon = t - self.ctx.policy.allowed_lateness_s
        if history[0][0] < horizon:
            del history[: bisect.bisect_left(history, (horizon,))]
            drinking = self._drinking.get(dev)
            if drinking:
                drinking[:] = [d for d in drinking if d[1] >= horizon]

    def _extend(self, dev: int, t: float) -> None:
        """The open drinking alert's newest reading is now ``t``. It is the latest alert, but
        may have been let go with the history if its readings stopped for a long time."""
        drinking = self._drinking.setdefault(dev, [])
        if drinking:
            drinking[-1] = (drinking[-1][0], t)
        else:
            drinking.append((t, t))

    def _late(self, device: DeviceState, t: float, positive: bool) -> None:
        """A reading older than the newest (resent after later ones): merged into the history,
        and a confirmed run of positives it completes, that no drinking alert covers, raised
        now with its own times: open if the run goes on to the newest reading, else closed."""
        ctx, dev = self.ctx, device.fitted.device
        if t < self._newest[dev] - ctx.policy.allowed_lateness_s:
            ctx.stats.unmerged_late += 1
            return
        ctx.stats.merged_late += 1
        history = self._history[dev]
        i = bisect.bisect_left(history, (t,))
        history.insert(i, (t, positive))
        if not positive:
            return
        a, b = i, i + 1
        while a > 0 and history[a - 1][1]:
            a -= 1
        while b < len(history) and history[b][1]:
            b += 1
        first, last = history[a][0], history[b - 1][0]
        if b - a < ctx.policy.alcohol_confirm_readings:
            return
        drinking = self._drinking.setdefault(dev, [])
        if any(s <= last and first <= e for s, e in drinking):
            return  # an alert already covers this run (an open one grows as its readings come)
        key = (device.case.subject, AlertKind.ALCOHOL, dev)
        note = f"a late reading completes {b - a} readings at or over the threshold"
        alert = ctx.book.new(device.case.subject, dev, AlertKind.ALCOHOL, Category.BREACH, Severity.HIGH, first)
        if b == len(history) and key not in ctx.book.open:
            ctx.book.raise_(key, alert, ctx.now, note)
            self._positive_run[dev] = (b - a, first)
        else:
            ctx.book.raise_closed(alert, ctx.now, history[b][0] if b < len(history) else last, note)
        drinking.append((first, last))
        drinking.sort()

    def _raise(self, key: AlertKey | None, device: DeviceState, kind: AlertKind, severity: Severity, began: float, note: str) -> None:
        alert = self.ctx.book.new(device.case.subject, device.fitted.device, kind, Category.BREACH, severity, began)
        self.ctx.book.raise_(key, alert, self.ctx.now, note)
