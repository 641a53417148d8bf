"""The true path, exact zone intervals, and GPS fixes that match their stated accuracy."""

from __future__ import annotations

import math
from dataclasses import replace

import numpy as np
import pytest

from firmware_stubs.protocol import MAX_FIXES_PER_FRAME, GpsFixBatch, make_wire_fixes
from sim.detector import geofence
from sim.scenario import GpsAccuracy
from sim.world.track import SIGMA_PER_CEP90, GpsFixes, Track, Trip, gps_fixes, inside_intervals, to_lat_lon

DAY = 86_400.0
LAT0, LON0 = 51.5074, -0.1278
WALK = 1.4


def day_track() -> Track:
    """Home at the origin; a morning walk 1 km east with an hour's dwell; an evening trip north."""
    trips = [Trip(9 * 3600.0, (1000.0, 0.0), 3600.0, WALK), Trip(18 * 3600.0, (0.0, 800.0), 1800.0, 5.0)]
    return Track.from_trips((0.0, 0.0), trips, 0.0, DAY)


def covered(intervals: np.ndarray, t: np.ndarray) -> np.ndarray:
    return ((t[:, None] >= intervals[:, 0]) & (t[:, None] < intervals[:, 1])).any(axis=1)


def assert_exact(track: Track, cx: float, cy: float, r: float, n: int = 200_000) -> np.ndarray:
    """Intervals agree with a dense sampling everywhere but on the circle itself, and each
    interior endpoint lies on the circle."""
    got = inside_intervals(track, cx, cy, r)
    t = np.linspace(track.start_s, track.end_s, n, endpoint=False)
    x, y = track.position(t)
    d = np.hypot(x - cx, y - cy)
    clear = np.abs(d - r) > 1e-6
    np.testing.assert_array_equal(covered(got, t)[clear], (d <= r)[clear])
    ends = got.ravel()
    ends = ends[(ends > track.start_s) & (ends < track.end_s)]
    ex, ey = track.position(ends)
    np.testing.assert_allclose(np.hypot(ex - cx, ey - cy), r, atol=1e-6)
    assert np.all(got[:, 1] > got[:, 0]) and np.all(got[1:, 0] > got[:-1, 1])  # non-empty, disjoint, merged
    return got


def test_track_starts_and_ends_at_home_and_is_continuous() -> None:
    track = day_track()
    t = np.linspace(0, DAY, 500_001)
    x, y = track.position(t)
    assert (x[0], y[0], x[-1], y[-1]) == (0.0, 0.0, 0.0, 0.0)
    step = np.hypot(np.diff(x), np.diff(y))
    assert step.max() <= 5.0 * (t[1] - t[0]) + 1e-9  # never faster than the fastest trip
    # no jump at any segment boundary, approached from either side
    eps = 1e-6
    lx, ly = track.position(track.t0[1:] - eps)
    rx, ry = track.position(track.t0[1:])
    assert np.hypot(lx - rx, ly - ry).max() < 5.0 * eps + 1e-9


def test_trip_timing_and_at_home() -> None:
    track = day_track()
    out_s = 1000.0 / WALK
    x, y = track.position(np.array([9 * 3600 + out_s, 9 * 3600 + out_s + 3600]))
    np.testing.assert_allclose(np.column_stack((x, y)), [[1000, 0], [1000, 0]])
    back = 9 * 3600 + 2 * out_s + 3600
    home = track.at_home(np.array([0.0, 9 * 3600 - 1, 9 * 3600 + 1, back - 1, back + 1, DAY - 1]))
    assert home.tolist() == [True, True, False, False, True, True]


def test_a_trip_across_midnight_and_concatenated_days() -> None:
    late = Track.from_trips((0.0, 0.0), [Trip(DAY - 1800.0, (3000.0, 0.0), 3600.0, 1.0)], 0.0, 2 * DAY)
    assert late.position(np.array([DAY + 1200.0]))[0][0] == pytest.approx(3000.0)
    assert not late.at_home(np.array([DAY]))[0]
    second = Track.from_trips((0.0, 0.0), [Trip(DAY + 9 * 3600.0, (1000.0, 0.0), 3600.0, WALK)], DAY, 2 * DAY)
    days = Track.concat([day_track(), second])
    assert (days.start_s, days.end_s) == (0.0, 2 * DAY)
    # a zone about home: inside until the first trip, then one interval across midnight
    got = assert_exact(days, 0.0, 0.0, 100.0, n=400_000)
    assert any(s < DAY < e for s, e in got)
    with pytest.raises(ValueError, match="contiguous"):
        Track.concat([day_track(), day_track()])


