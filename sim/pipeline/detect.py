"""Every policy's detector taking in the same telemetry, a span at a time, side by side.

Each span's records go to one detector per policy, so every policy judges
exactly the same records. Detectors share nothing, so with more than one
worker the policies are split into groups, each group detected in its own
process reading the spans back from the spill folder (the main process takes
the first group and reports progress); the alerts are the same however the
policies were grouped. The centre is watched until the run's end: the world
stops then, so later it would see every device fall silent at once; what
arrives after the end is not taken in.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

from sim.cycles import without_cycle_collection
from sim.detector.alerts import Alert
from sim.detector.cases import Case
from sim.detector.batch import feed_batch
from sim.detector.engine import Detector
from sim.detector.policy import Policy
from sim.detector.state import DetectorStats
from sim.pipeline.checkpoint import Checkpoint
from sim.pipeline.pool import LocalPool, Pool
from sim.pipeline.span import TelemetrySpan
from sim.pipeline.spill import SpanFiles, SpanStream
from sim.pipeline.world_stream import WorldSummary


@dataclass
class Detected:
    """What one policy's detector made of the run."""

    policy: Policy
    alerts: list[Alert]  # every alert raised, in the order raised
    now: float  # its processing time at the end: the world's end
    stats: DetectorStats
    wall_s: float  # spent detecting, spans' reading and merging not counted


def detect(world: WorldSummary, spans: Iterable[TelemetrySpan], policies: Sequence[Policy],
           progress: Callable[[float, float], None] | None = None, workers: int = 1,
           pool: Pool | None = None, checkpoint: Checkpoint | None = None) -> dict[str, Detected]:
    """Each policy's detector once it has taken in every span up to the world's end, by policy
    name in the order given. The policies are shared out over ``pool``'s workers (default a
    local pool of ``workers``) when ``spans`` is a ``SpanStream`` (anything else is read once,
    here); ``progress`` is told (simulated seconds taken in, in all) by this process's group.
    With a ``checkpoint``, every policy is detected here, in one process, so that one
    transaction holds every detector as it stood at the same span boundary; the detectors
    start as the checkpoint last saved them, past the spans it had taken in."""
    pool = pool or LocalPool(workers)
    groups = _groups(policies, pool.workers if isinstance(spans, SpanStream) and checkpoint is None else 1)
    if len(groups) == 1:
        done = _detect_group(world.cases, world.end, spans, groups[0], progress, checkpoint)
    else:
        assert isinstance(spans, SpanStream)
        jobs = [(world.cases, world.end, spans.files, group) for group in groups[1:]]
        others = pool.start(_detect_from_files, jobs)
        try:
            done = _detect_group(world.cases, world.end, spans.files.read(), groups[0], progress)
            for result in others.results():
                done.update(result)
        except BaseException:
            others.cancel()  # the other groups' work is for nothing now
            raise
        finally:
            spans.close()
    return {p.name: done[p.name] for p in policies}


def _groups(policies: Sequence[Policy], workers: int) -> list[list[Policy]]:
    """The policies dealt round to at most ``workers`` groups."""
    n = max(1, min(workers, len(policies)))
    return [list(policies[i::n]) for i in range(n)]


def _detect_from_files(job: tuple[list[Case], float, SpanFiles, list[Policy]]) -> dict[str, Detected]:
    cases, end, files, policies = job
    with without_cycle_collection():  # millions of alerts and state objects, no cycles among them
        return _detect_group(cases, end, files.read(), policies, None)


def _detect_group(cases: list[Case], end: float, spans: Iterable[TelemetrySpan], policies: Sequence[Policy],
                  progress: Callable[[float, float], None] | None,
                  checkpoint: Checkpoint | None = None) -> dict[str, Detected]:
    saved = checkpoint.restore() if checkpoint is not None else None
    detectors = saved.detectors if saved else {p.name: Detector(p, cases, start=0.0) for p in policies}
    spans_done = saved.spans_done if saved else 0
    wall_s = dict.fromkeys(detectors, 0.0)
    for span in spans:
        if span.index < spans_done:  # taken in before the run was stopped: the detectors hold it
            continue
        events, fixes = span.events, span.fixes
        if span.end > end:
            events, fixes = events[events["receive_time"] < end], fixes[fixes["receive_time"] < end]
        for name, detector in detectors.items():
            t = time.perf_counter()
            feed_batch(detector, events, fixes)
            detector.advance(min(span.end, end))  # deadlines before the next span's first record
            wall_s[name] += time.perf_counter() - t
        if checkpoint is not None:
            checkpoint.commit(span.index + 1, detectors)
        if progress is not None:
            progress(min(span.end, end), end)
        del span, events, fixes  # a span is large: let it go before the next is merged
    # The stream stops at the last span anything arrived in; deadlines up to the end still fall due.
    for name, detector in detectors.items():
        t = time.perf_counter()
        detector.advance(end)
        wall_s[name] += time.perf_counter() - t
    return {name: Detected(d.policy, d.alerts, d.now, d.stats, wall_s[name]) for name, d in detectors.items()}
