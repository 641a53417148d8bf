"""Timeline tests for the alcohol tag, in virtual time: what goes up, and when."""

from __future__ import annotations

from dataclasses import dataclass, field, replace

import numpy as np
import pytest

from firmware_stubs.alcohol_tag import AlcoholTag, Sensor, SkinSample, standalone
from firmware_stubs.device import DeviceClock
from firmware_stubs.kinds import build_standalone
from firmware_stubs.protocol import (
    Ack,
    AlcoholFlags,
    AlcoholReading,
    Config,
    ConfigParam,
    Frame,
    StreamDecoder,
    encode_frame,
)
from sim.scenario import default_device_params

DEVICE_ID = 4242
DAY = 86400.0
DEFAULTS = default_device_params()
# The figures these timelines are written against, whatever the seeds say today.
PARAMS = replace(
    DEFAULTS,
    uplink=replace(DEFAULTS.uplink, queue_capacity=2500, window=8, retransmit_timeout_s=30.0, max_backoff_s=200.0),
    alcohol_tag=replace(
        DEFAULTS.alcohol_tag,
        reading_interval_s=1800.0,
        upload_interval_s=DAY,
        tac_threshold_mg_dl=20,
        battery_replace_days=90.0,
        skin_temp_min_c=28.0,
        skin_temp_max_c=40.0,
    ),
)
SKIN_C = 33.0
NONE = AlcoholFlags.NONE


def sober(at: float) -> SkinSample:
    return SkinSample(0.0, SKIN_C)


def sober_except(samples: dict[float, SkinSample]) -> Sensor:
    """A sober wearer, except at the reading times given."""
    return lambda at: samples.get(at, sober(at))


def make_tag(sensor: Sensor = sober, clock: DeviceClock | None = None, **changes: float) -> AlcoholTag:
    return AlcoholTag(DEVICE_ID, 0.0, replace(PARAMS.alcohol_tag, **changes), PARAMS.uplink, sensor, clock)


@dataclass
class Centre:
    """The far end of the uplink: drives the tag, decodes what it sends and when, acks if asked."""

    tag: AlcoholTag
    acking: bool = True
    received: list[tuple[float, Frame]] = field(default_factory=list)
    decoder: StreamDecoder = field(default_factory=StreamDecoder)

    def run(self, until: float) -> None:
        """Tick the tag at every deadline it names, up to and including ``until``."""
        while (t := self.tag.next_deadline()) <= until:
            self.tag.tick(t)
            self.collect(t)
        self.tag.tick(until)
        self.collect(until)

    def collect(self, t: float) -> None:
        while True:
            frames = self.decoder.feed(self.tag.drain())
            self.received += [(t, frame) for frame in frames]
            readings = [frame for frame in frames if isinstance(frame.message, AlcoholReading)]
            if not (self.acking and readings):
                return
            self.ack(t, readings[-1].seq)  # may release the next window, hence the loop

    def ack(self, t: float, seq: int) -> None:
        self.tag.receive(t, encode_frame(Frame(DEVICE_ID, 0, 0, Ack(seq))))

    def send_config(self, t: float, seq: int, params: dict[ConfigParam, int]) -> None:
        self.tag.receive(t, encode_frame(Frame(DEVICE_ID, seq, 0, Config(params))))
        self.collect(t)

    def readings(self) -> list[tuple[float, int, float]]:
        """(received at, seq, event time in s) of every reading frame, in arrival order."""
        return [
            (t, f.seq, f.event_time_ms / 1000) for t, f in self.received if isinstance(f.message, AlcoholReading)
        ]

    def messages(self) -> list[AlcoholReading]:
        return [f.message for _, f in self.received if isinstance(f.message, AlcoholReading)]


def uploaded(at: float, first_seq: int, event_times: list[float]) -> list[tuple[float, int, float]]:
    return [(at, first_seq + i, e) for i, e in enumerate(event_times)]


def every(start: float, stop: float, step: float = 1800.0) -> list[float]:
    """``start`` to ``stop`` inclusive."""
    return [start + i * step for i in range(round((stop - start) / step) + 1)]


# --- cadence and the daily upload ---------------------------------------------


def test_readings_every_interval_wait_for_the_daily_upload() -> None:
    centre = Centre(make_tag())
    centre.run(DAY - 1)
    assert centre.received == []
    assert centre.tag.readings_taken == 47
    centre.run(DAY)
    # The reading due at the upload instant goes up with it.
    assert centre.readings() == uploaded(DAY, 0, every(1800, DAY))
    assert all(m == AlcoholReading(0, 3300, NONE) for m in centre.messages())
    assert len(centre.tag.queue) == 0


