"""Transdermal alcohol tag: a reading every half hour, uploaded daily, or at once on a violation."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from firmware_stubs.device import UPLINK, Device, DeviceClock
from firmware_stubs.params import AlcoholTagParams, DeviceParams, UplinkParams
from firmware_stubs.protocol import AlcoholFlags, AlcoholReading, Config, ConfigParam

# Tampers the tag reports at once; BATTERY_LOW waits for the daily upload.
URGENT_FLAGS = AlcoholFlags.IR_OBSTRUCTION | AlcoholFlags.TEMPERATURE_TAMPER


@dataclass(frozen=True, slots=True)
class SkinSample:
    """What the sensors find at the skin at one moment (the world's truth, or a test's)."""

    tac_mg_dl: float
    skin_temp_c: float
    ir_obstructed: bool = False


Sensor = Callable[[float], SkinSample]


class AlcoholTag(Device):
    """Samples the skin every reading interval and stores each reading. Readings
    go up once a day, when the wearer passes within range of the base station;
    a positive reading or a tamper makes the tag seek the base station at once
    and send everything it holds. Out of range it keeps every reading, in order,
    and uploads as soon as it is back in range."""

    KIND = "alcohol-tag"
    PORTS = (UPLINK,)

    def __init__(
        self,
        device_id: int,
        now: float,
        params: AlcoholTagParams,
        uplink: UplinkParams,
        sensor: Sensor,
        clock: DeviceClock | None = None,
    ) -> None:
        super().__init__(device_id, now, uplink, clock)
        self.params = params
        self.sensor = sensor
        self.fitted_at = now
        self.in_range = True
        self.readings_taken = 0
        self._reading_interval = params.reading_interval_s
        self._upload_interval = params.upload_interval_s
        self._threshold = params.tac_threshold_mg_dl
        self._next_reading = now + self._reading_interval
        self._next_upload = now + self._upload_interval
        self._upload_waiting = False  # an upload fell due while out of range

    # --- stimulus from the world ---------------------------------------------

    def set_in_range(self, now: float, in_range: bool) -> None:
        """The wearer comes within range of the base station, or leaves it."""
        self.tick(now)
        self.in_range = in_range
        if in_range and self._upload_waiting:
            self._seek_base_station()
            self._pump()

    # --- Device hooks ---------------------------------------------------------

    def _advance(self, now: float) -> None:
        while min(self._next_reading, self._next_upload) <= now:
            # A reading due at the same instant as an upload goes up with it.
            if self._next_reading <= self._next_upload:
                self._take_reading(self._next_reading)
                self._next_reading += self._reading_interval
            else:
                self._seek_base_station()
                self._next_upload += self._upload_interval

    def _own_deadline(self) -> float:
        return min(self._next_reading, self._next_upload)

    def _configure(self, config: Config) -> None:
        reading = config.interval_s(ConfigParam.READING_INTERVAL_MS)
        if reading is not None:
            self._reading_interval = reading
            self._next_reading = min(self._next_reading, self.now + reading)
        upload = config.interval_s(ConfigParam.UPLOAD_INTERVAL_MS)
        if upload is not None:
            self._upload_interval = upload
            self._next_upload = min(self._next_upload, self.now + upload)
        threshold = config.params.get(ConfigParam.TAC_THRESHOLD_MG_DL)
        if threshold is not None:
            self._threshold = threshold

    # --- internals --------------------------------------------------------------

    def _take_reading(self, at: float) -> None:
        sample = self.sensor(at)
        # The wire carries whole mg/dl, unsigned: sensor noise below zero is zero.
        reading = AlcoholReading(
            max(0, round(sample.tac_mg_dl)), round(sample.skin_temp_c * 100), self._flags(sample, at)
        )
        self._queue_message(reading, at=at)
        self.readings_taken += 1
        if reading.tac_mg_dl >= self._threshold or reading.flags & URGENT_FLAGS:
            self._seek_base_station()

    def _flags(self, sample: SkinSample, at: float) -> AlcoholFlags:
        flags = AlcoholFlags.NONE
        if sample.ir_obstructed:
            flags |= AlcoholFlags.IR_OBSTRUCTION
        if not self.params.skin_temp_min_c <= sample.skin_temp_c <= self.params.skin_temp_max_c:
            flags |= AlcoholFlags.TEMPERATURE_TAMPER
        if at - self.fitted_at >= self.params.battery_replace_days * 86400:
            flags |= AlcoholFlags.BATTERY_LOW
        return flags

    def _seek_base_station(self) -> None:
        # Out of range no byte reaches the centre, so the upload waits for the return.
        if self.in_range:
            self.queue.open_session()
            self._upload_waiting = False
        else:
            self._upload_waiting = True


def standalone(device_id: int, now: float, params: DeviceParams, rng: np.random.Generator) -> AlcoholTag:
    """An alcohol tag alone on the bench, worn by a sober wearer at a steady skin temperature."""
    p = params.alcohol_tag

    def sober_wearer(at: float) -> SkinSample:
        return SkinSample(0.0, float(rng.normal(p.bench_skin_temp_c, p.bench_skin_temp_sd_c)))

    return AlcoholTag(device_id, now, p, params.uplink_for(AlcoholTag.KIND), sober_wearer)
