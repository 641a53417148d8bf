"""Full fidelity for GPS and alcohol tags: every fix batch and reading, through the real stubs.

What ``sim.world.full`` does for RF subjects, for the two tags that talk to the
centre themselves. A subject's life is the fleet's (``sim.world.fleet.live_out``:
the same routine stream, track, home intervals and evenings on the charger),
and SimPy drives the real stubs through it:

- GPS tag: the real ``GpsTag``, configured at fitting with the case's zones and
  curfew, fed NMEA by the real ``GnssModule`` along the subject's true track.
  The module is powered for one sentence a module output interval before each
  of the tag's deadlines, as a duty-cycled receiver is: the tag reads a fix at
  most that old, as it would from one speaking every second, without rendering
  and parsing 86,400 sentences a day. Out of doors the module sees the sky with
  the supplier's outdoor CEP90; at home, indoors, it gets a fix on a share of
  tries (the supplier's ``indoor_fix_share``) with the indoor CEP90, else, on
  a share of the rest (``indoor_fallback_share``), a cellular location spoken
  as a fix with the fallback's CEP90, else none: the fleet's ``gps_fixes`` model. The charger goes on and off over the fleet's
  charging intervals and the strap opens over the subject's removals, so the
  battery runs down, goes flat and revives by the stub's own arithmetic.
- alcohol tag: the real ``AlcoholTag``, whose sensor reads the TAC of the
  episodes it detects (the supplier's share by peak, as the fleet draws it)
  plus noise, and a skin temperature; it is in range of its base station while
  the subject is at home. A frame sent out of range is lost without reaching
  any network. The stub has no strap sensor: a strap removal reaches it only
  as what its sensors read, and they read the skin as if it were worn.

Every frame goes over the same lossy, in-order network model as the RF full
fidelity (``sim.links.network.Network``) to the centre's real ``Receiver``, and
its acks come back over another. Each subject's streams are
``Streams(seed).rng(FULL_FIDELITY, subject, use)``; the life comes from the
subject's own routine stream under the same seed, exactly as the fleet's does.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace

import numpy as np
import simpy

from firmware_stubs.alcohol_tag import AlcoholTag, SkinSample
from firmware_stubs.device import UPLINK, Device
from firmware_stubs.gnss import NMEA, GnssModule, GnssTruth
from firmware_stubs.gps_tag import GNSS, GpsTag
from firmware_stubs.params import DeviceParams
from firmware_stubs.protocol import Config, CurfewWindow, Frame, Zone, ZoneKind, encode_frame
from sim.centre.receiver import Receiver
from sim.detector.cases import CaseBook
from sim.detector.telemetry import Telemetry
from sim.links.network import Network
from sim.scenario import Scenario, Supplier
from sim.world.alcohol import DEFAULT_NOISE_SD_MG_DL, Episode, tac
from sim.world.draws import DAY_S
from sim.world.fleet import Lived, live_out
from sim.world.full import FULL_FIDELITY, Draws, Driver, FullUse, split_frames
from sim.intervals import clip
from sim.world.population import Slot, Subject, case_of
from sim.world.streams import Streams
from sim.world.track import to_lat_lon


@dataclass
class TagRun:
    """What one subject's tag did and what the centre made of it."""

    subject: int
    device: int
    lived: Lived
    records: list[Telemetry]  # everything the receiver produced for this tag, in receive order
    sent: int  # copies the tag put on the network, resends included
    lost_up: int  # copies the network lost on the way to the centre
    lost_down: int  # ack copies lost on the way back
    unreachable: int  # copies sent out of reach of the network (an alcohol tag away from its base station)
    detected: np.ndarray | None = None  # an alcohol tag's sensor: whether it sees each episode of ``lived.life.drinking``


@dataclass
class TagsRun:
    tags: list[TagRun]
    receiver: Receiver


