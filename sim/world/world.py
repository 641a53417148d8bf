"""The fleet simulation: a monitored population, its devices and faults, and the truth.

``simulate(scenario)`` builds the population, has each subject live out the
run and their devices send what they send (``sim.world.fleet``), and returns
the telemetry records the centre's receiver made of every frame that
arrived, in receive order, with the ground truth beside them;
``simulate_stream`` streams them a span of receive time at a time for runs too big to hold.

Subjects are independent until their frames meet at the centre, so they are
simulated in blocks, each with its own receiver (whose state is per device),
in as many worker processes as asked; the blocks' records are then merged in
receive order. SimPy runs each block's centre: a process that takes in, day
by day, every copy that has arrived, in arrival order.
"""

from __future__ import annotations

import hashlib
import math
import multiprocessing
import tempfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import simpy

from sim.centre.receiver import Receiver, ReceiverStats
from sim.cycles import without_cycle_collection
from sim.detector.batch import upload_bounds
from sim.detector.cases import Case, CaseBook
from sim.detector.telemetry import BATCH_FIX_DTYPE, RECORD_DTYPE, Telemetry, from_batch
from sim.scenario import Scenario, Supplier, load_supplier
from sim.world.draws import DAY_S
from sim.world.fleet import WorldStats, subject_frames
from sim.world.uplink import Delivery
from sim.world.faults import area_outages
from sim.world.population import Subject, build_subject, case_of
from sim.world.streams import Streams
from sim.world.truth import TruthLog

SEQ_MODULUS = 1 << 16


@dataclass
class WorldRun:
    scenario: Scenario
    supplier: Supplier
    subjects: list[Subject]
    cases: list[Case]
    records: list[Telemetry]  # in receive order
    truth: np.ndarray  # TRUTH_DTYPE
    stats: WorldStats
    centre: ReceiverStats  # what the receiver made of it all
    wire_digest: str  # SHA-256 of every copy that reached the centre, device by device (see _wire_digest)
    end: float


@dataclass
class Block:
    """What one block of subjects sent and the centre made of it; blocks are independent until
    their records meet in receive order."""

    number: int
    subjects: list[Subject]
    events: np.ndarray  # its records as the detector's batch arrays, ``order`` in the block's receive order
    fixes: np.ndarray
    truth: np.ndarray
    stats: WorldStats
    centre: ReceiverStats
    digests: dict[int, bytes]  # per device: every copy of its frames that reached the centre


# Subjects simulated together. Only memory and the spread of work over processes depend on it:
# every subject draws from its own streams and its devices' records from its own frames.
BLOCK_SUBJECTS = 1000


def simulate(scenario: Scenario, supplier: Supplier | None = None, progress: Callable[[float], None] | None = None,
             workers: int = 1) -> WorldRun:
    """Run ``scenario`` at fleet fidelity, everything held in memory (for runs of up to a few
    thousand subject-days; ``simulate_stream`` streams larger ones). ``progress`` is told the share
    of subjects done; ``workers`` processes share the blocks, with the same result as one."""
    supplier = supplier or load_supplier(scenario.supplier)
    blocks = list(_blocks(scenario, supplier, workers, progress))
    stats, centre, digest = _totals(blocks)
    events, fixes = _in_receive_order([(b.events, b.number) for b in blocks], [(b.fixes, b.number) for b in blocks])
    truth = np.concatenate([b.truth for b in blocks])
    truth = truth[np.lexsort((truth["device"], truth["end"], truth["start"], truth["kind"], truth["subject"]))]
    subjects = [s for b in blocks for s in b.subjects]
    return WorldRun(scenario, supplier, subjects, [case_of(s, scenario, supplier.devices) for s in subjects], from_batch(events, fixes),
                    truth, stats, centre, digest, scenario.days * DAY_S)


