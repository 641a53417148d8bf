"""Synthetic record streams for detector benchmarks: a fleet's traffic, not a fleet simulation.

Every subject has a base unit and RF tag (curfew 19:00 for 12 h); a share also
wear a GPS tag with three zones. Base units send hourly status checks, a
leave and a return a day and a rare tamper; GPS tags upload a fix a minute
every ten minutes. Seeded, so every run measures the same work.
"""

from __future__ import annotations

import numpy as np

from sim.detector import Case, Curfew, DeviceKind, FittedDevice, Kind, Telemetry, Zone
from sim.detector.telemetry import BATCH_FIX_DTYPE, to_batch

HOME_LAT, HOME_LON = 52.0, -1.5  # a synthetic town centre
DAY_S = 86400.0


def fleet_cases(n_subjects: int, gps_share: float = 0.5, seed: int = 0) -> list[Case]:
    rng = np.random.default_rng(seed)
    cases = []
    for s in range(n_subjects):
        lat, lon = HOME_LAT + rng.normal(0, 0.05), HOME_LON + rng.normal(0, 0.05)
        devices = [FittedDevice(3 * s, DeviceKind.BASE_UNIT, 0.0, s % 200, 3600.0), FittedDevice(3 * s + 1, DeviceKind.RF_TAG, 0.0)]
        zones: tuple[Zone, ...] = ()
        if rng.random() < gps_share:
            devices.append(FittedDevice(3 * s + 2, DeviceKind.GPS_TAG, 0.0, s % 200, 600.0))
            zones = (Zone(1, True, lat, lon, 100.0),
                     Zone(2, False, lat + 0.02, lon, 300.0), Zone(3, False, lat, lon + 0.03, 250.0))
        cases.append(Case(s, tuple(devices), (Curfew(0x7F, 19 * 3600, 12 * 3600),), zones))
    return cases


