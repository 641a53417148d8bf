"""The staffing answer: the fewest operators and field officers, shift by shift, that hold every
deadline at a stated service level, found by simulating the service on a policy's own alerts.

Erlang C gives the first guess. The search simulates rosters: first the same count on every
shift, doubling up from the guess until one holds and halving the gap down to the fewest that
do; then each shift in turn, the fewest it needs with the others held (a night needs fewer
than a day), until no shift can lose anyone. Every roster is simulated with the same draws, so
two rosters differ only by their staff. The centre is searched first; the field force is then
searched on the visits asked for by the centre at its answer.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from sim.operations.centre.arrivals import CentreArrivals
from sim.operations.centre.measures import centre_measures
from sim.operations.centre.params import CentreParams, with_operators
from sim.operations.erlang import servers_for
from sim.operations.field.jobs import FieldJobs
from sim.operations.field.measures import field_measures
from sim.operations.field.params import FieldParams, with_officers
from sim.operations.rota import HOUR_S, MINUTE_S, Rota, with_shrinkage
from sim.operations.service import Caseload, field_jobs, run_centre, run_field
from sim.seeds import ParamsError

MOST_STAFF = 100_000  # a shift past this is no answer: the search stops and says so
MEAN_DISTANCE_IN_A_SQUARE = 0.5214  # between two points uniform in a unit square


@dataclass(frozen=True)
class StaffingAnswer:
    """``staff`` rostered on each shift (None if no roster up to ``MOST_STAFF`` a shift holds),
    the Erlang C first guess (the same on every shift), every roster tried with whether it held,
    and the measures of the answer."""

    staff: tuple[int, ...] | None
    erlang_guess: int
    tried: list[tuple[tuple[int, ...], bool]]
    measures: dict[str, Any] | None


def fewest_operators(arrivals: CentreArrivals, params: CentreParams, caseload: Caseload, share: float) -> StaffingAnswer:
    """The fewest operators on each shift for which every alert class with alerts has at least
    ``share`` of them taken up within its deadline, and as large a share of the genuine breaches
    notified within the notification deadline."""
    _check_share(share)

    def measure(staff: tuple[int, ...]) -> dict[str, Any]:
        roster = with_operators(params, staff)
        return centre_measures(run_centre(arrivals, roster, caseload), roster, arrivals.genuine)

    def holds(m: dict[str, Any]) -> bool:
        shares = [c["within_deadline_share"] for c in m["classes"].values()] + [m["notification"]["within_deadline_share"]]
        return all(s is None or s >= share for s in shares)

    return _search(measure, holds, params.rota, centre_guess(arrivals, params, caseload.horizon, share))


def fewest_officers(jobs: FieldJobs, params: FieldParams, caseload: Caseload, share: float) -> StaffingAnswer:
    """The fewest field officers on each shift for which every kind of job has at least
    ``share`` of its jobs reached within its deadline and the backlog drains; ``jobs`` are the
    order flow's and the centre's visits (``sim.operations.service.field_jobs``)."""
    _check_share(share)

    def measure(staff: tuple[int, ...]) -> dict[str, Any]:
        roster = with_officers(params, staff)
        return field_measures(run_field(jobs, roster, caseload), roster, caseload.subjects)

    def holds(m: dict[str, Any]) -> bool:
        return m["overloaded"] is not True and all(j["within_deadline_share"] is None or j["within_deadline_share"] >= share
                                           for j in m["by_job"].values())

    return _search(measure, holds, params.rota, field_guess(jobs, params, caseload, share))


def centre_guess(arrivals: CentreArrivals, params: CentreParams, horizon: float, share: float) -> int:
    """Operators to roster a shift by Erlang C: the run's mean arrival rate and mean desk
    handling time, the tightest take-up deadline among the classes that have alerts, and the
    rota's shrinkage."""
    arrived = arrivals.time < horizon
    klass = arrivals.klass[arrived]
    if not len(klass):
        return params.rota.least_rostered
    handling = np.array(params.classes.mean_handling_s())[klass].mean()
    deadline = float(np.array(params.classes.deadlines_s())[np.unique(klass)].min())
    at_work = servers_for(len(klass) / horizon, float(handling), deadline, share)
    return max(with_shrinkage(at_work, params.rota.shrinkage), params.rota.least_rostered)


