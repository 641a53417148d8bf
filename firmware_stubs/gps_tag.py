"""GPS tag: takes fixes from its GNSS module, checks zone rules, uploads in batches.

The tag reads NMEA sentences from its module on the ``gnss`` port and keeps
the latest GGA. On its own schedule it takes a fix from that sentence if it is
fresh and has a fix, else notes NO_FIX. Fixes come every ``fix_interval_s``;
every ``violation_fix_interval_s`` while a zone rule is broken; every
``rest_fix_interval_s`` once it has stayed within ``rest_motion_threshold_m``
of one place for ``rest_after_s``. Every ``upload_interval_s`` it queues the
fixes so far and a status and opens an upload session; entering a zone
violation, a strap opening and the battery going low upload at once.

A flat battery is a dead tag: no fixes, no uploads, no deadlines, deaf on
both ports, its queue kept until charging brings it back.

NMEA is read strictly, as a firmware reference should: each "$" starts a
sentence, which must end CR LF with a good checksum. A GGA is a fix only at
a satellite-fix quality (1 to 5); any other quality but 0 is read as no fix.
``nmea_sentences`` counts the sentences taken; ``nmea_rejected`` counts the
rest by ``NmeaRejection``: "noise" (a run of bytes outside any sentence, up to
the next "$" or line end), "truncated" (a sentence cut short by the next "$"),
"overlong", "checksum" (wrong or missing), "unparsed" (pynmea2 could not read
it, or a field does not convert), "quality", "minutes" (a latitude or
longitude with 60 or more minutes) and "range" (fields outside what they can be).
"""

from __future__ import annotations

import math
import re
from collections import Counter
from dataclasses import dataclass, replace
from enum import StrEnum

import numpy as np
import pynmea2

from firmware_stubs.device import UPLINK, Device, DeviceClock
from firmware_stubs.gnss import NMEA, GnssModule, GnssTruth, accuracy_from_hdop, metres_between, offset_deg
from firmware_stubs.params import DeviceParams, GpsTagParams, UplinkParams
from firmware_stubs.protocol import (
    WIRE_FIX_DTYPE,
    MAX_FIXES_PER_FRAME,
    Config,
    ConfigParam,
    CurfewWindow,
    GpsFixBatch,
    GpsFlags,
    GpsStatus,
    Zone,
    ZoneKind,
)
from firmware_stubs.wiring import Assembly, Wire

GNSS = "gnss"
HOUR_S = 3600.0
# NMEA 0183 caps a sentence at 82 characters, "$" to CR LF: a longer one is set aside.
NMEA_MAX_CHARS = 82
# "$" starts every sentence and appears nowhere else, so the reader cuts the stream
# before each "$" and after each line end, and resyncs on the next "$" whatever came before.
_NMEA_PIECES = re.compile(rb"(?=\$)|(?<=\n)")
# GGA qualities that are a satellite fix: 1 SPS, 2 differential, 3 PPS, 4 RTK fixed, 5 RTK
# float, all "fix valid" in NMEA 0183's table (as quoted in Epson's GPGGA reference and
# logiqx.github.io/gps-wizard/nmea/lookups/quality.html). 6 is estimated (dead reckoning),
# 7 manual input, 8 simulator: none is where the wearer was seen to be. Others are not NMEA.
FIX_QUALITIES = frozenset({1, 2, 3, 4, 5})

# CONFIG keys this tag takes, and the GpsTagParams field each one sets.
_CONFIGURABLE = {
    ConfigParam.FIX_INTERVAL_MS: "fix_interval_s",
    ConfigParam.VIOLATION_FIX_INTERVAL_MS: "violation_fix_interval_s",
    ConfigParam.REST_FIX_INTERVAL_MS: "rest_fix_interval_s",
    ConfigParam.REST_AFTER_MS: "rest_after_s",
    ConfigParam.UPLOAD_INTERVAL_MS: "upload_interval_s",
}

# The bench wearer of `tagsim stub gps-tag` lives here: a synthetic location
# (Westminster, London), not a domain figure.
HOME_LAT_DEG = 51.5007
HOME_LON_DEG = -0.1246
# ...and walks a circle round home, slowly (about 0.5 m/s): synthetic too.
WALK_RADIUS_M = 150.0
WALK_PERIOD_S = 1800.0


class NmeaRejection(StrEnum):
    """Why the tag set NMEA input aside (see the module docstring)."""

    NOISE = "noise"
    TRUNCATED = "truncated"
    OVERLONG = "overlong"
    CHECKSUM = "checksum"
    UNPARSED = "unparsed"
    QUALITY = "quality"
    MINUTES = "minutes"
    RANGE = "range"


