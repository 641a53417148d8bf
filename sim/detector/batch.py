"""The batch API: the detector's decisions over numpy arrays, for large replays.

``detect_batch`` takes event records as a ``RECORD_DTYPE`` array and GPS fixes
as a ``BATCH_FIX_DTYPE`` array (each upload's fixes contiguous), and makes
exactly the decisions the streaming API makes on the same records fed in the
same order: the records' ``order`` column, their position in the receive
order (so ties in receive time replay exactly as they streamed). Records pass
the streaming engine's own admission and rules, so the two cannot drift apart;
what the batch path adds is speed on GPS fixes: every fix is judged against its
subject's zones and curfews in one numpy pass (each fix gathered against its
own subject's zones, by the judgement streaming uses, ``sim.detector.zones``);
an upload with nothing wrong, for a subject with nothing open, skips the zone
rule altogether; and a run of such uploads from one tag (``plan_runs``) goes
through admission at once, by the engine's own ``Detector.admit_clean_run``.
"""

from __future__ import annotations

import functools
import heapq
import math
from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np

from sim.detector.cases import Case, CaseBook, curfew_mask
from sim.detector.engine import CleanRun, Detector
from sim.detector.geofence import east_scale
from sim.detector.policy import Policy
from sim.detector.sequence import SEQ_WINDOW, is_ahead, steps_ahead
from sim.detector.telemetry import BATCH_FIX_DTYPE, RECORD_DTYPE, Kind, Telemetry
from sim.detector.zones import Verdicts, judge


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
    """Every subject's zones and curfews as padded (row, slot) columns: a row a case, and
    a last row with none for subjects no case names (a stray upload: streaming counts
    it as an unknown device)."""

    row_of: np.ndarray  # subject id -> row, for ids up to the largest case subject
    # (row, zone, 4): lat, lon, metres per degree east, radius (NaN in padding: never
    # inside it); packed so that judging a fix gathers one row, not four.
    zones: np.ndarray
    inclusion: np.ndarray
    curfew_days: np.ndarray  # 0 in padding: no day is ever on
    curfew_start: np.ndarray
    curfew_duration: np.ndarray

    @staticmethod
    @functools.lru_cache(maxsize=4)  # a replay fed a day at a time judges against the same book
    def of(cases: CaseBook) -> _ZoneTable:
        by = list(cases.by_subject.values())
        z = max((len(c.zones) for c in by), default=0)
        k = max((len(c.curfews) for c in by), default=0)
        rows = len(by) + 1
        lat, lon, radius = (np.full((rows, z), np.nan) for _ in range(3))
        inclusion = np.zeros((rows, z), dtype=bool)
        days = np.zeros((rows, k), dtype=np.int64)
        start, duration = np.zeros((rows, k)), np.zeros((rows, k))
        for i, case in enumerate(by):
            for j, zone in enumerate(case.zones):
                lat[i, j], lon[i, j], radius[i, j], inclusion[i, j] = zone.lat, zone.lon, zone.radius_m, zone.inclusion
            for j, curfew in enumerate(case.curfews):
                days[i, j], start[i, j], duration[i, j] = curfew.days, curfew.start_s, curfew.duration_s
        # Subject ids are u32: a dense lookup is one gather a fix, where a search would be twenty.
        row_of = np.full(max(cases.by_subject, default=-1) + 1, len(by), dtype=np.int64)
        row_of[list(cases.by_subject)] = np.arange(len(by))
        packed = np.stack((lat, lon, east_scale(lat), radius), axis=-1)
        return _ZoneTable(row_of, packed, inclusion, days, start, duration)

    def rows(self, subjects: np.ndarray) -> np.ndarray:
        known = subjects < len(self.row_of)
        if known.all():
            return self.row_of[subjects]
        return np.where(known, self.row_of[np.minimum(subjects, len(self.row_of) - 1)], len(self.zones) - 1)


_KINDS = {int(k): k for k in Kind}

# Fixes judged at a time: small enough that a block's temporaries stay in cache.
JUDGE_BLOCK = 1 << 15


