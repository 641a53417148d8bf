"""The RF presence channel between a curfew tag and its base unit, at two fidelities.

The tag beacons every ``interval_min_s`` to ``interval_max_s`` seconds (uniform, per beacon).
Whether the unit hears a beacon follows a two-state Gilbert-Elliott chain
(``sim.world.gilbert_elliott``) stepped once per beacon and started, in each at-home interval,
in its stationary distribution. The unit declares the tag gone ``leave_time_s`` after the last beacon it heard,
and back at the next beacon it hears. At home that gives *spurious leaves*: runs of missed
beacons long enough for the unit to call a leave that never happened.

Two fidelities, one model:

- ``beacon_receptions`` draws every beacon (a single device, or the reference in tests), and
  ``silences`` scans its output into (leave_declared_at, return_at) pairs.
- ``spurious_leaves`` draws the same pairs for a fleet without stepping per beacon: its cost
  is per state sojourn (a few numbers per good sojourn, about one per heard beacon in the bad
  state), so a fleet-week of 50,000 subjects stays cheap.

What counts as spurious, in both: a silence *between two heard beacons of the same at-home
interval* lasting at least ``leave_time_s``. Two silences are not spurious and are not
reported: the one before the first heard beacon (the unit still has the tag as gone from the
real absence before, so it only delays the real return), and the one after the last heard
beacon (if the unit calls a leave before the interval ends, that leave merges into the real
departure: it is the real leave, declared early). A channel that loses every beacon therefore
gives no spurious leave at all: the unit never hears the tag come home.

The first beacon in an interval comes at the stationary forward-recurrence time of the beacon
schedule, not at a fixed phase: the tag does not restart its schedule when it comes in range.

What is exact and what is approximated in the fleet sampler:

- exact: sojourn lengths (geometric, in beacons), which beacons are heard wherever a silence
  can reach ``leave_time_s`` (including runs that span several bad sojourns separated by
  good sojourns whose beacons were all lost), and the length of every silence that decides a
  leave (a sum of ``d`` uniforms, drawn exactly whenever ``d * interval_min_s < leave_time_s``
  and, in any case, for ``d <= EXACT_SUM_BEACONS``);
- approximated: (1) the time of a heard beacon more than ``EXACT_SUM_BEACONS`` beacons after
  the previous one drawn, and the length of a silence that long, use the sum's exact mean and
  variance with a normal shape (clipped to the possible range); such a silence is a leave for
  certain, only its return time carries the approximation. (2) Inside a sojourn of a state
  whose loss is low, only the first and last heard beacons are drawn; a run of misses long
  enough to matter strictly inside it is skipped. The sampler does this only when the expected
  number of such runs over the whole call is below ``tolerance`` (a union bound), so its output
  differs from the exact one with probability below ``tolerance``; otherwise it walks every
  heard beacon of that state, which is exact and slower. For the shipped suppliers
  (loss_good 1 to 2%, leave after at least 20 beacons) the bound is about 5e-33 a beacon.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable

import numpy as np

from sim.scenario import RfChannel
from sim.world.gilbert_elliott import leave_chance, loss, stationary_bad

# Numerical-method settings, not domain figures.
EXACT_SUM_BEACONS = 64  # sums of up to this many beacon intervals are drawn exactly
NEGLIGIBLE = 1e-6  # expected skipped events per call below which a low-loss interior is skipped
CHUNK_BEACONS = 1 << 23  # bounds the arrays of one batch (intervals x beacons)
_COVER_SD = 5.0  # draw this many standard deviations beyond the expected count per round
_NEVER = 1 << 36  # a geometric length whose success chance is 0, far past any interval

_EMPTY_PAIRS = np.empty((0, 2), dtype=float)


def _check(interval_min_s: float, interval_max_s: float, leave_time_s: float | None = None) -> None:
    if not 0 < interval_min_s <= interval_max_s:
        raise ValueError(f"beacon intervals: need 0 < min <= max, got {interval_min_s!r}, {interval_max_s!r}")
    if leave_time_s is not None and not leave_time_s > 0:
        raise ValueError(f"leave_time_s: must be more than 0, got {leave_time_s!r}")


def _first_offsets(interval_min_s: float, interval_max_s: float, size: int, rng: np.random.Generator) -> np.ndarray:
    """Time from an arbitrary instant to the next beacon: the renewal process's stationary
    forward recurrence, density P(interval > x) / mean interval."""
    mean = 0.5 * (interval_min_s + interval_max_s)
    pick, where = rng.random(size), rng.random(size)
    flat = pick < interval_min_s / mean  # uniform on [0, min), then a falling ramp to max
    return np.where(flat, where * interval_min_s, interval_max_s - (interval_max_s - interval_min_s) * np.sqrt(where))


def _budget(span: np.ndarray | float, interval_min_s: float) -> np.ndarray:
    """Beacons enough to pass the end: beacon k comes at least k * interval_min_s after start."""
    span = np.asarray(span, dtype=float)
    return np.where(span > 0, np.ceil(np.maximum(span, 0.0) / interval_min_s) + 1, 0).astype(np.int64)


def _geometric(rng: np.random.Generator, p: float, size: int) -> np.ndarray:
    """Trials up to and including the first success (1, 2, ...); "never" when p is 0."""
    if p <= 0:
        return np.full(size, _NEVER, dtype=np.int64)
    return rng.geometric(p, size).astype(np.int64)


# --- full fidelity ------------------------------------------------------------------------------


def beacon_receptions(channel: RfChannel, start: float, end: float, interval_min_s: float, interval_max_s: float,
                      rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Every beacon the tag sends in [start, end) while in range, and whether the unit heard it.

    The reference for the fleet sampler, and the stream a full-fidelity device run feeds its
    base unit. Times are vectorised; the chain is stepped once per state sojourn (geometric
    lengths in beacons), never once per beacon.
    """
    _check(interval_min_s, interval_max_s)
    budget = int(_budget(end - start, interval_min_s))
    if budget == 0:
        return np.empty(0), np.empty(0, dtype=bool)
    first = _first_offsets(interval_min_s, interval_max_s, 1, rng)[0]
    times = start + first + np.concatenate(([0.0], np.cumsum(rng.uniform(interval_min_s, interval_max_s, budget - 1))))
    times = times[times < end]
    n = len(times)
    bad = np.zeros(n, dtype=bool)
    state = bool(rng.random() < stationary_bad(channel))
    at = 0
    while at < n:
        length = int(_geometric(rng, leave_chance(channel, state), 1)[0])
        if state:
            bad[at:at + length] = True
        at += length
        state = not state
    heard = rng.random(n) >= np.where(bad, loss(channel, True), loss(channel, False))
    return times, heard


