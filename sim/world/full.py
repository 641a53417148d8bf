"""Full fidelity for RF curfew subjects: every beacon, every byte, through the real stubs.

(``sim.world.full_tags`` does the same for GPS and alcohol tags, on the pieces here.)

The fleet (``sim.world.channel``, ``sim.world.devices``, ``sim.links.network``)
draws what the centre would see without stepping a single beacon. This module
is what it must agree with: for a few dozen subjects at home, SimPy drives
the real ``RfTag`` and ``BaseUnit`` stubs and the centre's real ``Receiver``,
and every byte between them crosses a modelled medium:

- radio, tag to unit: each beacon frame is heard or lost by the Gilbert-Elliott
  chain (``sim.world.gilbert_elliott.Chain``) stepped once per beacon, started
  in its stationary distribution at fitting. While the subject is away the tag is out of range
  and every beacon is lost; the chain keeps stepping, so on coming home it is
  still in its stationary distribution, as the fleet sampler assumes. The
  unit's ack to a tamper beacon goes straight back: the tag is in range of the
  unit that has just heard it.
- the mobile network, unit to centre and back: ``sim.links.network.Network``,
  the per-frame form of the fleet's network model. The centre's acks cross
  the same kind of network back, so a lost frame or a lost ack makes the real
  ``ReliableUplink`` resend.

Each device has a SimPy process that sleeps until the stub's
``next_deadline()`` and ticks it; bytes arriving over the network are SimPy
timeouts whose callback feeds the stub and wakes its process if the stub now
needs a tick sooner. Each subject's tag, channel and links draw from their own
streams (``Streams(seed).rng(FULL_FIDELITY, subject, use)``), so adding a
subject changes no one else's run.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from enum import IntEnum

import numpy as np
import simpy

from firmware_stubs.base_unit import RADIO, BaseUnit
from firmware_stubs.device import UPLINK, Device
from firmware_stubs.params import DeviceParams
from firmware_stubs.protocol import (
    DELIMITER,
    Ack,
    Config,
    CurfewWindow,
    Frame,
    TagFlags,
    decode_frame,
    encode_frame,
)
from firmware_stubs.rf_tag import RfTag
from sim.centre.receiver import Receiver
from sim.links.network import Network
from sim.detector.cases import Case, CaseBook, Curfew, DeviceKind, FittedDevice
from sim.detector.telemetry import Kind, Telemetry
from sim.scenario import NetworkParams, RfChannel
from sim.world.gilbert_elliott import Chain
from sim.intervals import EMPTY, complement
from sim.world.population import Slot, device_id
from sim.world.streams import Streams

# The first key of every full-fidelity stream: clear of ``sim.world.streams.Branch`` (0-2),
# so a full-fidelity run and a fleet run from the same seed never share a stream.
FULL_FIDELITY = 10
# Draws taken from a stream at a time (a numerical setting, not a domain figure).
_DRAW_BATCH = 4096


class FullUse(IntEnum):
    """The stream under a subject: which part of its run draws from it."""

    TAG = 0  # the tag's own beacon intervals
    CHANNEL = 1
    UPLINK = 2  # device to centre
    DOWNLINK = 3  # centre to device
    GNSS = 4  # a GPS tag's module: its errors
    SENSOR = 5  # an alcohol tag's skin: which episodes it detects, reading noise, skin temperature
    GNSS_SKY = 6  # whether a GPS tag indoors sees the sky, apart from the module's own draws


@dataclass(frozen=True)
class RfSubject:
    """An RF curfew subject at home for the whole run but for ``away``, with a strap severed
    (the tag's STRAP_SEVERED condition) during ``strap_cut``. Both are (n, 2) sorted, disjoint
    [start, end) intervals."""

    index: int
    curfew: Curfew
    away: np.ndarray = field(default_factory=EMPTY.copy)
    strap_cut: np.ndarray = field(default_factory=EMPTY.copy)

    @property
    def unit_id(self) -> int:
        return device_id(self.index, Slot.BASE_UNIT)

    @property
    def tag_id(self) -> int:
        return device_id(self.index, Slot.RF_TAG)

    def at_home(self, end: float) -> np.ndarray:
        """The (n, 2) intervals in [0, end) when the tag is in range of its unit."""
        return complement(self.away, 0.0, end)

    def case(self) -> Case:
        devices = (FittedDevice(self.unit_id, DeviceKind.BASE_UNIT, 0.0), FittedDevice(self.tag_id, DeviceKind.RF_TAG, 0.0))
        return Case(self.index, devices, (self.curfew,))


@dataclass
class SubjectRun:
    """What one subject's devices did and what the centre made of it.

    Event lists are the centre's records, one per frame however many copies
    arrived, in event time order.
    """

    subject: int
    leaves: np.ndarray  # TAG_LEAVE event times
    returns: np.ndarray  # TAG_RETURN event times
    strap_tampers: np.ndarray  # STRAP_TAMPER event times
    tampers_cleared: np.ndarray  # TAMPER_CLEARED event times
    frames: list[bytes]  # every stored frame the unit sent, first copy, in queue order
    first_sent: np.ndarray  # when each of ``frames`` first went out
    copies: np.ndarray  # how many times each of ``frames`` went out, resends included
    lost_up: int  # copies the network lost on the way to the centre
    lost_down: int  # ack copies lost on the way back
    beacons: int  # beacons the tag sent
    beacons_heard: int  # beacons the unit heard
    records: list[Telemetry]  # everything the receiver produced for this subject, in receive order

    @property
    def sent(self) -> int:
        """Copies the unit put on the network, resends included."""
        return int(self.copies.sum())


@dataclass
class FullRun:
    subjects: list[SubjectRun]
    receiver: Receiver


def run(subjects: Sequence[RfSubject], end: float, devices: DeviceParams, channel: RfChannel, network: NetworkParams,
        seed: int) -> FullRun:
    """Run ``subjects`` from their fitting at 0 to ``end`` at full fidelity: every unit's
    frames go to the centre over a mobile network with the parameters ``network``, and the
    centre's acks come back over another like it."""
    env = simpy.Environment()
    receiver = Receiver(CaseBook(s.case() for s in subjects))
    streams = Streams(seed)
    homes = [_Home(env, s, devices, channel, network, receiver, streams) for s in subjects]
    env.run(until=end)
    return FullRun([home.result() for home in homes], receiver)


class Draws:
    """A stream's uniforms and normals taken a batch at a time: per-beacon numpy calls cost more than the beacon."""

    def __init__(self, rng: np.random.Generator) -> None:
        self._rng = rng
        self._uniform: Iterator[float] = iter(())
        self._normal: Iterator[float] = iter(())

    def uniform(self) -> float:
        u = next(self._uniform, None)
        if u is None:
            self._uniform = iter(self._rng.random(_DRAW_BATCH).tolist())
            u = next(self._uniform)
        return u

    def normal(self) -> float:
        z = next(self._normal, None)
        if z is None:
            self._normal = iter(self._rng.standard_normal(_DRAW_BATCH).tolist())
            z = next(self._normal)
        return z


class _Radio:
    """The Gilbert-Elliott chain between one tag and its unit, stepped once per beacon, away or not."""

    def __init__(self, channel: RfChannel, away: np.ndarray, draws: Draws) -> None:
        self.chain = Chain(channel, draws.uniform)
        self.away = away.tolist()
        self._next_away = 0

    def heard(self, now: float) -> bool:
        while self._next_away < len(self.away) and self.away[self._next_away][1] <= now:
            self._next_away += 1
        return self.chain.step(in_range=not (self._next_away < len(self.away) and self.away[self._next_away][0] <= now))


class Driver:
    """A device's SimPy process: sleep until the stub's next deadline, tick, route its output.

    With ``prepare``, it is called ``lead_s`` before each deadline (or at once, if that has
    passed): a peripheral that must have spoken by the deadline (a GNSS module's sentence
    before a fix) speaks then."""

    def __init__(self, env: simpy.Environment, device: Device, route: Callable[[], None],
                 prepare: Callable[[float], None] | None = None, lead_s: float = 0.0) -> None:
        self.env = env
        self.device = device
        self.route = route
        self.prepare = prepare
        self.lead_s = lead_s
        self._wake_at = -math.inf
        self._process = env.process(self._loop())

    def poke(self) -> None:
        """The stub was fed from outside: wake early if it now needs a tick before the planned one
        (a running process plans again anyway once it has routed, so it is left alone)."""
        if self._process is not self.env.active_process and self.device.next_deadline() < self._wake_at:
            self._wake_at = self.env.now  # one interrupt is enough until it has run
            self._process.interrupt()

    def _loop(self) -> simpy.events.ProcessGenerator:
        while True:
            self.device.tick(self.env.now)
            self.route()
            self._wake_at = self.device.next_deadline()
            try:
                if self.prepare is not None and self._wake_at < math.inf:
                    early = self._wake_at - self.lead_s
                    if early > self.env.now:
                        yield self.env.timeout(early - self.env.now)
                    self.prepare(self.env.now)
                yield self.env.timeout(self._wake_at - self.env.now) if self._wake_at < math.inf else self.env.event()
            except simpy.Interrupt:
                pass


class _Home:
    """One subject: tag, unit, the radio between them and the network to the centre."""

    def __init__(self, env: simpy.Environment, subject: RfSubject, devices: DeviceParams, channel: RfChannel,
                 network: NetworkParams, receiver: Receiver, streams: Streams) -> None:
        def stream(use: FullUse) -> np.random.Generator:
            return streams.rng(FULL_FIDELITY, subject.index, use)

        self.env = env
        self.subject = subject
        self.receiver = receiver
        self.records: list[Telemetry] = []
        self.tag = RfTag(subject.tag_id, 0.0, devices.rf_tag, devices.uplink_for(RfTag.KIND), stream(FullUse.TAG))
        self.unit = BaseUnit(subject.unit_id, 0.0, devices.base_unit, devices.uplink_for(BaseUnit.KIND), subject.tag_id)
        self.radio = _Radio(channel, subject.away, Draws(stream(FullUse.CHANNEL)))
        self.up = Network(env, network, Draws(stream(FullUse.UPLINK)), self._at_centre)
        self.down = Network(env, network, Draws(stream(FullUse.DOWNLINK)), self._at_unit)
        self.beacons = self.beacons_heard = 0
        self._first_copy: dict[int, tuple[float, bytes]] = {}  # seq -> (first sent, bytes), in queue order
        self._copies: dict[int, int] = {}  # seq -> copies sent, in the same order
        # The fitter sets the curfew at the installation visit, on the unit's own port: the
        # centre's receiver sends no commands. The unit's ack to it goes up like any frame.
        window = CurfewWindow(subject.curfew.days, subject.curfew.start_s, subject.curfew.duration_s)
        self.unit.receive(0.0, encode_frame(Frame(subject.unit_id, 0, 0, Config(curfews=(window,)))), UPLINK)
        self.tag_driver = Driver(env, self.tag, self._route_tag)
        self.unit_driver = Driver(env, self.unit, self._route_unit)
        for start, stop in subject.strap_cut.tolist():
            env.process(self._strap(start, stop))

    def result(self) -> SubjectRun:
        def times(kind: Kind) -> np.ndarray:
            seen = {r.seq: r.event_time for r in self.records if r.kind is kind}
            return np.sort(np.fromiter(seen.values(), float, len(seen)))

        return SubjectRun(
            subject=self.subject.index,
            leaves=times(Kind.TAG_LEAVE),
            returns=times(Kind.TAG_RETURN),
            strap_tampers=times(Kind.STRAP_TAMPER),
            tampers_cleared=times(Kind.TAMPER_CLEARED),
            frames=[frame for _, frame in self._first_copy.values()],
            first_sent=np.array([at for at, _ in self._first_copy.values()], dtype=float),
            copies=np.fromiter(self._copies.values(), int, len(self._copies)),
            lost_up=self.up.lost,
            lost_down=self.down.lost,
            beacons=self.beacons,
            beacons_heard=self.beacons_heard,
            records=self.records,
        )

    # --- the world's stimulus ---------------------------------------------------------------

    def _strap(self, start: float, stop: float) -> simpy.events.ProcessGenerator:
        for at, present in ((start, True), (stop, False)):
            yield self.env.timeout(at - self.env.now)
            self.tag.set_condition(self.env.now, TagFlags.STRAP_SEVERED, present)
            self._route_tag()
            self.tag_driver.poke()

    # --- bytes between the machines ----------------------------------------------------------

    def _route_tag(self) -> None:
        for beacon in split_frames(self.tag.drain(UPLINK)):
            self.beacons += 1
            if self.radio.heard(self.env.now):
                self.beacons_heard += 1
                self.unit.receive(self.env.now, beacon, RADIO)
                self._route_unit()
                self.unit_driver.poke()

    def _route_unit(self) -> None:
        radio = self.unit.drain(RADIO)
        if radio:
            self.tag.receive(self.env.now, radio, UPLINK)
            self._route_tag()
        for frame in split_frames(self.unit.drain(UPLINK)):
            decoded = decode_frame(frame[1:-1])
            if not isinstance(decoded.message, Ack):  # its answer to the fitter's CONFIG is not stored
                self._first_copy.setdefault(decoded.seq, (self.env.now, frame))
                self._copies[decoded.seq] = self._copies.get(decoded.seq, 0) + 1
            self.up.send(frame)

    def _at_centre(self, frame: bytes) -> None:
        self.records.extend(self.receiver.receive(self.subject.unit_id, frame, self.env.now))
        for ack in split_frames(self.receiver.take_acks(self.subject.unit_id)):
            self.down.send(ack)

    def _at_unit(self, frame: bytes) -> None:
        self.unit.receive(self.env.now, frame, UPLINK)
        self._route_unit()
        self.unit_driver.poke()


def split_frames(data: bytes) -> list[bytes]:
    """Drained bytes cut into whole frames, each with its delimiters: the unit a medium loses."""
    return [DELIMITER + part + DELIMITER for part in data.split(DELIMITER) if part]
