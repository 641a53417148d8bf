"""Judging fixes against zones: on the wrong side of each, and surely so.

One judgement serves both paths: the streaming GPS rule judges an upload
against its subject's zones (``ZoneArrays``, columns broadcast over the fixes),
the batch path a whole replay with each fix gathered against its own
subject's zones (``sim.detector.batch``). Inclusion zones apply only inside
curfew windows; outside them a fix is surely on the right side.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from sim.detector.cases import Case, curfew_mask
from sim.detector.geofence import classify, east_scale, squared_distances


@dataclass(frozen=True, slots=True)
class ZoneArrays:
    """A subject's zones as columns, for the geofence."""

    ids: np.ndarray
    lat: np.ndarray
    lon: np.ndarray
    east_scale: np.ndarray
    radius_m: np.ndarray
    inclusion: np.ndarray

    @classmethod
    def of(cls, case: Case) -> ZoneArrays:
        z = case.zones
        lat = np.array([x.lat for x in z])
        return cls(
            np.array([x.zone_id for x in z]), lat, np.array([x.lon for x in z]), east_scale(lat),
            np.array([x.radius_m for x in z]), np.array([x.inclusion for x in z], dtype=bool),
        )


def in_curfew(case: Case, times: np.ndarray) -> np.ndarray:
    """For each time, whether a curfew window of ``case`` contains it."""
    active = np.zeros(len(times), dtype=bool)
    for curfew in case.curfews:
        active |= curfew_mask(times, curfew.days, curfew.start_s, curfew.duration_s)
    return active


@dataclass(frozen=True, slots=True)
class Verdicts:
    """An upload's fixes in time order, judged against each zone (columns, in zone order):
    on the wrong side of it, and whether surely on the side judged, wrong or right (the
    accuracy circle wholly on that side; an inclusion zone outside curfew is surely right)."""

    times: np.ndarray
    wrong: np.ndarray
    sure: np.ndarray


def judge(
    fixes: np.ndarray, z_lat: np.ndarray, z_lon: np.ndarray, z_east_scale: np.ndarray, z_radius_m: np.ndarray,
    inclusion: np.ndarray, in_curfew: np.ndarray | None,
) -> tuple[np.ndarray, np.ndarray]:
    """(wrong, sure) per fix and zone. Zone columns broadcast against the fixes as in
    ``sim.detector.geofence.squared_distances``; ``in_curfew`` per fix, or None when no zone is an
    inclusion zone (then it is never read). Padding zones of NaN radius are never wrong."""
    d2 = squared_distances(fixes["lat"][:, None], fixes["lon"][:, None], z_lat, z_lon, z_east_scale)
    centre_in, sure_in, sure_out = classify(d2, fixes["accuracy_m"][:, None], z_radius_m)
    sure_side = np.where(centre_in, sure_in, sure_out)
    if in_curfew is None:
        return centre_in, sure_side
    active = in_curfew[:, None]
    return np.where(inclusion, ~centre_in & active, centre_in), (inclusion & ~active) | sure_side