def silences(send_times: np.ndarray, heard: np.ndarray, leave_time_s: float, end: float) -> np.ndarray:
    """Spurious leaves in one at-home interval's receptions: (leave_declared_at, return_at) pairs.

    A silence between two heard beacons of at least ``leave_time_s`` (a silence of exactly
    ``leave_time_s`` counts) is declared at the last heard beacon plus ``leave_time_s`` and
    ends at the next heard beacon. Heard beacons at or after ``end`` are ignored, so the
    silence that runs into the interval's end is never reported (it is the real departure).
    """
    t = np.asarray(send_times, dtype=float)[np.asarray(heard, dtype=bool)]
    t = t[t < end]
    hit = np.diff(t) >= leave_time_s
    return np.column_stack((t[:-1][hit] + leave_time_s, t[1:][hit])) if hit.any() else _EMPTY_PAIRS.copy()


def spurious_leaves_by_beacon(channel: RfChannel, at_home: np.ndarray, interval_min_s: float, interval_max_s: float,
                              leave_time_s: float, rng: np.random.Generator) -> np.ndarray:
    """``spurious_leaves`` done the slow way, every beacon drawn: the reference it must match."""
    _check(interval_min_s, interval_max_s, leave_time_s)
    pairs = [silences(*beacon_receptions(channel, s, e, interval_min_s, interval_max_s, rng), leave_time_s, e)
             for s, e in _intervals(at_home)]
    return np.concatenate(pairs) if pairs else _EMPTY_PAIRS.copy()


