"""The batch API: the detector's decisions over numpy arrays, for large replays.

``detect_batch`` takes event records as a ``RECORD_DTYPE`` array and GPS fixes
as a ``BATCH_FIX_DTYPE`` array (each upload's fixes contiguous), and makes
exactly the decisions the streaming API makes on the same records fed in the
same order: the records' ``order`` column, their position in the receive
order (so ties in receive time replay exactly as they streamed). Records pass the streaming engine's own stages and rules, so the
two cannot drift apart; what the batch path adds is speed on GPS fixes: every
fix is judged against its subject's zones and curfews in one numpy pass (each
fix gathered against its own subject's zones), and an upload with nothing
wrong, for a subject with nothing open, skips the zone rule altogether.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np

from sim.detector import geofence
from sim.detector.cases import Case, CaseBook, curfew_mask
from sim.detector.engine import Detector
from sim.detector.policy import Policy
from sim.detector.rules.gps import Verdicts
from sim.detector.telemetry import BATCH_FIX_DTYPE, RECORD_DTYPE, Kind, Telemetry


def upload_bounds(fixes: np.ndarray) -> np.ndarray:
    """Start offsets of each upload in ``fixes``, and the end: an upload is a run of
    rows with the same ``order`` (a resent copy received in the same instant is
    another record, so another upload)."""
    if len(fixes) == 0:
        return np.zeros(1, dtype=np.int64)
    change = fixes["order"][1:] != fixes["order"][:-1]
    return np.concatenate(([0], np.flatnonzero(change) + 1, [len(fixes)]))


@dataclass(frozen=True)
class _ZoneTable:
    """Every subject's zones and curfews as padded (subject, slot) columns."""

    subjects: np.ndarray  # sorted subject ids
    # (subject, zone, 4): lat, lon, metres per degree east, radius (NaN in padding: never
    # inside it); packed so that judging a fix gathers one row, not four.
    zones: np.ndarray
    inclusion: np.ndarray
    curfew_days: np.ndarray  # 0 in padding: no day is ever on
    curfew_start: np.ndarray
    curfew_duration: np.ndarray

    @classmethod
    def of(cls, cases: CaseBook, subjects: np.ndarray) -> _ZoneTable:
        # A subject no case names (a stray upload) has no zones: streaming counts it as an unknown device.
        by = [cases.by_subject.get(int(s)) or Case(int(s), ()) for s in subjects]
        z = max((len(c.zones) for c in by), default=0)
        k = max((len(c.curfews) for c in by), default=0)
        lat, lon, radius = (np.full((len(by), z), np.nan) for _ in range(3))
        inclusion = np.zeros((len(by), z), dtype=bool)
        days = np.zeros((len(by), k), dtype=np.int64)
        start, duration = np.zeros((len(by), k)), np.zeros((len(by), k))
        for i, case in enumerate(by):
            for j, zone in enumerate(case.zones):
                lat[i, j], lon[i, j], radius[i, j], inclusion[i, j] = zone.lat, zone.lon, zone.radius_m, zone.inclusion
            for j, curfew in enumerate(case.curfews):
                days[i, j], start[i, j], duration[i, j] = curfew.days, curfew.start_s, curfew.duration_s
        zones = np.stack((lat, lon, geofence.east_scale(lat), radius), axis=-1)
        return cls(subjects, zones, inclusion, days, start, duration)


_KINDS = {int(k): k for k in Kind}

# Fixes judged at a time: small enough that a block's temporaries stay in cache.
JUDGE_BLOCK = 1 << 15


