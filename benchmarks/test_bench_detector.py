"""Detector throughput ladders: event records streaming, GPS fixes in batch, memory per device.

Each rate is recorded beside a reference measured in the same run on the same
data, as ``ratio_to_reference`` in the benchmark's ``extra_info``:
- records: a bare Python dict-per-event loop (the floor of any per-record Python);
- fixes: a bare numpy gather-based 3-circle geofence (no accuracy, no curfew).
Targets (issue 3): 300,000 records/s streaming at 50,000 devices; 5,000,000
fixes/s through the zone rules in batch.
"""

from __future__ import annotations

import tracemalloc

import numpy as np
import pytest
from best_rate import best_rate
from fleet_records import day_of_traffic, event_records, fleet_cases, gps_fixes, next_day

from sim.detector import CaseBook, Detector
from sim.detector.batch import detect_batch, feed_batch, judge_fixes
from sim.detector.telemetry import RECORD_DTYPE
from sim.policies import load_policy

LADDER = [1_000, 10_000, 50_000, 100_000]
RECORDS = 300_000
FIXES = 3_000_000
STANDARD = load_policy("standard")


@pytest.fixture(scope="module", params=LADDER, ids=lambda n: f"{n}-devices")
def event_workload(request: pytest.FixtureRequest) -> tuple[int, list, list]:
    cases = fleet_cases(request.param, gps_share=0.0)
    return request.param, cases, event_records(cases, RECORDS)


def dict_loop_reference(records: list) -> float:
    events = [{"device": r.device, "kind": int(r.kind), "t": r.receive_time} for r in records]

    def run() -> None:
        last: dict[int, float] = {}
        for e in events:
            last[e["device"]] = e["t"]

    return best_rate(len(events), run)


def test_stream_event_records(benchmark, event_workload) -> None:  # type: ignore[no-untyped-def]
    n, cases, records = event_workload
    end = records[-1].receive_time

    def fresh() -> tuple[tuple[Detector], dict]:
        return (Detector(STANDARD, cases, 0.0),), {}

    def run(det: Detector) -> None:
        det.feed(records)
        det.advance(end)

    benchmark.pedantic(run, setup=fresh, rounds=3)
    rate = len(records) / benchmark.stats.stats.min
    reference = dict_loop_reference(records)
    benchmark.extra_info.update(
        devices=n, records=len(records), records_per_s=rate, reference_records_per_s=reference,
        ratio_to_reference=rate / reference, target_records_per_s=300_000,
    )


@pytest.fixture(scope="module", params=LADDER, ids=lambda n: f"{n}-subjects")
def fix_workload(request: pytest.FixtureRequest) -> tuple[int, list, np.ndarray]:
    n = request.param
    cases = fleet_cases(n, gps_share=1.0)
    return n, cases, gps_fixes(cases, hours=FIXES / (n * 60))


def geofence_reference(cases: list, fixes: np.ndarray) -> float:
    """Three circles a subject, gathered per fix: the bare arithmetic any zone rule needs."""
    assert [c.subject for c in cases] == list(range(len(cases)))  # so a subject id is its row
    circles = np.array([[(z.lat, z.lon, z.radius_m) for z in c.zones] for c in cases])
    row = fixes["subject"]

    def run() -> np.ndarray:
        z = circles[row]
        north = (fixes["lat"][:, None] - z[..., 0]) * 111_195.0
        east = (fixes["lon"][:, None] - z[..., 1]) * 68_000.0
        return north * north + east * east <= z[..., 2] ** 2

    return best_rate(len(fixes), run)


def test_batch_fixes_through_zone_rules(benchmark, fix_workload) -> None:  # type: ignore[no-untyped-def]
    n, cases, fixes = fix_workload
    book = CaseBook(cases)
    wrong, _ = benchmark.pedantic(judge_fixes, args=(book, fixes), rounds=3)
    assert wrong.any()  # the workload does stray into zones
    rate = len(fixes) / benchmark.stats.stats.min
    reference = geofence_reference(cases, fixes)
    benchmark.extra_info.update(
        subjects=n, fixes=len(fixes), fixes_per_s=rate, reference_fixes_per_s=reference,
        ratio_to_reference=rate / reference, target_fixes_per_s=5_000_000,
    )


def test_batch_replay_end_to_end(benchmark, fix_workload) -> None:  # type: ignore[no-untyped-def]
    """The whole batch path on GPS uploads: judging, then every upload through the engine's stages."""
    n, cases, fixes = fix_workload
    end = float(fixes["receive_time"].max()) + 1
    det = benchmark.pedantic(detect_batch, args=(STANDARD, cases, np.empty(0, RECORD_DTYPE), fixes, 0.0, end), rounds=1)
    assert det.stats.fixes == len(fixes)
    benchmark.extra_info.update(subjects=n, fixes=len(fixes), fixes_per_s=len(fixes) / benchmark.stats.stats.min)


@pytest.mark.parametrize("n", LADDER, ids=lambda n: f"{n}-subjects")
def test_memory_per_monitored_device(benchmark, n: int) -> None:  # type: ignore[no-untyped-def]
    """Bytes the detector holds per device once every device has been heard (construction timed)."""
    cases = fleet_cases(n, gps_share=0.0)
    records = event_records(cases, 2 * n * 27)  # about two days of traffic a unit
    tracemalloc.start()
    before = tracemalloc.get_traced_memory()[0]
    det = Detector(STANDARD, cases, 0.0)
    det.feed(records)
    held = tracemalloc.get_traced_memory()[0] - before
    tracemalloc.stop()
    devices = len(det.devices)
    benchmark.pedantic(Detector, args=(STANDARD, cases, 0.0), rounds=1)
    benchmark.extra_info.update(subjects=n, devices=devices, bytes_per_device=held / devices)


# The doubled caseload (DOMAIN.md scenario): 53,294 subjects; GPS 51% (June 2025 device mix).
DOUBLED_GPS_SUBJECTS = round(53_294 * 0.51)


@pytest.mark.slow
def test_batch_replay_week_of_doubled(benchmark) -> None:  # type: ignore[no-untyped-def]
    """Seven simulated days of the doubled caseload's GPS subjects (about 270M fixes and
    5M base-unit records) through the batch path, fed a day at a time as a long replay
    is. Each day repeats the first day's tracks, moved on a day (in place, inside the
    timing): generating 270M fresh fixes would take longer than judging them. Peak
    memory is several GiB: run it alone (``-m slow``)."""
    cases = fleet_cases(DOUBLED_GPS_SUBJECTS, gps_share=1.0)
    events, fixes = day_of_traffic(cases)

    def week() -> Detector:
        det = Detector(STANDARD, cases, 0.0)
        for _ in range(7):
            feed_batch(det, events, fixes)
            next_day(events, fixes)
        det.advance(float(fixes["receive_time"].min()))
        return det

    det = benchmark.pedantic(week, rounds=1)
    assert det.stats.fixes == 7 * len(fixes)
    assert det.stats.duplicates == 0  # the days join up: nothing is dropped as a resend
    week_s = benchmark.stats.stats.min
    benchmark.extra_info.update(
        subjects=DOUBLED_GPS_SUBJECTS, fixes=7 * len(fixes), records=7 * len(events),
        fixes_per_s=7 * len(fixes) / week_s, week_s=week_s, target_week_s=120,
    )
