"""GPS: exclusion and inclusion zones, no fix while moving, battery, strap and charging.

A zone rule is broken by a fix whose accuracy circle lies wholly on the wrong
side (when the policy uses accuracy), or by ``zone_consecutive_fixes`` fixes
in a row whose centres do. It clears on the same confirmation back on the
right side, and only once ``zone_exit_fold_s`` has passed since that exit
with no fix on the wrong side: a re-entry within it folds into the open
alert, so one visit near a boundary is one alert, not hundreds. Fixes that
arrive after newer ones (an upload held, then resent) are judged on their
own: a confirmed visit among them that no alert covers is raised late, with
its own times. Inclusion zones apply only inside curfew windows. No fix
while moving for the go-outside time plus its grace is a breach; a low
battery is equipment; a strap opening is a breach once not closed within the
tamper confirmation window and one upload interval (closed within it, a
suspect sensor: equipment); a day in which the tag
was heard but less than ``charge_min_s`` of charging was seen is a breach of
the charging condition. With tracking off, ``rules.raw.RawGpsRule`` stands in.
"""

from __future__ import annotations

import math
from collections import Counter
from dataclasses import dataclass

import numpy as np

from sim.detector.alerts import Alert, AlertKind, Category, Reason, Severity
from sim.detector.cases import Case, DeviceKind
from sim.detector.context import RuleContext
from sim.detector.state import DeviceState
from sim.detector.telemetry import GPS_AT_REST, GPS_BATTERY_LOW, GPS_CHARGING, GPS_NO_FIX, GPS_STRAP_OPEN, Telemetry
from sim.detector.zones import Verdicts, ZoneArrays, in_curfew, judge

# What a status can report that opens a condition, and the alerts such conditions keep open.
_STATUS_CONDITIONS = GPS_BATTERY_LOW | GPS_STRAP_OPEN | GPS_NO_FIX
_STATUS_KINDS = (AlertKind.GPS_BATTERY_LOW, AlertKind.GPS_STRAP, AlertKind.NO_FIX)


@dataclass(slots=True)
class _Run:
    """One zone's state for a subject: a run of fixes on the wrong side, and, while its
    alert is open, the run of fixes back on the right side and the confirmed exit."""

    length: int = 0
    start: float = 0.0  # time of the run's first fix
    right: int = 0  # fixes in a row on the right side while the alert is open
    right_start: float = 0.0
    exit: float | None = None  # time of a confirmed exit, the alert still open for the fold window


