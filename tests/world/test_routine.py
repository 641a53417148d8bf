"""The routine: tours a day, and compliant tracks that keep clear of exclusion zones."""

from __future__ import annotations

from collections import Counter
from dataclasses import replace

import numpy as np
import pytest

from sim.scenario import load_scenario, load_supplier
from sim.world.draws import DAY_S
from sim.world.population import build_subject
from sim.world.routine import live
from sim.world.streams import Streams, Use
from sim.world.track import Track, inside_intervals

SCENARIO = load_scenario("smoke").with_changes(days=14.0)
SUPPLIER = load_supplier("supplier-a")


def lives(scenario, n: int):  # type: ignore[no-untyped-def]
    streams = Streams(scenario.seed)
    for i in range(n):
        subject = build_subject(i, scenario, SUPPLIER, streams)
        yield subject, live(subject, scenario, streams.subject(i, Use.ROUTINE))


def test_a_compliant_wearer_never_enters_an_exclusion_zone() -> None:
    """Trips used to go to random places on straight tracks, entering zones about 0.5 times a
    GPS subject-week (issue 11) when the zone enterers' trait intends 5% x 0.3."""
    end = SCENARIO.days * DAY_S
    checked = 0
    for subject, life in lives(SCENARIO, 400):
        if not subject.exclusions or subject.traits.zone_enterer:
            continue
        track = Track.from_trips(subject.home, life.trips, 0.0, end + 2 * DAY_S)
        for zone in subject.exclusions:
            assert len(inside_intervals(track, zone.x, zone.y, zone.radius_m)) == 0, (subject.index, zone)
        checked += 1
    assert checked > 50


def test_zone_entries_come_at_the_rate_the_trait_intends() -> None:
    scenario = SCENARIO.with_changes(behaviour=replace(SCENARIO.behaviour, zone_enterer=1.0, zone_entries_per_week=2.0))
    end = scenario.days * DAY_S
    entries = weeks = 0.0
    for subject, life in lives(scenario, 300):
        if not subject.exclusions:
            continue
        track = Track.from_trips(subject.home, life.trips, 0.0, end + 2 * DAY_S)
        entries += sum(len(inside_intervals(track, z.x, z.y, z.radius_m)) for z in subject.exclusions)
        weeks += scenario.days / 7
    # Each zone day is one visit, two a week intended; about 400 expected here, so +-15% is over 3 sd.
    assert 1.7 < entries / weeks < 2.3


def test_days_out_have_the_tours_the_weights_give() -> None:
    tours = Counter()
    for _, life in lives(SCENARIO, 300):
        per_day = Counter(int(t.leave_s // DAY_S) for t in life.trips)
        tours.update(per_day.values())
    total = sum(tours.values())
    weights = np.asarray(SCENARIO.routine.tours_per_day_weights) / sum(SCENARIO.routine.tours_per_day_weights)
    # Tours are drawn per day out; a tour that finds no room is dropped, so the shares run a little low on 3.
    for n, w in zip(SCENARIO.routine.tours_per_day, weights, strict=True):
        assert tours[n] / total == pytest.approx(w, abs=0.06), (n, tours)
