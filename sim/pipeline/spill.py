"""Blocks' records set aside on disk by the span of receive time they arrived in, and read back a span at a time.

A run too big to hold keeps, while the blocks are simulated, only one block
per worker in memory; each block's records go to one pair of ``.npy`` files
a span (events and GPS fixes), and the spans are then merged in receive
order one at a time.
"""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from sim.centre.receiver import ReceiverStats
from sim.detector.batch import upload_bounds
from sim.pipeline.block import Block, BlockJob, run_block
from sim.pipeline.receive_order import in_receive_order
from sim.world.draws import DAY_S
from sim.world.fleet import WorldStats
from sim.world.population import Subject

# The stream's unit of receive time. A quarter of a day keeps the main process's merge of the
# doubled caseload (about 2M records and 4M GPS fixes a span) to about a gigabyte.
SPAN_S = DAY_S / 4


@dataclass(frozen=True)
class TelemetrySpan:
    """The records received in [start, end), as the detector's batch arrays
    (``docs/telemetry.md``), ``order`` numbering them in receive order within the span."""

    index: int
    start: float
    end: float
    events: np.ndarray  # RECORD_DTYPE
    fixes: np.ndarray  # BATCH_FIX_DTYPE


@dataclass
class SpilledBlock:
    """A block whose records went to disk: everything of it but its records, and the spans they fill."""

    number: int
    subjects: list[Subject]
    spans: list[int]
    truth: np.ndarray
    stats: WorldStats
    centre: ReceiverStats
    digests: dict[int, bytes]  # per device: every copy of its frames that reached the centre


def run_and_spill(job: tuple[BlockJob, str]) -> SpilledBlock:
    """Run a block and write its records into ``folder``, a pair of files a span."""
    block_job, folder = job
    return _spill(run_block(block_job), Path(folder))


def _spill(block: Block, folder: Path) -> SpilledBlock:
    events, fixes = block.events, block.fixes
    event_span = (events["receive_time"] // SPAN_S).astype(np.int64)
    fix_span = (fixes["receive_time"] // SPAN_S).astype(np.int64)
    spans = sorted(set(event_span.tolist()) | set(fix_span[upload_bounds(fixes)[:-1]].tolist()))
    for span in spans:
        np.save(folder / f"{block.number}-{span}-events.npy", events[event_span == span])
        np.save(folder / f"{block.number}-{span}-fixes.npy", fixes[fix_span == span])
    return SpilledBlock(block.number, block.subjects, spans, block.truth, block.stats, block.centre, block.digests)


def merged_spans(spill: tempfile.TemporaryDirectory, blocks: int, spans: int) -> Iterator[TelemetrySpan]:
    """Each span's records from every block, in receive order; the folder is removed once read
    (or when the iterator is dropped)."""
    folder = Path(spill.name)
    try:
        for span in range(spans):
            events, fixes = [], []
            for n in range(blocks):
                if (folder / f"{n}-{span}-events.npy").exists():
                    events.append((np.load(folder / f"{n}-{span}-events.npy"), n))
                    fixes.append((np.load(folder / f"{n}-{span}-fixes.npy"), n))
            yield TelemetrySpan(span, span * SPAN_S, (span + 1) * SPAN_S, *in_receive_order(events, fixes))
    finally:
        spill.cleanup()