def run(subjects: Sequence[Subject], scenario: Scenario, supplier: Supplier, until: float) -> TagsRun:
    """Run the GPS and alcohol tags of ``subjects`` from fitting at 0 to ``until`` (which may
    run past the scenario's days, so what was sent before its end arrives), every frame over
    ``scenario.network`` (its loss and latency; full fidelity neither duplicates, reorders nor
    corrupts) and every ack back over another like it. Subjects' lives are the fleet's, from
    ``scenario.seed``."""
    env = simpy.Environment()
    receiver = Receiver(CaseBook(case_of(s, scenario, supplier.devices) for s in subjects))
    streams = Streams(scenario.seed)
    wearers: list[_Wearer] = []
    for subject in subjects:
        lived = live_out(subject, scenario, supplier, streams)
        if subject.wears(Slot.GPS_TAG):
            wearers.append(_GpsWearer(env, subject, lived, scenario, supplier, receiver, streams))
        if subject.wears(Slot.ALCOHOL_TAG):
            wearers.append(_AlcoholWearer(env, subject, lived, scenario, supplier, receiver, streams))
    env.run(until=until)
    return TagsRun([w.result() for w in wearers], receiver)


class _Wearer:
    """One tag and the network between it and the centre."""

    def __init__(self, env: simpy.Environment, subject: Subject, lived: Lived, scenario: Scenario, receiver: Receiver,
                 streams: Streams, device: Device) -> None:
        self.env = env
        self.subject = subject
        self.lived = lived
        self.receiver = receiver
        self.device = device
        self.records: list[Telemetry] = []
        self.sent = self.unreachable = 0
        self.up = Network(env, scenario.network, Draws(self.stream(streams, FullUse.UPLINK)), self._at_centre)
        self.down = Network(env, scenario.network, Draws(self.stream(streams, FullUse.DOWNLINK)), self._at_device)
        self.driver: Driver | None = None
        self.detected: np.ndarray | None = None

    def stream(self, streams: Streams, use: FullUse) -> np.random.Generator:
        # Under the device, not the subject alone: a subject wearing both tags gives each its own.
        return streams.rng(FULL_FIDELITY, self.subject.index, use, self.device.device_id)

    def result(self) -> TagRun:
        return TagRun(self.subject.index, self.device.device_id, self.lived, self.records, self.sent, self.up.lost,
                      self.down.lost, self.unreachable, self.detected)

    def reachable(self) -> bool:
        """Whether a frame sent now reaches the network."""
        return True

    def at(self, edges: Sequence[tuple[float, bool]], act: Callable[[float, bool], None]) -> None:
        """Do ``act(t, on)`` at each of ``edges`` (in time order), then route what the tag has to send."""
        def process() -> simpy.events.ProcessGenerator:
            for t, on in edges:
                yield self.env.timeout(t - self.env.now)
                act(self.env.now, on)
                self.route()
                assert self.driver is not None
                self.driver.poke()

        self.env.process(process())

    def route(self) -> None:
        for frame in split_frames(self.device.drain(UPLINK)):
            self.sent += 1
            if self.reachable():
                self.up.send(frame)
            else:
                self.unreachable += 1

    def _at_centre(self, frame: bytes) -> None:
        self.records.extend(self.receiver.receive(self.device.device_id, frame, self.env.now))
        for ack in split_frames(self.receiver.take_acks(self.device.device_id)):
            self.down.send(ack)

    def _at_device(self, frame: bytes) -> None:
        self.device.receive(self.env.now, frame, UPLINK)
        self.route()
        assert self.driver is not None
        self.driver.poke()


def _edges(spans: np.ndarray) -> list[tuple[float, bool]]:
    """Each interval's start (True) and end (False), in time order."""
    return sorted([(float(a), True) for a, _ in spans] + [(float(b), False) for _, b in spans])


