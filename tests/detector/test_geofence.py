"""The geofence: distances to zone centres, and where a fix falls given its accuracy."""

from __future__ import annotations

import math

import numpy as np
import pytest

from sim.detector import geofence

R = 6_371_000.0  # the mean Earth radius; the reference differs from the geofence in formula, not radius


def haversine_m(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    h = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * R * math.asin(math.sqrt(h))


def ring(lat0: float, lon0: float) -> tuple[np.ndarray, np.ndarray]:
    """Points 10 m to 3 km from (lat0, lon0) on bearings every 30 degrees, placed on the sphere
    (destination-point formula), so the reference owes nothing to the geofence's own projection."""
    lats, lons = [], []
    p1, l1 = math.radians(lat0), math.radians(lon0)
    for bearing in range(0, 360, 30):
        b = math.radians(bearing)
        for d in (10.0, 75.0, 400.0, 1500.0, 3000.0):
            a = d / R
            p2 = math.asin(math.sin(p1) * math.cos(a) + math.cos(p1) * math.sin(a) * math.cos(b))
            l2 = l1 + math.atan2(math.sin(b) * math.sin(a) * math.cos(p1), math.cos(a) - math.sin(p1) * math.sin(p2))
            lats.append(math.degrees(p2))
            lons.append(math.degrees(l2))
    return np.array(lats), np.array(lons)


@pytest.mark.parametrize(
    "lat0, lon0",
    [(51.5074, -0.1278), (59.95, 10.75), (60.39, 5.32), (-33.87, 151.21), (-41.29, 174.78), (0.0, 0.0), (53.48, -2.24)],
    ids=["london", "oslo", "bergen-60N", "sydney", "wellington", "equator", "manchester"],
)
def test_distances_agree_with_haversine_at_town_scale(lat0: float, lon0: float) -> None:
    lats, lons = ring(lat0, lon0)
    got = np.sqrt(geofence.squared_distances(
        lats[:, None], lons[:, None], np.array([[lat0]]), np.array([[lon0]]), geofence.east_scale(np.array([[lat0]]))
    ))[:, 0]
    want = np.array([haversine_m(lat0, lon0, la, lo) for la, lo in zip(lats, lons)])
    # Every point was placed at a known distance, so the reference is checked too.
    np.testing.assert_allclose(want, np.tile([10.0, 75.0, 400.0, 1500.0, 3000.0], 12), rtol=1e-9)
    rel = np.abs(got / want - 1)
    assert rel.max() < 1e-3, f"worst relative error {rel.max():.2e} at {lats[rel.argmax()]}, {lons[rel.argmax()]}"


def test_distance_is_zero_at_the_centre_and_symmetric_north_south() -> None:
    d = np.sqrt(geofence.squared_distances(
        np.array([51.5, 51.501, 51.499]), np.array([-0.12, -0.12, -0.12]), np.array(51.5), np.array(-0.12),
        geofence.east_scale(np.array(51.5)),
    ))
    assert d[0] == 0.0
    assert d[1] == pytest.approx(d[2], rel=1e-9)
    assert d[1] == pytest.approx(0.001 * math.pi / 180 * R, rel=1e-9)


def test_classify_hand_built_cases() -> None:
    # radius 100 m; each row: distance, accuracy (classify takes the distance squared) -> (centre inside, circle wholly inside, circle wholly outside)
    rows = [
        (0.0, 0.0, (True, True, False)),  # at the centre, perfect fix
        (50.0, 10.0, (True, True, False)),  # circle wholly inside
        (90.0, 20.0, (True, False, False)),  # centre inside, circle over the edge
        (110.0, 20.0, (False, False, False)),  # centre outside, circle over the edge
        (150.0, 20.0, (False, False, True)),  # circle wholly outside
        (50.0, 200.0, (True, False, False)),  # huge circle around a centre inside
        (300.0, 500.0, (False, False, False)),  # huge circle around a centre outside
    ]
    distance = np.array([r[0] for r in rows])
    accuracy = np.array([r[1] for r in rows], dtype=np.float32)
    centre_in, sure_in, sure_out = geofence.classify(distance**2, accuracy, np.full(len(rows), 100.0))
    got = list(zip(centre_in.tolist(), sure_in.tolist(), sure_out.tolist()))
    assert got == [r[2] for r in rows]


def test_classify_exactly_on_the_boundary_belongs_inside() -> None:
    # The centre on the circle is inside; a circle touching the edge from inside is wholly inside;
    # one touching it from outside is not wholly outside (it shares the boundary point).
    distance = np.array([100.0, 75.0, 125.0, 100.0])
    accuracy = np.array([0.0, 25.0, 25.0, 0.5], dtype=np.float32)
    centre_in, sure_in, sure_out = geofence.classify(distance**2, accuracy, np.full(4, 100.0))
    assert centre_in.tolist() == [True, True, False, True]
    assert sure_in.tolist() == [True, True, False, False]
    assert sure_out.tolist() == [False, False, False, False]


def test_broadcast_one_subject_and_gathered_per_fix_agree() -> None:
    rng = np.random.default_rng(20240601)
    n = 40
    z_lat = np.array([51.50, 51.52, -33.87])
    z_lon = np.array([-0.12, -0.10, 151.21])
    radius = np.array([80.0, 400.0, 1500.0])
    which = rng.integers(0, 3, n)  # each fix near one of the zones, so all three outcomes occur
    lat = z_lat[which] + rng.normal(0, 0.01, n)
    lon = z_lon[which] + rng.normal(0, 0.01, n)
    acc = rng.uniform(3, 300, n).astype(np.float32)

    scale = geofence.east_scale(z_lat)
    d1 = geofence.squared_distances(lat[:, None], lon[:, None], z_lat[None, :], z_lon[None, :], scale[None, :])
    c1 = geofence.classify(d1, acc[:, None], radius[None, :])

    full = (n, 3)
    d2 = geofence.squared_distances(
        np.broadcast_to(lat[:, None], full).copy(), np.broadcast_to(lon[:, None], full).copy(),
        np.broadcast_to(z_lat, full).copy(), np.broadcast_to(z_lon, full).copy(), np.broadcast_to(scale, full).copy(),
    )
    c2 = geofence.classify(d2, np.broadcast_to(acc[:, None], full).copy(), np.broadcast_to(radius, full).copy())

    assert d1.shape == d2.shape == full
    np.testing.assert_array_equal(d1, d2)
    for a, b in zip(c1, c2):
        assert a.shape == full
        np.testing.assert_array_equal(a, b)
    # and each gathered row is the same as asking about that fix alone
    for i in (0, n // 2, n - 1):
        alone = geofence.squared_distances(lat[i : i + 1, None], lon[i : i + 1, None], z_lat[None, :], z_lon[None, :], scale[None, :])
        np.testing.assert_array_equal(alone[0], d2[i])
    centre_in, sure_in, sure_out = c1
    assert centre_in.any() and sure_in.any() and sure_out.any() and (centre_in & ~sure_in).any()
