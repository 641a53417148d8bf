"""The simulated GNSS module: what it writes, when, and how wrong it is."""

from __future__ import annotations

import math
from dataclasses import replace
from datetime import UTC, date, datetime, time

import numpy as np
import pynmea2
import pytest
from scipy.stats import binom

from firmware_stubs.gnss import (
    EARTH_RADIUS_M,
    NMEA,
    GnssModule,
    GnssTruth,
    accuracy_from_hdop,
    fix_sentences,
    hdop_for,
    metres_between,
    no_fix_sentences,
    offset_deg,
)
from sim.scenario import default_device_params

DEFAULTS = default_device_params()
# The figures these tests are written against, whatever the seeds say today.
PARAMS = replace(DEFAULTS.gnss, cep90_m=10.0, output_interval_s=1.0, satellites_open=9, uere_m=5.17)
HOME = GnssTruth(51.5, -0.12, open_sky=True)
INDOORS = GnssTruth(51.5, -0.12, open_sky=False)
EPOCH = datetime(2024, 3, 1, 23, 59, 58, tzinfo=UTC).timestamp()


def module(truth: GnssTruth = HOME, seed: int = 1, **changes: float) -> GnssModule:
    return GnssModule(0.0, replace(PARAMS, **changes), lambda t: truth, np.random.default_rng(seed), EPOCH)


def parse(data: bytes) -> list[pynmea2.NMEASentence]:
    text = data.decode("ascii")
    assert text.endswith("\r\n")
    return [pynmea2.parse(line, check=True) for line in text.split("\r\n")[:-1]]


def test_writes_a_gga_and_an_rmc_every_output_interval() -> None:
    gnss = module()
    assert gnss.next_deadline() == 1.0
    gnss.tick(0.5)
    assert gnss.drain(NMEA) == b""
    gnss.tick(3.5)
    sentences = parse(gnss.drain(NMEA))
    assert [s.sentence_type for s in sentences] == ["GGA", "RMC"] * 3
    # UTC is the epoch plus the module's time: 23:59:59, then past midnight into 2 March.
    stamps = [time(23, 59, 59), time(0, 0), time(0, 0, 1)]
    assert [s.timestamp for s in sentences[::2]] == [stamp.replace(tzinfo=UTC) for stamp in stamps]
    assert [s.datestamp for s in sentences[1::2]] == [date(2024, 3, 1), date(2024, 3, 2), date(2024, 3, 2)]
    assert gnss.next_deadline() == 4.0
    assert gnss.outputs == 3


def test_a_fix_in_the_open_reports_satellites_and_the_hdop_of_its_accuracy() -> None:
    gnss = module()
    gnss.tick(1.0)
    gga, rmc = parse(gnss.drain(NMEA))
    assert (gga.gps_qual, int(gga.num_sats)) == (1, 9)
    assert float(gga.horizontal_dil) == round(hdop_for(10.0, 5.17), 2)
    assert accuracy_from_hdop(float(gga.horizontal_dil), 5.17) == pytest.approx(10.0, abs=0.05)
    assert (rmc.status, rmc.mode_indicator) == ("A", "A")
    assert (rmc.latitude, rmc.longitude) == (gga.latitude, gga.longitude)
    assert metres_between(HOME.lat_deg, HOME.lon_deg, gga.latitude, gga.longitude) < 4 * 10.0


def test_90_percent_of_fixes_fall_within_cep90() -> None:
    draws = 2000
    gnss = module(seed=20240301)
    gnss.tick(float(draws))
    ggas = [s for s in parse(gnss.drain(NMEA)) if s.sentence_type == "GGA"]
    assert len(ggas) == draws
    errors = np.array([metres_between(HOME.lat_deg, HOME.lon_deg, s.latitude, s.longitude) for s in ggas])
    within = int(np.sum(errors <= PARAMS.cep90_m))
    # A correct model lands outside this band one run in a million; a wrong sigma
    # (a CEP50 or a 1-D 90% scaling) lands far outside it.
    low, high = binom.interval(1 - 1e-6, draws, 0.9)
    assert low <= within <= high, f"{within}/{draws} within cep90"
    # Unbiased: the mean displacement is near zero north and east.
    north = np.radians([s.latitude - HOME.lat_deg for s in ggas]) * EARTH_RADIUS_M
    sigma = PARAMS.cep90_m / math.sqrt(2 * math.log(10))
    assert abs(north.mean()) < 5 * sigma / math.sqrt(draws)


def test_no_open_sky_reports_no_fix() -> None:
    gnss = module(INDOORS)
    gnss.tick(1.0)
    gga, rmc = parse(gnss.drain(NMEA))
    assert (gga.gps_qual, gga.lat, gga.lon, gga.horizontal_dil) == (0, "", "", "")
    assert (rmc.status, rmc.lat, rmc.mode_indicator) == ("V", "", "N")


def test_southern_and_western_hemispheres_keep_their_sign() -> None:
    for lat, lon in ((-33.8568, 151.2153), (40.6892, -74.0445)):
        gga, _ = parse(fix_sentences(0.0, lat, lon, 7, 1.0))
        assert gga.latitude == pytest.approx(lat, abs=1e-6)
        assert gga.longitude == pytest.approx(lon, abs=1e-6)


def test_minutes_round_up_into_the_next_degree_not_to_sixty() -> None:
    gga, _ = parse(fix_sentences(59.999, 51.9999999999, -0.9999999999, 7, 1.0))
    assert (gga.lat, gga.lon) == ("5200.00000", "00100.00000")
    assert gga.timestamp == time(0, 1, tzinfo=UTC)


def test_no_fix_sentences_parse() -> None:
    gga, rmc = parse(no_fix_sentences(0.0))
    assert (gga.gps_qual, rmc.status) == (0, "V")


def test_same_seed_same_sentences() -> None:
    a, b = module(seed=7), module(seed=7)
    a.tick(10.0)
    b.tick(10.0)
    assert a.drain(NMEA) == b.drain(NMEA)


def test_input_is_counted_and_dropped() -> None:
    gnss = module()
    gnss.receive(2.0, b"$PUBX,40,GLL,0,0,0,0*5C\r\n", NMEA)
    assert gnss.ignored_bytes == 25
    assert gnss.outputs == 2  # receive also brings it up to date


def test_time_going_backwards_is_refused() -> None:
    gnss = module()
    gnss.tick(5.0)
    with pytest.raises(ValueError, match="backwards"):
        gnss.tick(4.0)


def test_offset_and_distance_agree() -> None:
    lat, lon = offset_deg(51.5, -0.12, 300.0, 400.0)
    assert metres_between(51.5, -0.12, lat, lon) == pytest.approx(500.0, rel=1e-4)
    assert metres_between(51.5, -0.12, 51.5, -0.12) == 0.0