class GpsRule:
    def __init__(self, ctx: RuleContext) -> None:
        self.ctx = ctx
        self._zones: dict[int, ZoneArrays] = {}
        self._runs: dict[int, dict[int, _Run]] = {}  # subject -> zone id -> a run or open alert
        self._newest_fix: dict[int, float] = {}  # subject -> time of the newest fix judged
        # (subject, zone id) -> (first, last) fix times of each zone alert within the allowed
        # lateness (last is inf while open): what a late visit is checked against.
        self._visits: dict[tuple[int, int], list[tuple[float, float]]] = {}
        self._newest_status: dict[int, float] = {}  # device -> event time of the newest status applied
        self._no_fix_since: dict[int, float] = {}
        # device -> the periods (numbered from the epoch) in which a status was reported, and
        # how many statuses reported charging in each.
        self._heard_in: dict[int, set[int]] = {}
        self._charged_in: dict[int, Counter[int]] = {}
        period = ctx.policy.charge_period_s
        if period > 0:
            for device in ctx.devices.values():
                if device.fitted.kind is DeviceKind.GPS_TAG:
                    # The first whole period: charging before the start, or before fitting, went unseen.
                    first = math.ceil(max(device.fitted.installed_at, ctx.now) / period)
                    self._heard_in[device.fitted.device] = set()
                    self._charged_in[device.fitted.device] = Counter()
                    ctx.timers.at(self._charge_judged_at(device, first), self._charge_due, (device, first))

    # --- fixes ---------------------------------------------------------------------

    def on_fixes(self, device: DeviceState, r: Telemetry) -> None:
        if r.fixes is None or len(r.fixes) == 0:
            return
        case = device.case
        zones = self.zones_of(case)
        if zones is None:
            self.ctx.stats.fixes += len(r.fixes)
            return
        fixes = r.fixes[np.argsort(r.fixes["time"], kind="stable")]
        active = in_curfew(case, fixes["time"]) if zones.inclusion.any() else None
        wrong, sure = judge(fixes, zones.lat, zones.lon, zones.east_scale, zones.radius_m, zones.inclusion, active)
        self.on_judged(device, r, Verdicts(fixes["time"], wrong, sure))

    def zones_of(self, case: Case) -> ZoneArrays | None:
        if not case.zones:
            return None
        zones = self._zones.get(case.subject)
        if zones is None:
            zones = self._zones[case.subject] = ZoneArrays.of(case)
        return zones

    def on_judged(self, device: DeviceState, r: Telemetry, verdicts: Verdicts) -> None:
        """An upload whose fixes are already judged against the subject's zones (columns in zone order)."""
        self.ctx.stats.fixes += len(verdicts.times)
        zones = self.zones_of(device.case)
        if zones is None or not len(verdicts.times):
            return
        subject = device.case.subject
        newest = self._newest_fix.get(subject, -math.inf)
        if verdicts.times[0] <= newest:
            # Fixes older than ones already judged come late (a resent or held upload): they must
            # not break or close a run of newer fixes, but a visit among them is a breach.
            keep = verdicts.times > newest
            late = ~keep
            if verdicts.wrong[late].any():
                self._late_visits(device, zones, newest, Verdicts(verdicts.times[late], verdicts.wrong[late], verdicts.sure[late]))
            verdicts = Verdicts(verdicts.times[keep], verdicts.wrong[keep], verdicts.sure[keep])
            if not len(verdicts.times):
                return
        self._newest_fix[subject] = float(verdicts.times[-1])
        if not verdicts.wrong.any() and not self.tracking(subject):
            return  # the common case: nothing wrong now, nothing open from before
        for j in range(len(zones.ids)):
            self._zone(device, int(zones.ids[j]), bool(zones.inclusion[j]), verdicts.times, verdicts.wrong[:, j], verdicts.sure[:, j])

    def judged_clean(self, subject: int, fixes: int, newest: float) -> None:
        """An upload judged with nothing wrong, for a subject with nothing open: ``on_judged``
        would only count it and note its newest fix, so the batch path calls this instead."""
        self.ctx.stats.fixes += fixes
        if newest > self._newest_fix.get(subject, -math.inf):
            self._newest_fix[subject] = newest

    def tracking(self, subject: int) -> bool:
        """Whether any zone of ``subject`` has a run of wrong fixes or an open alert."""
        return subject in self._runs

    def _zone(self, device: DeviceState, zone_id: int, inclusion: bool, times: np.ndarray, wrong: np.ndarray, sure: np.ndarray) -> None:
        ctx, p = self.ctx, self.ctx.policy
        subject = device.case.subject
        kind = AlertKind.INCLUSION_ZONE if inclusion else AlertKind.EXCLUSION_ZONE
        key = (subject, kind, zone_id)
        runs = self._runs.get(subject)
        run = runs.get(zone_id) if runs else None
        if not wrong.any() and run is None:
            return  # nothing wrong now, nothing open from before (an open alert keeps its run)
        if run is None:
            run = self._runs.setdefault(subject, {})[zone_id] = _Run()
        folded: dict[int, tuple[Alert, int]] = {}  # alert id -> (alert, fixes folded into it here)
        for i in range(len(times)):
            t = float(times[i])
            alert = ctx.book.open.get(key)
            confirmed = p.zone_use_accuracy and bool(sure[i])
            if not wrong[i]:
                run.length = 0
                if alert is None:
                    continue
                if run.right == 0:
                    run.right_start = t
                run.right += 1
                if run.exit is None and (confirmed or run.right >= p.zone_consecutive_fixes):
                    run.exit = run.right_start
                    if t < run.exit + p.zone_exit_fold_s:
                        # Closed by the fold window's end even if no fix comes; an upload's time
                        # later than the window, so held uploads draining late are in by then.
                        interval = device.fitted.report_interval_s
                        due = max(run.exit + p.zone_exit_fold_s + interval, ctx.now + interval)
                        ctx.timers.at(due, self._exit_due, (device, zone_id, kind, run, run.exit))
                if run.exit is not None and t >= run.exit + p.zone_exit_fold_s:
                    self._close(device, zone_id, kind, run)
                continue
            run.right = 0
            if run.length == 0:
                run.start = t
            run.length += 1
            if alert is not None:
                if run.exit is not None:
                    run.exit = None
                    ctx.book.note(alert, ctx.now, Reason.DEDUPLICATED, f"back in zone {zone_id} within {p.zone_exit_fold_s:.0f} s of leaving it")
                alert.count += 1
                folded[alert.id] = (alert, folded.get(alert.id, (alert, 0))[1] + 1)
            elif confirmed or run.length >= p.zone_consecutive_fixes:
                alert = ctx.book.new(subject, device.fitted.device, kind, Category.BREACH, Severity.HIGH, run.start)
                ctx.book.raise_(key, alert, ctx.now, f"zone {zone_id}: {run.length} fixes on the wrong side")
                self._remember_visit(subject, zone_id, run.start, math.inf)
        # One decision an upload, however many fixes it folded in.
        for alert, n in folded.values():
            ctx.book.note(alert, ctx.now, Reason.DEDUPLICATED, f"{n} more fixes on the wrong side of zone {zone_id}")
        self._forget_if_idle(subject, zone_id, key)

    def _close(self, device: DeviceState, zone_id: int, kind: AlertKind, run: _Run) -> None:
        assert run.exit is not None
        subject = device.case.subject
        alert = self.ctx.book.close((subject, kind, zone_id), self.ctx.now, run.exit, f"back on the right side of zone {zone_id}")
        if alert is not None:
            self._remember_visit(subject, zone_id, alert.event_time, run.exit)
        run.right, run.exit = 0, None

    def _exit_due(self, arg: tuple[DeviceState, int, AlertKind, _Run, float]) -> None:
        """The fold window after a confirmed exit is over, and an upload's time more: no fix has
        come back on the wrong side, so the alert closes even if the tag has gone quiet."""
        device, zone_id, kind, run, exit_at = arg
        subject = device.case.subject
        if self._runs.get(subject, {}).get(zone_id) is not run or run.exit != exit_at:
            return  # re-entered, or closed by a fix already
        self._close(device, zone_id, kind, run)
        self._forget_if_idle(subject, zone_id, (subject, kind, zone_id))

    def _forget_if_idle(self, subject: int, zone_id: int, key: tuple[int, AlertKind, int]) -> None:
        runs = self._runs[subject]
        if runs[zone_id].length == 0 and key not in self.ctx.book.open:
            del runs[zone_id]
            if not runs:
                del self._runs[subject]

    def _remember_visit(self, subject: int, zone_id: int, first: float, last: float) -> None:
        """Note a zone alert's span (an open one as ``first`` to inf, replaced when it closes)."""
        visits = self._visits.setdefault((subject, zone_id), [])
        for i, (start, end) in enumerate(visits):
            if start == first and end == math.inf:
                visits[i] = (first, last)
                break
        else:
            visits.append((first, last))
        horizon = self._newest_fix.get(subject, first) - self.ctx.policy.allowed_lateness_s
        visits[:] = [v for v in visits if v[1] >= horizon]

    def _late_visits(self, device: DeviceState, zones: ZoneArrays, newest: float, late: Verdicts) -> None:
        """Fixes older than the newest judged: each run of them on the wrong side of a zone that
        meets the opening confirmation, and that no zone alert covers, is a visit raised now,
        closed at once at the fix after it (or its last fix)."""
        ctx, p = self.ctx, self.ctx.policy
        horizon = newest - p.allowed_lateness_s
        if late.times[-1] < horizon:
            ctx.stats.unmerged_late += 1
            return
        ctx.stats.merged_late += 1
        for j in range(len(zones.ids)):
            if late.wrong[:, j].any():
                self._late_zone(device, int(zones.ids[j]), bool(zones.inclusion[j]), late.times, late.wrong[:, j], late.sure[:, j], horizon)

    def _late_zone(
        self, device: DeviceState, zone_id: int, inclusion: bool, times: np.ndarray, wrong: np.ndarray, sure: np.ndarray,
        horizon: float,
    ) -> None:
        """One zone's late fixes, some on the wrong side."""
        ctx, p = self.ctx, self.ctx.policy
        subject = device.case.subject
        kind = AlertKind.INCLUSION_ZONE if inclusion else AlertKind.EXCLUSION_ZONE
        edges = np.flatnonzero(np.diff(np.concatenate(([0], wrong.astype(np.int8), [0]))))
        for a, b in zip(edges[::2].tolist(), edges[1::2].tolist(), strict=True):
            if b - a < p.zone_consecutive_fixes and not (p.zone_use_accuracy and sure[a:b].any()):
                continue
            first, last = float(times[a]), float(times[b - 1])
            if last < horizon:
                continue  # beyond the allowed lateness: the visits it could belong to are let go
            # Covered by a known visit, or near enough that it would have folded into it.
            fold = p.zone_exit_fold_s
            if any(s - fold <= last and first <= e + fold for s, e in self._visits.get((subject, zone_id), ())):
                continue
            end = float(times[b]) if b < len(times) else last
            alert = ctx.book.new(subject, device.fitted.device, kind, Category.BREACH, Severity.HIGH, first)
            ctx.book.raise_closed(alert, ctx.now, end, f"zone {zone_id}: {b - a} late fixes on the wrong side")
            self._remember_visit(subject, zone_id, first, end)

    # --- status --------------------------------------------------------------------------

    def on_status(self, device: DeviceState, r: Telemetry) -> None:
        ctx = self.ctx
        flags, subject, dev = r.flags, device.case.subject, device.fitted.device
        if dev in self._heard_in:  # a late status still counts for its own day
            period = int(r.event_time // ctx.policy.charge_period_s)
            self._heard_in[dev].add(period)
            if flags & GPS_CHARGING:
                self._charged_in[dev][period] += 1
        if r.event_time < self._newest_status.get(dev, -math.inf):
            return  # older than the state already known: it cannot open or close a condition now
        self._newest_status[dev] = r.event_time
        device.battery_low = bool(flags & GPS_BATTERY_LOW)
        if not flags & _STATUS_CONDITIONS and dev not in self._no_fix_since and not self._status_alert_kept(subject, dev):
            return  # nothing reported and nothing open to close: most statuses, so they are let go here
        self._condition(device, r, AlertKind.GPS_BATTERY_LOW, bool(flags & GPS_BATTERY_LOW), Category.EQUIPMENT, Severity.LOW, f"battery {r.value:.0f}%")
        self._strap(device, r, bool(flags & GPS_STRAP_OPEN))
        self._no_fix(device, r, bool(flags & GPS_NO_FIX) and not flags & GPS_AT_REST)

    def _status_alert_kept(self, subject: int, dev: int) -> bool:
        """Whether any alert a status can close is open or held for the device."""
        open_, held = self.ctx.book.open, self.ctx.book.held
        for kind in _STATUS_KINDS:
            key = (subject, kind, dev)
            if key in open_ or key in held:
                return True
        return False

    def _no_fix(self, device: DeviceState, r: Telemetry, moving_blind: bool) -> None:
        """No fix while moving for the go-outside time and its grace is a breach."""
        ctx, dev = self.ctx, device.fitted.device
        subject = device.case.subject
        if not moving_blind:
            self._no_fix_since.pop(dev, None)
            ctx.book.close((subject, AlertKind.NO_FIX, dev), ctx.now, r.event_time, "fix again, or at rest")
            return
        since = self._no_fix_since.setdefault(dev, r.event_time)
        if r.event_time - since >= ctx.policy.go_outside_s + ctx.policy.go_outside_grace_s:
            self._condition(device, r, AlertKind.NO_FIX, True, Category.BREACH, Severity.LOW, f"no fix while moving since {since:.0f}", since)

    def _strap(self, device: DeviceState, r: Telemetry, open_: bool) -> None:
        """A strap opening is a breach, held for the tamper confirmation window first, as the
        base unit's tampers are: a strap seen closed again within it is a suspect sensor, filed
        as equipment. The tag sends an opening at once but a closing only with its next upload,
        so its window is the confirmation plus one upload interval. With no confirmation, it is
        raised at once."""
        ctx = self.ctx
        if ctx.policy.tamper_confirm_s <= 0:
            self._condition(device, r, AlertKind.GPS_STRAP, open_, Category.BREACH, Severity.HIGH, "strap open")
            return
        window = ctx.policy.tamper_confirm_s + device.fitted.report_interval_s
        key = (device.case.subject, AlertKind.GPS_STRAP, device.fitted.device)
        held = ctx.book.held.get(key)
        if open_:
            if ctx.book.fold(key, ctx.now, "strap open"):
                return
            if held is not None:
                held.count += 1
                held.decide(ctx.now, Reason.DEDUPLICATED, "strap still open")
                return
            alert = ctx.book.new(device.case.subject, device.fitted.device, AlertKind.GPS_STRAP, Category.BREACH,
                                 Severity.HIGH, r.event_time)
            ctx.book.hold(key, alert, ctx.now, f"confirmation window of {window:.0f} s")
            ctx.timers.at(max(r.event_time + window, ctx.now), self._confirm_strap, key)
            return
        if held is not None and r.event_time - held.event_time <= window:
            ctx.book.file_as_suspect(key, ctx.now, r.event_time, f"closed after {r.event_time - held.event_time:.0f} s: suspect sensor")
        elif held is not None:
            held.event_end = r.event_time  # still raised when the window ends, then closed
        else:
            ctx.book.close(key, ctx.now, r.event_time, "strap closed")

    def _confirm_strap(self, key: tuple[int, AlertKind, int]) -> None:
        ctx = self.ctx
        held = ctx.book.held.get(key)
        if held is not None:
            ctx.book.raise_(key, held, ctx.now, "not closed within the confirmation window")
            if held.event_end is not None:
                ctx.book.close(key, ctx.now, held.event_end, "strap closed")

    def _condition(
        self, device: DeviceState, r: Telemetry, kind: AlertKind, present: bool, category: Category,
        severity: Severity, note: str, began: float | None = None,
    ) -> None:
        """A condition a status reports: raised when it appears, folded while it lasts, closed when gone."""
        ctx = self.ctx
        key = ctx.key(device.case.subject, kind, device.fitted.device)
        if not present:
            if key is not None:
                ctx.book.close(key, ctx.now, r.event_time, f"{kind.value} cleared")
            return
        if key is not None and ctx.book.fold(key, ctx.now, note):
            return
        alert = ctx.book.new(device.case.subject, device.fitted.device, kind, category, severity, r.event_time if began is None else began)
        ctx.book.raise_(key, alert, ctx.now, note)

    def _charge_judged_at(self, device: DeviceState, period: int) -> float:
        """A period is judged once it is over and the allowed lateness (or the tag's silence
        threshold, if longer) more has passed: a status reported later than that is counted late."""
        assert device.silent_after is not None
        p = self.ctx.policy
        return (period + 1) * p.charge_period_s + max(device.silent_after, p.allowed_lateness_s)

    def _charge_due(self, arg: tuple[DeviceState, int]) -> None:
        """The published rule, "charge at least one hour a day" (gov.uk): a day (a period from
        midnight) in which the tag was heard but less charging than that was seen is a breach of
        it. The centre sees charging only in the status of each upload, so each charging status
        stands for one report interval on charge."""
        device, period = arg
        ctx, p = self.ctx, self.ctx.policy
        heard, charged = self._heard_in[device.fitted.device], self._charged_in[device.fitted.device]
        start = period * p.charge_period_s
        seen_s = charged[period] * device.fitted.report_interval_s
        if period in heard and seen_s < p.charge_min_s:
            alert = ctx.book.new(device.case.subject, device.fitted.device, AlertKind.NOT_CHARGING, Category.BREACH, Severity.LOW, start)
            ctx.book.raise_(None, alert, ctx.now, f"{seen_s / 60:.0f} min on charge seen in the day from {start:.0f}")
        heard.difference_update([q for q in heard if q <= period])
        for q in [q for q in charged if q <= period]:
            del charged[q]
        ctx.timers.at(self._charge_judged_at(device, period + 1), self._charge_due, (device, period + 1))
