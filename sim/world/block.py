"""A block of subjects living out the run: who they are, what their devices put on the centre's doorstep, the truth.

Subjects are independent until their frames meet at the centre: each draws
from its own streams, so a block of them is the world's unit of work
(``sim.pipeline`` runs the blocks, in as many processes as asked, and takes
what they deliver to the centre). The area outages are drawn from the
areas' own streams, so every block sees the same ones.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from sim.links.network import Delivery
from sim.scenario import Scenario, Supplier
from sim.world.faults import area_outages
from sim.world.fleet import WorldStats, subject_frames
from sim.world.population import Subject, build_subject
from sim.world.streams import Streams
from sim.world.truth import TruthLog


@dataclass
class LivedBlock:
    subjects: list[Subject]
    deliveries: list[tuple[int, Delivery]]  # (device, every copy of its frames that reached the centre)
    truth: np.ndarray  # TRUTH_DTYPE, sorted as ``TruthLog.table`` sorts
    stats: WorldStats


def live_block(scenario: Scenario, supplier: Supplier, start: int, stop: int) -> LivedBlock:
    """Subjects ``start`` to ``stop - 1`` of ``scenario``, at fleet fidelity."""
    streams = Streams(scenario.seed)
    outages = area_outages(scenario, streams)
    truth = TruthLog()
    stats = WorldStats()
    subjects, deliveries = [], []
    for index in range(start, stop):
        subject = build_subject(index, scenario, supplier, streams)
        subjects.append(subject)
        deliveries.extend(subject_frames(subject, scenario, supplier, streams, outages, truth, stats))
    stats.subjects = len(subjects)
    return LivedBlock(subjects, deliveries, truth.table(), stats)
