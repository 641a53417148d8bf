"""Fault semantics, one direction at a time, in injected time: each fault does what its log says."""

from __future__ import annotations

import io
import json

import numpy as np
import pytest

from firmware_stubs.protocol import AlcoholReading, Frame, QueueOverflow, Rejection, StreamDecoder, encode_frame
from sim.proxy.faults import REORDER_HOLD_S, FaultLine, FaultLog, Faults
from sim.proxy.proxy import TO_CENTRE, TO_DEVICE, Proxy

N = 60


def frames(n: int = N) -> list[bytes]:
    return [encode_frame(Frame(7, seq, 1_700_000_000_000 + seq, AlcoholReading(seq, 3300, 0))) for seq in range(n)]


def line(faults: Faults, seed: int = 1) -> tuple[FaultLine, io.StringIO]:
    out = io.StringIO()
    return FaultLine("a>b", faults, np.random.default_rng(seed), FaultLog(out, {})), out


def logged(out: io.StringIO) -> list[dict]:
    return [json.loads(x) for x in out.getvalue().splitlines()[1:]]


def seqs(data: bytes) -> list[int]:
    return [f.seq for f in StreamDecoder().feed(data)]


def run(fl: FaultLine, wire: list[bytes], step: float = 0.01) -> bytes:
    out = b""
    for i, frame in enumerate(wire):
        fl.feed(frame, i * step)
        out += fl.take(i * step)
    return out + fl.take(len(wire) * step + REORDER_HOLD_S)


def test_a_seed_drops_exactly_the_frames_its_log_names_and_again_with_the_same_seed() -> None:
    fl, out = line(Faults(drop=0.3), seed=5)
    got = seqs(run(fl, frames()))
    dropped = [e["frame"] for e in logged(out)]
    assert {e["fault"] for e in logged(out)} == {"drop"} and 5 < len(dropped) < 35
    assert got == [s for s in range(N) if s not in dropped]
    again, out_again = line(Faults(drop=0.3), seed=5)
    assert seqs(run(again, frames())) == got and out_again.getvalue() == out.getvalue()
    other, _ = line(Faults(drop=0.3), seed=6)
    assert seqs(run(other, frames())) != got


def test_frames_split_and_merged_across_reads_meet_the_same_faults() -> None:
    whole, _ = line(Faults(drop=0.3, duplicate=0.2), seed=2)
    expected = run(whole, frames())
    chopped, _ = line(Faults(drop=0.3, duplicate=0.2), seed=2)
    stream = b"".join(frames())
    pieces = [stream[i : i + 7] for i in range(0, len(stream), 7)]
    assert run(chopped, pieces, step=0.0) == expected


def test_every_corrupted_frame_is_rejected_by_the_decoder_for_its_crc() -> None:
    fl, out = line(Faults(corrupt=1.0))
    decoder = StreamDecoder()
    assert decoder.feed(run(fl, frames())) == []
    assert decoder.stats.rejected == {Rejection.CRC: N}
    entries = logged(out)
    assert [e["frame"] for e in entries] == list(range(N)) and {e["fault"] for e in entries} == {"corrupt"}
    assert all(e["offset"] > 1 for e in entries)  # a data byte: never the delimiter, never the first COBS code


def test_a_duplicated_frame_arrives_twice_back_to_back() -> None:
    fl, out = line(Faults(duplicate=0.5), seed=3)
    got = seqs(run(fl, frames()))
    doubled = {e["frame"] for e in logged(out)}
    assert 0 < len(doubled) < N
    assert got == [s for s in range(N) for _ in range(2 if s in doubled else 1)]


def test_a_reordered_frame_swaps_with_the_next_or_goes_after_the_hold_if_none_follows() -> None:
    fl, out = line(Faults(reorder=1.0))
    assert seqs(run(fl, frames(6))) == [1, 0, 3, 2, 5, 4]
    assert [e["frame"] for e in logged(out)] == [0, 2, 4]
    lone, _ = line(Faults(reorder=1.0))
    lone.feed(frames(1)[0], 0.0)
    assert lone.take(REORDER_HOLD_S / 2) == b""
    assert seqs(lone.take(REORDER_HOLD_S)) == [0]


