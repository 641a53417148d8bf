"""A simulated GNSS module: NMEA 0183 sentences for a track, with realistic error.

The module knows nothing of tags. Every output interval it writes a GGA and an
RMC sentence for where the wearer truly is (``track``), displaced by a random
horizontal error. The error is a circular 2-D Gaussian scaled so that 90% of
fixes fall within ``cep90_m`` (the NIJ draft standard's figure); the HDOP it
reports is the one that error implies for its UERE, so a receiver of the
sentences can turn HDOP back into metres with ``accuracy_from_hdop``. Without
open sky it reports no fix, as tags indoors commonly do.

The flat-earth helpers below are shared with the GPS tag: at town scale an
equirectangular projection is off by far less than a GNSS error.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime

import numpy as np
import pynmea2

from firmware_stubs.params import GnssParams

NMEA = "nmea"
TALKER = "GP"

# IUGG mean Earth radius; a geodesy constant, not a device figure.
EARTH_RADIUS_M = 6_371_008.8
# For a circular 2-D Gaussian with per-axis sigma, P(r <= R) = 1 - exp(-R^2 / (2 sigma^2));
# setting that to 0.9 gives R90 = sigma * sqrt(2 ln 10).
_CEP90_PER_SIGMA = math.sqrt(2 * math.log(10))
# Horizontal RMS error (drms) is HDOP x UERE, and drms = sigma * sqrt(2) for a circular Gaussian.
_CEP90_PER_DRMS = _CEP90_PER_SIGMA / math.sqrt(2)
_MINUTE_DIGITS = 5  # NMEA minutes to 1e-5 (about 2 cm): well below any GNSS error


@dataclass(frozen=True, slots=True)
class GnssTruth:
    """Where the antenna truly is, and whether it can see the sky."""

    lat_deg: float
    lon_deg: float
    open_sky: bool


def metres_between(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Distance in metres between two points in degrees (equirectangular)."""
    north = math.radians(lat2 - lat1) * EARTH_RADIUS_M
    east = math.radians(lon2 - lon1) * math.cos(math.radians((lat1 + lat2) / 2)) * EARTH_RADIUS_M
    return math.hypot(north, east)


def offset_deg(lat: float, lon: float, north_m: float, east_m: float) -> tuple[float, float]:
    """The point ``north_m`` north and ``east_m`` east of (lat, lon), in degrees."""
    new_lat = lat + math.degrees(north_m / EARTH_RADIUS_M)
    new_lon = lon + math.degrees(east_m / (EARTH_RADIUS_M * math.cos(math.radians(lat))))
    return new_lat, new_lon


def hdop_for(cep90_m: float, uere_m: float) -> float:
    """The HDOP that a 90% horizontal error radius of ``cep90_m`` implies."""
    return cep90_m / (_CEP90_PER_DRMS * uere_m)


def accuracy_from_hdop(hdop: float, uere_m: float) -> float:
    """The 90% horizontal error radius, in metres, that an HDOP implies."""
    return hdop * uere_m * _CEP90_PER_DRMS


def fix_sentences(utc_s: float, lat: float, lon: float, satellites: int, hdop: float) -> bytes:
    """A GGA and an RMC sentence reporting a fix at (lat, lon)."""
    hhmmss, ddmmyy = _utc_fields(utc_s)
    lat_f, lat_h = _dm(lat, 2), "N" if lat >= 0 else "S"
    lon_f, lon_h = _dm(lon, 3), "E" if lon >= 0 else "W"
    gga = (hhmmss, lat_f, lat_h, lon_f, lon_h, "1", f"{satellites:02d}", f"{hdop:.2f}", "", "", "", "", "", "")
    rmc = (hhmmss, "A", lat_f, lat_h, lon_f, lon_h, "", "", ddmmyy, "", "", "A")
    return _render(gga, rmc)


def no_fix_sentences(utc_s: float) -> bytes:
    """A GGA (quality 0) and an RMC (status V) sentence reporting no fix."""
    hhmmss, ddmmyy = _utc_fields(utc_s)
    gga = (hhmmss, "", "", "", "", "0", "00", "", "", "", "", "", "", "")
    rmc = (hhmmss, "V", "", "", "", "", "", "", ddmmyy, "", "", "N")
    return _render(gga, rmc)


def _render(gga: tuple[str, ...], rmc: tuple[str, ...]) -> bytes:
    # pynmea2 renders the checksum and the CR LF ending.
    sentences = (pynmea2.GGA(TALKER, "GGA", gga), pynmea2.RMC(TALKER, "RMC", rmc))
    return "".join(msg.render(newline=True) for msg in sentences).encode("ascii")


def _utc_fields(utc_s: float) -> tuple[str, str]:
    """NMEA hhmmss.ss and ddmmyy; whole centiseconds so the fraction never reads 100."""
    centis = round(utc_s * 100)
    when = datetime.fromtimestamp(centis // 100, UTC)
    return f"{when:%H%M%S}.{centis % 100:02d}", f"{when:%d%m%y}"


def _dm(degrees: float, width: int) -> str:
    """Degrees as NMEA (d)ddmm.mmmmm, rounded in whole units so minutes never read 60."""
    scale = 10**_MINUTE_DIGITS
    whole_deg, units = divmod(round(abs(degrees) * 60 * scale), 60 * scale)
    return f"{whole_deg:0{width}d}{units // scale:02d}.{units % scale:0{_MINUTE_DIGITS}d}"


class GnssModule:
    """A GNSS receiver on a UART: writes sentences on ``NMEA``, ignores what it is sent.

    Implements ``firmware_stubs.wiring.Machine``. UTC in the sentences is
    ``epoch_unix_s + now``.
    """

    def __init__(
        self,
        now: float,
        params: GnssParams,
        track: Callable[[float], GnssTruth],
        rng: np.random.Generator,
        epoch_unix_s: float = 0.0,
    ) -> None:
        self.params = params
        self.track = track
        self.rng = rng
        self.epoch_unix_s = epoch_unix_s
        self.now = now
        self.outputs = 0
        self.ignored_bytes = 0
        self._sigma_m = params.cep90_m / _CEP90_PER_SIGMA
        self._hdop = hdop_for(params.cep90_m, params.uere_m)
        self._next_output = now + params.output_interval_s
        self._out = {NMEA: bytearray()}

    def receive(self, now: float, data: bytes, port: str = NMEA) -> None:
        # A real module takes configuration commands; this one has none to take.
        self.tick(now)
        self.ignored_bytes += len(data)

    def tick(self, now: float) -> None:
        if now < self.now:
            raise ValueError(f"time went backwards: {now} after {self.now}")
        self.now = now
        while self._next_output <= now:
            self._output(self._next_output)
            self._next_output += self.params.output_interval_s

    def drain(self, port: str = NMEA) -> bytes:
        out = bytes(self._out[port])
        self._out[port].clear()
        return out

    def next_deadline(self) -> float:
        return self._next_output

    def _output(self, at: float) -> None:
        truth = self.track(at)
        utc_s = self.epoch_unix_s + at
        if truth.open_sky:
            north_m, east_m = self.rng.normal(0.0, self._sigma_m, 2)
            lat, lon = offset_deg(truth.lat_deg, truth.lon_deg, float(north_m), float(east_m))
            self._out[NMEA] += fix_sentences(utc_s, lat, lon, self.params.satellites_open, self._hdop)
        else:
            self._out[NMEA] += no_fix_sentences(utc_s)
        self.outputs += 1