def field_guess(jobs: FieldJobs, params: FieldParams, caseload: Caseload, share: float) -> int:
    """Officers to roster a shift by Erlang C: the jobs' mean rate, their mean time on site and
    the mean drive between two places of an area, the tightest deadline among the kinds that
    have jobs, the rota's shrinkage; at least an officer at work in every area."""
    least = with_shrinkage(params.areas.count, params.rota.shrinkage)
    if not len(jobs):
        return least
    kinds = [params.jobs[name] for name in params.job_names]
    on_site = np.array([k.on_site.mean_minutes * MINUTE_S for k in kinds])[jobs.kind].mean()
    side = 2 * caseload.town_radius_m / params.areas.grid
    drive = params.travel.seconds(MEAN_DISTANCE_IN_A_SQUARE * side, caseload.town_radius_m)
    deadline = min(kinds[k].deadline_hours * HOUR_S for k in np.unique(jobs.kind))
    at_work = servers_for(len(jobs) / caseload.horizon, float(on_site) + drive, deadline, share)
    return max(with_shrinkage(at_work, params.rota.shrinkage), least)


def _search(measure: Callable[[tuple[int, ...]], dict[str, Any]], holds: Callable[[dict[str, Any]], bool], rota: Rota,
            guess: int) -> StaffingAnswer:
    shifts = len(rota.staff)
    tried: dict[tuple[int, ...], dict[str, Any]] = {}
    refused: set[tuple[int, ...]] = set()  # rosters the rota or the areas refuse: too few to cover

    def ok(staff: tuple[int, ...]) -> bool:
        if staff in refused:
            return False
        if staff not in tried:
            try:
                tried[staff] = measure(staff)
            except ParamsError:  # this roster leaves a shift or an area uncovered
                refused.add(staff)
                return False
        return holds(tried[staff])

    def answer(staff: tuple[int, ...] | None) -> StaffingAnswer:
        listed = [(s, holds(m)) for s, m in sorted(tried.items())]
        return StaffingAnswer(staff, guess, listed, tried[staff] if staff else None)

    low, high = 1, max(guess, 1)
    while not ok((high,) * shifts):
        if high >= MOST_STAFF:
            return answer(None)
        low, high = high + 1, min(2 * high, MOST_STAFF)
    high = _least(lambda n: ok((n,) * shifts), low, high)
    staff = [high] * shifts
    changed = True
    while changed:
        changed = False
        for i in range(shifts):
            fewest = _least(lambda n: ok(tuple(staff[:i] + [n] + staff[i + 1 :])), 1, staff[i])
            changed |= fewest != staff[i]
            staff[i] = fewest
    return answer(tuple(staff))


def _least(ok: Callable[[int], bool], low: int, high: int) -> int:
    """The least n in [low, high] for which ``ok(n)`` holds, given that ``ok(high)`` does."""
    while low < high:
        middle = (low + high) // 2
        if ok(middle):
            high = middle
        else:
            low = middle + 1
    return high


def _check_share(share: float) -> None:
    if not 0 < share < 1:
        raise ValueError(f"the service level must lie between 0 and 1, got {share}")


@dataclass(frozen=True)
class ServiceStaffing:
    """The staff a policy's service needs: the centre's operators, then the field officers on
    the visits the centre asks for at its answer (at today's operators if none holds)."""

    operators: StaffingAnswer
    officers: StaffingAnswer

    @property
    def measures(self) -> dict[str, Any] | None:
        """The service at the answer (as ``service_measures`` gives it), when both parts have one."""
        if self.operators.measures is None or self.officers.measures is None:
            return None
        return {"centre": self.operators.measures, "field": self.officers.measures}

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready: each part's answer (null: none holds), first guess and rosters tried."""
        return {part: {"staff": list(a.staff) if a.staff else None, "erlang_guess": a.erlang_guess,
                       "tried": [[list(staff), held] for staff, held in a.tried]}
                for part, a in (("operators", self.operators), ("field_officers", self.officers))}


def staff_service(arrivals: CentreArrivals, centre: CentreParams, field: FieldParams, caseload: Caseload,
                  share: float) -> ServiceStaffing:
    operators = fewest_operators(arrivals, centre, caseload, share)
    staffed = with_operators(centre, operators.staff) if operators.staff else centre
    jobs = field_jobs(run_centre(arrivals, staffed, caseload), field, caseload)
    return ServiceStaffing(operators, fewest_officers(jobs, field, caseload, share))