@dataclass
class WorldSummary:
    """A streamed run's everything but its telemetry: see ``simulate_stream``."""

    scenario: Scenario
    supplier: Supplier
    cases: list[Case]
    truth: np.ndarray
    stats: WorldStats
    centre: ReceiverStats
    wire_digest: str
    end: float
    spans: int  # spans of telemetry the stream yields (frames held past the end arrive later)


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


def simulate_stream(scenario: Scenario, supplier: Supplier | None = None, progress: Callable[[float], None] | None = None,
                    workers: int = 1) -> tuple[WorldSummary, Iterator[TelemetrySpan]]:
    """Run ``scenario`` at fleet fidelity for a consumer that takes its telemetry a span of
    receive time (``SPAN_S``) at a time: blocks of subjects are simulated (in ``workers``
    processes), their records set aside on disk by the span they were received in, and the
    iterator merges each span's in receive order. The same records as ``simulate``, bit for
    bit; memory holds one block per worker and one span."""
    supplier = supplier or load_supplier(scenario.supplier)
    spill = tempfile.TemporaryDirectory(prefix="tagsim-world-")
    jobs = [(scenario, supplier, n, start, min(start + BLOCK_SUBJECTS, scenario.subjects), spill.name)
            for n, start in enumerate(range(0, scenario.subjects, BLOCK_SUBJECTS))]
    blocks = []
    try:
        for block in _map(_spill_block, jobs, workers):
            blocks.append(block)
            if progress is not None:
                progress(len(blocks) / len(jobs))
    except BaseException:
        spill.cleanup()
        raise
    stats, centre, digest = _totals(blocks)
    truth = np.concatenate([b.truth for b in blocks])
    truth = truth[np.lexsort((truth["device"], truth["end"], truth["start"], truth["kind"], truth["subject"]))]
    spans = 1 + max((span for b in blocks for span in b.spans), default=0)
    cases = [case_of(s, scenario, supplier.devices) for b in blocks for s in b.subjects]
    summary = WorldSummary(scenario, supplier, cases, truth, stats, centre, digest, scenario.days * DAY_S, spans)
    return summary, _merged_spans(Path(spill.name), len(blocks), spans, spill)


@dataclass
class _Spilled:
    """A block whose records went to disk, one pair of files a span of receive time."""

    number: int
    subjects: list[Subject]
    spans: list[int]
    truth: np.ndarray
    stats: WorldStats
    centre: ReceiverStats
    digests: dict[int, bytes]  # per device: every copy of its frames that reached the centre


