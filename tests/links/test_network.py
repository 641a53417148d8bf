"""The mobile network between a device and the centre: what arrives, when, and as which bytes, against the real decoder and receiver."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
import simpy
from scipy.stats import binomtest

from firmware_stubs.params import UplinkParams
from firmware_stubs.protocol import (
    BaseEventCode,
    BaseUnitEvent,
    Frame,
    Rejection,
    StreamDecoder,
    TagFlags,
    UnitFlags,
    encode_frame,
)
from sim.centre.receiver import Receiver
from sim.detector.cases import Case, CaseBook, DeviceKind, FittedDevice
from sim.links.network import Delivery, Network, deliver, flip_byte, latency, merge
from sim.scenario import NetworkParams

UNIT, OTHER_UNIT, TAG = 700, 710, 701
T0_MS = 1_700_000_000_000
LATENCY = 2.0
RTO, CAP = 30.0, 120.0
UPLINK = UplinkParams(queue_capacity=2500, window=8, retransmit_timeout_s=RTO, max_backoff_s=CAP)
PERFECT = NetworkParams(latency_median_s=LATENCY, latency_sigma=0.0, loss=0.0, duplicate=0.0, reorder=0.0, corrupt=0.0)
NONE = np.empty((0, 2))


def wire(n: int, device: int = UNIT) -> list[bytes]:
    """``n`` status checks as a base unit queues them: seq 0.., one a second of device time."""
    event = BaseUnitEvent(BaseEventCode.STATUS_CHECK, TAG, TagFlags.NONE, UnitFlags.TAG_PRESENT, 97)
    return [encode_frame(Frame(device, i, T0_MS + i * 1000, event)) for i in range(n)]


def link(**changes: float) -> NetworkParams:
    return dataclasses.replace(PERFECT, **changes)


def run(ready: np.ndarray, lk: NetworkParams = PERFECT, blocked: np.ndarray = NONE, seed: int = 1, uplink: UplinkParams = UPLINK,
        frames: list[bytes] | None = None) -> Delivery:
    frames = wire(len(ready)) if frames is None else frames
    return deliver(frames, np.asarray(ready, dtype=float), lk, uplink, blocked, np.random.default_rng(seed))


def copies_of(d: Delivery, n: int) -> np.ndarray:
    return np.bincount(d.frame_index, minlength=n)


def test_perfect_link_delivers_every_frame_once_in_order_one_latency_after_ready() -> None:
    ready = np.arange(50) * 100.0
    d = run(ready)
    assert d.frame_index.tolist() == list(range(50))
    np.testing.assert_array_equal(d.arrive_at, ready + LATENCY)
    assert d.data == wire(50)
    assert (d.sent, d.lost, d.corrupted, d.duplicated, d.overwritten) == (50, 0, 0, 0, 0)


def test_jittered_latency_keeps_a_devices_frames_in_send_order() -> None:
    # Half a second apart with lognormal latency: without stream order many would overtake.
    ready = np.arange(400) * 0.5
    d = run(ready, link(latency_sigma=0.8))
    assert d.frame_index.tolist() == list(range(400))
    assert np.all(d.arrive_at > ready)
    assert np.all(np.diff(d.arrive_at) >= 0)


def test_the_window_drains_a_backlog_a_window_per_round_trip() -> None:
    d = run(np.zeros(3 * UPLINK.window))
    round_trip = 2 * LATENCY
    expected = LATENCY + round_trip * (np.arange(3 * UPLINK.window) // UPLINK.window)
    np.testing.assert_array_equal(d.arrive_at, expected)


def test_losses_are_resent_after_a_doubling_timeout_and_every_frame_still_arrives() -> None:
    n = 400
    ready = np.arange(n) * 1e5  # far apart: no frame waits for another
    d = run(ready, link(loss=0.8))
    # Every frame arrives; again whenever its ack was lost (then resent); nothing is overwritten.
    frames, first = np.unique(d.frame_index, return_index=True)
    assert frames.tolist() == list(range(n)) and len(d.data) == n + d.acks_lost > n
    assert d.overwritten == 0 and d.sent == len(d.data) + d.lost
    d = dataclasses.replace(d, arrive_at=d.arrive_at[first])
    waits = [0.0]
    gap = RTO
    while waits[-1] < 100 * CAP:
        waits.append(waits[-1] + gap)
        gap = min(2 * gap, CAP)  # 30, 60, 120, 120, ...: cumulative 0, 30, 90, 210, 330, ...
    delay = d.arrive_at - ready - LATENCY
    assert set(delay.tolist()) <= set(waits)
    assert {30.0, 90.0, 210.0, 330.0, 450.0} <= set(delay.tolist())  # doubled, then capped


def test_a_blocked_interval_holds_frames_until_it_ends_then_they_arrive_in_order() -> None:
    ready = np.arange(100) * 10.0
    start, end = 200.0, 500.0
    d = run(ready, blocked=np.array([[start, end]]))
    assert d.frame_index.tolist() == list(range(100))
    before = ready < start
    held = (ready >= start) & (ready < end)
    np.testing.assert_array_equal(d.arrive_at[before], ready[before] + LATENCY)
    assert np.all(d.arrive_at[held] >= end + LATENCY)
    assert d.arrive_at[held][0] == end + LATENCY
    assert np.all(d.arrive_at[~before & ~held] >= ready[~before & ~held] + LATENCY)


def test_no_copy_is_sent_while_blocked_even_a_resend() -> None:
    ready = np.arange(300) * 20.0
    blocked = np.array([[100.0, 1000.0], [1500.0, 1600.0], [3000.0, 4500.0]])
    d = run(ready, link(loss=0.5), blocked)
    assert np.array_equal(np.unique(d.frame_index), np.arange(300))
    sent_at = d.arrive_at - LATENCY  # constant latency, no reordering
    inside = (sent_at[:, None] >= blocked[:, 0]) & (sent_at[:, None] < blocked[:, 1])
    assert not inside.any()


def test_overflow_while_held_overwrites_exactly_the_oldest_and_counts_them() -> None:
    small = dataclasses.replace(UPLINK, queue_capacity=10)
    ready = np.concatenate((5.0 + np.arange(25) * 10.0, [2000.0]))  # 25 inside the outage, one after
    d = run(ready, blocked=np.array([[0.0, 1000.0]]), uplink=small)
    assert d.overwritten == 15
    assert sorted(d.frame_index.tolist()) == list(range(15, 26))
    assert d.sent == 11
    # Unblocked, a session with more queued than the queue holds loses the oldest too.
    d = run(np.zeros(12), uplink=small)
    assert d.overwritten == 2 and sorted(d.frame_index.tolist()) == list(range(2, 12))


def test_more_than_half_a_queue_of_frames_that_never_overflows_all_arrive() -> None:
    # Between half and all of the queue's capacity in a run (a GPS tag sends about 2,000
    # frames a week): once a crash, from slicing with a negative count.
    small = dataclasses.replace(UPLINK, queue_capacity=10)
    d = run(np.arange(7) * 100.0, uplink=small)
    assert d.overwritten == 0 and d.frame_index.tolist() == list(range(7))


def test_corrupt_copies_are_rejected_by_the_decoder_and_the_resend_decodes() -> None:
    n = 300
    frames = wire(n)
    d = run(np.arange(n) * 100.0, link(corrupt=0.3))
    decoder = StreamDecoder()
    decoded = [f for data in d.data for f in decoder.feed(data)]
    damaged = [(data, frames[i]) for data, i in zip(d.data, d.frame_index.tolist(), strict=True) if data != frames[i]]
    assert d.corrupted == len(damaged) > 0
    assert decoder.stats.rejected == {Rejection.CRC: d.corrupted}
    for bad, good in damaged:
        assert len(bad) == len(good) and b"\x00" not in bad[1:-1]
        assert sum(a != b for a, b in zip(bad, good, strict=True)) == 1
    decoded.sort(key=lambda f: f.seq)  # a frame resent twice may arrive after the next one
    assert [f.seq for f in decoded] == list(range(n))  # every frame's good resend, once each
    assert [encode_frame(f) for f in decoded] == frames


def test_duplicates_arrive_twice_identical_the_copy_one_latency_later() -> None:
    n = 100
    ready = np.arange(n) * 10.0
    d = run(ready, link(duplicate=1.0))
    assert np.all(copies_of(d, n) == 2) and d.duplicated == n
    frames = wire(n)
    assert all(data == frames[i] for data, i in zip(d.data, d.frame_index.tolist(), strict=True))
    np.testing.assert_array_equal(d.arrive_at, np.repeat(ready, 2) + np.tile([LATENCY, 2 * LATENCY], n))


def test_a_flipped_byte_never_becomes_a_delimiter_and_always_fails_the_crc() -> None:
    frame = wire(1)[0]
    for u in (0.0, 0.37, 0.999):
        for mask in range(1, 255):  # every value rng.integers(1, 255) can draw
            bad = flip_byte(frame, u, mask)
            assert b"\x00" not in bad[1:-1] and sum(a != b for a, b in zip(bad, frame, strict=True)) == 1
            decoder = StreamDecoder()
            assert decoder.feed(bad) == [] and decoder.stats.rejected == {Rejection.CRC: 1}


def test_reordered_frames_arrive_after_frames_sent_after_them() -> None:
    ready = np.arange(200) * 1.0

    def inversions(d: Delivery) -> int:
        later = d.frame_index[:, None] > d.frame_index[None, :]
        return int(np.triu(later, 1).sum())  # pairs where the later-sent frame arrived first

    d = run(ready, link(reorder=0.3))
    assert np.all(copies_of(d, 200) == 1)
    assert inversions(d) > 0
    assert inversions(run(ready)) == 0


@pytest.mark.parametrize("seed", [3, 4])
def test_loss_corruption_and_duplication_rates_match_the_link(seed: int) -> None:
    n = 20_000
    lk = link(latency_sigma=0.8, loss=0.05, corrupt=0.02, duplicate=0.03, reorder=0.01)
    d = run(np.arange(n) * 60.0, lk, seed=seed)
    arrived = d.sent - d.lost  # attempts that reached the centre, corrupted or not

    def within(k: int, trials: int, p: float) -> None:
        ci = binomtest(k, trials).proportion_ci(0.999)
        assert ci.low <= p <= ci.high, f"{k}/{trials} = {k / trials:.4f}, expected {p} (seed {seed})"

    within(d.lost, d.sent, lk.loss)
    within(d.corrupted, arrived, lk.corrupt)
    within(d.duplicated, arrived, lk.duplicate)
    within(d.acks_lost, arrived - d.corrupted, lk.loss)  # acks are lost as frames are
    within(n, d.sent, (1 - lk.loss) * (1 - lk.corrupt) * (1 - lk.loss))  # the attempts that ended it
    assert len(d.data) == arrived + d.duplicated and d.overwritten == 0


def test_same_seed_same_output_other_seed_other_output() -> None:
    ready = np.repeat(np.arange(200) * 600.0, 5)
    lk = link(latency_sigma=0.8, loss=0.1, corrupt=0.05, duplicate=0.05, reorder=0.05)
    blocked = np.array([[10_000.0, 40_000.0]])
    a, b, c = (run(ready, lk, blocked, seed=s) for s in (7, 7, 8))
    assert np.array_equal(a.arrive_at, b.arrive_at) and np.array_equal(a.frame_index, b.frame_index)
    assert a.data == b.data
    assert (a.sent, a.lost, a.corrupted, a.duplicated) == (b.sent, b.lost, b.corrupted, b.duplicated)
    assert not np.array_equal(a.arrive_at, c.arrive_at)


def test_end_to_end_the_receiver_makes_one_record_per_frame_after_dedup() -> None:
    n = 150
    lk = link(latency_sigma=0.8, loss=0.1, corrupt=0.1, duplicate=0.1, reorder=0.1)
    ready = np.repeat(np.arange(n // 3) * 60.0, 3)
    blocked = np.array([[600.0, 1500.0]])
    frames = {UNIT: wire(n, UNIT), OTHER_UNIT: wire(n, OTHER_UNIT)}
    deliveries = {dev: run(ready, lk, blocked, seed=dev, frames=frames[dev]) for dev in frames}
    cases = CaseBook([Case(1, (FittedDevice(UNIT, DeviceKind.BASE_UNIT, 0.0),)),
                      Case(2, (FittedDevice(OTHER_UNIT, DeviceKind.BASE_UNIT, 0.0),))])
    receiver = Receiver(cases)
    records, times = [], []
    for t, dev, data in merge(deliveries):
        times.append(t)
        got = receiver.receive(dev, data, t)
        assert all(r.receive_time == t for r in got)
        records.extend(got)
    assert times == sorted(times)
    assert {(r.device, r.seq) for r in records} == {(dev, seq) for dev in frames for seq in range(n)}
    good = sum(data == frames[dev][i] for dev, d in deliveries.items() for data, i in zip(d.data, d.frame_index.tolist(), strict=True))
    assert len(records) == good > len(frames) * n  # duplicates are passed on, for the detector to drop
    damaged = sum(len(d.data) for d in deliveries.values()) - good
    assert receiver.stats.rejected == {Rejection.CRC: damaged} and damaged > 0
    assert receiver.stats.reboots == 0


def test_merge_orders_by_time_then_link_then_frame_whatever_the_mapping_order() -> None:
    def delivery(times: list[float], index: list[int], tag: str) -> Delivery:
        data = [f"{tag}{i}".encode() for i in index]
        return Delivery(np.array(times), data, np.array(index), len(times), 0, 0, 0, 0, 0)

    b = delivery([1.0, 1.0, 3.0], [0, 1, 2], "b")
    a = delivery([1.0, 2.0], [5, 6], "a")
    expected = [(1.0, "a", b"a5"), (1.0, "b", b"b0"), (1.0, "b", b"b1"), (2.0, "a", b"a6"), (3.0, "b", b"b2")]
    assert list(merge({"b": b, "a": a})) == expected
    assert list(merge({"a": a, "b": b})) == expected


def test_bad_input_is_refused() -> None:
    with pytest.raises(ValueError, match="non-decreasing"):
        run(np.array([1.0, 0.0]))
    with pytest.raises(ValueError, match="for ever"):
        run(np.zeros(3), link(loss=1.0))
    with pytest.raises(ValueError, match="ready times"):
        deliver(wire(2), np.zeros(3), PERFECT, UPLINK, NONE, np.random.default_rng(0))


# --- the per-frame form --------------------------------------------------------------------------


class ScriptedDraws:
    """The uniforms and normals a test chose, in order."""

    def __init__(self, uniforms: list[float], normals: list[float]) -> None:
        self.uniforms, self.normals = iter(uniforms), iter(normals)

    def uniform(self) -> float:
        return next(self.uniforms)

    def normal(self) -> float:
        return next(self.normals)


def test_per_frame_network_loses_delays_and_keeps_stream_order_as_the_fleet_form_does() -> None:
    """One uniform against ``loss`` per frame, then one normal for its latency by the same
    lognormal as ``deliver``; a quick copy sent after a slow one waits behind it."""
    network = link(latency_sigma=0.5, loss=0.3)
    env = simpy.Environment()
    arrived: list[tuple[float, bytes]] = []
    net = Network(env, network, ScriptedDraws([0.9, 0.1, 0.9, 0.9], [2.0, -2.0, 0.0]), lambda f: arrived.append((env.now, f)))

    def sender() -> simpy.events.ProcessGenerator:
        for frame, wait in ((b"slow", 1.0), (b"lost", 1.0), (b"quick", 8.0), (b"last", 0.0)):
            net.send(frame)
            yield env.timeout(wait)

    env.process(sender())
    env.run()
    slow = float(latency(network, np.array([2.0]))[0])
    quick_raw = 2.0 + float(latency(network, np.array([-2.0]))[0])
    assert quick_raw < slow  # sent later, would overtake
    assert arrived == [(slow, b"slow"), (slow, b"quick"), (10.0 + LATENCY, b"last")]
    assert net.lost == 1