def event_records(cases: list[Case], n_records: int, seed: int = 1) -> list[Telemetry]:
    """About ``n_records`` base-unit records in receive-time order: each unit's hourly
    status check, a leave in the morning and a return in the evening (sometimes late
    into curfew), and a rare tamper that clears; as many days as that takes."""
    rng = np.random.default_rng(seed)
    units = [c.devices[0].device for c in cases]
    days = max(1, round(n_records / (len(units) * 27)))
    rows: list[tuple[float, int, Kind, float]] = []  # receive time, unit, kind, event time
    for u in units:
        phase = float(rng.uniform(0, 3600))
        for day in range(days):
            base = day * 86400.0
            rows += [(base + phase + h * 3600.0, u, Kind.STATUS_CHECK, base + phase + h * 3600.0) for h in range(24)]
            leave = base + rng.uniform(7, 10) * 3600
            back = base + rng.uniform(17, 19.5) * 3600 + (rng.exponential(3600) if rng.random() < 0.1 else 0.0)
            rows += [(leave + 2.0, u, Kind.TAG_LEAVE, leave), (back + 2.0, u, Kind.TAG_RETURN, back)]
            if rng.random() < 0.01:
                t = base + rng.uniform(0, 86400)
                rows += [(t + 1.0, u, Kind.STRAP_TAMPER, t), (t + 31.0, u, Kind.TAMPER_CLEARED, t + 30.0)]
    rows.sort(key=lambda row: row[0])
    seqs: dict[int, int] = {}
    out = []
    for receive, u, kind, event in rows[:n_records]:
        seq = seqs.get(u, -1) + 1
        seqs[u] = seq
        flags = 0x04 << 8 if kind is Kind.TAMPER_CLEARED else 0  # the tag stayed in range
        out.append(Telemetry(u, u // 3, kind, event, receive, seq & 0xFFFF, flags))
    return out


def gps_fixes(cases: list[Case], hours: float, seed: int = 2) -> np.ndarray:
    """A fix a minute for every GPS subject, uploaded every ten minutes, mostly near home."""
    rng = np.random.default_rng(seed)
    gps = [c for c in cases if any(d.kind is DeviceKind.GPS_TAG for d in c.devices)]
    per = int(hours * 60)
    n = len(gps) * per
    fixes = np.empty(n, dtype=BATCH_FIX_DTYPE)
    t = np.tile(np.arange(per) * 60.0, len(gps))
    fixes["time"] = t
    fixes["upload_time"] = (t // 600 + 1) * 600
    fixes["receive_time"] = fixes["upload_time"] + np.repeat(np.arange(len(gps)) * 1e-3, per)
    fixes["device"] = np.repeat([c.devices[2].device for c in gps], per)
    fixes["subject"] = np.repeat([c.subject for c in gps], per)
    fixes["seq"] = (t // 600).astype(np.uint16)
    home = np.repeat([[c.zones[0].lat, c.zones[0].lon] for c in gps], per, axis=0)
    # At home (within a few tens of metres) from 19:00 to 07:00, out about town by day;
    # now and then a subject strays into the first exclusion zone (about half a zone
    # alert a subject-day, against 1.25 alerts of every kind a person-day seen across
    # the US, DOMAIN.md: the zone rules' own work is not understated).
    hour = t % 86400 / 3600
    spread = np.where((hour >= 19) | (hour < 7), 0.0001, 0.005)
    fixes["lat"] = home[:, 0] + rng.normal(0, 1, n) * spread
    fixes["lon"] = home[:, 1] + rng.normal(0, 1, n) * spread
    stray = rng.random(n) < 0.00025
    fixes["lat"][stray] += 0.02
    fixes["accuracy_m"] = rng.uniform(3, 30, n)
    # Uploads in receive order, each upload's fixes contiguous and numbered in that order.
    fixes = fixes[np.lexsort((fixes["time"], fixes["device"], fixes["receive_time"]))]
    new_upload = np.concatenate(([True], (fixes["device"][1:] != fixes["device"][:-1]) | (fixes["seq"][1:] != fixes["seq"][:-1])))
    fixes["order"] = np.cumsum(new_upload) - 1
    return fixes


def day_of_traffic(cases: list[Case]) -> tuple[np.ndarray, np.ndarray]:
    """A day of every base unit's records and every GPS tag's uploads received within it,
    as the batch API's arrays with one receive order across both."""
    events = to_batch(event_records(cases, len(cases) * 27))[0]
    fixes = gps_fixes(cases, hours=24)
    # Only what is received within the day, so that day after day the receive order holds.
    events, fixes = events[events["receive_time"] < DAY_S], fixes[fixes["receive_time"] < DAY_S]
    first = np.concatenate(([True], fixes["order"][1:] != fixes["order"][:-1]))
    received = np.concatenate((events["receive_time"], fixes["receive_time"][first]))
    rank = np.empty(len(received), dtype=np.uint64)
    rank[np.argsort(received, kind="stable")] = np.arange(len(received), dtype=np.uint64)
    events["order"] = rank[: len(events)]
    fixes["order"] = np.repeat(rank[len(events) :], np.diff(np.flatnonzero(np.concatenate((first, [True])))))
    return events, fixes


def next_day(events: np.ndarray, fixes: np.ndarray) -> None:
    """Move a day of traffic on by a day, in place: the same tracks and records the next
    day, each device's sequence numbers carrying on from the day before."""
    for array, names in ((events, ("event_time", "receive_time")), (fixes, ("time", "upload_time", "receive_time"))):
        for name in names:
            array[name] += DAY_S
    for array in (events, fixes):
        if len(array):
            device = array["device"]
            first = np.concatenate(([True], array["order"][1:] != array["order"][:-1])) if array is fixes else np.ones(len(array), bool)
            per_device = np.bincount(device[first], minlength=int(device.max()) + 1)
            array["seq"] += per_device[device].astype(np.uint16)
