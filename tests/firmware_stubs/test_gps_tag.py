"""Timeline tests for the GPS tag, in virtual time: what goes up, and when."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field, replace

import numpy as np
import pynmea2
import pytest

from firmware_stubs.gnss import fix_sentences, hdop_for, metres_between, no_fix_sentences
from firmware_stubs.gps_tag import GNSS, GpsTag, bench_walk
from firmware_stubs.kinds import build_standalone
from firmware_stubs.protocol import (
    MAX_FIXES_PER_FRAME,
    Ack,
    Config,
    ConfigParam,
    CurfewWindow,
    Frame,
    GpsFixBatch,
    GpsFlags,
    GpsStatus,
    StreamDecoder,
    Zone,
    ZoneKind,
    encode_frame,
)
from sim.scenario import default_device_params

DEVICE_ID = 3131
DEFAULTS = default_device_params()
# The figures these timelines are written against, whatever the seeds say today.
PARAMS = replace(
    DEFAULTS,
    uplink=replace(DEFAULTS.uplink, queue_capacity=2500, window=8, retransmit_timeout_s=30.0, max_backoff_s=900.0),
    gps_tag=replace(
        DEFAULTS.gps_tag,
        fix_interval_s=60.0,
        violation_fix_interval_s=15.0,
        rest_after_s=600.0,
        rest_fix_interval_s=3600.0,
        rest_motion_threshold_m=25.0,
        upload_interval_s=600.0,
        battery_life_hours=36.0,
        charge_hours_to_full=2.0,
        battery_low_pct=20,
        fix_max_age_s=2.0,
        uere_m=5.17,
    ),
)
NONE = GpsFlags.NONE
HOME = (51.5, -0.12)
# 0.001 degree steps are exact in NMEA minutes, so fixes come back to the last e7 unit.
STEP = 0.001  # about 69 m of longitude here: well past the rest threshold
SATELLITES = 9
HDOP = round(hdop_for(10.0, 5.17), 2)
ACCURACY_DM = 100  # HDOP 1.27 x UERE 5.17 m back to a 90% radius of 10.0 m

Position = tuple[float, float] | None  # None: no fix (indoors)
MAX_STEPS = 20_000  # far more ticks than any timeline here needs: more means a tag that never settles


def at_home(t: float) -> Position:
    return HOME


def walking(t: float) -> Position:
    """Eastward, one step a minute: never at rest."""
    return (HOME[0], HOME[1] + STEP * (t // 60))


def e7(position: tuple[float, float]) -> tuple[int, int]:
    return round(position[0] * 1e7), round(position[1] * 1e7)


def make_tag(**changes: float) -> GpsTag:
    return GpsTag(DEVICE_ID, 0.0, replace(PARAMS.gps_tag, **changes), PARAMS.uplink)


def command(seq: int, message: Config | Ack) -> bytes:
    return encode_frame(Frame(DEVICE_ID, seq, 0, message))


@dataclass
class Centre:
    """Drives the tag, plays its GNSS module, decodes what it uploads and when, acks if asked.

    The GNSS speaks one second before each deadline of the tag, so a fix due
    then finds a fresh sentence for wherever ``sky`` says the wearer is.
    """

    tag: GpsTag
    sky: Callable[[float], Position] = walking
    acking: bool = True
    received: list[tuple[float, Frame]] = field(default_factory=list)
    decoder: StreamDecoder = field(default_factory=StreamDecoder)
    _seen: set[int] = field(default_factory=set)
    _acked: int = -1

    def run(self, until: float) -> None:
        for _ in range(MAX_STEPS):
            if (t := self.tag.next_deadline()) > until:
                break
            self.speak(max(self.tag.now, t - 1.0))
            self.tag.tick(t)
            self.collect(t)
        else:
            raise AssertionError(f"still asking for ticks at t={self.tag.now}; last frames {self.timeline()[-4:]}")
        self.tag.tick(until)
        self.collect(until)

    def speak(self, t: float) -> None:
        position = self.sky(t)
        if position is None:
            self.tag.receive(t, no_fix_sentences(t), GNSS)
        else:
            self.tag.receive(t, fix_sentences(t, *position, SATELLITES, HDOP), GNSS)

    def collect(self, t: float) -> None:
        frames = [f for f in self.decoder.feed(self.tag.drain()) if not isinstance(f.message, Ack)]
        self.received += [(t, f) for f in frames]
        self._seen.update(f.seq for f in frames)
        contiguous = self._acked
        while contiguous + 1 in self._seen:
            contiguous += 1
        if self.acking and contiguous > self._acked:
            self._acked = contiguous
            self.tag.receive(t, command(0, Ack(contiguous)))

    # --- what came up ---------------------------------------------------------

    def timeline(self) -> list[tuple[float, int, str]]:
        return [(t, f.seq, _describe(f)) for t, f in self.received]

    def fix_times(self) -> list[float]:
        """Every fix delivered, once each, in sequence order, as seconds."""
        batches = {f.seq: f.message for _, f in self.received if isinstance(f.message, GpsFixBatch)}
        return [int(ms) / 1000 for seq in sorted(batches) for ms in batches[seq].fixes["time_ms"]]

    def statuses(self) -> list[tuple[float, GpsStatus]]:
        return [(t, f.message) for t, f in self.received if isinstance(f.message, GpsStatus)]


def _describe(frame: Frame) -> str:
    m = frame.message
    if isinstance(m, GpsFixBatch):
        return f"fixes {[int(ms) // 1000 for ms in m.fixes['time_ms']]}"
    if isinstance(m, GpsStatus):
        return f"status {m.battery_pct}% {m.flags!r}"
    return type(m).__name__


def times(start: float, stop: float, step: float) -> list[float]:
    return [float(t) for t in np.arange(start, stop + step / 2, step)]


def status(flags: GpsFlags, battery: int = 100) -> str:
    return f"status {battery}% {flags!r}"


# --- fixes and uploads ----------------------------------------------------------


def test_a_fix_a_minute_uploaded_every_ten_minutes() -> None:
    centre = Centre(make_tag())
    centre.run(1200.0)
    assert centre.timeline() == [
        (600.0, 0, "fixes [60, 120, 180, 240, 300, 360, 420, 480, 540, 600]"),
        (600.0, 1, status(NONE)),
        (1200.0, 2, "fixes [660, 720, 780, 840, 900, 960, 1020, 1080, 1140, 1200]"),
        (1200.0, 3, status(NONE)),
    ]
    first = centre.received[0][1]
    assert first.event_time_ms == 600_000
    fix = first.message.fixes[0]
    assert (int(fix["lat_e7"]), int(fix["lon_e7"])) == e7(walking(59.0))
    assert (int(fix["accuracy_dm"]), int(fix["satellites"])) == (ACCURACY_DM, SATELLITES)
    assert len(centre.tag.queue) == 0


def test_no_fix_indoors_uploads_only_a_status() -> None:
    centre = Centre(make_tag(), sky=lambda t: None)
    centre.run(600.0)
    assert centre.timeline() == [(600.0, 0, status(GpsFlags.NO_FIX))]


def test_a_stale_sentence_is_no_fix() -> None:
    tag = make_tag()
    centre = Centre(tag)
    tag.receive(57.0, fix_sentences(57.0, *HOME, SATELLITES, HDOP), GNSS)  # 3 s old at 60: too old
    tag.tick(60.0)
    assert tag.flags == GpsFlags.NO_FIX
    tag.receive(118.5, fix_sentences(118.5, *HOME, SATELLITES, HDOP), GNSS)  # 1.5 s old at 120
    tag.tick(600.0)
    centre.collect(600.0)
    # Nothing spoke after 118.5, so every later fix is a no-fix too.
    assert centre.timeline() == [(600.0, 0, "fixes [120]"), (600.0, 1, status(GpsFlags.NO_FIX))]


def test_batches_split_at_max_fixes_per_frame() -> None:
    upload = 2 * MAX_FIXES_PER_FRAME + 5
    centre = Centre(make_tag(fix_interval_s=1.0, upload_interval_s=float(upload)), sky=lambda t: walking(60 * t))
    centre.run(float(upload))
    sizes = [len(f.message.fixes) for _, f in centre.received if isinstance(f.message, GpsFixBatch)]
    assert sizes == [MAX_FIXES_PER_FRAME, MAX_FIXES_PER_FRAME, 5]
    assert [seq for _, seq, _ in centre.timeline()] == [0, 1, 2, 3]
    assert centre.fix_times() == times(1, upload, 1)


def test_retries_until_acked_with_every_fix_in_order() -> None:
    centre = Centre(make_tag(), acking=False)
    centre.run(2000.0)
    sends_of_seq0 = [t for t, f in centre.received if f.seq == 0]
    # 30 s, then doubling: 60, 120, 240, 480 (the 900 s cap is not reached yet).
    assert sends_of_seq0 == [600.0, 630.0, 690.0, 810.0, 1050.0, 1530.0]
    centre.acking = True
    centre.run(3000.0)
    # The upload at 2400 is the first thing heard once the centre acks again; its ack
    # covers everything, before the resend that was due at 2430.
    assert max(t for t, f in centre.received if f.seq == 0) == 1530.0
    assert len(centre.tag.queue) == 0
    assert centre.fix_times() == times(60, 3000, 60)
    assert centre.tag.queue.retransmissions > 0


# --- fix cadence: zones, curfew, rest ------------------------------------------


def test_entering_an_exclusion_zone_sends_at_once_and_fixes_every_15s() -> None:
    inside = (HOME[0] + 0.01, HOME[1])  # about 1.1 km north of home
    zone = Zone(7, ZoneKind.EXCLUSION, *e7(inside), 100)
    centre = Centre(make_tag(), sky=lambda t: inside if 290 <= t < 420 else HOME)
    centre.tag.receive(0.0, command(1, Config(zones=(zone,))))
    centre.run(600.0)
    assert centre.timeline() == [
        (300.0, 0, "fixes [60, 120, 180, 240, 300]"),
        (300.0, 1, status(GpsFlags.ZONE_VIOLATION)),
        (600.0, 2, "fixes [315, 330, 345, 360, 375, 390, 405, 420, 435, 495, 555]"),
        (600.0, 3, status(NONE)),
    ]


def test_outside_the_inclusion_zone_in_curfew_is_a_violation() -> None:
    away = (HOME[0], HOME[1] + 0.01)  # about 700 m east
    home_zone = Zone(1, ZoneKind.INCLUSION, *e7(HOME), 100)
    # 1970-01-01, where the tag's clock starts, was a Thursday (bit 3); curfew 00:02 to 00:07.
    curfew = CurfewWindow(days=1 << 3, start_s=120, duration_s=300)
    centre = Centre(make_tag(), sky=lambda t: HOME if t < 250 else away)
    centre.tag.receive(0.0, command(1, Config(curfews=(curfew,), zones=(home_zone,))))
    centre.run(600.0)
    assert centre.timeline() == [
        # At home through the curfew's start at 120: no violation.
        (300.0, 0, "fixes [60, 120, 180, 240, 300]"),
        (300.0, 1, status(GpsFlags.ZONE_VIOLATION)),
        # The curfew ends at 420: out is allowed again.
        (600.0, 2, "fixes [315, 330, 345, 360, 375, 390, 405, 420, 480, 540, 600]"),
        (600.0, 3, status(NONE)),
    ]


def test_at_rest_after_ten_still_minutes_fixes_hourly_until_it_moves() -> None:
    moved = (HOME[0], HOME[1] + STEP)
    centre = Centre(make_tag(), sky=lambda t: HOME if t < 5000 else moved)
    centre.run(8400.0)
    # Still since the fix at 60; at rest from 660; the hourly fix at 7860 finds it moved.
    assert centre.fix_times() == [*times(60, 660, 60), 4260.0, *times(7860, 8400, 60)]
    flags = {t: s.flags for t, s in centre.statuses()}
    assert flags[600.0] == NONE
    assert all(flags[t] == GpsFlags.AT_REST for t in times(1200, 7800, 600))
    assert flags[8400.0] == NONE


def test_a_slow_drift_is_movement_not_rest() -> None:
    # 10 m a minute: under the threshold fix to fix, well over it in ten minutes.
    centre = Centre(make_tag(), sky=lambda t: (HOME[0] + 0.00009 * (t // 60), HOME[1]))
    centre.run(3600.0)
    assert centre.fix_times() == times(60, 3600, 60)
    assert not any(s.flags & GpsFlags.AT_REST for _, s in centre.statuses())


# --- strap and battery ----------------------------------------------------------


def test_strap_opening_sends_at_once() -> None:
    centre = Centre(make_tag())

    def strap(t: float, open: bool) -> None:
        centre.run(t)
        centre.tag.set_strap(t, open)
        centre.collect(t)

    strap(130.0, True)
    strap(150.0, True)  # still open: nothing new to say
    strap(200.0, False)  # closing is news for the next upload, not urgent
    strap(450.0, True)
    centre.run(600.0)
    assert centre.timeline() == [
        (130.0, 0, "fixes [60, 120]"),
        (130.0, 1, status(GpsFlags.STRAP_OPEN)),
        (450.0, 2, "fixes [180, 240, 300, 360, 420]"),
        (450.0, 3, status(GpsFlags.STRAP_OPEN)),
        (600.0, 4, "fixes [480, 540, 600]"),
        (600.0, 5, status(GpsFlags.STRAP_OPEN)),
    ]


def short_battery_run(acking_until: float) -> Centre:
    """A one-hour battery: low at 2880 s (80% used), flat at 3600 s; run to 3700."""
    centre = Centre(make_tag(battery_life_hours=1.0))
    centre.run(acking_until)
    centre.acking = False
    centre.run(3700.0)
    return centre


def test_battery_low_sends_at_once_then_a_flat_tag_goes_silent() -> None:
    centre = short_battery_run(acking_until=3700.0)
    tag = centre.tag
    assert centre.timeline()[-4:] == [
        (2880.0, 8, "fixes [2460, 2520, 2580, 2640, 2700, 2760, 2820, 2880]"),
        (2880.0, 9, status(GpsFlags.BATTERY_LOW, battery=20)),
        (3000.0, 10, "fixes [2940, 3000]"),
        (3000.0, 11, status(GpsFlags.BATTERY_LOW, battery=17)),
    ]
    assert tag.battery_pct == 0.0
    assert tag.next_deadline() == float("inf")
    # Deaf and dumb while flat, on both ports.
    heard = tag.nmea_sentences
    ack, sentences = command(0, Ack(11)), fix_sentences(3800.0, *HOME, SATELLITES, HDOP)
    tag.receive(3800.0, ack, "uplink")
    tag.receive(3800.0, sentences, GNSS)
    tag.tick(86400.0)
    assert tag.drain() == b""
    assert (tag.ignored_while_off, tag.nmea_sentences) == (len(ack) + len(sentences), heard)


def test_charging_revives_a_flat_tag_with_its_queue() -> None:
    centre = short_battery_run(acking_until=2990.0)  # the 3000 upload is never acked before it dies
    tag = centre.tag
    assert [t for t, f in centre.received if f.seq == 10] == [3000.0, 3030.0, 3090.0, 3210.0, 3450.0]
    tag.tick(4500.0)  # the next resend was due at 3930, but a flat tag sends nothing
    assert tag.drain() == b""
    centre.acking = True
    tag.set_charging(5000.0, True)
    centre.collect(5000.0)
    # Overdue once, not once per missed minute: the retransmission, then the upload due since 3600.
    assert centre.timeline()[-4:] == [
        (5000.0, 10, "fixes [2940, 3000]"),
        (5000.0, 11, status(GpsFlags.BATTERY_LOW, battery=17)),
        (5000.0, 12, "fixes [3060, 3120, 3180, 3240, 3300, 3360, 3420, 3480, 3540]"),
        (5000.0, 13, status(GpsFlags.CHARGING | GpsFlags.NO_FIX | GpsFlags.BATTERY_LOW, battery=0)),
    ]
    centre.run(5000.0 + 1800.0)
    assert tag.battery_pct == pytest.approx(25.0)  # half an hour at 50% an hour
    assert centre.fix_times() == [*times(60, 3540, 60), *times(5060, 6800, 60)]
    charging = GpsFlags.CHARGING
    assert [(t, s) for t, s in centre.statuses() if t > 5000.0] == [
        (5600.0, GpsStatus(9, charging | GpsFlags.BATTERY_LOW)),
        (6200.0, GpsStatus(17, charging | GpsFlags.BATTERY_LOW)),
        (6800.0, GpsStatus(25, charging)),
    ]
    assert len(tag.queue) == 0


def test_charging_clears_low_and_unplugging_drains_to_low_again() -> None:
    centre = Centre(make_tag(battery_life_hours=1.0))
    centre.run(2880.0)
    assert centre.tag.flags == GpsFlags.BATTERY_LOW
    centre.tag.set_charging(2900.0, True)
    # At 50% an hour, 72 s adds 1%: from 19.4% to just over 20%.
    centre.run(2972.0)
    assert centre.tag.flags == GpsFlags.CHARGING
    centre.tag.set_charging(2972.0, False)
    low_at = 2972.0 + (centre.tag.battery_pct - 20) * 36.0  # 100% an hour drains 1% in 36 s
    centre.run(3000.0)
    after = [(t, s.flags) for t, s in centre.statuses() if t > 2972.0]
    assert after == [(pytest.approx(low_at), GpsFlags.BATTERY_LOW), (3000.0, GpsFlags.BATTERY_LOW)]


# --- NMEA input and configuration ---------------------------------------------


def checksummed(body: bytes) -> bytes:
    """``$body*CS``, with the checksum right."""
    checksum = 0
    for byte in body:
        checksum ^= byte
    return b"$%s*%02X" % (body, checksum)


def test_malformed_nmea_is_counted_not_raised() -> None:
    tag = make_tag()
    good = fix_sentences(10.0, *HOME, SATELLITES, HDOP)
    gga = good.split(b"\r\n")[0]
    bad = [
        (b"garbage", "noise"),  # no "$": not a sentence at all
        (gga[:-2] + b"00", "checksum"),  # checksum does not match
        (gga.split(b"*")[0], "checksum"),  # no checksum at all
        (checksummed(b"GPXYZ,1,2"), "unparsed"),  # checksum right, sentence type unknown
        (checksummed(b"GPGGA,120000.00,51x0.0,N,00007.2,W,1,09,1.2,,,,,,"), "unparsed"),  # latitude not a number
        (checksummed(b"GPGGA,120000.00,5130.0,Q,00007.2,W,x,09,,,,,,,"), "unparsed"),  # quality not a number
        (b"$GP\xff\xfeGGA*00", "unparsed"),  # not ASCII
        (checksummed(b"GPGGA,120000.00,9130.0,N,00007.2,W,1,09,1.2,,,,,,"), "range"),  # north of the pole
        (b"$GPGGA," + b"9" * 200, "overlong"),  # longer than any sentence
    ]
    tag.receive(10.0, b"\r\n".join(line for line, _ in bad) + b"\r\n", GNSS)
    tag.receive(10.0, b"\r\n\r\n" + good[:30], GNSS)  # blank lines, then a good pair split mid-sentence
    tag.receive(10.0, good[30:], GNSS)
    assert (tag.nmea_rejected, tag.nmea_sentences) == (Counter(reason for _, reason in bad), 2)
    assert tag.latest is not None and (tag.latest.lat, tag.latest.lon) == pytest.approx(HOME)
    rng = np.random.default_rng(5)
    for _ in range(200):
        tag.receive(10.0, rng.integers(0, 256, int(rng.integers(1, 120)), dtype=np.uint8).tobytes(), GNSS)
    assert tag.nmea_rejected.total() > len(bad)


def test_an_overlong_line_split_across_chunks_is_one_rejection() -> None:
    tag = make_tag()
    tag.receive(1.0, b"$GPGGA," + b"1" * 100, GNSS)
    tag.receive(1.0, b"1" * 100, GNSS)
    tag.receive(1.0, b"1\r\n" + fix_sentences(1.0, *HOME, SATELLITES, HDOP), GNSS)
    assert (tag.nmea_rejected, tag.nmea_sentences) == ({"overlong": 1}, 2)


def gga(quality: int, lat: str = "5130.00000", lon: str = "00007.20000") -> bytes:
    """A GGA sentence at ``quality``; the default position is HOME, 51 30' N 0 7.2' W."""
    fields = ("120000.00", lat, "N", lon, "W", str(quality), f"{SATELLITES:02d}", f"{HDOP:.2f}", *[""] * 6)
    return pynmea2.GGA("GP", "GGA", fields).render(newline=True).encode("ascii")


def fix_after(*sentences: bytes) -> GpsTag:
    """A tag that is given ``sentences`` at 59 s and takes its fix at 60 s."""
    tag = make_tag()
    for sentence in sentences:
        tag.receive(59.0, sentence, GNSS)
    tag.tick(60.0)
    return tag


# GGA quality per NMEA 0183 (2.3 on; table at logiqx.github.io/gps-wizard/nmea/lookups/quality.html,
# and the standard's note 1 as quoted in Epson's GPGGA reference): 0 no fix; 1 SPS, 2 differential,
# 3 PPS, 4 RTK fixed, 5 RTK float are satellite fixes ("fix valid"); 6 estimated (dead reckoning),
# 7 manual input, 8 simulator are not a fix of the wearer; anything else is not in the standard.
@pytest.mark.parametrize("quality", [1, 2, 3, 4, 5])
def test_a_satellite_fix_of_any_kind_is_a_fix(quality: int) -> None:
    tag = fix_after(gga(quality))
    assert tag.flags == NONE
    assert tag.latest is not None and (tag.latest.lat, tag.latest.lon) == pytest.approx(HOME)
    assert (tag.nmea_rejected, tag.nmea_sentences) == ({}, 1)


@pytest.mark.parametrize("quality", [6, 7, 8, 9])
def test_dead_reckoning_manual_simulated_or_unknown_quality_is_no_fix_and_counted(quality: int) -> None:
    # The good fix half a second before is fresh enough to take: the later GGA must withdraw it.
    tag = fix_after(fix_sentences(58.5, *HOME, SATELLITES, HDOP), gga(quality))
    assert tag.flags == GpsFlags.NO_FIX
    assert (tag.nmea_rejected, tag.nmea_sentences) == ({"quality": 1}, 2)  # the good GGA and RMC


@pytest.mark.parametrize(
    ("lat", "lon"),
    [
        ("5160.00000", "00007.20000"),  # 51 60' would read as 52 degrees
        ("5130.00000", "00060.00000"),
        ("5199.99999", "00007.20000"),
        ("5130.00000", "00075.50000"),
    ],
)
def test_minutes_of_sixty_or_more_are_rejected_and_counted(lat: str, lon: str) -> None:
    tag = fix_after(gga(1, lat, lon))
    assert tag.latest is None
    assert tag.flags == GpsFlags.NO_FIX
    assert (tag.nmea_rejected, tag.nmea_sentences) == ({"minutes": 1}, 0)


def test_minutes_just_under_sixty_are_a_position() -> None:
    tag = fix_after(gga(1, "5159.99999", "00059.99999"))
    assert tag.latest is not None
    assert (tag.latest.lat, tag.latest.lon) == pytest.approx((51 + 59.99999 / 60, -59.99999 / 60))
    assert tag.flags == NONE


SENTENCE = gga(1)


@pytest.mark.parametrize(
    ("chunks", "rejected"),
    [
        ([b"\x00garbage" + SENTENCE], {"noise": 1}),
        ([b"\r\n\x00\x00junk\r\n\xff" + SENTENCE], {"noise": 2}),  # a noise run per line
        ([b"x" * 300 + SENTENCE], {"noise": 1}),  # long noise is still noise, not an overlong sentence
        ([b"$GPRMC,1200\xff\x00" + SENTENCE], {"truncated": 1}),  # a sentence cut short by the next "$"
        ([b"$GPGGA," + b"1" * 100 + SENTENCE], {"overlong": 1}),
        ([b"\x00gar", b"bage$GPG", SENTENCE[4:30], b"", SENTENCE[30:]], {"noise": 1}),  # one run over chunks
        ([SENTENCE[:20], b"\x00" + SENTENCE], {"truncated": 1}),
    ],
)
def test_noise_before_a_dollar_resyncs_on_it(chunks: list[bytes], rejected: dict[str, int]) -> None:
    tag = fix_after(*chunks)
    assert tag.latest is not None and (tag.latest.lat, tag.latest.lon) == pytest.approx(HOME)
    assert tag.flags == NONE
    assert (tag.nmea_rejected, tag.nmea_sentences) == (rejected, 1)


def test_config_sets_intervals_and_is_acked() -> None:
    centre = Centre(make_tag())
    centre.run(100.0)
    centre.speak(100.0)  # a real module speaks every second; here, just before the config
    config = Config({ConfigParam.FIX_INTERVAL_MS: 30_000, ConfigParam.UPLOAD_INTERVAL_MS: 120_000})
    centre.tag.receive(100.0, command(5, config))
    assert StreamDecoder().feed(centre.tag.drain()) == [Frame(DEVICE_ID, 0, 100_000, Ack(5))]
    centre.run(240.0)
    # The new fix interval counts from the last fix (60): due at once, at 100.
    assert centre.timeline() == [
        (120.0, 0, "fixes [60, 100]"),
        (120.0, 1, status(NONE)),
        (240.0, 2, "fixes [130, 160, 190, 220]"),
        (240.0, 3, status(NONE)),
    ]


def test_config_sets_rest_and_violation_cadence_and_replaces_zones() -> None:
    zone = Zone(3, ZoneKind.EXCLUSION, *e7(HOME), 50)
    rest = {ConfigParam.REST_AFTER_MS: 120_000, ConfigParam.REST_FIX_INTERVAL_MS: 300_000}
    centre = Centre(make_tag(upload_interval_s=3600.0), sky=at_home)
    centre.tag.receive(0.0, command(1, Config(rest)))
    centre.run(1000.0)
    centre.tag.receive(1000.0, command(2, Config({ConfigParam.VIOLATION_FIX_INTERVAL_MS: 5_000}, zones=(zone,))))
    centre.run(1100.0)
    centre.tag.receive(1100.0, command(3, Config()))  # no zones any more
    centre.run(3600.0)
    assert centre.fix_times() == [
        *times(60, 180, 60),  # still since 60: at rest from 180, then every 5 min
        480.0,
        780.0,
        1080.0,  # in the new zone: sent at once, and every 5 s from here
        *times(1085, 1100, 5),
        1105.0,  # zones cleared: no violation, back to resting
        *times(1405, 3505, 300),
    ]
    assert [t for t, _ in centre.statuses()] == [1080.0, 3600.0]


# --- on the bench -----------------------------------------------------------


def test_standalone_tag_and_gnss_report_the_bench_walk() -> None:
    machine = build_standalone("gps-tag", DEVICE_ID, 0.0, PARAMS, np.random.default_rng(11))
    decoder = StreamDecoder()
    frames = []
    while (t := machine.next_deadline()) <= 600.0:
        machine.tick(t)
        frames += [(t, f) for f in decoder.feed(machine.drain())]
    assert [(t, f.seq, type(f.message)) for t, f in frames] == [(600.0, 0, GpsFixBatch), (600.0, 1, GpsStatus)]
    fixes = frames[0][1].message.fixes
    assert list(fixes["time_ms"]) == [int(t * 1000) for t in times(60, 600, 60)]
    # Each fix is the sentence of the second before, within a few cep90 of the walk.
    for fix in fixes:
        truth = bench_walk(fix["time_ms"] / 1000 - 1.0)
        assert metres_between(truth.lat_deg, truth.lon_deg, fix["lat_e7"] / 1e7, fix["lon_e7"] / 1e7) < 40.0
    assert set(fixes["satellites"]) == {PARAMS.gnss.satellites_open}
    assert frames[1][1].message == GpsStatus(100, NONE)
