"""The conformance suite, in virtual time: good stubs pass, each broken device fails its check."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np
import pytest
from cobs import cobs

from firmware_stubs.alcohol_tag import AlcoholTag, SkinSample
from firmware_stubs.kinds import KINDS, build_standalone
from firmware_stubs.protocol import crc16
from firmware_stubs.reliable import ReliableUplink
from firmware_stubs.rf_tag import RfTag
from firmware_stubs.wiring import Machine
from sim.conformance import Status, SuiteReport, run_conformance
from sim.device_session import DeviceSession
from sim.links.virtual_time import MachineLink, VirtualClock
from sim.scenario import default_device_params

START = 1_000.0


def run_suite(machine: Machine, clock: VirtualClock, tmp_path: Path) -> SuiteReport:
    with DeviceSession(MachineLink(machine, clock), tmp_path / "session.log", clock=clock) as session:
        return run_conformance(session)


def statuses(report: SuiteReport) -> dict[str, Status]:
    return {r.name: r.status for r in report.results}


def sober(at: float) -> SkinSample:
    return SkinSample(0.0, 33.0)


def alcohol_tag(clock: VirtualClock, **uplink: object) -> AlcoholTag:
    params = default_device_params()
    return AlcoholTag(5, clock.now, params.alcohol_tag, dataclasses.replace(params.uplink, **uplink), sober)


@pytest.mark.parametrize("kind", KINDS)
def test_every_stub_passes(kind: str, tmp_path: Path) -> None:
    clock = VirtualClock(START)
    machine = build_standalone(kind, 40, clock.now, default_device_params(), np.random.default_rng(1))
    report = run_suite(machine, clock, tmp_path)
    assert report.passed, report.table()
    assert report.kind == kind and report.device_id == 40
    expected_na = set() if kind != "rf-tag" else {"retransmission", "store and forward order"}
    assert {n for n, s in statuses(report).items() if s is Status.NOT_APPLICABLE} == expected_na


def test_report_table_names_every_check_and_the_log(tmp_path: Path) -> None:
    clock = VirtualClock(START)
    report = run_suite(alcohol_tag(clock), clock, tmp_path)
    table = report.table()
    for name in ("command ack", "sequence numbers", "retransmission", "crc rejection",
                 "resync after garbage", "status on time", "store and forward order"):
        assert name in table
    assert table.endswith(f"all checks passed; log: {tmp_path / 'session.log'}")


class NeverResends(ReliableUplink):
    def poll(self, now: float) -> list[bytes]:
        return [wire for wire in super().poll(now) if self.retransmissions == 0]


def test_device_that_never_resends_fails_retransmission(tmp_path: Path) -> None:
    clock = VirtualClock(START)
    tag = alcohol_tag(clock)
    tag.queue.__class__ = NeverResends
    report = run_suite(tag, clock, tmp_path)
    assert statuses(report)["retransmission"] is Status.FAIL
    failure = next(r for r in report.results if r.name == "retransmission")
    # The evidence a reader needs: frames in hex, the time, the log.
    assert "last " in failure.evidence and "at t=" in failure.evidence
    assert f"log: {tmp_path / 'session.log'}" in failure.evidence
    assert not report.passed


class RepairsBadCrc:
    """A device whose receiver accepts frames whatever their checksum."""

    def __init__(self, inner: Machine) -> None:
        self.inner = inner

    def receive(self, now: float, data: bytes, port: str = "uplink") -> None:
        parts = []
        for part in data.split(b"\x00"):
            try:
                body = cobs.decode(part)
            except cobs.DecodeError:
                parts.append(part)
                continue
            fixed = body[:-2] + crc16(body[:-2]).to_bytes(2, "big")
            parts.append(cobs.encode(fixed))
        self.inner.receive(now, b"\x00".join(parts), port)

    def tick(self, now: float) -> None:
        self.inner.tick(now)

    def drain(self, port: str = "uplink") -> bytes:
        return self.inner.drain(port)

    def next_deadline(self) -> float:
        return self.inner.next_deadline()


def test_device_that_ignores_crc_fails_crc_rejection(tmp_path: Path) -> None:
    clock = VirtualClock(START)
    report = run_suite(RepairsBadCrc(alcohol_tag(clock)), clock, tmp_path)
    assert statuses(report)["crc rejection"] is Status.FAIL


class LosesFrameAfterNoise(RepairsBadCrc):
    """A receiver that needs a quiet line: bytes with no frame end poison the next frame."""

    def receive(self, now: float, data: bytes, port: str = "uplink") -> None:
        if not data.endswith(b"\x00"):
            self.poisoned = True
            return
        if getattr(self, "poisoned", False):
            self.poisoned = False
            return
        self.inner.receive(now, data, port)


def test_device_that_cannot_resync_fails_resync(tmp_path: Path) -> None:
    clock = VirtualClock(START)
    report = run_suite(LosesFrameAfterNoise(alcohol_tag(clock)), clock, tmp_path)
    assert statuses(report)["resync after garbage"] is Status.FAIL


def test_device_that_ignores_its_interval_fails_status_on_time(tmp_path: Path) -> None:
    clock = VirtualClock(START)
    params = default_device_params()
    tag = RfTag(9, clock.now, params.rf_tag, params.uplink, np.random.default_rng(0))
    tag._configure = lambda config: None  # type: ignore[method-assign]
    report = run_suite(tag, clock, tmp_path)
    assert statuses(report)["status on time"] is Status.FAIL


def test_device_that_loses_stored_frames_fails_store_and_forward(tmp_path: Path) -> None:
    clock = VirtualClock(START)
    report = run_suite(alcohol_tag(clock, queue_capacity=2, window=1), clock, tmp_path)
    assert statuses(report)["store and forward order"] is Status.FAIL


class SkipsNumbers(ReliableUplink):
    def take_seq(self) -> int:
        super().take_seq()
        return super().take_seq()


def test_device_that_skips_sequence_numbers_fails_them(tmp_path: Path) -> None:
    clock = VirtualClock(START)
    tag = alcohol_tag(clock)
    tag.queue.__class__ = SkipsNumbers
    report = run_suite(tag, clock, tmp_path)
    assert statuses(report)["sequence numbers"] is Status.FAIL


def test_device_that_never_acks_fails_first_and_stops(tmp_path: Path) -> None:
    clock = VirtualClock(START)
    tag = alcohol_tag(clock)
    tag._on_uplink_frame = lambda frame: None  # type: ignore[method-assign]
    report = run_suite(tag, clock, tmp_path)
    assert [(r.name, r.status) for r in report.results] == [("command ack", Status.FAIL)]
    assert "expected an ack of configuration seq 1" in report.results[0].detail
    assert "no frames received" in report.results[0].evidence