def test_trips_must_not_overlap_or_overrun() -> None:
    with pytest.raises(ValueError, match="before the track is free"):
        Track.from_trips((0.0, 0.0), [Trip(100.0, (1000.0, 0.0), 0.0, 1.0), Trip(500.0, (0.0, 10.0), 0.0, 1.0)], 0.0, DAY)
    with pytest.raises(ValueError, match="past the track's end"):
        Track.from_trips((0.0, 0.0), [Trip(DAY - 10, (1000.0, 0.0), 0.0, 1.0)], 0.0, DAY)


@pytest.mark.parametrize(
    "cx, cy, r, count",
    [
        (1000.0, 0.0, 150.0, 1),  # the destination is inside: in on the way out, out on the way back
        (500.0, 0.0, 100.0, 2),  # passed through without stopping, out and back
        (500.0, 60.0, 100.0, 2),  # an off-centre chord
        (500.0, 100.0, 100.0, 0),  # tangent: grazed, inside for no time
        (500.0, 100.0 - 1e-3, 100.0, 2),  # just cut: two very short intervals
        (0.0, 0.0, 5000.0, 1),  # the whole track is inside
        (0.0, 400.0, 30.0, 2),  # on the evening trip's line, passed at speed
        (-3000.0, 0.0, 50.0, 0),  # never near
        (0.0, 0.0, 50.0, 3),  # home: absent on each trip
    ],
)
def test_inside_intervals_are_exact(cx: float, cy: float, r: float, count: int) -> None:
    got = assert_exact(day_track(), cx, cy, r)
    assert len(got) == count


def test_a_zone_with_its_edge_on_the_destination() -> None:
    # the dwell sits exactly on the circle: inside by the geofence's rule (distance <= radius)
    got = assert_exact(day_track(), 1100.0, 0.0, 100.0)
    start, end = got[0]
    assert start == pytest.approx(9 * 3600 + 1000 / WALK) and end == pytest.approx(start + 3600)


def test_projection_agrees_with_the_geofence() -> None:
    """A true point at planar distance d from a zone's centre is d from it by the detector's
    geofence too, to a part in a thousand for zones up to 5 km from the town centre."""
    cx, cy = np.array([[0.0, 3000.0, -4000.0, 2500.0]]), np.array([[0.0, 2000.0, -4500.0, -5000.0]])
    bearing = np.linspace(0, 2 * np.pi, 12, endpoint=False)[:, None]
    d = 400.0
    zlat, zlon = to_lat_lon(cx, cy, LAT0, LON0)
    plat, plon = to_lat_lon(cx + d * np.cos(bearing), cy + d * np.sin(bearing), LAT0, LON0)
    got = np.sqrt(geofence.squared_distances(plat, plon, zlat, zlon, geofence.east_scale(zlat)))
    assert np.abs(got - d).max() / d < 1.5e-3
    assert got[:, 0] == pytest.approx(d, rel=1e-9)  # exact at the town centre


def outdoor_and_home() -> Track:
    """At home for 10 h, then out at a point 2 km away for 12 h."""
    return Track.from_trips((0.0, 0.0), [Trip(10 * 3600.0, (2000.0, 0.0), 12 * 3600.0, 1000.0)], 0.0, DAY)


ACC = GpsAccuracy(outdoor_cep90_m=10.0, indoor_fix_share=0.3, indoor_cep90_m=40.0, indoor_fallback_share=0.0, fallback_cep90_m=300.0)


def radial_error_m(fixes: GpsFixes, track: Track) -> np.ndarray:
    x, y = track.position(fixes.time_s)
    tlat, tlon = to_lat_lon(x, y, LAT0, LON0)
    return np.sqrt(geofence.squared_distances(fixes.lat, fixes.lon, tlat, tlon, geofence.east_scale(tlat)))


def within_binomial(hits: int, n: int, p: float, z: float = 3.29) -> bool:
    """Inside the 99.9% normal-approximation interval for Binomial(n, p)."""
    return abs(hits - n * p) <= z * math.sqrt(n * p * (1 - p))


def test_outdoor_error_has_its_stated_90th_percentile() -> None:
    track = outdoor_and_home()
    times = np.linspace(11 * 3600, 21 * 3600, 20_000)
    fixes = gps_fixes(track, times, ACC, np.random.default_rng(1), lat0=LAT0, lon0=LON0)
    assert fixes.got_fix.all()
    err = radial_error_m(fixes, track)
    assert within_binomial(int((err <= ACC.outdoor_cep90_m).sum()), len(err), 0.9)
    # and the spread is right, not just the one quantile: half the fixes within the median radius
    median = ACC.outdoor_cep90_m * SIGMA_PER_CEP90 * math.sqrt(2 * math.log(2))
    assert within_binomial(int((err <= median).sum()), len(err), 0.5)
    # the tag's own estimate: median 1 times the cep90
    assert within_binomial(int((fixes.accuracy_m <= ACC.outdoor_cep90_m).sum()), len(err), 0.5)


