"""Curfew: absence in a curfew window, a whole window missed, and lateness summed per order.

Presence comes from the base unit's leave and return events, in event time.
An absence inside a curfew window is held for the grace period, then raised;
a return within grace dismisses it. A subject away for a whole window has
missed that curfew. Absent time in curfew beyond grace adds to the order's
running lateness: a warning at one threshold, escalated at the next
(HMI Probation's 2 h and 4 h by default). An absence that a known cause
explains (a reboot: the unit has not yet heard its tag) is filed as equipment
and names the cause (``sim.detector.inhibit``); mains loss is no such cause, since a
unit on battery still hears. With tracking off, ``rules.raw.RawCurfewRule`` stands in.
"""

from __future__ import annotations

import bisect
import math
from dataclasses import dataclass, field

from sim.detector.alerts import Alert, AlertKind, Category, Reason, Severity
from sim.detector.context import RuleContext
from sim.detector.state import DeviceState
from sim.detector.telemetry import Telemetry


@dataclass(slots=True)
class _Presence:
    away_since: float | None = None  # event time of the leave now in force
    unit: DeviceState | None = None
    latest: float = -math.inf  # event time of the newest presence record applied
    # (event time, is a leave) of every presence record within the allowed lateness of the
    # newest, in time order: where a late record is merged, and what "away then?" reads.
    history: list[tuple[float, bool]] = field(default_factory=list)
    lateness: float = 0.0  # the order's summed absence in curfew, seconds
    counted_to: float = -math.inf  # absence before this is already in ``lateness``
    missed: set[float] = field(default_factory=set)  # starts of windows already called missed
    window: tuple[float, float] | None = None  # the window the current absence is judged in
    absence: int = 0  # counts absences, so a timer set for an earlier one does nothing
    # Past grace, but the absence began before the window and the unit has not reported since
    # the window began: a return before curfew is no violation, so the unit may be holding it.
    awaiting_unit: bool = False


