"""The mobile network between a device and the centre, as the simulation models it.

One model of the network, in the two forms the two fidelities need, side by
side so they cannot drift apart. Its parameters are a ``sim.scenario.NetworkParams``
(passed as ``network`` here).

What the network does to one copy of a frame: it is lost with chance
``loss``; else it takes a lognormal latency (``latency``) and, like a stream,
keeps its place behind the copies sent before it in the same direction
(``in_stream_order``). The two forms:

- ``Network``, frame by frame in SimPy: one direction of one device's network
  at full fidelity (``sim.world.full``), carrying whatever the real stubs and
  the real ``Receiver`` put on it, resends and acks included. It neither
  duplicates, reorders nor corrupts.
- ``deliver``, vectorised: the fleet's whole exchange with the centre at once,
  which also reorders, duplicates and corrupts copies.

The fleet cannot run ``firmware_stubs.reliable`` and the centre's acks packet
by packet for 50,000 devices, so ``deliver`` draws, frame by frame and in
numpy, what that exchange would put on the centre's doorstep: every copy that
arrives (good, corrupted or duplicated), when, and with which bytes. The
rules ``deliver`` keeps from the real uplink, and why:

- Store and forward. A frame goes at its upload session (``ready_at``) or, if
  the device cannot reach the centre then (an outage, a flat or dead device:
  ``blocked``), when that ends; a resend that falls due while blocked waits
  the same way. The queue holds ``queue_capacity`` frames: a frame that
  ``queue_capacity`` newer frames have joined before it could first be sent is
  overwritten, oldest first, and never arrives.
- Resends. A lost or corrupted copy is never acked, and an ack can be lost on
  its way back as a frame can, so the device resends a retransmit timeout
  later, the timeout doubling up to ``max_backoff_s`` (``ReliableUplink.poll``);
  it keeps trying until a good copy gets through and its ack gets back. A
  copy whose ack was lost reached the centre all the same: it arrives again.
- The go-back-N window. At most ``window`` frames are in flight: a frame is
  first sent no earlier than the device hears the (cumulative) ack of the
  frame ``window`` places before it, so a backlog drains at ``window`` frames a
  round trip, and a frame that needs resends holds back those behind it.
- The network, as above; a reordered copy is held past
  the next copy sent after it, by one more latency. A duplicate is the same
  bytes one more latency later. A corrupted copy has one COBS data byte
  changed to another non-zero value: a single-byte error, which CRC-16 always
  catches, so the centre's decoder rejects it (once) and never splits it.

Left out: the copies of the rest of a window that go-back-N resends after a
loss, which reach the centre as more duplicates (the detector drops them by
sequence number; ``tests/world/test_fidelity.py`` measures what they add). A
queue that overflows while draining after it was released is also left out:
that needs ``queue_capacity`` new frames within the drain, far beyond what any
device produces.
"""

from __future__ import annotations

import heapq
from collections.abc import Callable, Hashable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from itertools import repeat
from typing import Protocol, TypeVar

import numpy as np
import simpy

from firmware_stubs.params import UplinkParams
from sim.scenario import NetworkParams
from sim.intervals import disjoint

LinkId = TypeVar("LinkId", bound=Hashable)

# Why a send attempt ended as it did.
_LOST, _CORRUPTED, _ACK_LOST, _DELIVERED = 0, 1, 2, 3


def latency(network: NetworkParams, z: np.ndarray | float) -> np.ndarray:
    """One-way latencies from standard normal draws ``z``: lognormal, written out so a median
    of 0 or a sigma of 0 is exact."""
    return network.latency_median_s * np.exp(network.latency_sigma * z)


def in_stream_order(raw_arrival: np.ndarray, earlier: float = -np.inf) -> np.ndarray:
    """Arrival times of copies sent in this order, ``raw_arrival`` each one's send time plus
    latency: none arrives before one sent earlier (nor before ``earlier``), as on a stream."""
    return np.maximum.accumulate(np.maximum(raw_arrival, earlier))