def judge_fixes(cases: CaseBook, fixes: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """For every fix, against each of its subject's zones (columns in the case's zone order,
    padded): on the wrong side, and surely so, by the judgement ``GpsRule.on_fixes`` makes."""
    table = _ZoneTable.of(cases)
    shape = (len(fixes), table.zones.shape[1])
    wrong, sure = np.empty(shape, dtype=bool), np.empty(shape, dtype=bool)
    for a in range(0, len(fixes), JUDGE_BLOCK):
        b = min(a + JUDGE_BLOCK, len(fixes))
        block = fixes[a:b]
        wrong[a:b], sure[a:b] = _judge_block(table, table.rows(block["subject"]), block)
    return wrong, sure


def _judge_block(table: _ZoneTable, row: np.ndarray, fixes: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    gathered = table.zones[row]
    inclusion = table.inclusion[row]
    active = None
    if inclusion.any():
        active = np.zeros(len(fixes), dtype=bool)
        for c in range(table.curfew_days.shape[1]):
            active |= curfew_mask(fixes["time"], table.curfew_days[row, c], table.curfew_start[row, c], table.curfew_duration[row, c])
    # Padding is an exclusion zone of NaN radius: every comparison with NaN is false, so it is never wrong.
    return judge(fixes, gathered[..., 0], gathered[..., 1], gathered[..., 2], gathered[..., 3], inclusion, active)


@dataclass(frozen=True)
class Runs:
    """Runs of GPS uploads the batch path applies at once (``Detector.admit_clean_run``).

    A run is a GPS tag's uploads, consecutive among its subject's uploads, each judged
    clean, with event times not going back, no gap longer than the tag's silence
    threshold, and its sequence numbers stepping ahead within one duplicate window.
    Streaming would take each upload through the stages only to count it, note it
    heard and move its window: no deadline between them could find the tag silent,
    and nothing else reads what they change. So after the first (the lead) has been
    processed as usual, the rest are applied at once, in its place.

    Other records of the subject may fall between a run's uploads (not a reboot or an
    out-of-step sequence number of the tag itself), provided their event times are
    such that each record's lateness comes out as streaming has it."""

    # Per upload, as Python lists (read one element at a time in the replay loop):
    lead: list[int]  # the run it leads, or -1
    member: list[int]  # the run it follows its lead in, or -1
    runs: list[CleanRun]


def plan_runs(det: Detector, events: np.ndarray, fixes: np.ndarray, bounds: np.ndarray, clean: np.ndarray) -> Runs:
    """The runs among a batch's uploads (``clean``: judged with no fix on the wrong side)."""
    starts = bounds[:-1]
    n_events, n_uploads = len(events), len(starts)
    if n_uploads < 2:
        return Runs([-1] * n_uploads, [-1] * n_uploads, [])
    n = n_events + n_uploads
    device = np.concatenate((events["device"], fixes["device"][starts])).astype(np.int64)
    order = np.concatenate((events["order"], fixes["order"][starts]))
    upload = np.arange(n) >= n_events
    seq = np.concatenate((events["seq"], fixes["seq"][starts])).astype(np.int64)
    event_time = np.concatenate((events["event_time"], fixes["upload_time"][starts]))
    receive = np.concatenate((events["receive_time"], fixes["receive_time"][starts]))
    reboot = np.concatenate((events["kind"] == int(Kind.DEVICE_REBOOT), np.zeros(n_uploads, bool)))
    # The subject a device's case names (whose state its records change); unknown devices change none.
    known = np.array(sorted(det.devices), dtype=np.int64)
    facts = [det.devices[d] for d in known.tolist()]
    known_subject = np.array([d.case.subject for d in facts] + [-1], dtype=np.int64)
    known_threshold = np.array([math.inf if d.silent_after is None else d.silent_after for d in facts] + [0.0])
    at = np.searchsorted(known, device)
    at = np.where(np.append(known, -1)[at] == device, at, len(known))  # the last row: no case names it
    subject, threshold = known_subject[at], known_threshold[at]

    # Each record's sequence number steps ahead of its device's record before, as the engine judges it.
    ahead = np.ones(n, bool)
    d = np.lexsort((order, device))
    ahead[d[1:]] = (device[d[1:]] != device[d[:-1]]) | is_ahead(seq[d[:-1]], seq[d[1:]])

    by = np.lexsort((order, subject))  # each subject's records in receive order
    at_upload = np.flatnonzero(upload[by])  # where, in ``by``, the uploads are
    u = by[at_upload]  # uploads in their subjects' order
    # A record between two uploads of a tag that breaks a run: the tag's own reboot, or a step out of sequence.
    next_upload = np.minimum(np.searchsorted(at_upload, np.arange(n)), len(u) - 1)
    breaks = ~upload[by] & (device[by] == device[u[next_upload]]) & (reboot[by] | ~ahead[by])
    breaks_before = np.concatenate(([0], np.cumsum(breaks)))
    a, b = u[:-1], u[1:]
    joins = (
        (subject[a] == subject[b]) & (subject[b] >= 0) & (device[a] == device[b])
        & clean[a - n_events] & clean[b - n_events] & ahead[b]
        & (event_time[b] >= event_time[a]) & (receive[b] - receive[a] <= threshold[b])
        & (breaks_before[at_upload[1:]] == breaks_before[at_upload[:-1] + 1])
    )
    first = np.concatenate(([True], ~joins))
    # Split so that no run spans a duplicate window (the records between must fall inside it),
    # nor half the allowed lateness (applied early, its newest upload must not make them late).
    lateness = det.policy.allowed_lateness_s
    steps = np.cumsum(np.concatenate(([0], steps_ahead(seq[a], seq[b]))))
    head = np.flatnonzero(first)[np.cumsum(first) - 1]
    window = (steps - steps[head]) // SEQ_WINDOW
    elapsed = event_time[u] - event_time[u[head]]
    period = np.floor(elapsed / (lateness / 2)) if lateness > 0 else elapsed
    first[1:] |= (window[1:] != window[:-1]) | (period[1:] != period[:-1])
    group = np.cumsum(first) - 1
    gs = np.flatnonzero(first)
    ge = np.concatenate((gs[1:], [len(u)])) - 1

    # Lateness: each record between must be on time against the run's newest, and the run against them.
    is_event = ~upload[by]
    lo = np.append(np.where(is_event, event_time[by], np.inf), np.inf)
    hi = np.append(np.where(is_event, event_time[by], -np.inf), -np.inf)
    candidates = np.flatnonzero(ge > gs)
    spans = np.ravel(np.column_stack((at_upload[gs[candidates]], at_upload[ge[candidates]] + 1)))
    if len(spans):
        between_lo, between_hi = np.minimum.reduceat(lo, spans)[::2], np.maximum.reduceat(hi, spans)[::2]
        on_time = (between_lo >= event_time[u[ge[candidates]]] - lateness) & (event_time[u[gs[candidates] + 1]] >= between_hi - lateness)
        runs = candidates[on_time]
    else:
        runs = candidates

    run_of = np.full(len(gs), -1)
    run_of[runs] = np.arange(len(runs))
    run = run_of[group]
    in_run = run >= 0
    is_lead, is_member = first & in_run, ~first & in_run
    lead, member = np.full(n_uploads, -1), np.full(n_uploads, -1)
    lead[u[is_lead] - n_events] = run[is_lead]
    member[u[is_member] - n_events] = run[is_member]

    if len(runs):
        rs, re = gs[runs], ge[runs]
        run_starts = np.concatenate(([0], np.cumsum(re - rs + 1)[:-1]))
        members = u[in_run] - n_events
        lead_here = is_lead[in_run]
        run_fixes = np.add.reduceat(np.where(lead_here, 0, np.diff(bounds)[members]), run_starts)
        newest = np.maximum.reduceat(np.where(lead_here, -np.inf, fixes["time"][bounds[1:] - 1][members]), run_starts)
        last_seq = seq[u[re]]
        below_last = steps_ahead(seq[u[in_run]], np.repeat(last_seq, re - rs + 1))
        seq_bits = np.bitwise_or.reduceat(np.left_shift(np.uint64(1), below_last.astype(np.uint64)), run_starts)
    else:
        rs = re = run_starts = np.zeros(0, np.int64)
        run_fixes, newest, last_seq, seq_bits = np.zeros(0, np.int64), np.zeros(0), np.zeros(0, np.int64), np.zeros(0, np.uint64)
    columns = (
        seq[u[rs]].tolist(), steps_ahead(seq[u[rs]], last_seq).tolist(), last_seq.tolist(), seq_bits.tolist(),
        (re - rs).tolist(), run_fixes.tolist(), event_time[u[rs + 1]].tolist(), event_time[u[re]].tolist(),
        receive[u[re]].tolist(), newest.tolist(),
    )
    return Runs(lead.tolist(), member.tolist(), [CleanRun(*run) for run in zip(*columns, strict=True)])


def _time_ordered(fixes: np.ndarray, bounds: np.ndarray) -> np.ndarray:
    """Each upload's fixes in time order, stably; the common case, already so, is not copied."""
    t = fixes["time"]
    new_upload = np.zeros(len(fixes), bool)
    new_upload[bounds[:-1]] = True
    if len(fixes) < 2 or bool(np.all((t[1:] >= t[:-1]) | new_upload[1:])):
        return fixes
    upload_of = np.cumsum(new_upload) - 1
    return fixes[np.lexsort((t, upload_of))]


def feed_batch(det: Detector, events: np.ndarray, fixes: np.ndarray) -> None:
    """Feed ``det`` one batch of records as arrays, with exactly the decisions ``det.feed``
    makes on the same records in the order their ``order`` column gives. A long replay
    may come in several batches (a day at a time keeps its memory bounded), each
    received after the last. Call ``det.advance`` to move time on after the last."""
    if events.dtype != RECORD_DTYPE or fixes.dtype != BATCH_FIX_DTYPE:
        raise TypeError("events must be RECORD_DTYPE and fixes BATCH_FIX_DTYPE (see sim.detector.telemetry)")
    bounds = upload_bounds(fixes)
    starts = bounds[:-1]
    fixes = _time_ordered(fixes, bounds)
    if len(fixes):
        wrong, sure = judge_fixes(det.cases, fixes)
        upload_wrong = np.logical_or.reduceat(wrong.any(axis=1), starts) if wrong.shape[1] else np.zeros(len(starts), bool)
    else:
        wrong = sure = np.zeros((0, 0), bool)
        upload_wrong = np.zeros(0, bool)
    runs = plan_runs(det, events, fixes, bounds, ~upload_wrong)
    # One merged order, the records' own positions in the receive order, without the uploads
    # that follow a run's lead: they come back (``waiting``) only if their run cannot be applied at once.
    n_events = len(events)
    order = np.argsort(np.concatenate((events["order"], fixes["order"][starts])), kind="stable")
    member = np.asarray(runs.member, dtype=np.int64)
    skipped = np.zeros(len(order), bool)
    skipped[n_events + np.flatnonzero(member >= 0)] = True
    walk = ~skipped[order]
    rank_of = np.empty(len(order), np.int64)
    rank_of[order] = np.arange(len(order))
    members_by_run = np.flatnonzero(member >= 0)[np.argsort(member[member >= 0], kind="stable")]
    run_members = np.searchsorted(member[members_by_run], np.arange(len(runs.runs) + 1)).tolist()
    members_by_run_list, member_rank = members_by_run.tolist(), rank_of[n_events:].tolist()

    # Plain lists: indexing numpy scalars one at a time would cost more than the work.
    # A kind this version does not know passes as its number: streaming ignores it too.
    ev = [events[name].tolist() for name in RECORD_DTYPE.names[1:]]  # type: ignore[index]
    records = [Telemetry(d, s, _KINDS.get(k, k), e, r, q, f, v) for d, s, k, e, r, q, f, v in zip(*ev, strict=True)]
    up_device, up_time, up_receive, up_seq = (
        fixes[name][starts].tolist() for name in ("device", "upload_time", "receive_time", "seq")
    )
    edges, judged_wrong = bounds.tolist(), upload_wrong.tolist()
    last_fix = fixes["time"][bounds[1:] - 1].tolist() if len(fixes) else []
    lead, clean_runs = runs.lead, runs.runs
    admit, admit_run, gps = det.admit_fields, det.admit_clean_run, det.gps
    waiting: list[tuple[int, int]] = []  # (rank, upload) of uploads of runs taken one at a time after all

    def expand(r: int) -> None:
        for i in members_by_run_list[run_members[r] : run_members[r + 1]]:
            heapq.heappush(waiting, (member_rank[i], i))

    def upload(i: int) -> None:
        device = admit(up_device[i], Kind.GPS_FIXES, up_seq[i], up_time[i], up_receive[i])
        r = lead[i]
        if device is None:
            if r >= 0:
                expand(r)
            return
        a, b = edges[i], edges[i + 1]
        subject = device.case.subject
        if not judged_wrong[i] and not gps.tracking(subject):
            gps.judged_clean(subject, b - a, last_fix[i])
        else:
            record = Telemetry(up_device[i], subject, Kind.GPS_FIXES, up_time[i], up_receive[i], up_seq[i])
            nz = len(device.case.zones)
            gps.on_judged(device, record, Verdicts(fixes["time"][a:b], wrong[a:b, :nz], sure[a:b, :nz]))
        if r >= 0 and not admit_run(device, clean_runs[r]):
            expand(r)  # one at a time after all

    pending: list[Telemetry] = []  # event records in a row, fed in one call
    for rank, k in zip(np.flatnonzero(walk).tolist(), order[walk].tolist(), strict=True):
        if waiting and waiting[0][0] < rank:
            det.feed(pending)
            pending.clear()
            while waiting and waiting[0][0] < rank:
                upload(heapq.heappop(waiting)[1])
        if k < n_events:
            pending.append(records[k])
            continue
        det.feed(pending)
        pending.clear()
        upload(k - n_events)
    det.feed(pending)
    while waiting:
        upload(heapq.heappop(waiting)[1])


def detect_batch(
    policy: Policy, cases: CaseBook | Iterable[Case], events: np.ndarray, fixes: np.ndarray, start: float, until: float
) -> Detector:
    """Run the detector over a whole replay; returns it, holding its alerts and stats."""
    det = Detector(policy, cases, start)
    feed_batch(det, events, fixes)
    det.advance(until)
    det.book.take_updates()
    return det