def test_a_cut_drops_everything_in_its_window_and_nothing_outside() -> None:
    fl, out = line(Faults(cut_every_s=4.0, cut_for_s=1.0))
    wire = frames(80)
    got = seqs(run(fl, wire, step=0.1))  # frame i at 0.1 i s: cut in [3, 4) and [7, 8)
    cut = [i for i in range(80) if (i * 0.1) % 4.0 >= 3.0]
    assert len(cut) == 20 and got == [i for i in range(80) if i not in cut]
    assert [e["frame"] for e in logged(out)] == cut and {e["fault"] for e in logged(out)} == {"cut"}


def test_a_delayed_frame_leaves_after_the_delay_and_is_lost_if_that_falls_in_a_cut() -> None:
    fl, out = line(Faults(delay_s=0.5, cut_every_s=4.0, cut_for_s=1.0))
    one, two = frames(2)
    fl.feed(one, 1.0)
    assert fl.take(1.49) == b"" and seqs(fl.take(1.5)) == [0]
    fl.feed(two, 2.8)  # sent while up, due at 3.3, in the cut
    assert fl.take(3.5) == b"" and [(e["frame"], e["fault"]) for e in logged(out)] == [(1, "cut")]


@pytest.mark.parametrize("faults", [dict(drop=1.5), dict(corrupt=-0.1), dict(delay_s=-1.0),
                                    dict(cut_every_s=2.0, cut_for_s=2.0), dict(cut_every_s=2.0, cut_for_s=0.0)])
def test_bad_faults_are_refused(faults: dict) -> None:
    with pytest.raises(ValueError):
        Faults(**faults)


class FakeLink:
    """Hands out its chunks one a read; keeps what is written."""

    def __init__(self, name: str, chunks: list[bytes]) -> None:
        self.name, self.chunks, self.written = name, list(chunks), bytearray()

    def read(self, timeout: float) -> bytes:
        return self.chunks.pop(0) if self.chunks else b""

    def write(self, data: bytes) -> None:
        self.written += data

    def close(self) -> None:
        pass


def test_one_directions_faults_do_not_depend_on_the_other_directions_traffic() -> None:
    faults = Faults(drop=0.2, duplicate=0.2, reorder=0.2)
    wire = frames()
    logs = []
    for acks in ([], frames(40)):
        out = io.StringIO()
        clock = iter(np.arange(0, 1000, 0.01).tolist())
        proxy = Proxy(FakeLink("a", wire), FakeLink("b", acks), faults, seed=9, log=FaultLog(out, {}), clock=lambda: next(clock))
        for _ in range(N + 2 * 100):
            proxy.step()
        logs.append([(e["frame"], e["fault"]) for e in logged(out) if e["dir"] == TO_CENTRE])
        assert proxy.lines[TO_DEVICE].frames == len(acks)
        assert [a.seq for a in proxy.arrivals] == seqs(bytes(proxy.b.written))  # what reached the centre intact
    assert logs[0] == logs[1] and logs[0]


def test_a_queue_overflow_marker_that_reaches_the_centre_is_no_arrival() -> None:
    # It stands for messages the device overwrote: the account lists those as lost, and the
    # marker itself is no record (protocol 1.1), so it must not count as an unexpected one.
    wire = frames(3) + [encode_frame(Frame(7, 9, 1_700_000_000_100, QueueOverflow(2)))]
    clock = iter(np.arange(0, 1000, 0.01).tolist())
    proxy = Proxy(FakeLink("a", wire), FakeLink("b", []), Faults(), seed=1, log=FaultLog(io.StringIO(), {}),
                  clock=lambda: next(clock))
    for _ in range(20):
        proxy.step()
    assert seqs(bytes(proxy.b.written)) == [0, 1, 2, 9]  # carried to the centre
    assert [a.seq for a in proxy.arrivals] == [0, 1, 2]
