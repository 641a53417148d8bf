"""The monitoring centre: operators on a rota taking alerts in priority order (SimPy).

Alerts arrive at the times they were raised. An alert whose incident (one subject, one
breach family or category) already has an item waiting or in hand joins it: the operator with
the case handles it too, for ``join_minutes`` more. Any other alert opens an item, which waits
in one queue, highest priority first and, within a priority, oldest first. An operator at a
desk takes the next item and works it: the check (the head alert's handling time), a call to
the subject for the share of items that need one, the notice to probation or the police for
a confirmed breach; at its end a share of items ask for a field visit. An alert of a higher
priority interrupts an item of a ``preemptible`` class when no operator is free; the item goes
back to the queue with the work it has left. An operator whose shift ends stays on to finish
the item in hand (no longer interruptible) while the next shift's operator takes the desk;
a desk the shift does not staff takes nothing.

Every draw is made up front, one row an alert in arrival order: two rosters give each alert
the same handling and the same outcome, so they differ only by their staff.
"""

from __future__ import annotations

import heapq
import math
from dataclasses import dataclass

import numpy as np
import simpy

from sim.operations.centre.arrivals import CentreArrivals
from sim.operations.centre.params import CLASS_NAMES, CentreParams, Outcome
from sim.operations.handling import quantiles
from sim.operations.rota import MINUTE_S
from sim.operations.steps import time_average

NO_VISIT = -1
# Work left below this is done: float time cannot always step by less.
EPSILON_S = 1e-6
# The columns of the up-front draws, one row an alert.
_HANDLING, _CALL, _VISIT, _CALL_TIME, _NOTICE_TIME = range(5)


