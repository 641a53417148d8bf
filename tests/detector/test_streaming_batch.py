"""Streaming and batch give the same alerts on random record streams, in any chunking."""

from __future__ import annotations

import dataclasses

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sim.detector import Alert, Detector, Kind, Telemetry, Zone
from sim.policies import load_policy
from sim.detector.batch import detect_batch, plan_runs, upload_bounds
from sim.detector.telemetry import make_fixes, to_batch
from timeline import H, home_case

HOME = (51.5, -0.1)
CASES = [
    home_case(1, 10, 11, gps=12, alcohol=13, zones=[
        Zone(1, True, HOME[0], HOME[1], 150.0), Zone(2, False, 51.51, -0.1, 300.0), Zone(3, False, 51.49, -0.12, 200.0),
    ]),
    home_case(2, 20, 21, curfew=(21, 9), area=5),
    home_case(3, 30, 31, curfew=(20, 10), area=5),
]
DEVICES = {10: "unit", 20: "unit", 30: "unit", 12: "gps", 13: "alcohol", 99: "gps"}  # 99: no case names it
UNIT_KINDS = [Kind.TAG_LEAVE, Kind.TAG_RETURN, Kind.STRAP_TAMPER, Kind.BODY_TAMPER, Kind.TAMPER_CLEARED, Kind.UNIT_MOVED,
              Kind.MAINS_LOST, Kind.MAINS_RESTORED, Kind.BACKUP_BATTERY_LOW, Kind.STATUS_CHECK, Kind.DEVICE_REBOOT, Kind.DEVICE_BOOT]
SUBJECT_OF = {10: 1, 12: 1, 13: 1, 20: 2, 30: 3, 99: 7}


def make_stream(rng: np.random.Generator, n: int, gps_runs: bool = False) -> list[Telemetry]:
    """Records from every device family (and a device no case names), with lateness up to
    hours, about 10% duplicates and a fifth received in the same instant as the one before.
    ``gps_runs``: mostly a GPS tag's frequent uploads near home, the runs the batch path
    applies at once, with the other devices' records falling between them."""
    mean_gap = 600.0 if gps_runs else H(1.5)
    gaps = rng.exponential(mean_gap, n) * (rng.random(n) > 0.2)
    receive = np.cumsum(gaps) + rng.uniform(0, H(12))
    devices = list(DEVICES)
    weights = np.array([8.0 if d == 12 else 1.0 for d in devices]) if gps_runs else np.ones(len(devices))
    records: list[Telemetry] = []
    seqs: dict[int, int] = {}
    for t in receive:
        if records and rng.random() < 0.1:  # a duplicate of an earlier frame, received again now
            r = records[int(rng.integers(len(records)))]
            records.append(dataclasses.replace(r, receive_time=float(t)))
            continue
        device = int(rng.choice(devices, p=weights / weights.sum()))
        seq = seqs.get(device, -1) + 1
        seqs[device] = seq
        event = float(t - rng.choice([0.0, rng.uniform(0, 60), rng.uniform(0, H(8))], p=[0.6, 0.3, 0.1] if gps_runs else None))
        kind, flags, value, fixes = _payload(rng, DEVICES[device], event, spread=0.0005 if gps_runs else 0.01)
        records.append(Telemetry(device, SUBJECT_OF[device], kind, event, float(t), seq % 65536, flags, value, fixes))
    return records


@st.composite
def streams(draw: st.DrawFn) -> list[Telemetry]:
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    return make_stream(rng, draw(st.integers(1, 60)), gps_runs=draw(st.booleans()))


def _payload(rng: np.random.Generator, family: str, event: float, spread: float) -> tuple[Kind, int, float, np.ndarray | None]:
    if family == "unit":
        return Kind(rng.choice(UNIT_KINDS)), int(rng.integers(0, 1 << 12)), float(rng.integers(0, 101)), None
    if family == "alcohol":
        return Kind.ALCOHOL_READING, int(rng.integers(0, 8)), float(rng.choice([0, 19, 20, 45])), None
    if rng.random() < 0.05:  # a restart said between uploads, its number in the run's sequence
        return Kind.DEVICE_BOOT, 0, float(rng.integers(2, 9)), None
    if rng.random() < 0.4:
        return Kind.GPS_STATUS, int(rng.integers(0, 64)), float(rng.integers(0, 101)), None
    k = int(rng.integers(0, 12))  # an empty upload now and then
    fixes = make_fixes(event - np.sort(rng.uniform(0, 600, k)), HOME[0] + rng.normal(0, spread, k),
                       HOME[1] + rng.normal(0, spread, k), rng.uniform(3, 60, k))
    return Kind.GPS_FIXES, 0, 0.0, fixes


def snapshot(alerts: list[Alert]) -> list[tuple]:
    return [dataclasses.astuple(a) for a in alerts]


@given(streams(), st.data(), st.sampled_from(["standard", "naive"]))
@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])
def test_streaming_in_any_chunking_equals_batch(records: list[Telemetry], data: st.DataObject, policy_name: str) -> None:
    policy = load_policy(policy_name)
    until = records[-1].receive_time + H(30)
    streaming = Detector(policy, CASES, 0.0)
    i = 0
    while i < len(records):
        size = data.draw(st.integers(1, 8))
        streaming.feed(records[i : i + size])
        i += size
        if i < len(records) and data.draw(st.booleans()):
            # The clock may move on between chunks, up to the next record's arrival.
            streaming.advance(data.draw(st.floats(streaming.now, records[i].receive_time)))
    streaming.advance(until)

    events, fixes = to_batch(records)
    batch = detect_batch(policy, CASES, events, fixes, 0.0, until)

    assert snapshot(streaming.alerts) == snapshot(batch.alerts)
    assert snapshot(streaming.book.dismissed) == snapshot(batch.book.dismissed)
    assert streaming.stats == batch.stats


def test_the_streams_exercise_the_rules() -> None:
    """Guard against a generator that never makes alerts: then equality would prove nothing."""
    kinds: set[str] = set()
    for seed in range(40):
        records = make_stream(np.random.default_rng(seed), 60)
        det = Detector(load_policy("standard"), CASES, 0.0)
        det.feed(records)
        det.advance(records[-1].receive_time + H(30))
        kinds |= {a.kind.value for a in det.alerts}
    assert len(kinds) >= 8, kinds


def test_the_gps_streams_make_runs_for_the_batch_path() -> None:
    """Guard: the ``gps_runs`` streams must give the batch path runs to apply at once, with
    other records between their uploads, or the property above would not test them."""
    members = interleaved = 0
    for seed in range(40):
        records = make_stream(np.random.default_rng(seed), 60, gps_runs=True)
        events, fixes = to_batch(records)
        det = Detector(load_policy("standard"), CASES, 0.0)
        bounds = upload_bounds(fixes)
        runs = plan_runs(det, events, fixes, bounds, np.ones(len(bounds) - 1, bool))
        members += sum(run.uploads for run in runs.runs)
        firsts = {r: fixes["order"][bounds[i]] for i, r in enumerate(runs.lead) if r >= 0}
        lasts = {r: fixes["order"][bounds[i]] for i, r in enumerate(runs.member) if r >= 0}  # the run's last upload wins
        interleaved += sum(((events["order"] > first) & (events["order"] < lasts[r])).sum() for r, first in firsts.items())
    assert members >= 200 and interleaved >= 200, (members, interleaved)