class _GpsWearer(_Wearer):
    def __init__(self, env: simpy.Environment, subject: Subject, lived: Lived, scenario: Scenario, supplier: Supplier,
                 receiver: Receiver, streams: Streams) -> None:
        params = supplier.devices
        tag = GpsTag(subject.device(Slot.GPS_TAG), 0.0, params.gps_tag, params.uplink_for(GpsTag.KIND))
        super().__init__(env, subject, lived, scenario, receiver, streams, tag)
        self.tag = tag
        self.scenario = scenario
        self.gnss_params = params.gnss
        self.accuracy = supplier.gps
        self.gnss_rng = self.stream(streams, FullUse.GNSS)
        self.sky = Draws(self.stream(streams, FullUse.GNSS_SKY))
        # The fitter loads the case's zones and curfew at the installation visit, on the tag's own
        # port; its ack goes up like any frame.
        config = Config(curfews=self._curfews(), zones=self._zones(params))
        tag.receive(0.0, encode_frame(Frame(tag.device_id, 0, 0, config)), UPLINK)
        self.driver = Driver(env, tag, self.route, prepare=self._speak, lead_s=params.gnss.output_interval_s)
        self.at(_edges(lived.charging), tag.set_charging)
        # A strap removal is the first-worn tag's, as the fleet has it: an RF tag's, if worn.
        if not subject.wears(Slot.RF_TAG):
            self.at(_edges(clip(lived.life.removals, 0.0, scenario.days * DAY_S)), tag.set_strap)

    def _zones(self, params: DeviceParams) -> tuple[Zone, ...]:
        """The case's zones as CONFIG carries them: degrees e7, whole metres."""
        case = case_of(self.subject, self.scenario, params)
        return tuple(Zone(z.zone_id, ZoneKind.INCLUSION if z.inclusion else ZoneKind.EXCLUSION, round(z.lat * 1e7),
                          round(z.lon * 1e7), round(z.radius_m)) for z in case.zones)

    def _curfews(self) -> tuple[CurfewWindow, ...]:
        c = self.subject.curfew
        return () if c is None else (CurfewWindow(c.days, c.start_s, c.duration_s),)

    def _speak(self, now: float) -> None:
        """The module, powered for one sentence, speaks at ``now`` of where the wearer is."""
        indoors = bool(self.lived.track.at_home(np.array([now]))[0])
        x, y = self.lived.track.position(np.array([now]))
        lat, lon = to_lat_lon(x, y, self.scenario.town.lat, self.scenario.town.lon)
        sky = not indoors or self.sky.uniform() < self.accuracy.indoor_fix_share
        # No satellites indoors: now and then a cellular location, spoken as a poor fix.
        fallback = not sky and self.sky.uniform() < self.accuracy.indoor_fallback_share
        cep90 = self.accuracy.indoor_cep90_m if indoors else self.accuracy.outdoor_cep90_m
        truth = GnssTruth(float(lat[0]), float(lon[0]), sky or fallback)
        module = GnssModule(now - self.gnss_params.output_interval_s,
                            replace(self.gnss_params, cep90_m=self.accuracy.fallback_cep90_m if fallback else cep90),
                            lambda _: truth, self.gnss_rng)
        module.tick(now)
        self.tag.receive(now, module.drain(NMEA), GNSS)
        self.route()


class _AlcoholWearer(_Wearer):
    def __init__(self, env: simpy.Environment, subject: Subject, lived: Lived, scenario: Scenario, supplier: Supplier,
                 receiver: Receiver, streams: Streams) -> None:
        params = supplier.devices
        p = params.alcohol_tag
        device_id = subject.device(Slot.ALCOHOL_TAG)
        sensor_rng = streams.rng(FULL_FIDELITY, subject.index, FullUse.SENSOR, device_id)
        drinking = lived.life.drinking
        detected = sensor_rng.random(len(drinking)) < supplier.alcohol.detection_share(drinking[:, 1])
        seen = [Episode(float(start), float(peak)) for (start, peak), d in zip(drinking.tolist(), detected.tolist(), strict=True) if d]
        noise = Draws(sensor_rng)

        def skin(at: float) -> SkinSample:
            level = float(tac(seen, np.array([at]))[0]) + DEFAULT_NOISE_SD_MG_DL * noise.normal()
            return SkinSample(max(0.0, level), p.bench_skin_temp_c + p.bench_skin_temp_sd_c * noise.normal())

        tag = AlcoholTag(device_id, 0.0, p, params.uplink_for(AlcoholTag.KIND), skin)
        super().__init__(env, subject, lived, scenario, receiver, streams, tag)
        self.detected = detected
        self.tag = tag
        self.driver = Driver(env, tag, self.route)
        self.at(_edges(lived.home), tag.set_in_range)

    def reachable(self) -> bool:
        return self.tag.in_range
