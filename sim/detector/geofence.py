"""Where fixes fall against circular zones, aware of each fix's accuracy. Pure numpy.

Distances are equirectangular about each zone's centre: at town scale (zones
of tens of metres to a few kilometres) the error is far below GPS accuracy.
One function serves one upload (a subject's own zones) and a whole replay
(each fix gathered against its subject's zones), so the streaming and batch
paths cannot disagree about geometry.
"""

from __future__ import annotations

import numpy as np

EARTH_RADIUS_M = 6_371_000.0
_M_PER_DEG = np.pi / 180 * EARTH_RADIUS_M


def zone_distances(lat: np.ndarray, lon: np.ndarray, z_lat: np.ndarray, z_lon: np.ndarray) -> np.ndarray:
    """Metres from each fix to each zone centre. Shapes broadcast: (n, 1) against (1, z)
    for one subject's zones, or (n, z) against (n, z) for zones gathered per fix."""
    north = (lat - z_lat) * _M_PER_DEG
    east = (lon - z_lon) * (_M_PER_DEG * np.cos(np.radians(z_lat)))
    return np.hypot(north, east)


def classify(distance: np.ndarray, accuracy_m: np.ndarray, radius_m: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per fix and zone: centre inside; accuracy circle wholly inside; wholly outside."""
    return distance <= radius_m, distance + accuracy_m <= radius_m, distance - accuracy_m > radius_m
