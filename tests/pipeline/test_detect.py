"""The pipeline's detection (``sim.pipeline.detect``): spans fed to each policy's detector give
the alerts a detector fed every record one by one gives."""

from __future__ import annotations

from sim.detector.engine import Detector
from sim.pipeline import block
from sim.pipeline.detect import detect
from sim.pipeline.world_stream import simulate, simulate_stream
from sim.policies import load_policy
from sim.scenario import load_scenario

SCENARIO = load_scenario("smoke").with_changes(subjects=60, days=2.0, seed=5)


def alert_rows(detector: Detector) -> list[tuple]:
    return [(a.id, a.subject, a.device, a.kind, a.category, a.event_time, a.raised_at, a.closed_at, a.count, a.cause)
            for a in detector.alerts]


def test_spans_give_every_policy_the_alerts_of_feeding_records_one_by_one(monkeypatch) -> None:
    monkeypatch.setattr(block, "BLOCK_SUBJECTS", 20)  # three blocks meeting in receive order
    policies = [load_policy("naive"), load_policy("standard")]
    world, spans = simulate_stream(SCENARIO)
    seen = []
    detectors, wall_s = detect(world, spans, policies, progress=lambda done, whole: seen.append((done, whole)))
    assert set(detectors) == set(wall_s) == {"naive", "standard"}
    assert seen and seen[-1] == (world.end, world.end) and [d for d, _ in seen] == sorted(d for d, _ in seen)

    whole = simulate(SCENARIO)
    for policy in policies:
        one_by_one = Detector(policy, whole.cases, start=0.0)
        one_by_one.feed(r for r in whole.records if r.receive_time < whole.end)
        one_by_one.advance(whole.end)
        got = detectors[policy.name]
        assert len(got.alerts) > 0
        assert alert_rows(got) == alert_rows(one_by_one), policy.name
        assert got.now == one_by_one.now == world.end