class CurfewRule:
    def __init__(self, ctx: RuleContext) -> None:
        self.ctx = ctx
        self.state: dict[int, _Presence] = {}

    # --- records ------------------------------------------------------------------

    def on_leave(self, unit: DeviceState, r: Telemetry) -> None:
        ctx = self.ctx
        ctx.base_units.observe(unit, r)  # the leave says too whether the unit is on its backup battery
        subject = unit.case.subject
        st = self.state.setdefault(subject, _Presence())
        if r.event_time < st.latest:
            self._late_leave(subject, st, unit, r.event_time)
            return
        self._note(st, r.event_time, True)
        if st.away_since is None:
            st.away_since, st.unit, st.window = r.event_time, unit, None
            st.absence += 1
            self._judge((subject, st.absence))

    def on_return(self, unit: DeviceState, r: Telemetry) -> None:
        ctx = self.ctx
        subject = unit.case.subject
        st = self.state.setdefault(subject, _Presence())
        if r.event_time < st.latest:
            # A late return cannot undo an alert already raised; it is kept so that a later
            # question about presence then ("was the tag away?") reads it.
            if self._merge(st, r.event_time, False):
                bisect.insort(st.history, (r.event_time, False))
            return
        self._note(st, r.event_time, False)
        if st.away_since is None:
            return
        away, back = st.away_since, r.event_time
        st.away_since = None
        self.ctx.base_units.absence_revealed(subject, away, back)
        book, now = self.ctx.book, self.ctx.now
        key = (subject, AlertKind.CURFEW_ABSENCE, 0)
        held = book.held.get(key)
        if held is not None and back - held.event_time <= self.ctx.policy.curfew_grace_s:
            book.dismiss(key, now, f"back {back - held.event_time:.0f} s into curfew, within grace")
        else:
            if held is not None:  # away past grace in event time; the records came late together
                book.raise_(key, held, now, "absent in curfew past grace")
            book.close(key, now, back, "tag returned")
        self._missed_between(subject, away, back, unit)
        self._count_lateness(subject, away, back)

    # --- presence history ----------------------------------------------------------------

    def _note(self, st: _Presence, t: float, leave: bool) -> None:
        """A presence record at or after the newest: appended, and the history beyond the
        allowed lateness let go (the newest before that horizon still says what held then)."""
        st.latest = t
        st.history.append((t, leave))
        horizon = t - self.ctx.policy.allowed_lateness_s
        if len(st.history) > 2 and st.history[1][0] < horizon:
            del st.history[: bisect.bisect_left(st.history, (horizon,)) - 1]

    def _merge(self, st: _Presence, t: float, leave: bool) -> bool:
        """Whether a record older than the newest may be merged into the history: counted either way."""
        stats = self.ctx.stats
        if t < st.latest - self.ctx.policy.allowed_lateness_s:
            stats.unmerged_late += 1
            return False
        stats.merged_late += 1
        return True

    def _late_leave(self, subject: int, st: _Presence, unit: DeviceState, t: float) -> None:
        """A leave older than the newest presence record (resent after a loss, so arriving
        after its own return): merged into the history, and the absence it reveals judged now.
        That absence runs to the next presence record; it is new only if the tag was thought
        present just before the leave (after another leave it was already away)."""
        if not self._merge(st, t, True):
            return
        i = bisect.bisect_right(st.history, (t, True))
        st.history.insert(i, (t, True))
        if i > 0 and st.history[i - 1][1]:
            return  # away already: nothing new
        back, leave_again = st.history[i + 1]
        if leave_again and st.away_since == back:
            st.away_since = t  # the absence still open began earlier: judged from then when it ends
            return
        self._judge_past_absence(subject, unit, t, back)
        self.ctx.base_units.absence_revealed(subject, t, back)
        self._missed_between(subject, t, back, unit)
        self._count_lateness(subject, t, back, already_counted=False)

    def _judge_past_absence(self, subject: int, unit: DeviceState, away: float, back: float) -> None:
        """An absence that is over, learnt late: each curfew window it broke past grace is an
        alert raised now, with its own event times, and closed at once."""
        ctx = self.ctx
        cause = ctx.inhibitor.explain(AlertKind.CURFEW_ABSENCE, unit, away)
        for w_start, w_end in ctx.subjects[subject].case.curfew_windows(away, back):
            start, end = max(away, w_start), min(back, w_end)
            if end - start <= ctx.policy.curfew_grace_s:
                continue
            alert = ctx.book.new(subject, unit.fitted.device, AlertKind.CURFEW_ABSENCE, Category.BREACH, Severity.MEDIUM, start)
            if cause:
                ctx.inhibitor.file_before_raising(alert, ctx.now, cause)
            ctx.book.raise_closed(alert, ctx.now, end, f"a late leave: away {end - start:.0f} s in curfew, past grace")

    def away_during(self, subject: int, start: float, end: float) -> float | None:
        """The event time of the leave of an absence overlapping [start, end], as the presence
        records received so far tell; None if the tag was present throughout."""
        st = self.state.get(subject)
        if st is None:
            return None
        i = bisect.bisect_right(st.history, (end, True))  # records at or before ``end``
        for t, leave in reversed(st.history[:i]):
            if leave:
                return t  # the tag left at t and had not come back by ``end``, or came back after ``start``
            if t < start:
                return None  # back before ``start``: present from then on to ``end``
        return None

    # --- judging an absence -----------------------------------------------------------

    def _judge(self, arg: tuple[int, int]) -> None:
        """Hold, raise or wait for the absence now in force; sets the timer for what is next."""
        subject, absence = arg
        ctx, st = self.ctx, self.state[subject]
        if st.away_since is None or st.absence != absence:
            return
        case = ctx.subjects[subject].case
        window = case.next_window(max(st.away_since, st.counted_to))
        if window is None:
            return
        start = max(st.away_since, window[0])
        due = start + ctx.policy.curfew_grace_s
        key = (subject, AlertKind.CURFEW_ABSENCE, 0)
        if ctx.now < start:
            ctx.timers.at(start, self._judge, arg)
            return
        st.window = window
        if due >= window[1]:
            # Less of this window is left than the grace: no breach in it; judge the next one.
            ctx.timers.at(window[1], self._window_over, (subject, absence, window))
            return
        if key not in ctx.book.open and key not in ctx.book.held:
            alert = self._absence_alert(subject, st, start)
            ctx.book.hold(key, alert, ctx.now, f"grace of {ctx.policy.curfew_grace_s:.0f} s")
            # Judged when grace ends; a leave received late, once the records received with it are in.
            ctx.timers.at(max(due, ctx.now), self._judge, arg)
            return
        if key in ctx.book.held:
            if ctx.now < due:
                ctx.timers.at(due, self._judge, arg)
                return
            assert st.unit is not None
            if st.away_since < window[0] and st.unit.power_known_at < window[0]:
                # Wait for the unit's first report from the window on (it sends what it holds in
                # order, the return first), or, if it is silent, for a report interval past grace.
                latest = due + st.unit.fitted.report_interval_s + ctx.policy.curfew_grace_s
                if ctx.now < latest:
                    if not st.awaiting_unit:
                        st.awaiting_unit = True
                        ctx.timers.at(latest, self._judge, arg)
                    return
            st.awaiting_unit = False
            ctx.book.raise_(key, ctx.book.held[key], ctx.now, "absent in curfew past grace")
        ctx.timers.at(window[1], self._window_over, (subject, absence, window))

    def unit_reported(self, unit: DeviceState) -> None:
        """The unit reported (any record, in event time the newest): an absence waiting for
        word from it since its window began is judged now."""
        st = self.state.get(unit.case.subject)
        if st is not None and st.awaiting_unit and st.window is not None and unit.power_known_at >= st.window[0]:
            self._judge((unit.case.subject, st.absence))

    def _absence_alert(self, subject: int, st: _Presence, start: float) -> Alert:
        assert st.unit is not None
        ctx = self.ctx
        cause = ctx.inhibitor.explain(AlertKind.CURFEW_ABSENCE, st.unit, st.away_since if st.away_since is not None else start)
        alert = ctx.book.new(subject, st.unit.fitted.device, AlertKind.CURFEW_ABSENCE, Category.BREACH, Severity.MEDIUM, start)
        if cause:
            ctx.inhibitor.file_before_raising(alert, ctx.now, cause)
        return alert

    def _window_over(self, arg: tuple[int, int, tuple[float, float]]) -> None:
        subject, absence, window = arg
        st = self.state[subject]
        if st.away_since is None or st.absence != absence or st.window != window:
            return
        self._missed_between(subject, st.away_since, window[1], st.unit)
        self._count_lateness(subject, st.away_since, window[1])
        self.ctx.book.close((subject, AlertKind.CURFEW_ABSENCE, 0), self.ctx.now, window[1], "curfew window over, still away")
        st.window = None
        self._judge((subject, absence))  # the absence goes on into the next window, if there is one

    def _missed_between(self, subject: int, away: float, back: float, unit: DeviceState | None) -> None:
        ctx, st = self.ctx, self.state[subject]
        for start, end in ctx.subjects[subject].case.curfew_windows(away, back):
            if away <= start and end <= back and start not in st.missed:
                st.missed.add(start)
                alert = ctx.book.new(subject, unit.fitted.device if unit else 0, AlertKind.CURFEW_MISSED, Category.BREACH, Severity.HIGH, start)
                cause = ctx.inhibitor.explain(AlertKind.CURFEW_MISSED, unit, away) if unit else None
                if cause:
                    ctx.inhibitor.file_before_raising(alert, ctx.now, cause)
                ctx.book.raise_(None, alert, ctx.now, "away for the whole curfew window")

    # --- lateness ------------------------------------------------------------------------

    def _count_lateness(self, subject: int, away: float, back: float, already_counted: bool = True) -> None:
        """Add an absence's time in curfew past grace to the running lateness. Absences come in
        time order, so what is before ``counted_to`` is counted already; one learnt late (not
        ``already_counted``) was thought present time and is counted whole."""
        ctx, st = self.ctx, self.state[subject]
        start = max(away, st.counted_to) if already_counted else away
        added = 0.0
        for w_start, w_end in ctx.subjects[subject].case.curfew_windows(start, back):
            overlap = min(back, w_end) - max(start, w_start)
            if overlap > ctx.policy.curfew_grace_s:
                added += overlap
        st.counted_to = max(st.counted_to, back)
        if added <= 0 or (st.unit and ctx.inhibitor.explain(AlertKind.CURFEW_LATENESS, st.unit, away)):
            return
        st.lateness += added
        self._lateness_thresholds(subject, st, back)

    def _lateness_thresholds(self, subject: int, st: _Presence, at: float) -> None:
        """Warn or escalate on the running lateness, which reached its total at event time ``at``."""
        ctx, p = self.ctx, self.ctx.policy
        key = (subject, AlertKind.CURFEW_LATENESS, 0)
        alert = ctx.book.open.get(key)
        total = f"{st.lateness / 3600:.2f} h late in curfew so far"
        if alert is None:
            if st.lateness < p.lateness_warning_s:
                return
            alert = ctx.book.new(subject, st.unit.fitted.device if st.unit else 0, AlertKind.CURFEW_LATENESS, Category.BREACH, Severity.MEDIUM, at)
            ctx.book.raise_(key, alert, ctx.now, f"warning: {total}")
        else:
            ctx.book.fold(key, ctx.now, total)
        if st.lateness >= p.lateness_escalation_s and alert.severity < Severity.HIGH:
            alert.severity = Severity.HIGH
            ctx.book.note(alert, ctx.now, Reason.ESCALATED, f"{total}, over {p.lateness_escalation_s / 3600:.1f} h")