# --- fleet fidelity -----------------------------------------------------------------------------


def spurious_leaves(channel: RfChannel, at_home: np.ndarray, interval_min_s: float, interval_max_s: float,
                    leave_time_s: float, rng: np.random.Generator, *, tolerance: float = NEGLIGIBLE) -> np.ndarray:
    """Spurious leaves over at-home intervals, (m, 2) (leave_declared_at, return_at), in the
    order of ``at_home`` and then of time.

    Same distribution as ``silences(*beacon_receptions(...))`` per interval (see the module
    docstring for the two approximations and ``tolerance``), at a cost per state sojourn.
    ``at_home`` is (n, 2) [start, end) intervals when the tag is truly in range.
    """
    return spurious_leaves_with_interval(channel, at_home, interval_min_s, interval_max_s, leave_time_s, rng,
                                         tolerance=tolerance)[0]


def spurious_leaves_with_interval(channel: RfChannel, at_home: np.ndarray, interval_min_s: float,
                                  interval_max_s: float, leave_time_s: float, rng: np.random.Generator, *,
                                  tolerance: float = NEGLIGIBLE) -> tuple[np.ndarray, np.ndarray]:
    """``spurious_leaves`` plus, for each pair, the row of ``at_home`` it fell in: so one call
    can serve many subjects' intervals at once."""
    _check(interval_min_s, interval_max_s, leave_time_s)
    spans = _intervals(at_home)
    budget = _budget(spans[:, 1] - spans[:, 0], interval_min_s)
    # Smallest index gap between heard beacons whose silence can reach the leave time.
    d_min = max(1, math.ceil(leave_time_s / interval_max_s))
    beacons = int(budget.sum())
    walk = (_must_walk(loss(channel, False), d_min, beacons, tolerance),
            _must_walk(loss(channel, True), d_min, beacons, tolerance))
    pairs, rows = [], []
    for lo, hi in _chunks(budget):
        p, r = _chunk_leaves(channel, spans[lo:hi], budget[lo:hi], interval_min_s, interval_max_s, leave_time_s,
                             d_min, walk, rng)
        pairs.append(p)
        rows.append(r + lo)
    if not pairs:
        return _EMPTY_PAIRS.copy(), np.empty(0, dtype=np.int64)
    return np.concatenate(pairs), np.concatenate(rows)


def interior_bound(loss: float, d_min: int, beacons: int) -> float:
    """Expected runs of at least ``d_min - 1`` misses between heard beacons, over ``beacons``
    beacons of a state with this loss: a union bound on what skipping interiors can miss."""
    return (1.0 - loss) * loss ** (d_min - 1) * beacons


def _must_walk(loss: float, d_min: int, beacons: int, tolerance: float) -> bool:
    # Half the tolerance to each state, so the two together stay below it.
    return interior_bound(loss, d_min, beacons) >= 0.5 * tolerance


def _intervals(at_home: np.ndarray) -> np.ndarray:
    spans = np.asarray(at_home, dtype=float).reshape(-1, 2)
    if not np.isfinite(spans).all():
        raise ValueError("at_home: interval ends must be finite")
    return spans


def _chunks(budget: np.ndarray) -> list[tuple[int, int]]:
    """Runs of intervals with about CHUNK_BEACONS beacons each (one long interval may be alone)."""
    bounds = [0]
    total = 0
    for i, b in enumerate(budget.tolist()):
        if total and total + b > CHUNK_BEACONS:
            bounds.append(i)
            total = 0
        total += b
    bounds.append(len(budget))
    return [(lo, hi) for lo, hi in itertools.pairwise(bounds) if hi > lo]


