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
from sim.pipeline.block import Block
from sim.pipeline.receive_order import in_receive_order
from sim.pipeline.span import TelemetrySpan
from sim.world.fleet import WorldStats
from sim.world.population import Subject


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


def spill(block: Block, folder: Path, span_s: float) -> SpilledBlock:
    """Write the block's records into ``folder``, a pair of files a span of ``span_s`` seconds; keep the rest."""
    events, fixes = block.events, block.fixes
    event_span = (events["receive_time"] // span_s).astype(np.int64)
    fix_span = (fixes["receive_time"] // span_s).astype(np.int64)
    spans = sorted(set(event_span.tolist()) | set(fix_span[upload_bounds(fixes)[:-1]].tolist()))
    for span in spans:
        np.save(folder / f"{block.number}-{span}-events.npy", events[event_span == span])
        np.save(folder / f"{block.number}-{span}-fixes.npy", fixes[fix_span == span])
    return SpilledBlock(block.number, block.subjects, spans, block.truth, block.stats, block.centre, block.digests)


@dataclass(frozen=True)
class SpanFiles:
    """Where the blocks' records were set aside, and which spans each block filled: enough for
    any process to read the spans back. A file a block wrote that a reader cannot find (a
    shared filesystem not yet showing it) is an error, never an empty span."""

    folder: str
    spans_of_block: tuple[frozenset[int], ...]
    spans: int
    span_s: float

    def read(self) -> Iterator[TelemetrySpan]:
        """Each span's records from every block, in receive order."""
        folder = Path(self.folder)
        for span in range(self.spans):
            events, fixes = [], []
            for n, filled in enumerate(self.spans_of_block):
                if span in filled:
                    events.append((np.load(folder / f"{n}-{span}-events.npy"), n))
                    fixes.append((np.load(folder / f"{n}-{span}-fixes.npy"), n))
            yield TelemetrySpan(span, span * self.span_s, (span + 1) * self.span_s, *in_receive_order(events, fixes))


class SpanStream:
    """The spans, read back once in order by iterating (the folder is removed at the end, or when
    the iteration is dropped); a consumer in other processes reads ``files`` and calls ``close``."""

    def __init__(self, spilled: tempfile.TemporaryDirectory, spans_of_block: tuple[frozenset[int], ...], spans: int,
                 span_s: float) -> None:
        self.files = SpanFiles(spilled.name, spans_of_block, spans, span_s)
        self._spilled = spilled

    def __iter__(self) -> Iterator[TelemetrySpan]:
        try:
            yield from self.files.read()
        finally:
            self.close()

    def close(self) -> None:
        self._spilled.cleanup()