class _NmeaError(ValueError):
    """A sentence was set aside; ``reason`` says why."""

    def __init__(self, reason: NmeaRejection, detail: str) -> None:
        super().__init__(f"{reason}: {detail}")
        self.reason = reason


@dataclass(frozen=True, slots=True)
class GnssReading:
    """The latest GGA sentence; position, satellites and accuracy mean nothing without a fix."""

    quality: int
    lat: float
    lon: float
    satellites: int
    accuracy_m: float  # 90% horizontal error radius, from HDOP
    received_at: float

    @property
    def has_fix(self) -> bool:
        return self.quality in FIX_QUALITIES


def zone_contains(zone: Zone, lat: float, lon: float) -> bool:
    return metres_between(zone.lat_e7 / 1e7, zone.lon_e7 / 1e7, lat, lon) <= zone.radius_m


class GpsTag(Device):
    """A GPS ankle tag wired to a GNSS module (see the module docstring)."""

    KIND = "gps-tag"
    PORTS = (UPLINK, GNSS)

    def __init__(
        self,
        device_id: int,
        now: float,
        params: GpsTagParams,
        uplink: UplinkParams,
        clock: DeviceClock | None = None,
    ) -> None:
        super().__init__(device_id, now, uplink, clock)
        self.params = params  # CONFIG replaces the intervals in here
        self.zones: tuple[Zone, ...] = ()
        self.curfews: tuple[CurfewWindow, ...] = ()
        self.latest: GnssReading | None = None
        self.nmea_sentences = 0
        self.nmea_rejected: Counter[NmeaRejection] = Counter()
        self.strap_open = False
        self.charging = False
        self.no_fix = False
        self.at_rest = False
        self.in_violation = False
        self._fixes: list[tuple[int, int, int, int, int]] = []  # WIRE_FIX_DTYPE rows awaiting upload
        self._still_at: tuple[float, float] | None = None
        self._still_since = now
        self._last_fix = now
        self._last_upload = now
        self._next_fix = now + params.fix_interval_s
        self._next_upload = now + params.upload_interval_s
        self._nmea_pending = b""  # a sentence so far, from its "$"
        self._nmea_discarding = False  # inside a counted run of noise or an overlong sentence
        self._anchor_battery(now, 100.0)

    # --- stimulus from the world ---------------------------------------------

    def set_strap(self, now: float, open: bool) -> None:
        """The strap opens or closes; opening is sent at once (a flat tag cannot tell)."""
        self.tick(now)
        opening = open and not self.strap_open
        self.strap_open = open
        if opening and self._powered():
            self._upload(now)
            self._pump()

    def set_charging(self, now: float, on: bool) -> None:
        """The wearer plugs the charger in or out; plugging in revives a flat tag."""
        self.tick(now)
        level = self.battery_pct
        self.charging = on
        self._anchor_battery(now, level)
        # What fell due while the tag was flat happens once, now, not once per missed interval.
        self._next_fix = max(self._next_fix, now)
        self._next_upload = max(self._next_upload, now)
        self.tick(now)

    # --- state ------------------------------------------------------------------

    @property
    def battery_pct(self) -> float:
        return self._battery_at(self.now)

    @property
    def flags(self) -> GpsFlags:
        return self._flags(self.now)

    # --- the driver's interface ---------------------------------------------

    def next_deadline(self) -> float:
        # A flat tag needs no tick: only set_charging can wake it.
        deadline = super().next_deadline()
        return deadline if deadline < self._empty_at else math.inf

    # --- Device hooks ---------------------------------------------------------

    def _advance(self, now: float) -> None:
        while True:
            t = min(self._next_fix, self._next_upload, self._low_at)
            if t > now or t >= self._empty_at:
                return
            if t == self._next_fix:
                self._take_fix(t)
            elif t == self._next_upload:
                self._last_upload = t
                self._next_upload = t + self.params.upload_interval_s
                self._upload(t)
            else:
                # Re-anchor at exactly the threshold so the status sent now carries BATTERY_LOW.
                self._anchor_battery(t, self.params.battery_low_pct)
                self._upload(t)

    def _own_deadline(self) -> float:
        return min(self._next_fix, self._next_upload, self._low_at)

    def _configure(self, config: Config) -> None:
        """Intervals given (and non-zero) replace the current ones; zones and curfews
        are replaced wholesale, as a CONFIG carries the full set."""
        given = {name: config.interval_s(key) for key, name in _CONFIGURABLE.items()}
        changes = {name: seconds for name, seconds in given.items() if seconds is not None}
        self.params = replace(self.params, **changes)
        self.zones = config.zones
        self.curfews = config.curfews
        self._next_fix = max(self.now, self._last_fix + self._fix_interval())
        self._next_upload = max(self.now, self._last_upload + self.params.upload_interval_s)

    def _on_port_bytes(self, port: str, data: bytes) -> None:
        # The gnss port carries NMEA text, not frames.
        if port == GNSS:
            self._read_nmea(self.now, data)
        else:
            super()._on_port_bytes(port, data)

    # --- fixes and zones --------------------------------------------------------

    def _take_fix(self, t: float) -> None:
        reading = self.latest
        self._last_fix = t
        self.no_fix = reading is None or not reading.has_fix or t - reading.received_at > self.params.fix_max_age_s
        if reading is not None and not self.no_fix:
            self._fixes.append(
                (
                    self._stamp(t),
                    round(reading.lat * 1e7),
                    round(reading.lon * 1e7),
                    min(round(reading.accuracy_m * 10), 0xFFFF),
                    min(reading.satellites, 0xFF),
                )
            )
            self._update_rest(t, reading.lat, reading.lon)
            was_in_violation = self.in_violation
            self.in_violation = self._breaks_rule(t, reading.lat, reading.lon)
            if self.in_violation and not was_in_violation:
                self._upload(t)
        self._next_fix = t + self._fix_interval()

    def _fix_interval(self) -> float:
        if self.in_violation:
            return self.params.violation_fix_interval_s
        if self.at_rest:
            return self.params.rest_fix_interval_s
        return self.params.fix_interval_s

    def _update_rest(self, t: float, lat: float, lon: float) -> None:
        # Measured from where it stopped, not fix to fix, so a slow drift still counts as moving.
        if self._still_at is None or metres_between(*self._still_at, lat, lon) >= self.params.rest_motion_threshold_m:
            self._still_at = (lat, lon)
            self._still_since = t
        self.at_rest = t - self._still_since >= self.params.rest_after_s

    def _breaks_rule(self, t: float, lat: float, lon: float) -> bool:
        inside = {zone.kind for zone in self.zones if zone_contains(zone, lat, lon)}
        if ZoneKind.EXCLUSION in inside:
            return True
        has_inclusion = any(zone.kind == ZoneKind.INCLUSION for zone in self.zones)
        unix_s = self.clock.read_s(t)
        in_curfew = any(curfew.contains(unix_s) for curfew in self.curfews)
        return has_inclusion and in_curfew and ZoneKind.INCLUSION not in inside

    # --- uploads and battery ------------------------------------------------------

    def _upload(self, t: float) -> None:
        """Queue the fixes so far and a status, and open a session to send them."""
        fixes = np.array(self._fixes, dtype=WIRE_FIX_DTYPE)
        self._fixes.clear()
        for start in range(0, len(fixes), MAX_FIXES_PER_FRAME):
            self._queue_message(GpsFixBatch(fixes[start : start + MAX_FIXES_PER_FRAME]), at=t)
        # Every upload opens a session: the base calls that "urgent".
        self._queue_message(GpsStatus(math.ceil(self._battery_at(t)), self._flags(t)), urgent=True, at=t)

    def _flags(self, t: float) -> GpsFlags:
        flags = GpsFlags.NONE
        for present, flag in (
            (self.charging, GpsFlags.CHARGING),
            (self.no_fix, GpsFlags.NO_FIX),
            (self.strap_open, GpsFlags.STRAP_OPEN),
            (self._battery_at(t) <= self.params.battery_low_pct, GpsFlags.BATTERY_LOW),
            (self.at_rest, GpsFlags.AT_REST),
            (self.in_violation, GpsFlags.ZONE_VIOLATION),
        ):
            if present:
                flags |= flag
        return flags

    def _powered(self) -> bool:
        return self.now < self._empty_at

    def _battery_at(self, t: float) -> float:
        return min(100.0, max(0.0, self._level + self._rate * (t - self._level_at)))

    def _anchor_battery(self, t: float, level: float) -> None:
        """The battery is at ``level`` at ``t``; work out when it next goes low and flat."""
        self._level, self._level_at = level, t
        if self.charging:
            self._rate = 100.0 / (self.params.charge_hours_to_full * HOUR_S)
            self._low_at = self._empty_at = math.inf
        else:
            drain = 100.0 / (self.params.battery_life_hours * HOUR_S)
            self._rate = -drain
            self._empty_at = t + level / drain
            low = self.params.battery_low_pct
            self._low_at = t + (level - low) / drain if level > low else math.inf

    # --- NMEA from the module -------------------------------------------------------

    def _read_nmea(self, now: float, data: bytes) -> None:
        for piece in _NMEA_PIECES.split(data):
            if piece.startswith(b"$"):
                if self._nmea_pending:
                    self.nmea_rejected[NmeaRejection.TRUNCATED] += 1
                self._nmea_pending = piece
                self._nmea_discarding = False
            elif self._nmea_pending:
                self._nmea_pending += piece
            elif piece.strip() and not self._nmea_discarding:
                self.nmea_rejected[NmeaRejection.NOISE] += 1
                self._nmea_discarding = True
            if piece.endswith(b"\n"):
                if self._nmea_pending:
                    self._read_sentence(now, self._nmea_pending)
                self._nmea_pending = b""
                self._nmea_discarding = False
            elif len(self._nmea_pending) > NMEA_MAX_CHARS:
                self.nmea_rejected[NmeaRejection.OVERLONG] += 1
                self._nmea_pending = b""
                self._nmea_discarding = True

    def _read_sentence(self, now: float, line: bytes) -> None:
        line = line.strip()
        try:
            if len(line) > NMEA_MAX_CHARS:
                raise _NmeaError(NmeaRejection.OVERLONG, "longer than any NMEA sentence")
            sentence = pynmea2.parse(line.decode("ascii"), check=True)
            if isinstance(sentence, pynmea2.GGA):
                self.latest = self._reading(sentence, now)
                if not self.latest.has_fix and self.latest.quality != 0:
                    # Taken as no fix, so an older fix is not reported in its place, and
                    # counted, as unlike quality 0 it carries a position the tag must not report.
                    raise _NmeaError(NmeaRejection.QUALITY, f"GGA quality {self.latest.quality}")
        except _NmeaError as error:
            self.nmea_rejected[error.reason] += 1
        except pynmea2.ChecksumError:
            self.nmea_rejected[NmeaRejection.CHECKSUM] += 1
        except ValueError:  # pynmea2's parse errors, a non-ASCII byte, a field that does not convert
            self.nmea_rejected[NmeaRejection.UNPARSED] += 1
        else:
            self.nmea_sentences += 1

    def _reading(self, gga: pynmea2.GGA, now: float) -> GnssReading:
        """The GGA's fix, or no fix; _NmeaError or ValueError if its fields make no sense."""
        # pynmea2 hands back the raw text when a field does not convert.
        quality = gga.gps_qual
        if not isinstance(quality, int) or quality < 0:
            raise _NmeaError(NmeaRejection.UNPARSED, f"GGA quality {quality!r}")
        if quality not in FIX_QUALITIES:
            return GnssReading(quality, 0.0, 0.0, 0, math.inf, now)
        if not (gga.lat and gga.lon and gga.lat_dir in ("N", "S") and gga.lon_dir in ("E", "W")):
            raise _NmeaError(NmeaRejection.UNPARSED, "GGA fix without a position")
        lat, lon = gga.latitude, gga.longitude  # pynmea2 checks the (d)ddmm.mmmm form...
        if _minutes(gga.lat) >= 60 or _minutes(gga.lon) >= 60:  # ...but takes any minutes
            raise _NmeaError(NmeaRejection.MINUTES, f"{gga.lat}, {gga.lon}")
        satellites = int(gga.num_sats)
        hdop = float(gga.horizontal_dil)
        if abs(lat) > 90 or abs(lon) > 180 or satellites < 0 or not 0 <= hdop < math.inf:
            raise _NmeaError(NmeaRejection.RANGE, f"GGA fields out of range: {gga}")
        return GnssReading(quality, lat, lon, satellites, accuracy_from_hdop(hdop, self.params.uere_m), now)


def _minutes(field: str) -> float:
    """The minutes of a (d)ddmm.mmmm field that pynmea2 has already read as one."""
    whole, _, fraction = field.partition(".")
    return float(f"{whole[-2:]}.{fraction}")


def bench_walk(t: float) -> GnssTruth:
    """The bench wearer: round and round home, under open sky."""
    angle = 2 * math.pi * t / WALK_PERIOD_S
    lat, lon = offset_deg(HOME_LAT_DEG, HOME_LON_DEG, WALK_RADIUS_M * math.sin(angle), WALK_RADIUS_M * math.cos(angle))
    return GnssTruth(lat, lon, open_sky=True)


def standalone(device_id: int, now: float, params: DeviceParams, rng: np.random.Generator) -> Assembly:
    """A GPS tag with its GNSS module, the wearer walking round home."""
    tag = GpsTag(device_id, now, params.gps_tag, params.uplink_for(GpsTag.KIND))
    # The module's epoch is left at 0: the tag stamps with its own clock and ignores NMEA time.
    gnss = GnssModule(now, params.gnss, bench_walk, rng)
    return Assembly(tag, [gnss], [Wire(gnss, NMEA, tag, GNSS)])