@dataclass(frozen=True)
class CentreRun:
    """Every alert's passage through the centre, by arrival order, every item's (an incident's
    alerts handled together), and the queue's history.

    Per alert: ``start`` is when its item was first taken up (its arrival, for one that joined
    an item in hand), ``end`` when the item was done; nan for one not reached (or not done) when
    the run ended. Per item: ``item_arrival`` is its first alert's arrival, ``item_queued_s`` its
    time waiting in the queue in all (again after an interruption), ``item_visit`` the field job
    it asked for (an index into ``visit_jobs``, ``NO_VISIT`` for none). ``queue_steps`` is the
    number of items waiting after each change, at ``queue_times``."""

    arrival: np.ndarray  # s
    klass: np.ndarray  # index into CLASS_NAMES
    start: np.ndarray
    end: np.ndarray
    item: np.ndarray  # the item each alert was handled in; -1 for one that arrived at or after the horizon
    item_arrival: np.ndarray
    item_start: np.ndarray
    item_end: np.ndarray
    item_queued_s: np.ndarray
    item_work_s: np.ndarray  # the work it needed: the check, a minute for each alert that joined, a call, a notice
    item_klass: np.ndarray  # its best-priority alert's class
    item_subject: np.ndarray
    item_confirmed: np.ndarray
    item_called: np.ndarray
    item_notified: np.ndarray
    item_visit: np.ndarray
    visit_jobs: tuple[str, ...]
    interruptions: int
    waiting_at_end: int  # items in the queue when the run ended
    queue_times: np.ndarray
    queue_steps: np.ndarray
    busy_s: float  # operator-seconds spent working items, up to the horizon
    desk_s: float  # operator-seconds at a desk by the rota, up to the horizon (time staying on to finish is not in it)
    horizon: float

    @property
    def wait(self) -> np.ndarray:
        """Arrival to take-up, s; for one still waiting at the horizon, the wait so far."""
        return np.where(np.isnan(self.start), self.horizon - self.arrival, self.start - self.arrival)

    def mean_queue(self) -> float:
        """The time-average number of items waiting over the run."""
        return time_average(self.queue_times, self.queue_steps, self.horizon)

    def visits(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """The field visits asked for: when (the item's end), which job (into ``visit_jobs``) and
        for which subject, in time order."""
        asked = (self.item_visit != NO_VISIT) & ~np.isnan(self.item_end)
        order = np.argsort(self.item_end[asked], kind="stable")
        return self.item_end[asked][order], self.item_visit[asked][order], self.item_subject[asked][order]


def simulate_centre(arrivals: CentreArrivals, params: CentreParams, horizon: float, rng: np.random.Generator) -> CentreRun:
    """Feed the alerts (arrival times in s from midnight of the run's first day, sorted) to the
    centre until ``horizon``; every alert's draws come from ``rng``, in arrival order."""
    arrival = arrivals.time
    if len(arrival) and (np.any(np.diff(arrival) < 0) or arrival[0] < 0):
        raise ValueError("arrival times must be sorted and not negative")
    return _Centre(arrivals, params, horizon, rng).run()


WAITING, WORKING, DONE = range(3)


class _Item:
    """An incident's alerts, handled together."""

    __slots__ = ("index", "head", "alerts", "klass", "priority", "arrival", "confirmed", "work", "done", "called",
                 "notified", "state", "started", "ended", "queued_s", "queued_at", "resumed_at")

    def __init__(self, index: int, head: int, klass: int, priority: int, arrival: float, confirmed: bool,
                 desk_s: float) -> None:
        self.index, self.head, self.alerts = index, head, [head]
        self.klass, self.priority, self.arrival, self.confirmed = klass, priority, arrival, confirmed
        self.work, self.done = desk_s, 0.0  # s of work it needs so far, and has had
        self.called = self.notified = False
        self.state = WAITING
        self.started = self.ended = math.nan
        self.queued_s, self.queued_at, self.resumed_at = 0.0, arrival, math.nan


class _Centre:
    def __init__(self, arrivals: CentreArrivals, params: CentreParams, horizon: float, rng: np.random.Generator) -> None:
        self.env = simpy.Environment()
        self.a, self.horizon, self.rota = arrivals, horizon, params.rota
        classes = [params.classes.by_name()[name] for name in CLASS_NAMES]
        self.priority = [c.priority for c in classes]
        self.preemptible = [c.preemptible for c in classes]
        self.outcomes: list[tuple[Outcome, Outcome]] = [(c.unconfirmed, c.confirmed) for c in classes]
        self.visit_jobs = tuple(sorted({c.visit_job for c in classes if c.visit_job}))
        self.visit_job = [self.visit_jobs.index(c.visit_job) if c.visit_job else NO_VISIT for c in classes]
        self.join_s = params.incidents.join_minutes * MINUTE_S
        n = len(arrivals)
        # Drawn up front, one row an alert by arrival: two rosters, or two runs of the same
        # alerts, give each alert the same times and outcomes, so they differ only by their staff.
        u = rng.random((n, 5))
        one_kind = np.zeros(n, np.int64)
        self.desk_s = quantiles(u[:, _HANDLING], arrivals.klass, [c.handling for c in classes])
        self.call_s = quantiles(u[:, _CALL_TIME], one_kind, [params.call.handling])
        self.notice_s = quantiles(u[:, _NOTICE_TIME], one_kind, [params.notification.handling])
        self.u_call, self.u_visit = u[:, _CALL], u[:, _VISIT]
        self.start = np.full(n, np.nan)
        self.item_of = np.full(n, -1, dtype=np.int64)
        self.items: list[_Item] = []
        self.open: dict[int, _Item] = {}  # incident -> its item until the item is done
        self.waiting: list[tuple[int, float, int, _Item]] = []  # (priority, arrival, index, item); stale entries skipped
        self.queued = 0
        self.idle: list[simpy.Event] = []  # desks staffed with nothing to do
        # desk -> the item it works and may be interrupted in, and the shift change it works until
        self.in_hand: dict[int, tuple[_Item, float]] = {}
        self.desks: list[simpy.Process] = []
        self.queue_times, self.queue_steps = [0.0], [0]
        self.busy_s = 0.0
        self.interruptions = 0

    def run(self) -> CentreRun:
        self.env.process(self._arrivals())
        self.desks = [self.env.process(self._desk(d)) for d in range(max(self.rota.at_work))]
        self.env.run(until=self.horizon)
        for item in self.items:  # work under way at the horizon counts up to it, waiting too
            if item.state == WORKING:
                self.busy_s += self.horizon - item.resumed_at
            elif item.state == WAITING:
                item.queued_s += self.horizon - item.queued_at
        return self._result()

    # The queue

    def _push(self, item: _Item) -> None:
        item.state, item.queued_at = WAITING, self.env.now
        heapq.heappush(self.waiting, (item.priority, item.arrival, item.index, item))
        self.queued += 1
        self._queue_changed()

    def _pop(self) -> _Item:
        while True:
            priority, _, _, item = heapq.heappop(self.waiting)
            if priority == item.priority and item.state == WAITING:
                break  # not an entry left behind by a change of priority
        item.state = WORKING
        self.queued -= 1
        item.queued_s += self.env.now - item.queued_at
        self._queue_changed()
        for i in item.alerts:  # those that joined it while it waited are taken up with it
            if math.isnan(self.start[i]):
                self.start[i] = self.env.now
        if math.isnan(item.started):
            item.started = self.env.now
        return item

    def _queue_changed(self) -> None:
        self.queue_times.append(self.env.now)
        self.queue_steps.append(self.queued)

    # Arrivals

    def _arrivals(self):  # type: ignore[no-untyped-def]
        env, a = self.env, self.a
        for i, t in enumerate(a.time.tolist()):
            if t >= self.horizon:
                return
            if t > env.now:
                yield env.timeout(t - env.now)
            item = self.open.get(int(a.incident[i]))
            if item is None:
                self._open(i)
            else:
                self._join(item, i)

    def _open(self, i: int) -> None:
        a = self.a
        klass = int(a.klass[i])
        item = _Item(len(self.items), i, klass, self.priority[klass], float(a.time[i]), bool(a.confirmed[i]),
                     float(self.desk_s[i]))
        self.items.append(item)
        self.open[int(a.incident[i])] = item
        self.item_of[i] = item.index
        self._follow_up(item)
        self._push(item)
        self._wake_for(item.priority)

    def _join(self, item: _Item, i: int) -> None:
        klass = int(self.a.klass[i])
        item.alerts.append(i)
        self.item_of[i] = item.index
        item.confirmed |= bool(self.a.confirmed[i])
        item.work += self.join_s
        if item.state == WORKING:
            self.start[i] = self.env.now  # the operator on the case has it at once
        if self.priority[klass] < item.priority:
            item.klass, item.priority = klass, self.priority[klass]
            if item.state == WAITING:  # queued again at its new priority (the old entry goes stale), as if new
                heapq.heappush(self.waiting, (item.priority, item.arrival, item.index, item))
                self._wake_for(item.priority)
        self._follow_up(item)

    def _wake_for(self, priority: int) -> None:
        """A free operator takes up the new work; with none free, it may interrupt one."""
        if self.idle:
            self.idle.pop(0).succeed()
        else:
            self._interrupt_for(priority)

    def _interrupt_for(self, priority: int) -> None:
        """With every operator busy, leave the worst interruptible item in hand of a lower
        priority than ``priority`` for the new one."""
        now = self.env.now
        # Not an item whose shift ends this instant: its operator stays on to finish it.
        candidates = [(item.priority, item.resumed_at, desk) for desk, (item, until) in self.in_hand.items()
                      if item.priority > priority and self.preemptible[item.klass] and until > now]
        if candidates:
            _, _, desk = max(candidates)
            del self.in_hand[desk]
            self.desks[desk].interrupt()
            self.interruptions += 1

    # Work

    def _follow_up(self, item: _Item) -> None:
        """The steps after the check that the item's alerts so far call for (the truth of each
        alert is what the check finds): once decided, a call or a notice is made (a later alert
        never takes one back)."""
        outcome = self.outcomes[item.klass][item.confirmed]
        head = item.head
        if not item.called and self.u_call[head] < outcome.call:
            item.called, item.work = True, item.work + self.call_s[head]
        if not item.notified and outcome.notify:
            item.notified, item.work = True, item.work + self.notice_s[head]

    def _desk(self, desk: int):  # type: ignore[no-untyped-def]
        """Desk ``desk`` is staffed on the shifts that have more than ``desk`` operators at work."""
        env, rota = self.env, self.rota
        while True:
            change = min(rota.next_change(env.now), self.horizon)
            if rota.at_work[rota.shift_at(env.now)] <= desk:
                if self.queued and self.idle:  # woken at the very change that took this desk off: pass it on
                    self.idle.pop(0).succeed()
                yield env.timeout(change - env.now)
            elif not self.queued:
                woken = env.event()
                self.idle.append(woken)
                yield woken | env.timeout(change - env.now)
                if not woken.triggered:
                    self.idle.remove(woken)
            else:
                item = self._pop()
                left = yield from self._work(item, until=change, desk=desk)
                if left == "shift":  # the leaving operator stays on to finish it
                    env.process(self._work(item, until=math.inf, desk=None))

    def _work(self, item: _Item, until: float, desk: int | None):  # type: ignore[no-untyped-def]
        """Work ``item`` until it is done ("done"), the shift ends ("shift") or, at a staffed
        desk, a higher priority interrupts it ("interrupted": back to the queue). Its work may
        grow meanwhile, as alerts join it."""
        env = self.env
        item.resumed_at = env.now
        if desk is not None:
            self.in_hand[desk] = (item, until)
        interrupted = False
        try:
            while (left := item.work - item.done - (env.now - item.resumed_at)) > EPSILON_S and env.now < until:
                yield env.timeout(min(left, until - env.now))
        except simpy.Interrupt:
            interrupted = True
        if desk is not None and self.in_hand.get(desk, (None,))[0] is item:
            del self.in_hand[desk]
        self._pause(item)
        if item.work - item.done > EPSILON_S:
            if interrupted:
                self._push(item)
                return "interrupted"
            return "shift"
        item.state, item.ended = DONE, env.now
        del self.open[int(self.a.incident[item.head])]
        return "done"

    def _pause(self, item: _Item) -> None:
        spent = self.env.now - item.resumed_at
        item.done += spent
        self.busy_s += spent
        item.resumed_at = math.nan

    def _result(self) -> CentreRun:
        items = self.items
        item_end = np.array([it.ended for it in items], dtype=float)
        end = np.full(len(self.item_of), np.nan)
        reached = self.item_of >= 0
        end[reached] = item_end[self.item_of[reached]]
        visit = np.full(len(items), NO_VISIT, dtype=np.int64)
        for it in items:
            if it.state == DONE and self.u_visit[it.head] < self.outcomes[it.klass][it.confirmed].visit:
                visit[it.index] = self.visit_job[it.klass]
        return CentreRun(
            arrival=self.a.time, klass=self.a.klass, start=self.start, end=end, item=self.item_of,
            item_arrival=np.array([it.arrival for it in items], dtype=float),
            item_start=np.array([it.started for it in items], dtype=float), item_end=item_end,
            item_queued_s=np.array([it.queued_s for it in items], dtype=float),
            item_work_s=np.array([it.work for it in items], dtype=float),
            item_klass=np.array([it.klass for it in items], dtype=np.int64),
            item_subject=self.a.subject[[it.head for it in items]],
            item_confirmed=np.array([it.confirmed for it in items], dtype=bool),
            item_called=np.array([it.called for it in items], dtype=bool),
            item_notified=np.array([it.notified for it in items], dtype=bool),
            item_visit=visit, visit_jobs=self.visit_jobs, interruptions=self.interruptions,
            waiting_at_end=sum(it.state == WAITING for it in items),
            queue_times=np.array(self.queue_times), queue_steps=np.array(self.queue_steps), busy_s=self.busy_s,
            desk_s=self.rota.work_seconds(self.horizon), horizon=self.horizon)