def test_daily_upload_repeats_with_the_next_days_readings() -> None:
    centre = Centre(make_tag())
    centre.run(DAY)
    del centre.received[:]
    centre.run(2 * DAY - 1)
    assert centre.received == []
    centre.run(2 * DAY)
    assert centre.readings() == uploaded(2 * DAY, 48, every(DAY + 1800, 2 * DAY))


def test_reading_at_the_upload_instant_goes_up_even_when_nothing_else_waits() -> None:
    centre = Centre(make_tag(sober_except({DAY - 1800: SkinSample(20.0, SKIN_C)})))
    centre.run(DAY)
    assert centre.readings()[-2:] == [(DAY - 1800, 46, DAY - 1800), (DAY, 47, DAY)]


def test_late_tick_samples_and_stamps_each_reading_at_its_scheduled_time() -> None:
    asked: list[float] = []

    def sensor(at: float) -> SkinSample:
        asked.append(at)
        return SkinSample(0.0, SKIN_C)

    # The device clock runs 1000 s ahead of the driver's: event times are the device's.
    centre = Centre(make_tag(sensor, clock=DeviceClock(offset_s=1000.0)))
    centre.tag.tick(5000.0)
    assert asked == [1800.0, 3600.0]
    centre.run(DAY)
    assert centre.readings()[:3] == [(DAY, 0, 2800.0), (DAY, 1, 4600.0), (DAY, 2, 6400.0)]


@pytest.mark.parametrize(
    ("sample", "expected"),
    [
        (SkinSample(3.4, 33.456), AlcoholReading(3, 3346, NONE)),
        (SkinSample(3.6, 32.004), AlcoholReading(4, 3200, NONE)),
        (SkinSample(-3.0, 33.0), AlcoholReading(0, 3300, NONE)),  # noise below zero
    ],
)
def test_reading_quantised_to_wire_units(sample: SkinSample, expected: AlcoholReading) -> None:
    centre = Centre(make_tag(lambda at: sample))
    centre.run(DAY)
    assert centre.messages()[0] == expected


# --- sending at once --------------------------------------------------------------


@pytest.mark.parametrize(
    ("sample", "flags"),
    [
        (SkinSample(20.0, SKIN_C), NONE),
        (SkinSample(0.0, SKIN_C, ir_obstructed=True), AlcoholFlags.IR_OBSTRUCTION),
    ],
    ids=["positive", "ir-obstruction"],
)
def test_violation_sends_at_once_with_the_earlier_readings_in_order(sample: SkinSample, flags: AlcoholFlags) -> None:
    centre = Centre(make_tag(sober_except({5400: sample})))
    centre.run(DAY - 1)
    assert centre.readings() == uploaded(5400, 0, [1800, 3600, 5400])
    assert centre.messages()[-1] == AlcoholReading(round(sample.tac_mg_dl), 3300, flags)
    # What follows waits for the daily upload again.
    centre.run(DAY)
    assert centre.readings()[3:] == uploaded(DAY, 3, every(7200, DAY))


@pytest.mark.parametrize(("tac", "sent_at"), [(19.0, DAY), (20.0, 1800.0)], ids=["one-below", "at-threshold"])
def test_threshold_edge(tac: float, sent_at: float) -> None:
    centre = Centre(make_tag(sober_except({1800: SkinSample(tac, SKIN_C)})))
    centre.run(DAY)
    assert centre.readings()[0] == (sent_at, 0, 1800.0)
    assert centre.messages()[0].tac_mg_dl == tac


@pytest.mark.parametrize(
    ("skin_c", "tamper"),
    [(27.99, True), (28.0, False), (40.0, False), (40.01, True)],
)
def test_temperature_tamper_outside_body_range_sends_at_once(skin_c: float, tamper: bool) -> None:
    centre = Centre(make_tag(sober_except({3600: SkinSample(0.0, skin_c)})))
    centre.run(DAY)
    t, seq, event = centre.readings()[1]
    assert (t, seq, event) == ((3600.0, 1, 3600.0) if tamper else (DAY, 1, 3600.0))
    flags = AlcoholFlags.TEMPERATURE_TAMPER if tamper else NONE
    assert centre.messages()[1] == AlcoholReading(0, round(skin_c * 100), flags)


def test_battery_low_flag_from_the_replacement_age_waits_for_the_daily_upload() -> None:
    centre = Centre(make_tag(battery_replace_days=0.5))
    centre.run(DAY)
    assert centre.readings() == uploaded(DAY, 0, every(1800, DAY))
    flags = [m.flags for m in centre.messages()]
    assert flags == [NONE] * 23 + [AlcoholFlags.BATTERY_LOW] * 25  # from 43200 s on


