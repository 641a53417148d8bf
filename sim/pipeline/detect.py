"""Every policy's detector taking in the same telemetry, a span at a time.

Each span's records go to one detector per policy, so every policy judges
exactly the same records. The centre is watched until the run's end: the
world stops then, so later it would see every device fall silent at once;
what arrives after the end is not taken in.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable

from sim.detector.batch import feed_batch
from sim.detector.engine import Detector
from sim.detector.policy import Policy
from sim.pipeline.span import TelemetrySpan
from sim.pipeline.world_stream import WorldSummary


def detect(world: WorldSummary, spans: Iterable[TelemetrySpan], policies: list[Policy],
           progress: Callable[[float, float], None] | None = None) -> tuple[dict[str, Detector], dict[str, float]]:
    """Each policy's detector once it has taken in every span up to the world's end, and the
    wall seconds each spent. ``progress`` is told (simulated seconds taken in, in all)."""
    detectors = {p.name: Detector(p, world.cases, start=0.0) for p in policies}
    wall_s = dict.fromkeys(detectors, 0.0)
    for span in spans:
        events, fixes = span.events, span.fixes
        if span.end > world.end:
            events, fixes = events[events["receive_time"] < world.end], fixes[fixes["receive_time"] < world.end]
        for name, detector in detectors.items():
            t = time.perf_counter()
            feed_batch(detector, events, fixes)
            detector.advance(min(span.end, world.end))  # deadlines before the next span's first record
            wall_s[name] += time.perf_counter() - t
        if progress is not None:
            progress(min(span.end, world.end), world.end)
        del span, events, fixes  # a span is large: let it go before the next is merged
    # The stream stops at the last span anything arrived in; deadlines up to the end still fall due.
    for name, detector in detectors.items():
        t = time.perf_counter()
        detector.advance(world.end)
        wall_s[name] += time.perf_counter() - t
    return detectors, wall_s