class FrameDraws(Protocol):
    """Uniforms and standard normals one at a time, from a device's own stream."""

    def uniform(self) -> float: ...

    def normal(self) -> float: ...


class Network:
    """One direction of one device's network, frame by frame: lost, or late and in order."""

    def __init__(self, env: simpy.Environment, network: NetworkParams, draws: FrameDraws, on_arrival: Callable[[bytes], None]) -> None:
        self.env = env
        self.network = network
        self.draws = draws
        self.on_arrival = on_arrival
        self.lost = 0
        self._last_arrival = 0.0

    def send(self, frame: bytes) -> None:
        if self.draws.uniform() < self.network.loss:
            self.lost += 1
            return
        raw = self.env.now + float(latency(self.network, self.draws.normal()))
        arrive = float(in_stream_order(np.array([raw]), self._last_arrival)[0])
        self._last_arrival = arrive
        self.env.timeout(arrive - self.env.now).callbacks.append(lambda _: self.on_arrival(frame))


@dataclass(frozen=True, slots=True, eq=False)
class Delivery:
    """Every copy of one device's frames that reached the centre, in arrival order, and what it took.

    Copies arriving at the same instant are in frame order, then in the order
    they were sent; ``merge`` relies on that.
    """

    arrive_at: np.ndarray  # seconds, one per copy, non-decreasing
    data: list[bytes]  # each copy's bytes; a corrupted copy differs from its frame in one byte
    frame_index: np.ndarray  # which of the frames given to ``deliver`` each copy carries
    sent: int  # send attempts, resends included
    lost: int  # attempts that never arrived
    corrupted: int  # attempts that arrived damaged (their duplicates not counted again)
    duplicated: int  # extra copies the network made
    acks_lost: int  # copies that arrived but whose ack did not: each resent, so arriving again
    overwritten: int  # frames pushed out of a full queue: never sent, never delivered