# --- out of range -------------------------------------------------------------------


def test_out_of_range_holds_every_upload_and_loses_nothing() -> None:
    sensor = sober_except(
        {
            174600: SkinSample(45.0, SKIN_C),  # drinking on day 3
            262800: SkinSample(0.0, SKIN_C, ir_obstructed=True),  # foil on day 4
        }
    )
    centre = Centre(make_tag(sensor))
    centre.tag.set_in_range(100.0, False)
    centre.run(10 * DAY)
    assert centre.received == []
    back = 10 * DAY + 900
    centre.tag.set_in_range(back, True)
    centre.collect(back)
    assert centre.readings() == uploaded(back, 0, every(1800, 10 * DAY))
    assert centre.messages()[96] == AlcoholReading(45, 3300, NONE)
    assert centre.messages()[145] == AlcoholReading(0, 3300, AlcoholFlags.IR_OBSTRUCTION)
    assert centre.tag.queue.dropped == 0
    assert len(centre.tag.queue) == 0
    # Back on the daily schedule.
    centre.run(11 * DAY)
    assert centre.readings()[480:] == uploaded(11 * DAY, 480, every(10 * DAY + 1800, 11 * DAY))


def test_return_with_no_upload_due_sends_nothing() -> None:
    centre = Centre(make_tag())
    centre.tag.set_in_range(1000.0, False)
    centre.tag.set_in_range(5000.0, True)
    centre.collect(5000.0)
    centre.run(DAY - 1)
    assert centre.received == []


# --- the link ---------------------------------------------------------------------------


def test_retransmits_with_backoff_until_acked() -> None:
    centre = Centre(make_tag(sober_except({1800: SkinSample(30.0, SKIN_C)})), acking=False)
    centre.run(3000.0)
    # Timeout 30 s, doubling, capped at 200 s.
    assert [t for t, _, _ in centre.readings()] == [1800, 1830, 1890, 2010, 2210, 2410, 2610, 2810]
    assert {frame for _, frame in centre.received} == {centre.received[0][1]}
    centre.ack(3000.0, 0)
    centre.run(DAY - 1)
    assert len(centre.readings()) == 8
    assert centre.tag.queue.retransmissions == 7


def test_config_changes_cadence_upload_interval_and_threshold() -> None:
    # 30 mg/dl is positive by default; under the new threshold of 50 only 4300 s is.
    def drinking(at: float) -> SkinSample:
        return SkinSample(50.0 if at == 4300.0 else 30.0, SKIN_C)

    centre = Centre(make_tag(drinking))
    centre.send_config(
        100.0,
        7,
        {
            ConfigParam.READING_INTERVAL_MS: 600_000,
            ConfigParam.UPLOAD_INTERVAL_MS: 3_600_000,
            ConfigParam.TAC_THRESHOLD_MG_DL: 50,
        },
    )
    assert [(t, f.message) for t, f in centre.received] == [(100.0, Ack(7))]
    assert centre.tag.commands_applied == 1
    del centre.received[:]
    centre.run(4300.0)
    assert centre.readings() == uploaded(3700.0, 0, every(700, 3700, 600)) + [(4300.0, 6, 4300.0)]


# --- on the bench --------------------------------------------------------------------------


def test_standalone_is_a_sober_wearer_at_the_bench_skin_temperature() -> None:
    params = DEFAULTS.alcohol_tag
    tag = build_standalone("alcohol-tag", DEVICE_ID, 0.0, DEFAULTS, np.random.default_rng(1))
    assert isinstance(tag, AlcoholTag)
    centre = Centre(tag)
    centre.run(params.upload_interval_s)
    messages = centre.messages()
    assert len(messages) == params.upload_interval_s // params.reading_interval_s
    assert {(m.tac_mg_dl, m.flags) for m in messages} == {(0, NONE)}
    temps = np.array([m.skin_temp_centi_c for m in messages]) / 100
    assert np.all(np.abs(temps - params.bench_skin_temp_c) <= 5 * params.bench_skin_temp_sd_c)
    assert len(set(temps)) > 1  # noise, not a constant


def test_standalone_is_reproducible_from_its_rng() -> None:
    def temps(seed: int) -> list[int]:
        centre = Centre(standalone(DEVICE_ID, 0.0, DEFAULTS, np.random.default_rng(seed)))
        centre.run(DEFAULTS.alcohol_tag.upload_interval_s)
        return [m.skin_temp_centi_c for m in centre.messages()]

    assert temps(3) == temps(3) != temps(4)
