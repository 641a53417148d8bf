"""The real-time runner: an rf-tag on a PTY, configured over the line, beaconing in Unix time."""

from __future__ import annotations

import os
import select
import termios
import threading
import time

import numpy as np
import pytest

from firmware_stubs.device import UPLINK
from firmware_stubs.kinds import build_standalone
from firmware_stubs.protocol import Ack, Config, ConfigParam, Frame, RfBeacon, StreamDecoder, encode_frame
from firmware_stubs.wiring import Assembly
from sim.links import SerialLink
from sim.realtime import LineStats, open_pty, run_machine, set_unix_clock
from sim.scenario import default_device_params

pytestmark = pytest.mark.pty

DEVICE_ID = 42
INTERVAL_MS = 200
CONFIG_SEQ = 7


def build_tag(now: float):
    return build_standalone("rf-tag", DEVICE_ID, now, default_device_params(), np.random.default_rng(1))


def collect_frames(link: SerialLink, decoder: StreamDecoder, done, timeout: float = 5.0) -> list[tuple[float, Frame]]:
    """(arrival time, frame) until ``done(frames)`` or the timeout."""
    frames: list[tuple[float, Frame]] = []
    deadline = time.monotonic() + timeout
    while not done(frames) and time.monotonic() < deadline:
        chunk = link.read(0.05)
        frames += [(time.monotonic(), f) for f in decoder.feed(chunk)]
    return frames


def test_configured_tag_acks_then_beacons_at_the_interval_in_unix_time():
    now = time.monotonic()
    tag = build_tag(now)
    set_unix_clock(tag, now)
    master, path = open_pty()
    stop = threading.Event()
    result: list[LineStats] = []
    try:
        with SerialLink(path) as link:
            runner = threading.Thread(target=lambda: result.append(run_machine(tag, master, stop)), daemon=True)
            runner.start()
            config = Config({ConfigParam.BEACON_INTERVAL_MS: INTERVAL_MS})
            link.write(encode_frame(Frame(DEVICE_ID, CONFIG_SEQ, 0, config)))
            beacons_wanted = 5
            frames = collect_frames(
                link, StreamDecoder(), lambda fs: sum(isinstance(f.message, RfBeacon) for _, f in fs) >= beacons_wanted
            )
            stop.set()
            runner.join(2.0)
    finally:
        os.close(master)

    assert not runner.is_alive(), "run_machine did not stop"
    assert frames, "nothing came back over the PTY"
    _, first = frames[0]
    assert first.message == Ack(CONFIG_SEQ) and first.device_id == DEVICE_ID
    beacons = [(at, f) for at, f in frames if isinstance(f.message, RfBeacon)]
    assert len(beacons) >= beacons_wanted, f"only {len(beacons)} beacons: {frames}"
    stamps = [f.event_time_ms for _, f in beacons]
    assert all(abs(b - a - INTERVAL_MS) <= 1 for a, b in zip(stamps, stamps[1:])), stamps
    assert abs(stamps[-1] - time.time() * 1000) < 2000, "stamps are not Unix milliseconds"
    arrivals = [at for at, _ in beacons]
    # Each beacon is sent in wall-clock time, not all at once.
    assert arrivals[-1] - arrivals[0] >= (len(beacons) - 1) * INTERVAL_MS / 1000 * 0.8
    assert [f.seq for _, f in beacons] == list(range(beacons[0][1].seq, beacons[0][1].seq + len(beacons)))
    assert result and result[0].bytes_in > 0 and result[0].bytes_dropped == 0


class Flood:
    """A machine that always has far more to send than a PTY buffers."""

    def __init__(self, now: float) -> None:
        self.now = now

    def receive(self, now: float, data: bytes, port: str = UPLINK) -> None:
        pass

    def tick(self, now: float) -> None:
        self.now = now

    def drain(self, port: str = UPLINK) -> bytes:
        return b"\x55" * 65536

    def next_deadline(self) -> float:
        return self.now + 0.01


def test_unread_bytes_are_dropped_and_counted_without_stalling_the_loop():
    master, path = open_pty()
    holder = os.open(path, os.O_RDWR | os.O_NOCTTY)  # a client that never reads
    stop = threading.Event()
    result: list[LineStats] = []
    runner = threading.Thread(target=lambda: result.append(run_machine(Flood(time.monotonic()), master, stop)))
    runner.daemon = True  # a blocking write would hang it; the test must fail, not hang
    try:
        runner.start()
        time.sleep(0.3)
        stop.set()
        runner.join(2.0)
    finally:
        os.close(holder)
        os.close(master)
    assert not runner.is_alive(), "run_machine blocked writing to a full line"
    (stats,) = result
    assert stats.bytes_out > 0
    assert stats.bytes_dropped > stats.bytes_out


def test_open_pty_gives_a_raw_line():
    master, path = open_pty()
    client = os.open(path, os.O_RDWR | os.O_NOCTTY)
    try:
        lflag = termios.tcgetattr(client)[3]
        assert not lflag & (termios.ECHO | termios.ICANON)
        os.write(master, b"\x00\r\n\x03")  # no line to wait for, nothing translated or signalled
        assert select.select([client], [], [], 2.0)[0], "nothing reached the client"
        assert os.read(client, 16) == b"\x00\r\n\x03"
    finally:
        os.close(client)
        os.close(master)


def test_unix_clock_is_set_on_the_device_inside_an_assembly():
    now = 1000.0
    tag = build_tag(now)
    set_unix_clock(Assembly(tag, [], []), now)
    assert abs(tag.clock.read_ms(now) - time.time() * 1000) < 100
