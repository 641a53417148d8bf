"""Where a subject truly is, and what a GPS tag reports of it. Pure numpy.

A subject's path is piecewise linear in time: at home, out in a straight line
at a steady speed, a dwell, and back. That is coarse as a picture of a street
walk, but it keeps the truth exact: whether the subject is inside a circular
zone is a quadratic in time on each segment, so zone entries and absences are
known to the instant, not to a sampling step, and the scorer holds alerts
against intervals, not against samples.

Positions are metres east (x) and north (y) of the town centre. Degrees come
from the same equirectangular projection the detector's geofence uses
(``sim.detector.geofence``, same Earth radius). The geofence projects about
each zone's centre, this module about the town centre: at town scale the two
differ by a relative ``tan(lat) * (zone's north offset / Earth radius)``,
about 0.1% at 5 km from the centre in England, far below any GPS error.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import NamedTuple

import numpy as np

from firmware_stubs.protocol import WIRE_FIX_DTYPE
from sim.detector.geofence import EARTH_RADIUS_M
from sim.scenario import GpsAccuracy
from sim.intervals import disjoint

M_PER_DEG = math.pi / 180 * EARTH_RADIUS_M
# For a circular 2-D normal with per-axis sigma, P(radial error <= R) = 1 - exp(-R^2 / (2 sigma^2));
# setting that to 0.9 gives R90 = sigma * sqrt(2 ln 10).
SIGMA_PER_CEP90 = 1 / math.sqrt(2 * math.log(10))
# Assumption (no published figure found): a tag's own accuracy estimate scatters about the true
# 90% radius by a lognormal factor of median 1 and this log-sd.
ACCURACY_ESTIMATE_SIGMA = 0.3
# The largest accuracy a fix can carry on the wire (decimetres in an unsigned field).
ACCURACY_M_MAX = np.iinfo(WIRE_FIX_DTYPE["accuracy_dm"]).max / 10


def to_lat_lon(x: np.ndarray | float, y: np.ndarray | float, lat0: float, lon0: float) -> tuple[np.ndarray, np.ndarray]:
    """Degrees for metres east/north of (lat0, lon0), equirectangular as the geofence measures.
    Longitude wraps into [-180, 180) and latitude is held to [-90, 90], so any point a
    simulation makes up, even for a town by the antimeridian, is a point the protocol encodes."""
    lat = lat0 + np.asarray(y, dtype=float) / M_PER_DEG
    lon = lon0 + np.asarray(x, dtype=float) / (M_PER_DEG * math.cos(math.radians(lat0)))
    return np.clip(lat, -90.0, 90.0), (lon + 180.0) % 360.0 - 180.0


class Trip(NamedTuple):
    """Out in a straight line from home at ``leave_s``, ``dwell_s`` at the destination, straight back."""

    leave_s: float
    destination_xy: tuple[float, float]
    dwell_s: float
    speed_m_s: float


@dataclass(frozen=True, slots=True, eq=False)
class Track:
    """Contiguous linear segments: segment i runs from (x0, y0) at t0 to (x1, y1) at t1, and
    ``home`` marks the segments spent at home. A dwell is a segment with equal ends. Before
    its first segment and after its last, a track holds its end positions."""

    t0: np.ndarray
    t1: np.ndarray
    x0: np.ndarray
    y0: np.ndarray
    x1: np.ndarray
    y1: np.ndarray
    home: np.ndarray

    def __post_init__(self) -> None:
        n = len(self.t0)
        if n == 0:
            raise ValueError("a track needs at least one segment")
        if any(len(a) != n for a in (self.t1, self.x0, self.y0, self.x1, self.y1, self.home)):
            raise ValueError("a track's segment arrays must all have the same length")
        if np.any(self.t1 <= self.t0):
            raise ValueError("every segment must end after it starts")
        if np.any(self.t0[1:] != self.t1[:-1]):
            raise ValueError("segments must be contiguous in time: each starts where the last ends")
        if np.any(self.x0[1:] != self.x1[:-1]) or np.any(self.y0[1:] != self.y1[:-1]):
            raise ValueError("segments must be contiguous in space: no jumps")

    @property
    def start_s(self) -> float:
        return float(self.t0[0])

    @property
    def end_s(self) -> float:
        return float(self.t1[-1])

    @classmethod
    def from_trips(cls, home_xy: tuple[float, float], trips: Sequence[Trip], start_s: float, end_s: float) -> Track:
        """At home over [start_s, end_s) except on ``trips`` (in time order, each back before the
        next leaves). Times run on across midnight, so a trip past a day boundary needs nothing special."""
        hx, hy = float(home_xy[0]), float(home_xy[1])
        rows: list[tuple[float, float, float, float, float, float, bool]] = []
        now = float(start_s)

        def add(until: float, frm: tuple[float, float], to: tuple[float, float], at_home: bool) -> None:
            nonlocal now
            if until > now:  # a zero-length leg (a trip to home itself, back-to-back trips) adds nothing
                rows.append((now, until, frm[0], frm[1], to[0], to[1], at_home))
                now = until

        home = (hx, hy)
        for i, trip in enumerate(trips):
            if trip.leave_s < now:
                raise ValueError(f"trip {i} leaves at {trip.leave_s} s, before the track is free at {now} s")
            if trip.speed_m_s <= 0 or trip.dwell_s < 0:
                raise ValueError(f"trip {i}: speed must be positive and the dwell not negative")
            dest = (float(trip.destination_xy[0]), float(trip.destination_xy[1]))
            leg_s = math.hypot(dest[0] - hx, dest[1] - hy) / trip.speed_m_s
            add(float(trip.leave_s), home, home, True)
            add(now + leg_s, home, dest, False)
            add(now + float(trip.dwell_s), dest, dest, False)
            add(now + leg_s, dest, home, False)
        if now > end_s:
            raise ValueError(f"the trips run to {now} s, past the track's end at {end_s} s")
        add(float(end_s), home, home, True)
        if not rows:
            raise ValueError("a track must cover some time: end_s must be after start_s")
        cols = list(zip(*rows, strict=True))
        return cls(*(np.array(c, dtype=float) for c in cols[:6]), home=np.array(cols[6], dtype=bool))

    @classmethod
    def concat(cls, tracks: Sequence[Track]) -> Track:
        """One track from consecutive ones (one a day, say); each must start where and when the last ended."""
        fields = ("t0", "t1", "x0", "y0", "x1", "y1", "home")
        return cls(*(np.concatenate([getattr(t, f) for t in tracks]) for f in fields))

    def _segment(self, times: np.ndarray) -> np.ndarray:
        return np.clip(np.searchsorted(self.t0, times, side="right") - 1, 0, len(self.t0) - 1)

    def position(self, times: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """True (x, y) at each time, in metres."""
        times = np.asarray(times, dtype=float)
        i = self._segment(times)
        t0, t1 = self.t0[i], self.t1[i]
        f = np.clip((times - t0) / (t1 - t0), 0.0, 1.0)
        return self.x0[i] + f * (self.x1[i] - self.x0[i]), self.y0[i] + f * (self.y1[i] - self.y0[i])

    def at_home(self, times: np.ndarray) -> np.ndarray:
        """Whether each time falls in a home segment: indoors, as far as the GPS sky is concerned."""
        return self.home[self._segment(np.asarray(times, dtype=float))]


def inside_intervals(track: Track, cx: float, cy: float, r: float) -> np.ndarray:
    """The [start, end) intervals, shape (k, 2), in which the true position is within ``r`` of
    (cx, cy), exact to float precision. On the boundary counts as inside, as in the geofence;
    a path that only grazes the circle gives no interval (it is inside for no time at all).
    Solved per segment: |p0 - c + v s|^2 <= r^2 around the closest approach s*, which is stable
    even for long, fast segments; pieces meeting at a segment boundary are merged."""
    dt = track.t1 - track.t0
    vx, vy = (track.x1 - track.x0) / dt, (track.y1 - track.y0) / dt
    px, py = track.x0 - cx, track.y0 - cy
    v2 = vx * vx + vy * vy
    moving = v2 > 0
    safe_v2 = np.where(moving, v2, 1.0)
    s_star = np.where(moving, -(px * vx + py * vy) / safe_v2, 0.0)
    dx, dy = px + vx * s_star, py + vy * s_star
    d_min2 = dx * dx + dy * dy  # the closest approach (a dwell's own distance)
    r2 = r * r
    half = np.sqrt(np.maximum(r2 - d_min2, 0.0) / safe_v2)
    s1, s2 = s_star - half, s_star + half
    start = np.where(moving & (s1 > 0), track.t0 + s1, track.t0)
    end = np.where(moving & (s2 < dt), track.t0 + s2, track.t1)
    hit = np.where(moving, d_min2 < r2, d_min2 <= r2) & (start < end)
    return disjoint(np.column_stack((start[hit], end[hit])))


@dataclass(frozen=True, slots=True, eq=False)
class GpsFixes:
    """The fixes a tag obtained: for each, its time, position in degrees and the tag's own
    estimate of its 90% error radius; and, for every time asked about, whether it got one."""

    time_s: np.ndarray
    lat: np.ndarray
    lon: np.ndarray
    accuracy_m: np.ndarray  # float32
    got_fix: np.ndarray


def gps_fixes(
    track: Track,
    times: np.ndarray,
    accuracy: GpsAccuracy,
    rng: np.random.Generator,
    *,
    lat0: float,
    lon0: float,
    estimate_sigma: float = ACCURACY_ESTIMATE_SIGMA,
) -> GpsFixes:
    """The fixes a tag on ``track`` takes at ``times``, about a town centred at (lat0, lon0).

    Out of doors a fix is always obtained; at home (indoors) only a share ``indoor_fix_share``
    of attempts gets one, with the worse indoor error, and of the rest a share
    ``indoor_fallback_share`` gets a cellular location with the fallback's error. The error is
    a circular normal whose 90% radius is the cep90, the NIJ draft standard's way of stating
    accuracy. Every draw is made for every time, fix or not, so a stream's later draws do not
    depend on where the subject was. Reported accuracy is clipped to what the wire can carry."""
    times = np.asarray(times, dtype=float)
    n = len(times)
    indoors = track.at_home(times)
    satellites = ~indoors | (rng.random(n) < accuracy.indoor_fix_share)
    fallback = ~satellites & (rng.random(n) < accuracy.indoor_fallback_share)
    got = satellites | fallback
    cep90 = np.where(fallback, accuracy.fallback_cep90_m, np.where(indoors, accuracy.indoor_cep90_m, accuracy.outdoor_cep90_m))
    error = rng.standard_normal((2, n)) * (cep90 * SIGMA_PER_CEP90)
    estimate = cep90 * rng.lognormal(0.0, estimate_sigma, n)
    x, y = track.position(times[got])
    lat, lon = to_lat_lon(x + error[0, got], y + error[1, got], lat0, lon0)
    accuracy_m = np.minimum(estimate[got], ACCURACY_M_MAX).astype(np.float32)
    return GpsFixes(times[got], lat, lon, accuracy_m, got)