def judge_fixes(cases: CaseBook, fixes: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """For every fix, against each of its subject's zones (columns in the case's zone order,
    padded): on the wrong side, and surely so. The same verdicts ``GpsRule.on_fixes`` reaches."""
    subjects = np.unique(fixes["subject"])
    table = _ZoneTable.of(cases, subjects)
    rows = np.searchsorted(subjects, fixes["subject"])
    shape = (len(fixes), table.zones.shape[1])
    wrong, sure = np.empty(shape, dtype=bool), np.empty(shape, dtype=bool)
    for a in range(0, len(fixes), JUDGE_BLOCK):
        b = min(a + JUDGE_BLOCK, len(fixes))
        wrong[a:b], sure[a:b] = _judge_block(table, rows[a:b], fixes[a:b])
    return wrong, sure


def _judge_block(table: _ZoneTable, row: np.ndarray, fixes: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    t = fixes["time"]
    zones = table.zones[row]
    radius = zones[..., 3]
    d2 = geofence.squared_distances(fixes["lat"][:, None], fixes["lon"][:, None], zones[..., 0], zones[..., 1], zones[..., 2])
    centre_in, sure_in, sure_out = geofence.classify(d2, fixes["accuracy_m"][:, None], radius)
    inclusion = table.inclusion[row]
    if inclusion.any():
        active = np.zeros(len(fixes), dtype=bool)
        for c in range(table.curfew_days.shape[1]):
            active |= curfew_mask(t, table.curfew_days[row, c], table.curfew_start[row, c], table.curfew_duration[row, c])
        wrong = np.where(inclusion, ~centre_in & active[:, None], centre_in)
        sure = np.where(inclusion, sure_out & active[:, None], sure_in)
    else:
        wrong, sure = centre_in, sure_in
    # Padding is an exclusion zone of NaN radius: every comparison with NaN is false, so it is never wrong.
    return wrong, sure


def detect_batch(
    policy: Policy, cases: CaseBook | Iterable[Case], events: np.ndarray, fixes: np.ndarray, start: float, until: float
) -> Detector:
    """Run the detector over a whole replay; returns it, holding its alerts and stats."""
    if events.dtype != RECORD_DTYPE or fixes.dtype != BATCH_FIX_DTYPE:
        raise TypeError("events must be RECORD_DTYPE and fixes BATCH_FIX_DTYPE (see sim.detector.telemetry)")
    det = Detector(policy, cases, start)
    bounds = upload_bounds(fixes)
    starts = bounds[:-1]
    upload_of = np.repeat(np.arange(len(starts)), np.diff(bounds))
    fixes = fixes[np.lexsort((fixes["time"], upload_of))]  # each upload's fixes in time order, stably
    wrong, sure = judge_fixes(det.cases, fixes) if len(fixes) else (np.zeros((0, 0), bool), np.zeros((0, 0), bool))
    upload_wrong = np.logical_or.reduceat(wrong.any(axis=1), starts) if len(fixes) and wrong.shape[1] else np.zeros(len(starts), bool)
    # One merged order: the records' own positions in the receive order.
    order = np.argsort(np.concatenate((events["order"], fixes["order"][starts])), kind="stable")
    # Plain lists: indexing numpy scalars one at a time would cost more than the work.
    ev = [events[name].tolist() for name in RECORD_DTYPE.names[1:]]  # type: ignore[index]
    up_device, up_subject, up_time, up_receive, up_seq = (
        fixes[name][starts].tolist() for name in ("device", "subject", "upload_time", "receive_time", "seq")
    )
    edges, judged_wrong = bounds.tolist(), upload_wrong.tolist()
    last_fix = fixes["time"][bounds[1:] - 1].tolist() if len(fixes) else []
    n_events, admit, gps = len(events), det.admit_fields, det.gps
    for k in order.tolist():
        if k < n_events:
            device_id, subject, kind, event_time, receive_time, seq, flags, value = (column[k] for column in ev)
            # A kind this version does not know passes as its number: streaming ignores it too.
            det.feed((Telemetry(device_id, subject, _KINDS.get(kind, kind), event_time, receive_time, seq, flags, value),))
            continue
        i = k - n_events
        device = admit(up_device[i], Kind.GPS_FIXES, up_seq[i], up_time[i], up_receive[i])
        if device is None:
            continue
        a, b = edges[i], edges[i + 1]
        if not judged_wrong[i] and not gps.tracking(up_subject[i]):
            gps.judged_clean(up_subject[i], b - a, last_fix[i])
            continue
        record = Telemetry(up_device[i], up_subject[i], Kind.GPS_FIXES, up_time[i], up_receive[i], up_seq[i])
        nz = len(device.case.zones)
        gps.on_judged(device, record, Verdicts(fixes["time"][a:b], wrong[a:b, :nz], sure[a:b, :nz]))
    det.advance(until)
    det.book.take_updates()
    return det