def _spill_block(job: tuple[Scenario, Supplier, int, int, int, str]) -> _Spilled:
    *block_job, folder = job
    block = _run_block(tuple(block_job))  # type: ignore[arg-type]
    events, fixes = block.events, block.fixes
    event_span = (events["receive_time"] // SPAN_S).astype(np.int64)
    fix_span = (fixes["receive_time"] // SPAN_S).astype(np.int64)
    spans = sorted(set(event_span.tolist()) | set(fix_span[upload_bounds(fixes)[:-1]].tolist()))
    for span in spans:
        np.save(Path(folder) / f"{block.number}-{span}-events.npy", events[event_span == span])
        np.save(Path(folder) / f"{block.number}-{span}-fixes.npy", fixes[fix_span == span])
    return _Spilled(block.number, block.subjects, spans, block.truth, block.stats, block.centre, block.digests)


def _merged_spans(folder: Path, blocks: int, spans: int, spill: tempfile.TemporaryDirectory) -> Iterator[TelemetrySpan]:
    try:
        for span in range(spans):
            events, fixes = [], []
            for n in range(blocks):
                if (folder / f"{n}-{span}-events.npy").exists():
                    events.append((np.load(folder / f"{n}-{span}-events.npy"), n))
                    fixes.append((np.load(folder / f"{n}-{span}-fixes.npy"), n))
            yield TelemetrySpan(span, span * SPAN_S, (span + 1) * SPAN_S, *_in_receive_order(events, fixes))
    finally:
        spill.cleanup()


def _in_receive_order(events: list[tuple[np.ndarray, int]], fixes: list[tuple[np.ndarray, int]]) -> tuple[np.ndarray, np.ndarray]:
    """Records from every block (each block's arrays with its number, ``order`` its own receive
    order), numbered in one receive order: receive time, then block, then place in the block's
    order. Each block's rows are written straight to their places: the fixes (most of the
    bytes) are neither concatenated nor sorted."""
    if not events:
        return np.empty(0, RECORD_DTYPE), np.empty(0, BATCH_FIX_DTYPE)
    uploads = [upload_bounds(f)[:-1] for f, _ in fixes]
    receive = np.concatenate([e["receive_time"] for e, _ in events] + [f["receive_time"][u] for (f, _), u in zip(fixes, uploads)])
    block = np.concatenate([np.full(len(e), n) for e, n in events] + [np.full(len(u), n) for (_, n), u in zip(fixes, uploads)])
    place = np.concatenate([e["order"] for e, _ in events] + [f["order"][u] for (f, _), u in zip(fixes, uploads)])
    n_events = sum(len(e) for e, _ in events)
    by_rank = np.lexsort((place, block, receive))  # record (events first, then uploads) at each rank
    is_event = by_rank < n_events

    # Events: each goes to its place among the events in rank order.
    event_dest = np.empty(n_events, dtype=np.int64)
    event_dest[by_rank[is_event]] = np.arange(n_events)
    ev = np.empty(n_events, dtype=RECORD_DTYPE)
    at = 0
    for e, _ in events:
        ev[event_dest[at : at + len(e)]] = e
        at += len(e)
    ev["order"] = np.flatnonzero(is_event)

    # Uploads: each upload's fixes go, in one piece, after those of the uploads ranked before it.
    counts = np.concatenate([np.diff(np.append(u, len(f))) for (f, _), u in zip(fixes, uploads)])
    upload_by_rank = by_rank[~is_event] - n_events
    first_row = np.empty(len(counts), dtype=np.int64)
    first_row[upload_by_rank] = np.concatenate(([0], np.cumsum(counts[upload_by_rank])[:-1])) if len(counts) else []
    fx = np.empty(int(counts.sum()), dtype=BATCH_FIX_DTYPE)
    k = 0
    for (f, _), u in zip(fixes, uploads):
        n = len(u)
        starts = np.repeat(first_row[k : k + n], counts[k : k + n])
        offsets = np.arange(len(f)) - np.repeat(u, counts[k : k + n])
        fx[starts + offsets] = f
        k += n
    fx["order"] = np.repeat(np.flatnonzero(~is_event), counts[upload_by_rank])
    return ev, fx


def _map(function: Callable, jobs: list, workers: int) -> Iterator:
    """``map`` over jobs, in order, in ``workers`` processes when more than one."""
    if workers <= 1:
        yield from map(function, jobs)
        return
    with multiprocessing.get_context("spawn").Pool(workers) as pool:
        yield from pool.imap(function, jobs)


def _totals(blocks: list[Block]) -> tuple[WorldStats, ReceiverStats, str]:
    stats, centre, digests = WorldStats(), ReceiverStats(), {}
    for block in blocks:
        for name, value in vars(block.stats).items():
            setattr(stats, name, getattr(stats, name) + value)
        for name, value in vars(block.centre).items():
            if name == "rejected":
                centre.rejected.update(value)
            else:
                setattr(centre, name, getattr(centre, name) + value)
        digests.update(block.digests)
    return stats, centre, _wire_digest(digests)


def _wire_digest(digests: dict[int, bytes]) -> str:
    """One hash of each device's arrivals (time and bytes, in arrival order), devices in id
    order: the same however the subjects were split into blocks or processes."""
    whole = hashlib.sha256()
    for device in sorted(digests):
        whole.update(device.to_bytes(4, "little") + digests[device])
    return whole.hexdigest()


def _blocks(scenario: Scenario, supplier: Supplier, workers: int, progress: Callable[[float], None] | None) -> Iterator[Block]:
    jobs = [(scenario, supplier, n, start, min(start + BLOCK_SUBJECTS, scenario.subjects))
            for n, start in enumerate(range(0, scenario.subjects, BLOCK_SUBJECTS))]
    for block in _map(_run_block, jobs, workers):
        if progress is not None:
            progress((block.number + 1) / len(jobs))
        yield block


def _run_block(job: tuple[Scenario, Supplier, int, int, int]) -> Block:
    with without_cycle_collection():
        return _simulate_block(*job)


def _simulate_block(scenario: Scenario, supplier: Supplier, number: int, start: int, stop: int) -> Block:
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
    arrivals = _Arrivals.of(deliveries)
    receiver = Receiver(CaseBook([case_of(s, scenario, supplier.devices) for s in subjects]), acks=False)  # the links model acks
    taken: list[tuple[np.ndarray, np.ndarray]] = []
    env = simpy.Environment()
    env.process(_centre(env, arrivals, receiver, taken))
    while env.peek() != math.inf:
        env.step()
        stats.simpy_events += 1
    events, fixes = _joined(taken)
    return Block(number, subjects, events, fixes, truth.table(), stats, receiver.stats, arrivals.digests())


@dataclass(frozen=True)
class _Arrivals:
    """Every copy that reached a block's centre, in arrival order (ties by device, then frame)."""

    arrive_at: np.ndarray
    device: np.ndarray
    data: list[bytes]

    @classmethod
    def of(cls, deliveries: list[tuple[int, Delivery]]) -> _Arrivals:
        arrive = np.concatenate([d.arrive_at for _, d in deliveries]) if deliveries else np.empty(0)
        device = np.concatenate([np.full(len(d.data), n, dtype=np.int64) for n, d in deliveries]) if deliveries else np.empty(0, np.int64)
        index = np.concatenate([d.frame_index for _, d in deliveries]) if deliveries else np.empty(0, np.int64)
        order = np.lexsort((index, device, arrive))
        data = [copy for _, d in deliveries for copy in d.data]
        return cls(arrive[order], device[order], [data[i] for i in order.tolist()])

    def digests(self) -> dict[int, bytes]:
        """Per device, a hash of its copies' arrival times and bytes in arrival order."""
        by_device = np.argsort(self.device, kind="stable")
        devices = self.device[by_device]
        cuts = np.flatnonzero(np.diff(devices)) + 1
        out = {}
        for part in np.split(by_device, cuts) if len(by_device) else []:
            digest = hashlib.sha256(self.arrive_at[part].tobytes())
            digest.update(b"".join([self.data[i] for i in part.tolist()]))
            out[int(self.device[part[0]])] = digest.digest()
        return out


def _centre(env: simpy.Environment, arrivals: _Arrivals, receiver: Receiver,
            taken: list[tuple[np.ndarray, np.ndarray]]) -> simpy.events.ProcessGenerator:
    """Each day, take in every copy that arrived by its end, in arrival order."""
    done = 0
    while done < len(arrivals.data):
        yield env.timeout(DAY_S)
        upto = int(np.searchsorted(arrivals.arrive_at, env.now, side="left"))
        taken.append(receiver.receive_batch(arrivals.device[done:upto].tolist(), arrivals.data[done:upto],
                                            arrivals.arrive_at[done:upto].tolist()))
        done = upto


def _joined(parts: list[tuple[np.ndarray, np.ndarray]]) -> tuple[np.ndarray, np.ndarray]:
    """Batch arrays from successive ``receive_batch`` calls as one, ``order`` running on."""
    events, fixes, offset = [], [], 0
    for ev, fx in parts:
        ev["order"] += offset
        fx["order"] += offset
        offset += len(ev) + len(upload_bounds(fx)) - 1
        events.append(ev)
        fixes.append(fx)
    return (np.concatenate(events) if events else np.empty(0, RECORD_DTYPE),
            np.concatenate(fixes) if fixes else np.empty(0, BATCH_FIX_DTYPE))
