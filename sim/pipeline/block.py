"""One block of subjects through the pipeline: the world, the network, the centre's receiver.

The world (``sim.world.block``) says which copies of each device's frames
reached the centre and when (the network's work, ``sim.links.network``);
the block's own ``Receiver`` (its state is per device, so blocks need not
share one) takes them in arrival order and makes the records the detector
reads, as batch arrays. Blocks are independent until their records meet in
receive order (``sim.pipeline.receive_order``).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from sim.centre.receiver import Receiver, ReceiverStats
from sim.cycles import without_cycle_collection
from sim.detector.batch import upload_bounds
from sim.detector.cases import CaseBook
from sim.detector.telemetry import BATCH_FIX_DTYPE, RECORD_DTYPE
from sim.pipeline.arrivals import Arrivals
from sim.scenario import Scenario, Supplier
from sim.world.block import live_block
from sim.world.draws import DAY_S
from sim.world.fleet import WorldStats
from sim.world.population import Subject, case_of

# Subjects simulated together. Only memory and the spread of work over processes depend on it:
# every subject draws from its own streams and its devices' records from its own frames.
BLOCK_SUBJECTS = 1000


@dataclass(frozen=True)
class BlockJob:
    scenario: Scenario
    supplier: Supplier
    number: int
    start: int  # the block's first subject
    stop: int  # one past its last


def block_jobs(scenario: Scenario, supplier: Supplier) -> list[BlockJob]:
    """The scenario's subjects, ``BLOCK_SUBJECTS`` to a block, in subject order."""
    return [BlockJob(scenario, supplier, n, start, min(start + BLOCK_SUBJECTS, scenario.subjects))
            for n, start in enumerate(range(0, scenario.subjects, BLOCK_SUBJECTS))]


@dataclass
class Block:
    """What one block of subjects sent and the centre made of it."""

    number: int
    subjects: list[Subject]
    events: np.ndarray  # RECORD_DTYPE, ``order`` numbering the block's records in its receive order
    fixes: np.ndarray  # BATCH_FIX_DTYPE
    truth: np.ndarray
    stats: WorldStats
    centre: ReceiverStats
    digests: dict[int, bytes]  # per device: every copy of its frames that reached the centre


def run_block(job: BlockJob) -> Block:
    """The block's world, then its centre taking in every copy that arrived."""
    with without_cycle_collection():
        lived = live_block(job.scenario, job.supplier, job.start, job.stop)
        arrivals = Arrivals.of(lived.deliveries)
        cases = CaseBook([case_of(s, job.scenario, job.supplier.devices) for s in lived.subjects])
        receiver = Receiver(cases, acks=False)  # the network model draws the acks' fate itself
        events, fixes = _received_by_day(receiver, arrivals)
        return Block(job.number, lived.subjects, events, fixes, lived.truth, lived.stats, receiver.stats,
                     arrivals.digests())


def _received_by_day(receiver: Receiver, arrivals: Arrivals) -> tuple[np.ndarray, np.ndarray]:
    """The receiver's records of every arrival, taken in a day at a time so that no more than a
    day's records are ever held as Python objects; ``order`` runs on across the days."""
    events, fixes, offset, done = [], [], 0, 0
    day_end = DAY_S
    while done < len(arrivals.data):
        upto = int(np.searchsorted(arrivals.arrive_at, day_end, side="left"))
        ev, fx = receiver.receive_batch(arrivals.device[done:upto].tolist(), arrivals.data[done:upto],
                                        arrivals.arrive_at[done:upto].tolist())
        ev["order"] += offset
        fx["order"] += offset
        offset += len(ev) + len(upload_bounds(fx)) - 1
        events.append(ev)
        fixes.append(fx)
        done, day_end = upto, day_end + DAY_S
    return (np.concatenate(events) if events else np.empty(0, RECORD_DTYPE),
            np.concatenate(fixes) if fixes else np.empty(0, BATCH_FIX_DTYPE))
