"""What goes wrong around and inside the devices, drawn up front for the whole run.

Cellular outages belong to areas (one area at a time, and now and then a
regional one that takes out several neighbouring areas at once); mains cuts
to base units; false tampers, reboots and clock drift to devices (their
rates from the supplier profile). Area and regional outages draw from their
own streams, so they do not depend on how many subjects there are.
"""

from __future__ import annotations

import math

import numpy as np

from sim.scenario import Scenario, Supplier
from sim.world.draws import DAY_S, HOUR_S, MINUTE_S, episodes, poisson_times
from sim.intervals import disjoint
from sim.world.streams import Branch, Streams

YEAR_DAYS = 365.25
WEEK_DAYS = 7.0


def per_week(per_year: float) -> float:
    return per_year * WEEK_DAYS / YEAR_DAYS


def area_outages(scenario: Scenario, streams: Streams) -> list[np.ndarray]:
    """Per area, its sorted, disjoint outage intervals: its own and the regional ones."""
    f, end = scenario.faults, scenario.days * DAY_S
    sigma = scenario.behaviour.duration_sigma
    areas = scenario.town.areas
    outages = [
        [episodes(streams.rng(Branch.AREA, a), per_week(f.outages_per_area_year), f.outage_hours_median * HOUR_S, sigma, end)]
        for a in range(areas)
    ]
    rng = streams.rng(Branch.REGION)
    for start in poisson_times(rng, per_week(f.regional_outages_per_year), end):
        length = f.regional_outage_hours_median * HOUR_S * math.exp(sigma * rng.standard_normal())
        first = int(rng.integers(areas))
        for k in range(f.regional_outage_areas):  # neighbours along the grid's rows, wrapping round
            outages[(first + k) % areas].append(np.array([[start, start + length]]))
    return [disjoint(np.concatenate(parts)) for parts in outages]


def mains_cuts(scenario: Scenario, rng: np.random.Generator) -> np.ndarray:
    f = scenario.faults
    return episodes(rng, per_week(f.mains_cuts_per_unit_year), f.mains_cut_hours_median * HOUR_S, scenario.behaviour.duration_sigma, scenario.days * DAY_S)


def false_tampers(scenario: Scenario, supplier: Supplier, rng: np.random.Generator) -> np.ndarray:
    """Intervals a strap sensor reports a tamper that is not happening."""
    f = supplier.faults
    return episodes(rng, per_week(f.false_tampers_per_device_year), f.false_tamper_minutes_median * MINUTE_S,
                     scenario.behaviour.duration_sigma, scenario.days * DAY_S)


def reboots(scenario: Scenario, supplier: Supplier, rng: np.random.Generator) -> np.ndarray:
    return poisson_times(rng, per_week(supplier.faults.reboots_per_device_year), scenario.days * DAY_S)