def test_indoors_fixes_are_fewer_and_worse() -> None:
    track = outdoor_and_home()
    times = np.linspace(0, 10 * 3600 - 1, 8000)
    fixes = gps_fixes(track, times, ACC, np.random.default_rng(2), lat0=LAT0, lon0=LON0)
    assert within_binomial(int(fixes.got_fix.sum()), len(times), ACC.indoor_fix_share)
    np.testing.assert_array_equal(fixes.time_s, times[fixes.got_fix])
    err = radial_error_m(fixes, track)
    assert within_binomial(int((err <= ACC.indoor_cep90_m).sum()), len(err), 0.9)


def test_indoors_without_satellites_a_share_get_a_cellular_location_with_its_poor_error() -> None:
    track = outdoor_and_home()
    times = np.linspace(0, 10 * 3600 - 1, 8000)
    acc = replace(ACC, indoor_fallback_share=0.5)
    fixes = gps_fixes(track, times, acc, np.random.default_rng(2), lat0=LAT0, lon0=LON0)
    # 30% by satellite, then half of the other 70% by the cell: 65% in all
    share = ACC.indoor_fix_share + (1 - ACC.indoor_fix_share) * acc.indoor_fallback_share
    assert within_binomial(int(fixes.got_fix.sum()), len(times), share)
    err = radial_error_m(fixes, track)
    # A mixture: 30/65 of the fixes within 40 m nine times in ten, 35/65 within 300 m
    p_within_40 = (0.3 * 0.9 + 0.35 * (1 - 10 ** -(40 / 300) ** 2)) / share
    assert within_binomial(int((err <= ACC.indoor_cep90_m).sum()), len(err), p_within_40)
    assert within_binomial(int((err <= acc.fallback_cep90_m).sum()), len(err), (0.3 + 0.35 * 0.9) / share, z=4.0)
    # and the tag says so: the fallback's estimate is about its own error
    assert within_binomial(int((fixes.accuracy_m > 150).sum()), len(err), 0.35 / share, z=6.0)


@pytest.mark.parametrize(
    "lat0, lon0, accuracy",
    [
        (LAT0, LON0, ACC),
        (-41.29, 179.9999, ACC),  # a town on the antimeridian
        (89.99, 0.0, GpsAccuracy(10.0, 1.0, 5000.0, 0.0, 300.0)),  # by the pole, with huge indoor errors
        (0.0, -180.0, GpsAccuracy(20_000.0, 0.5, 20_000.0, 0.5, 20_000.0)),  # accuracy past what the wire carries
    ],
)
def test_fixes_always_encode(lat0: float, lon0: float, accuracy: GpsAccuracy) -> None:
    track = outdoor_and_home()
    times = np.linspace(0, DAY - 1, 3000)
    fixes = gps_fixes(track, times, accuracy, np.random.default_rng(3), lat0=lat0, lon0=lon0)
    wire = make_wire_fixes(
        np.round(fixes.time_s * 1000).astype(np.uint64),
        np.round(fixes.lat * 1e7).astype(np.int64),
        np.round(fixes.lon * 1e7).astype(np.int64),
        np.round(fixes.accuracy_m.astype(float) * 10).astype(np.int64),
        np.full(len(fixes.time_s), 8),
    )
    np.testing.assert_allclose(wire["accuracy_dm"] / 10, fixes.accuracy_m, atol=0.051)  # no wrap-around in u2
    for i in range(0, len(wire), MAX_FIXES_PER_FRAME):
        GpsFixBatch(wire[i : i + MAX_FIXES_PER_FRAME]).pack()


def test_same_seed_same_fixes() -> None:
    track = day_track()
    times = np.arange(0, DAY, 60.0)
    a, b = (gps_fixes(track, times, ACC, np.random.default_rng(7), lat0=LAT0, lon0=LON0) for _ in range(2))
    for field in ("time_s", "lat", "lon", "accuracy_m", "got_fix"):
        np.testing.assert_array_equal(getattr(a, field), getattr(b, field))
    c = gps_fixes(track, times, ACC, np.random.default_rng(8), lat0=LAT0, lon0=LON0)
    assert not np.array_equal(a.got_fix, c.got_fix)