def deliver(
    frames: Sequence[bytes],
    ready_at: np.ndarray,
    network: NetworkParams,
    uplink: UplinkParams,
    blocked: np.ndarray,
    rng: np.random.Generator,
) -> Delivery:
    """What reaches the centre when one device sends ``frames`` (in queue order, each as
    ``encode_frame`` returns it, delimiters included) from ``ready_at`` on (non-decreasing)
    over a mobile network with the parameters ``network``, unable to reach the centre during
    the ``blocked`` [start, end) intervals (overlaps are merged).
    """
    ready_at = np.asarray(ready_at, dtype=float)
    if len(ready_at) != len(frames):
        raise ValueError(f"{len(frames)} frames but {len(ready_at)} ready times")
    if np.any(np.diff(ready_at) < 0):
        raise ValueError("ready_at must be non-decreasing: frames leave the queue in order")
    if uplink.retransmit_timeout_s <= 0:
        raise ValueError("retransmit_timeout_s must be more than 0, or resends never wait")
    # An attempt fails for the device if the copy is lost, arrives corrupted, or arrives and its ack is lost.
    lost, corrupted = network.loss, (1 - network.loss) * network.corrupt
    ack_lost = (1 - network.loss) * (1 - network.corrupt) * network.loss
    fail = lost + corrupted + ack_lost
    if fail >= 1:
        raise ValueError("with loss or corrupt at 1 no copy ever arrives and the device resends for ever")
    blocked = disjoint(blocked)

    release = _hold(ready_at, blocked)
    capacity = uplink.queue_capacity
    overwritten = np.zeros(len(frames), dtype=bool)
    beyond = max(len(frames) - capacity, 0)  # frames with ``capacity`` newer ones behind them
    overwritten[:beyond] = ready_at[capacity:] <= release[:beyond]
    keep = np.flatnonzero(~overwritten)
    m = len(keep)

    failures = rng.geometric(1 - fail, m) - 1  # failed attempts before the good one
    good_latency = latency(network, rng.standard_normal(m))
    ack_latency = latency(network, rng.standard_normal(m))
    gaps = _backoff(uplink, int(failures.max(initial=0)))
    waited = np.concatenate(([0.0], np.cumsum(gaps)))[failures]
    first = _hold(_pace(release[keep], waited + good_latency + ack_latency, uplink.window), blocked)

    frame, send, attempt = _attempts(first, failures, gaps, blocked)
    sent = len(frame)
    last = attempt == failures[frame]  # the attempt that got through, ack and all
    why = np.full(sent, _DELIVERED)
    why[~last] = np.searchsorted(np.cumsum([lost, corrupted]), rng.random(np.count_nonzero(~last)) * fail, side="right")
    arrives = np.flatnonzero(why != _LOST)
    arrives = arrives[np.lexsort((attempt[arrives], frame[arrives], send[arrives]))]  # send order
    frame, send, last, why = frame[arrives], send[arrives], last[arrives], why[arrives]
    good = why != _CORRUPTED

    took = np.empty(len(frame))
    took[last] = good_latency[frame[last]]
    took[~last] = latency(network, rng.standard_normal(np.count_nonzero(~last)))
    arrive = _network_order(send + took, rng.random(len(frame)) < network.reorder, network, rng)
    dup = np.flatnonzero(rng.random(len(frame)) < network.duplicate)
    damaged = np.flatnonzero(~good)
    picks, masks = rng.random(len(damaged)).tolist(), rng.integers(1, 255, len(damaged)).tolist()
    variants = [flip_byte(frames[keep[f]], u, mask) for f, u, mask in zip(frame[damaged].tolist(), picks, masks, strict=True)]
    variant = np.full(len(frame), -1)
    variant[damaged] = np.arange(len(damaged))

    arrive = np.concatenate((arrive, arrive[dup] + latency(network, rng.standard_normal(len(dup)))))
    index = keep[np.concatenate((frame, frame[dup]))]
    variant = np.concatenate((variant, variant[dup]))
    order = np.lexsort((np.arange(len(arrive)), index, arrive))
    arrive, index, variant = arrive[order], index[order], variant[order]
    data = [frames[i] for i in index.tolist()]
    for pos in np.flatnonzero(variant >= 0).tolist():
        data[pos] = variants[variant[pos]]
    return Delivery(
        arrive_at=arrive,
        data=data,
        frame_index=index,
        sent=sent,
        lost=sent - len(frame),
        corrupted=len(damaged),
        duplicated=len(dup),
        acks_lost=int(np.count_nonzero(why == _ACK_LOST)),
        overwritten=len(frames) - m,
    )


def merge(deliveries: Mapping[LinkId, Delivery]) -> Iterator[tuple[float, LinkId, bytes]]:
    """Every copy on every link as ``(arrive_at, link, bytes)``, in arrival order.

    Ties go by link id (so link ids must be mutually orderable), then frame
    index, then the order within the delivery: the same input always gives the
    same sequence, whatever the mapping's order. Streams lazily, so the centre
    can take copies in as simulated time passes.
    """
    streams = [
        zip(d.arrive_at.tolist(), repeat(link, len(d.data)), d.frame_index.tolist(), range(len(d.data)), d.data, strict=True)
        for link, d in deliveries.items()
    ]
    for arrive, link, _, _, data in heapq.merge(*streams):
        yield arrive, link, data


def _hold(t: np.ndarray, blocked: np.ndarray) -> np.ndarray:
    """Each time inside a blocked interval moved to that interval's end (disjoint, so that end is free)."""
    if not len(blocked):
        return t
    k = np.searchsorted(blocked[:, 0], t, side="right") - 1
    end = blocked[np.maximum(k, 0), 1]
    return np.where((k >= 0) & (t < end), end, t)


