"""The pipeline's detection (``sim.pipeline.detect``): spans fed to each policy's detector give
the alerts a detector fed every record one by one gives, and policies detected side by side in
worker processes give the same alerts as in one."""

from __future__ import annotations

from pathlib import Path

import pytest

from sim.detector.engine import Detector
from sim.pipeline import block, span
from sim.pipeline.detect import detect
from sim.pipeline.world_stream import simulate, simulate_stream
from sim.policies import load_policy
from sim.scenario import load_scenario
from sim.world.draws import DAY_S

SCENARIO = load_scenario("smoke").with_changes(subjects=60, days=2.0, seed=5)
POLICIES = [load_policy("naive"), load_policy("reference"), load_policy("standard")]


def alert_rows(alerts: list) -> list[tuple]:
    return [(a.id, a.subject, a.device, a.kind, a.category, a.event_time, a.raised_at, a.closed_at, a.count, str(a.cause))
            for a in alerts]


@pytest.fixture
def small_blocks(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(block, "BLOCK_SUBJECTS", 20)  # three blocks meeting in receive order


def test_spans_give_every_policy_the_alerts_of_feeding_records_one_by_one(small_blocks: None) -> None:
    world, spans = simulate_stream(SCENARIO)
    seen = []
    detected = detect(world, spans, POLICIES, progress=lambda done, whole: seen.append((done, whole)))
    assert list(detected) == ["naive", "reference", "standard"]
    assert seen and seen[-1] == (world.end, world.end) and [d for d, _ in seen] == sorted(d for d, _ in seen)

    whole = simulate(SCENARIO)
    for policy in POLICIES:
        one_by_one = Detector(policy, whole.cases, start=0.0)
        one_by_one.feed(r for r in whole.records if r.receive_time < whole.end)
        one_by_one.advance(whole.end)
        got = detected[policy.name]
        assert len(got.alerts) > 0 and got.stats.records == one_by_one.stats.records
        assert alert_rows(got.alerts) == alert_rows(one_by_one.alerts), policy.name
        assert got.now == one_by_one.now == world.end and got.wall_s > 0


def test_shorter_spans_give_the_same_alerts(small_blocks: None, monkeypatch: pytest.MonkeyPatch) -> None:
    world, spans = simulate_stream(SCENARIO)
    quarter_days = detect(world, spans, POLICIES)
    monkeypatch.setattr(span, "SUBJECT_DAYS_PER_SPAN", 7)  # 60 subjects: spans of a ninth of a day
    world, spans = simulate_stream(SCENARIO)
    assert spans.files.span_s == DAY_S / 9 and world.spans >= 2 * 9
    ninth_days = detect(world, spans, POLICIES)
    for name in quarter_days:
        assert alert_rows(ninth_days[name].alerts) == alert_rows(quarter_days[name].alerts), name
        assert ninth_days[name].stats == quarter_days[name].stats


def test_policies_side_by_side_in_worker_processes_give_the_same_alerts(small_blocks: None) -> None:
    world, spans = simulate_stream(SCENARIO)
    alone = detect(world, spans, POLICIES)
    world, spans = simulate_stream(SCENARIO, workers=2)
    side_by_side = detect(world, spans, POLICIES, workers=2)
    assert list(side_by_side) == list(alone)
    for name in alone:
        assert alert_rows(side_by_side[name].alerts) == alert_rows(alone[name].alerts), name
        assert side_by_side[name].stats == alone[name].stats
    assert not Path(spans.files.folder).exists()  # the stream's folder is removed once every group is done
