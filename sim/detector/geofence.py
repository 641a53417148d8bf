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


def east_scale(z_lat: np.ndarray) -> np.ndarray:
    """Metres per degree of longitude at each zone's latitude: computed once a zone."""
    return _M_PER_DEG * np.cos(np.radians(z_lat))


def squared_distances(
    lat: np.ndarray, lon: np.ndarray, z_lat: np.ndarray, z_lon: np.ndarray, z_east_scale: np.ndarray
) -> np.ndarray:
    """Squared metres from each fix to each zone centre. Shapes broadcast: (n, 1) against
    (1, z) for one subject's zones, or (n, z) against (n, z) for zones gathered per fix.
    Squared, because every question asked of it compares against a squared radius."""
    north = (lat - z_lat) * _M_PER_DEG
    east = (lon - z_lon) * z_east_scale
    return north * north + east * east


def classify(d2: np.ndarray, accuracy_m: np.ndarray, radius_m: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per fix and zone, from squared distances: centre inside; accuracy circle wholly
    inside (d + a <= r); wholly outside (d - a > r)."""
    inner = radius_m - accuracy_m
    outer = radius_m + accuracy_m
    return d2 <= radius_m * radius_m, (inner >= 0) & (d2 <= inner * inner), d2 > outer * outer
