"""The world's telemetry as the centre received it, a span of receive time at a time, with the truth beside it.

``simulate_stream(scenario)`` splits the population into blocks
(``sim.pipeline.block``), runs them in as many worker processes as asked,
sets each block's records aside on disk by span (``sim.pipeline.spill``),
and yields each span's records from every block merged in receive order;
``simulate`` takes every span in and holds the run, for runs of a few
thousand subject-days. Either way the records are the same, bit for bit, however the
subjects were split.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from sim.centre.receiver import ReceiverStats
from sim.detector.cases import Case
from sim.detector.telemetry import Telemetry, from_batch
from sim.pipeline.arrivals import wire_digest
from sim.pipeline.block import BlockJob, block_jobs, run_block
from sim.pipeline.pool import LocalPool, Pool
from sim.pipeline.span import span_length
from sim.pipeline.spill import SpanStream, SpilledBlock, spill
from sim.scenario import Scenario, Supplier, load_supplier
from sim.world.draws import DAY_S
from sim.world.fleet import WorldStats
from sim.world.population import Subject, case_of

SPILL_DIR_ENV = "TAGSIM_SPILL_DIR"


@dataclass
class WorldSummary:
    """A run's everything but its telemetry."""

    scenario: Scenario
    supplier: Supplier
    subjects: list[Subject]
    cases: list[Case]
    truth: np.ndarray  # TRUTH_DTYPE, by subject, kind, start, end, device
    stats: WorldStats
    centre: ReceiverStats  # what the receiver made of it all
    wire_digest: str  # SHA-256 of every copy that reached the centre, device by device (``sim.pipeline.arrivals``)
    end: float
    spans: int  # spans of telemetry the stream yields (frames held past the end arrive later)


@dataclass
class WorldRun(WorldSummary):
    records: list[Telemetry]  # in receive order


def simulate_stream(scenario: Scenario, supplier: Supplier | None = None, progress: Callable[[float], None] | None = None,
                    workers: int = 1, pool: Pool | None = None) -> tuple[WorldSummary, SpanStream]:
    """Run ``scenario`` at fleet fidelity for a consumer that takes its telemetry a span of
    receive time at a time, its blocks on ``pool`` (default a local pool of ``workers``).
    ``progress`` is told the share of blocks done; memory holds one block per worker and one
    span. The spill folder is made in ``TAGSIM_SPILL_DIR`` if set (a folder every worker of a
    cluster sees at the same path), else the system's temporary folder."""
    supplier = supplier or load_supplier(scenario.supplier)
    pool = pool or LocalPool(workers)
    folder = tempfile.TemporaryDirectory(prefix="tagsim-world-", dir=os.environ.get(SPILL_DIR_ENV) or None)
    span_s = span_length(scenario.subjects)
    jobs = [(job, folder.name, span_s) for job in block_jobs(scenario, supplier)]
    blocks: list[SpilledBlock] = []
    try:
        for block in pool.map_in_order(_run_and_spill, jobs):
            blocks.append(block)
            if progress is not None:
                progress(len(blocks) / len(jobs))
    except BaseException:
        folder.cleanup()
        raise
    subjects = [s for b in blocks for s in b.subjects]
    summary = WorldSummary(
        scenario, supplier, subjects, [case_of(s, scenario, supplier.devices) for s in subjects],
        # Each block's truth is sorted and blocks hold successive subjects: together, sorted too.
        np.concatenate([b.truth for b in blocks]),
        _sum_stats(blocks), _sum_centre(blocks), wire_digest({d: h for b in blocks for d, h in b.digests.items()}),
        scenario.days * DAY_S, 1 + max((span for b in blocks for span in b.spans), default=0))
    return summary, SpanStream(folder, tuple(frozenset(b.spans) for b in blocks), summary.spans, span_s)


def simulate(scenario: Scenario, supplier: Supplier | None = None, progress: Callable[[float], None] | None = None,
             workers: int = 1, pool: Pool | None = None) -> WorldRun:
    """``simulate_stream`` with every span's records taken in, in receive order, as ``Telemetry``
    (the blocks still pass through the temporary spill folder on the way)."""
    summary, spans = simulate_stream(scenario, supplier, progress, workers, pool)
    records = [record for span in spans for record in from_batch(span.events, span.fixes)]
    return WorldRun(**vars(summary), records=records)


def _run_and_spill(job: tuple[BlockJob, str, float]) -> SpilledBlock:
    """A worker's unit of work: run a block and set its records aside in the folder named, by span."""
    block_job, folder, span_s = job
    return spill(run_block(block_job), Path(folder), span_s)


def _sum_stats(blocks: list[SpilledBlock]) -> WorldStats:
    total = WorldStats()
    for block in blocks:
        for name, value in vars(block.stats).items():
            setattr(total, name, getattr(total, name) + value)
    return total


def _sum_centre(blocks: list[SpilledBlock]) -> ReceiverStats:
    total = ReceiverStats()
    for block in blocks:
        for name, value in vars(block.centre).items():
            if name == "rejected":
                total.rejected.update(value)
            else:
                setattr(total, name, getattr(total, name) + value)
    return total