def _cover(totals: np.ndarray, draw: Callable[[int], np.ndarray], mean: float, sd: float
           ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Lay iid positive lengths end to end from 0 in each segment until it reaches its total.

    ``draw(k)`` gives k rows whose first column is the length. Returns, for every length that
    begins inside its segment, (segment, begin, row), sorted by segment then begin. Rounds draw
    the expected count plus ``_COVER_SD`` standard deviations, so one round nearly always does.
    """
    segs, begins, rows = [], [], []
    pos = np.zeros(len(totals), dtype=np.int64)
    todo = np.flatnonzero(totals > 0)
    while todo.size:
        left = totals[todo] - pos[todo]
        if mean >= _NEVER:
            want = np.ones(len(todo))
        else:
            want = left / mean + _COVER_SD * sd * np.sqrt(left / mean ** 3) + 1
        w = np.minimum(np.ceil(want), left).astype(np.int64)
        seg = np.repeat(todo, w)
        got = draw(len(seg))
        length = np.minimum(got[:, 0], np.repeat(left, w))  # a length past the end only needs to reach it
        first = np.cumsum(w) - w
        cum = np.cumsum(length)
        ends = cum - np.repeat(cum[first] - length[first], w) + np.repeat(pos[todo], w)
        begin = ends - length
        keep = begin < totals[seg]
        segs.append(seg[keep])
        begins.append(begin[keep])
        rows.append(got[keep])
        pos[todo] = ends[first + w - 1]
        todo = todo[pos[todo] < totals[todo]]
    if not segs:
        return np.empty(0, dtype=np.int64), np.empty(0, dtype=np.int64), draw(0)
    seg, begin, row = np.concatenate(segs), np.concatenate(begins), np.concatenate(rows)
    order = np.lexsort((begin, seg))
    return seg[order], begin[order], row[order]


def _geometric_moments(p: float) -> tuple[float, float]:
    return (float(_NEVER), 0.0) if p <= 0 else (1.0 / p, math.sqrt(1.0 - p) / p)


def _sojourns(channel: RfChannel, budget: np.ndarray, rng: np.random.Generator
              ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """State sojourns covering each interval's beacons: (interval, bad, first beacon, length).

    Drawn as cycles of one sojourn in the starting state (stationary) and one in the other, so
    each cycle needs one good and one bad geometric length.
    """
    starts_bad = rng.random(len(budget)) < stationary_bad(channel)
    leave_good, leave_bad = leave_chance(channel, False), leave_chance(channel, True)
    good_mean, good_sd = _geometric_moments(leave_good)
    bad_mean, bad_sd = _geometric_moments(leave_bad)

    def cycle(k: int) -> np.ndarray:
        good, bad = _geometric(rng, leave_good, k), _geometric(rng, leave_bad, k)
        return np.column_stack((good + bad, good, bad))

    seg, begin, row = _cover(budget, cycle, min(good_mean + bad_mean, float(_NEVER)), math.hypot(good_sd, bad_sd))
    first_bad = starts_bad[seg]
    first_len = np.where(first_bad, row[:, 2], row[:, 1])
    second_len = np.where(first_bad, row[:, 1], row[:, 2])
    interval = np.column_stack((seg, seg)).ravel()
    bad = np.column_stack((first_bad, ~first_bad)).ravel()
    at = np.column_stack((begin, begin + first_len)).ravel()
    length = np.column_stack((first_len, second_len)).ravel()
    inside = at < budget[interval]
    interval, bad, at, length = interval[inside], bad[inside], at[inside], length[inside]
    return interval, bad, at, np.minimum(length, budget[interval] - at)


def _ends_only(interval: np.ndarray, at: np.ndarray, length: np.ndarray, loss: float, rng: np.random.Generator
               ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The first and last heard beacons of each sojourn (none if all were lost), exactly.

    The lead run of misses is geometric; given the first heard beacon the rest are iid, so the
    trailing run is geometric too, capped where it would reach the first heard beacon. The pair
    (first, last) is flagged as not consecutive: heard beacons lie between them, unseen.
    """
    lead = _geometric(rng, 1.0 - loss, len(at)) - 1
    some = lead < length
    interval, at, length, lead = interval[some], at[some], length[some], lead[some]
    rest = length - lead - 1
    trail = np.minimum(_geometric(rng, 1.0 - loss, len(at)) - 1, rest)
    first, last = at + lead, at + length - 1 - trail
    two = last > first
    idx = np.concatenate((first, last[two]))
    gapped = np.concatenate((two, np.zeros(int(two.sum()), dtype=bool)))
    return np.concatenate((interval, interval[two])), idx, gapped


def _every_heard(interval: np.ndarray, at: np.ndarray, length: np.ndarray, loss: float, rng: np.random.Generator
                 ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Every heard beacon of each sojourn, by geometric skips: cost per heard beacon."""
    mean, sd = _geometric_moments(1.0 - loss)
    seg, begin, row = _cover(length, lambda k: _geometric(rng, 1.0 - loss, k)[:, None], mean, sd)
    pos = begin + row[:, 0] - 1
    ok = pos < length[seg]
    seg, pos = seg[ok], pos[ok]
    return interval[seg], at[seg] + pos, np.zeros(len(seg), dtype=bool)


def _interval_sums(d: np.ndarray, interval_min_s: float, interval_max_s: float, exact_max: int,
                   rng: np.random.Generator) -> np.ndarray:
    """Sums of ``d`` beacon intervals each: exact up to ``exact_max`` terms, normal beyond
    (exact mean and variance, clipped to [d * min, d * max])."""
    out = np.zeros(len(d))
    small = (d > 0) & (d <= exact_max)
    ds = d[small]
    if ds.size:
        u = rng.uniform(interval_min_s, interval_max_s, int(ds.sum()))
        out[small] = np.add.reduceat(u, np.cumsum(ds) - ds)
    big = d > exact_max
    if big.any():
        db = d[big].astype(float)
        spread = (interval_max_s - interval_min_s) / math.sqrt(12.0)
        s = db * 0.5 * (interval_min_s + interval_max_s) + np.sqrt(db) * spread * rng.standard_normal(len(db))
        out[big] = np.clip(s, db * interval_min_s, db * interval_max_s)
    return out


def _chunk_leaves(channel: RfChannel, spans: np.ndarray, budget: np.ndarray, interval_min_s: float,
                  interval_max_s: float, leave_time_s: float, d_min: int, walk: tuple[bool, bool],
                  rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    interval, bad, at, length = _sojourns(channel, budget, rng)
    parts = []
    for state in (False, True):
        sel = bad == state
        heard = _every_heard if walk[state] else _ends_only
        parts.append(heard(interval[sel], at[sel], length[sel], loss(channel, state), rng))
    a_int = np.concatenate([p[0] for p in parts])
    a_idx = np.concatenate([p[1] for p in parts])
    a_gap = np.concatenate([p[2] for p in parts])
    order = np.lexsort((a_idx, a_int))
    a_int, a_idx, a_gap = a_int[order], a_idx[order], a_gap[order]
    if a_int.size < 2:
        return _EMPTY_PAIRS.copy(), np.empty(0, dtype=np.int64)
    new = np.ones(len(a_int), dtype=bool)
    new[1:] = a_int[1:] != a_int[:-1]
    d = np.where(new, a_idx, a_idx - np.concatenate(([0], a_idx[:-1])))
    # Any silence that can be a leave but need not be is drawn exactly, whatever EXACT_SUM_BEACONS says.
    exact_max = max(EXACT_SUM_BEACONS, math.ceil(leave_time_s / interval_min_s))
    step = _interval_sums(d, interval_min_s, interval_max_s, exact_max, rng)
    step[new] += _first_offsets(interval_min_s, interval_max_s, int(new.sum()), rng)
    cum = np.cumsum(step)
    head = np.flatnonzero(new)
    before = cum[head] - step[head]
    times = spans[a_int, 0] + cum - np.repeat(before, np.diff(np.append(head, len(a_int))))
    # Consecutive heard beacons j, j+1 in one interval.
    leave = ((~new[1:]) & (~a_gap[:-1]) & (d[1:] >= d_min) & (step[1:] >= leave_time_s)
             & (times[1:] < spans[a_int[1:], 1]))
    j = np.flatnonzero(leave)
    return np.column_stack((times[j] + leave_time_s, times[j + 1])), a_int[j]
