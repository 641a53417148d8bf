"""What each subject really does, day by day: trips out, late returns, missed nights,
zone entries, strap removals, drinking, and when they charge a GPS tag.

A compliant day: home through the curfew, perhaps out for part of the day in
one or more tours from home and back, each on a track clear of the subject's
exclusion zones, home before the curfew starts (weekends differ in how often
they go out).
Traits bend it: a late returner now and then comes back after the curfew has
started (minutes to hours, lognormal), a night misser stays out a whole
night, a zone enterer's tour now and then ends inside an exclusion zone.
Everything is drawn from the subject's own routine stream.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from sim.scenario import Routine, Scenario
from sim.world.draws import DAY_S, HOUR_S, MINUTE_S, episodes, lognormal, poisson_times
from sim.world.population import Subject
from sim.world.track import Trip

WEEK_DAYS = 7.0
# The run starts on day 0, a Thursday (the detector's curfew arithmetic counts from 1970-01-01).
SATURDAY, SUNDAY = 2, 3


@dataclass(frozen=True, slots=True)
class Life:
    """A subject's whole run: trips (home between them) and the episodes of their traits."""

    trips: tuple[Trip, ...]
    removals: np.ndarray  # (n, 2) strap off intervals
    drinking: np.ndarray  # (n, 2) episode start and peak TAC (mg/dl)
    charge_hour_s: float  # the time of day a GPS wearer habitually puts the tag on charge
    forgotten: np.ndarray  # (n, 2) spells in which a GPS wearer charges nothing


# Destinations drawn before a compliant wearer gives up on going out: a track clear of
# every zone is found in a try or two, except for a home ringed by zones.
_DESTINATION_TRIES = 20


def clear_destination(subject: Subject, routine: Routine, rng: np.random.Generator) -> tuple[float, float] | None:
    """A tour's destination whose straight track from home keeps ``zone_clearance_m`` from
    every exclusion zone's edge; None if none is found."""
    hx, hy = subject.home
    for _ in range(_DESTINATION_TRIES):
        bearing = rng.uniform(0.0, 2 * math.pi)
        distance = rng.uniform(routine.trip_distance_min_m, routine.trip_distance_max_m)
        dx, dy = distance * math.cos(bearing), distance * math.sin(bearing)
        if all(_distance_to_track(zone.x - hx, zone.y - hy, dx, dy) > zone.radius_m + routine.zone_clearance_m
               for zone in subject.exclusions):
            return hx + dx, hy + dy
    return None


def _distance_to_track(px: float, py: float, dx: float, dy: float) -> float:
    """From point (px, py) to the segment from the origin to (dx, dy)."""
    along = max(0.0, min(1.0, (px * dx + py * dy) / (dx * dx + dy * dy)))
    return math.hypot(px - along * dx, py - along * dy)


def live(subject: Subject, scenario: Scenario, rng: np.random.Generator) -> Life:
    end = scenario.days * DAY_S
    routine, b = scenario.routine, scenario.behaviour
    days = math.ceil(scenario.days)
    late_days = set(np.flatnonzero(rng.random(days) < b.late_nights_per_week / WEEK_DAYS).tolist()) if subject.traits.late_returner else set()
    missed_days = set(np.flatnonzero(rng.random(days) < b.missed_nights_per_week / WEEK_DAYS).tolist()) if subject.traits.night_misser else set()
    zone_days = set(np.flatnonzero(rng.random(days) < b.zone_entries_per_week / WEEK_DAYS).tolist()) if subject.traits.zone_enterer else set()
    weights = np.asarray(routine.tours_per_day_weights) / sum(routine.tours_per_day_weights)
    trips: list[Trip] = []
    back = -math.inf  # when the last trip ended
    for day in range(days):
        base = day * DAY_S
        weekend = day % 7 in (SATURDAY, SUNDAY)
        curfew = subject.curfew
        if curfew is not None:
            free_from = base + (curfew.start_s + curfew.duration_s) - DAY_S  # yesterday's window ends today
            if free_from < base:
                free_from += DAY_S
            next_start = base + curfew.start_s if base + curfew.start_s > free_from else base + curfew.start_s + DAY_S
        else:
            free_from, next_start = base + routine.day_starts_h * HOUR_S, base + routine.day_ends_h * HOUR_S
        goes_out = rng.random() < (routine.out_share_weekend if weekend else routine.out_share_weekday)
        if not goes_out and day not in late_days | missed_days | zone_days:
            continue
        leave = free_from + rng.uniform(routine.leave_after_curfew_h_min, routine.leave_after_curfew_h_max) * HOUR_S
        home_by = next_start - rng.uniform(routine.home_before_curfew_min_minutes, routine.home_before_curfew_max_minutes) * MINUTE_S
        if day in missed_days and curfew is not None:
            home_by = next_start + curfew.duration_s + rng.uniform(0.0, 2 * HOUR_S)
        elif day in late_days:
            home_by = next_start + lognormal(rng, b.late_minutes_median, b.late_minutes_sigma) * MINUTE_S
        if leave <= back + routine.at_home_min_minutes * MINUTE_S or home_by <= leave or leave >= end:
            continue
        tours = int(rng.choice(routine.tours_per_day, p=weights))
        zone_tour = int(rng.integers(tours)) if day in zone_days else -1
        # The day's window is shared out in equal slots, a tour each, at home a while between them;
        # the last tour comes home when the day says (late, or the next morning, on a bad night).
        slot = (home_by - leave) / tours
        for k in range(tours):
            start = leave + k * slot + (routine.at_home_min_minutes * MINUTE_S if k else 0.0)
            by = leave + (k + 1) * slot
            if k == zone_tour:
                zone = subject.exclusions[int(rng.integers(len(subject.exclusions)))]
                destination = (zone.x, zone.y)
            else:
                destination = clear_destination(subject, routine, rng)
                if destination is None:
                    continue  # every way out crosses a zone: a compliant wearer stays in
            travel = math.dist(subject.home, destination) / routine.speed_m_s
            dwell = by - start - 2 * travel
            if k == zone_tour:
                dwell = min(dwell, lognormal(rng, b.zone_minutes_median, b.duration_sigma) * MINUTE_S)
            if dwell <= 0 or start >= end:
                continue
            trips.append(Trip(start, destination, dwell, routine.speed_m_s))
            back = start + 2 * travel + dwell
    removals = episodes(rng, b.removals_per_week, b.removal_hours_median * HOUR_S, b.duration_sigma, end) if subject.traits.strap_remover else np.empty((0, 2))
    forgotten = np.empty((0, 2))
    if subject.traits.non_charger:
        forgotten = episodes(rng, b.forgetting_spells_per_week, b.forgotten_days_median * DAY_S, b.duration_sigma, end)
    drinking = np.empty((0, 2))
    if subject.traits.drinker:
        starts = poisson_times(rng, b.drinking_episodes_per_week, end)
        drinking = np.column_stack((starts, b.peak_tac_mg_dl_median * np.exp(b.duration_sigma * rng.standard_normal(len(starts)))))
    habit = scenario.charging
    weights = np.asarray(habit.evening_weights) / sum(habit.evening_weights)
    charge_hour_s = float(rng.choice(habit.evening_hours, p=weights)) * HOUR_S
    return Life(tuple(trips), removals, drinking, charge_hour_s, forgotten)