def _backoff(uplink: UplinkParams, count: int) -> np.ndarray:
    """The waits before resends 1..count: the timeout, then doubled each time up to the cap,
    as ``ReliableUplink.poll`` does."""
    gaps = np.empty(count)
    wait = uplink.retransmit_timeout_s
    for k in range(count):
        gaps[k] = wait
        wait = min(wait * 2, uplink.max_backoff_s)
    return gaps


def _pace(release: np.ndarray, acked_after: np.ndarray, window: int) -> np.ndarray:
    """First send times under the go-back-N window: frame i waits for the device to hear the
    cumulative ack covering frame i - window, ``acked_after`` its first send.

    Most frames never wait (sessions are short and far apart), so the recurrence is walked
    in Python only through a backlog: from a frame that must wait until one is released
    after every ack before it was heard, where the unpaced times hold again.
    """
    heard = np.maximum.accumulate(release + acked_after)
    waits = np.flatnonzero(release[window:] < heard[:-window]) + window
    if not len(waits):
        return release
    send, after, heard_l = release.tolist(), acked_after.tolist(), heard.tolist()
    i = int(waits[0])
    while True:
        latest = heard_l[i - 1]
        while i < len(send) and send[i] < latest:
            t = max(send[i], heard_l[i - window])
            send[i] = t
            latest = max(latest, t + after[i])
            heard_l[i] = latest
            i += 1
        k = np.searchsorted(waits, i + window)
        if k == len(waits):
            return np.array(send)
        i = int(waits[k])


def _attempts(first: np.ndarray, failures: np.ndarray, gaps: np.ndarray, blocked: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Every send attempt as (frame, time, attempt number): one round of resends at a time,
    each a backoff after the last and held past any blocked interval it falls in."""
    idx = np.arange(len(first))
    t = first
    frames, times, numbers = [idx], [t], [np.zeros(len(idx), dtype=np.int64)]
    for k, gap in enumerate(gaps.tolist()):
        again = failures[idx] > k
        idx = idx[again]
        t = _hold(t[again] + gap, blocked)
        frames.append(idx)
        times.append(t)
        numbers.append(np.full(len(idx), k + 1))
    return np.concatenate(frames), np.concatenate(times), np.concatenate(numbers)


def _network_order(raw: np.ndarray, reordered: np.ndarray, network: NetworkParams, rng: np.random.Generator) -> np.ndarray:
    """Arrival times for copies in send order with ``raw`` = send + latency: in order copies
    arrive no earlier than those sent before them; a reordered one one latency after the next
    in-order copy sent after it (or after its own, if none follows)."""
    arrive = raw.copy()
    in_order = np.flatnonzero(~reordered)
    arrive[in_order] = in_stream_order(raw[in_order])
    late = np.flatnonzero(reordered)
    nxt = np.searchsorted(in_order, late, side="right")
    behind = nxt < len(in_order)
    arrive[late[behind]] = np.maximum(raw[late[behind]], arrive[in_order[nxt[behind]]])
    arrive[late] += latency(network, rng.standard_normal(len(late)))
    return arrive


def flip_byte(frame: bytes, u: float, mask: int) -> bytes:
    """``frame`` (delimiters included) with one COBS data byte, picked by ``u`` in [0, 1), XORed
    with ``mask`` in 1..254 (shifted past the byte's own value, so it never becomes 0x00).
    A run with no data byte (only COBS codes: no frame, just noise) comes back as it was."""
    data: list[int] = []
    pos = 1
    while pos < len(frame) - 1:
        code = frame[pos]
        data.extend(range(pos + 1, min(pos + code, len(frame) - 1)))
        pos += code
    if not data:
        return frame
    at = data[int(u * len(data))]
    byte = frame[at]
    flipped = byte ^ (mask + (mask >= byte))
    return frame[:at] + bytes((flipped,)) + frame[at + 1 :]
