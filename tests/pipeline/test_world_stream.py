"""A run in blocks, in several processes, or streamed a span at a time gives the same telemetry
and truth as one run in memory, bit for bit."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

import sim.pipeline.block as block
import sim.pipeline.world_stream as world
from sim.detector.telemetry import to_batch
from sim.pipeline.span import span_length
from sim.world.draws import DAY_S
from sim.scenario import load_scenario

SCENARIO = load_scenario("smoke").with_changes(subjects=90, days=2.0, seed=11)


@pytest.fixture(scope="module")
def whole() -> world.WorldRun:
    return world.simulate(SCENARIO)


@pytest.fixture
def small_blocks(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(block, "BLOCK_SUBJECTS", 25)  # four blocks, the last short


def test_blocks_in_two_processes_give_the_same_run(whole: world.WorldRun, small_blocks: None) -> None:
    run = world.simulate(SCENARIO, workers=2)
    assert run.wire_digest == whole.wire_digest
    assert [(r.device, r.seq, r.receive_time, r.kind) for r in run.records] == [
        (r.device, r.seq, r.receive_time, r.kind) for r in whole.records]
    assert run.truth.tobytes() == whole.truth.tobytes()
    assert run.stats.frames_sent == whole.stats.frames_sent and run.centre == whole.centre


def test_streamed_spans_hold_the_same_records_in_receive_order(whole: world.WorldRun, small_blocks: None) -> None:
    summary, spans = world.simulate_stream(SCENARIO, workers=2)
    streamed = list(spans)
    assert [s.index for s in streamed] == list(range(summary.spans)) and summary.spans >= 8
    events, fixes = to_batch(whole.records)
    got_events = np.concatenate([d.events for d in streamed])
    got_fixes = np.concatenate([d.fixes for d in streamed])
    for want, got in ((events, got_events), (fixes, got_fixes)):
        assert len(want) == len(got) > 0
        for name in want.dtype.names:
            if name != "order":  # numbered within each span when streamed, across the run in memory
                assert np.array_equal(want[name], got[name]), name
    for span in streamed:  # each span's records in receive order, numbered from 0
        ranks = np.concatenate((span.events["order"], np.unique(span.fixes["order"])))
        assert sorted(ranks.tolist()) == list(range(len(ranks)))
        assert np.all((span.events["receive_time"] >= span.start) & (span.events["receive_time"] < span.end))
        assert np.all((span.fixes["receive_time"] >= span.start) & (span.fixes["receive_time"] < span.end))
    assert summary.truth.tobytes() == whole.truth.tobytes() and summary.wire_digest == whole.wire_digest


def test_the_spill_folder_is_gone_once_the_days_are_read(small_blocks: None) -> None:
    _, stream = world.simulate_stream(SCENARIO.with_changes(subjects=30, days=1.0))
    folder = Path(stream.files.folder)
    spans = iter(stream)
    first = next(spans)
    assert folder.exists() and first.index == 0
    list(spans)
    assert not folder.exists()


def test_the_spill_folder_is_gone_when_reading_stops_early(small_blocks: None) -> None:
    _, stream = world.simulate_stream(SCENARIO.with_changes(subjects=30, days=1.0))
    spans = iter(stream)
    next(spans)
    spans.close()  # as when a consumer fails part way
    assert not Path(stream.files.folder).exists()


def test_spans_shorten_as_the_caseload_grows_so_each_holds_about_as_many_subject_days() -> None:
    assert span_length(90) == span_length(24_000) == DAY_S / 4
    assert span_length(26_647) == DAY_S / 5 and span_length(53_294) == DAY_S / 9 and span_length(106_588) == DAY_S / 18
    assert span_length(40_000) == DAY_S / 8  # 7 spans would not divide the day into whole seconds
