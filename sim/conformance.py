"""Protocol conformance suite: what ``tagsim harness PORT`` runs against a device.

The harness plays the device's upstream (the centre, or the base unit for an
RF tag). It first pushes a configuration with short intervals so a run takes
seconds, learns the device's id and kind from what comes back, then checks:

- command ack: a configuration is applied and acked with its sequence number;
- sequence numbers: every new frame takes the next number, repeats only resend;
- retransmission: an unacked frame is resent, byte for byte, and stops once acked;
- CRC rejection: a command with a bad checksum is neither applied nor acked;
- resync after garbage: a good command right after line noise is acked;
- status on time: the device's periodic message keeps its configured interval;
- store-and-forward order: frames held back while unacked all arrive, in order.

RF tags do not store or resend their beacons, so the two checks about stored
frames do not apply to them and are reported as such.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass, field
from enum import Enum

from cobs import cobs

from firmware_stubs.protocol import (
    Ack,
    BaseEventCode,
    Config,
    ConfigParam,
    Frame,
    SEQ_MODULUS,
    MessageType,
    encode_frame,
    seq_diff,
)
from sim.device_session import DeviceSession, ExpectTimeout

KIND_BY_TYPE = {
    MessageType.RF_BEACON: "rf-tag",
    MessageType.BASE_UNIT_EVENT: "base-unit",
    MessageType.GPS_FIX_BATCH: "gps-tag",
    MessageType.GPS_STATUS: "gps-tag",
    MessageType.ALCOHOL_READING: "alcohol-tag",
}
IDENTIFY_TIMEOUT_S = 30.0
STORING_KINDS = {"base-unit", "gps-tag", "alcohol-tag"}


class Status(Enum):
    PASS = "pass"
    FAIL = "FAIL"
    NOT_APPLICABLE = "n/a"


@dataclass
class CheckResult:
    name: str
    status: Status
    detail: str
    evidence: str = ""


Outcome = tuple[Status, str]


@dataclass
class SuiteReport:
    port: str
    log_path: str
    device_id: int | None = None
    kind: str | None = None
    results: list[CheckResult] = field(default_factory=list)

    @property
    def passed(self) -> bool:
        return bool(self.results) and all(r.status is not Status.FAIL for r in self.results)

    def table(self) -> str:
        width = max(len(r.name) for r in self.results)
        who = f"device {self.device_id} ({self.kind})" if self.device_id is not None else "no device identified"
        lines = [f"tagsim conformance on {self.port}: {who}", ""]
        lines += [f"{r.name:<{width}}  {r.status.value:<4}  {r.detail}" for r in self.results]
        for r in self.results:
            if r.status is Status.FAIL and r.evidence:
                lines += ["", f"--- {r.name} ---", r.evidence]
        verdict = "all checks passed" if self.passed else "conformance FAILED"
        lines += ["", f"{verdict}; log: {self.log_path}"]
        return "\n".join(lines)


@dataclass(frozen=True)
class Timing:
    """How fast the harness asks the device to run, so a suite takes seconds."""

    interval_s: float = 0.5
    retransmit_s: float = 0.4
    noise_seed: int = 0

    def config(self) -> Config:
        ms = round(self.interval_s * 1000)
        return Config(
            {
                ConfigParam.BEACON_INTERVAL_MS: ms,
                ConfigParam.STATUS_INTERVAL_MS: ms,
                ConfigParam.UPLOAD_INTERVAL_MS: ms,
                ConfigParam.READING_INTERVAL_MS: ms,
                ConfigParam.FIX_INTERVAL_MS: max(1, ms // 2),
                ConfigParam.RETRANSMIT_TIMEOUT_MS: round(self.retransmit_s * 1000),
            }
        )

    @property
    def patience_s(self) -> float:
        """How long to wait for something the device should do within an interval."""
        return 4 * max(self.interval_s, self.retransmit_s) + 1.0


def heartbeat(kind: str) -> Callable[[Frame], bool]:
    """The message each kind sends every configured interval."""
    if kind == "base-unit":
        return lambda f: f.type is MessageType.BASE_UNIT_EVENT and f.message.code is BaseEventCode.STATUS_CHECK
    wanted = {"rf-tag": MessageType.RF_BEACON, "gps-tag": MessageType.GPS_STATUS, "alcohol-tag": MessageType.ALCOHOL_READING}[kind]
    return lambda f: f.type is wanted


class Suite:
    def __init__(self, session: DeviceSession, timing: Timing, kind: str | None = None) -> None:
        self.s = session
        self.timing = timing
        self.kind = kind
        self.report = SuiteReport(session.link.name, str(session.log_path))

    def run(self) -> SuiteReport:
        if not self._check(self.command_ack):
            return self.report
        self.report.device_id = self.s.device_id
        if not self._check(self.identify):
            return self.report
        for check in (self.retransmission, self.crc_rejection, self.resync_after_garbage, self.status_on_time, self.store_and_forward_order):
            self._check(check)
        self._check(self.sequence_numbers)
        return self.report

    def _check(self, check: Callable[[], Outcome]) -> bool:
        name = check.__name__.replace("_", " ")
        try:
            status, detail = check()
            evidence = self.s.evidence(detail) if status is Status.FAIL else ""
        except ExpectTimeout as exc:
            status, detail, evidence = Status.FAIL, str(exc).splitlines()[0], str(exc)
        self.report.results.append(CheckResult(name, status, detail, evidence))
        return status is not Status.FAIL

    # --- checks -----------------------------------------------------------------

    def command_ack(self) -> Outcome:
        self.s.auto_ack = True
        sent_at = self.s.elapsed
        seq = self.s.send(self.timing.config())
        got = self.s.expect(lambda f: _is_ack(f, seq), self.timing.patience_s, f"an ack of configuration seq {seq}")
        return (Status.PASS, f"configuration seq {seq} acked in {1000 * (got.t - sent_at):.0f} ms")

    def identify(self) -> Outcome:
        if self.kind is None:
            # Generous: a device that ignored the configuration still shows itself in time.
            got = self.s.expect(lambda f: f.type in KIND_BY_TYPE, IDENTIFY_TIMEOUT_S, "a frame that shows the device kind")
            self.kind = KIND_BY_TYPE[got.frame.type]
        self.report.kind = self.kind
        return (Status.PASS, f"device {self.s.device_id} is a device of kind {self.kind}")

    def retransmission(self) -> Outcome:
        if self.kind not in STORING_KINDS:
            return (Status.NOT_APPLICABLE, "beacons are not stored or resent")
        self.s.auto_ack = False
        self.s.skip_seen()
        first = self.s.expect(_is_data, self.timing.patience_s, "a new frame to withhold the ack of")
        again = self.s.expect(
            lambda f: f.seq == first.frame.seq and f.type is first.frame.type,
            4 * self.timing.retransmit_s + 1.0,
            f"seq {first.frame.seq} resent while unacked",
        )
        if again.wire != first.wire:
            return (Status.FAIL, f"seq {first.frame.seq} was resent with different bytes")
        waited = again.t - first.t
        self.s.ack(first.frame.seq)
        self.s.auto_ack = True
        self.s.skip_seen()
        quiet_from = self.s.elapsed + 0.2  # a resend already on the wire when the ack left
        self.s.listen(3 * self.timing.retransmit_s + 0.5)
        late = [a for a in self.s.arrivals if a.t > quiet_from and _is_data(a.frame) and a.frame.seq == first.frame.seq]
        if late:
            return (Status.FAIL, f"seq {first.frame.seq} still resent {late[-1].t - quiet_from:.2f} s after its ack")
        return (Status.PASS, f"seq {first.frame.seq} resent after {waited:.2f} s unacked, quiet once acked")

    def crc_rejection(self) -> Outcome:
        seq, wire = self.s.command_frame(self.timing.config())
        mark = self.s.skip_seen()
        self.s.send_raw(_with_bad_crc(wire))
        self.s.listen(self.timing.patience_s / 2)
        if any(_is_ack(a.frame, seq) for a in self.s.since(mark)):
            return (Status.FAIL, f"a configuration with a bad CRC (seq {seq}) was acked")
        return (Status.PASS, f"configuration seq {seq} with a bad CRC was not acked")

    def resync_after_garbage(self) -> Outcome:
        # Random bytes, then the start of a frame that never ends: the worst a line can do.
        # Seeded, so a failing run can be repeated byte for byte.
        noise = random.Random(self.timing.noise_seed).randbytes(64) + encode_frame(Frame(self.s.device_id or 0, 0, 0, Ack(0)))[:9]
        self.s.skip_seen()
        self.s.send_raw(noise)
        sent_at = self.s.elapsed
        seq = self.s.send(self.timing.config())
        got = self.s.expect(lambda f: _is_ack(f, seq), self.timing.patience_s, f"an ack of configuration seq {seq} sent after noise")
        return (Status.PASS, f"seq {seq} acked {1000 * (got.t - sent_at):.0f} ms after {len(noise)} bytes of noise")

    def status_on_time(self) -> Outcome:
        assert self.kind is not None
        is_beat = heartbeat(self.kind)
        self.s.auto_ack = True
        self.s.skip_seen()
        window = 6 * self.timing.interval_s + self.timing.patience_s
        beats: dict[int, int] = {}  # seq -> event time, first copy only
        for a in self.s.listen(window):
            if is_beat(a.frame):
                beats.setdefault(a.frame.seq, a.frame.event_time_ms)
        times = sorted(beats.values())
        if len(times) < 4:
            return (Status.FAIL, f"{len(times)} periodic messages in {window:.1f} s, expected at least 4")
        gaps = [(b - a) / 1000 for a, b in zip(times, times[1:])]
        limit = self.timing.interval_s * 1.2 + 0.05
        if max(gaps) > limit:
            return (Status.FAIL, f"gap of {max(gaps):.3f} s between periodic messages, limit {limit:.3f} s")
        return (Status.PASS, f"{len(times)} periodic messages, gaps {min(gaps):.3f} to {max(gaps):.3f} s")

    def store_and_forward_order(self) -> Outcome:
        if self.kind not in STORING_KINDS:
            return (Status.NOT_APPLICABLE, "beacons are not stored")
        # Withheld acks stand for an outage: what the device sends meanwhile is lost.
        self.s.auto_ack = False
        self.s.skip_seen()
        last_acked = self.s.acked_upto
        self.s.listen(4 * self.timing.interval_s)
        self.s.auto_ack = True
        mark = self.s.skip_seen()
        self.s.listen(4 * self.timing.interval_s + 4 * self.timing.retransmit_s)
        firsts: dict[int, Frame] = {}
        for a in self.s.since(mark):
            if _is_data(a.frame):
                firsts.setdefault(a.frame.seq, a.frame)
        if len(firsts) < 3:
            return (Status.FAIL, f"only {len(firsts)} stored frames came through after the outage")
        base = next(iter(firsts)) if last_acked is None else (last_acked + 1) % SEQ_MODULUS
        ordered = sorted(firsts, key=lambda s: seq_diff(s, base))
        if ordered[0] != base:
            return (Status.FAIL, f"delivery resumed at seq {ordered[0]}, not at the oldest unacked {base}")
        span = seq_diff(ordered[-1], ordered[0]) + 1
        if span != len(ordered):
            missing = span - len(ordered)
            return (Status.FAIL, f"{missing} sequence numbers missing between {ordered[0]} and {ordered[-1]}")
        stamps = [firsts[s].event_time_ms for s in ordered]
        if stamps != sorted(stamps):
            return (Status.FAIL, "event times go backwards in sequence order")
        return (Status.PASS, f"{len(ordered)} frames held through an outage, delivered in order from seq {base}")

    def sequence_numbers(self) -> Outcome:
        seen: dict[int, bytes] = {}
        last: int | None = None
        for a in self.s.sequenced():
            seq = a.frame.seq
            if seq in seen:
                if seen[seq] != a.wire and self.kind in STORING_KINDS:
                    return (Status.FAIL, f"seq {seq} reused for a different frame")
                continue
            if last is not None and seq_diff(seq, last) != 1:
                return (Status.FAIL, f"seq {seq} follows {last}: numbers must rise by one")
            seen[seq] = a.wire
            last = seq
        if len(seen) < 2:
            return (Status.FAIL, f"only {len(seen)} sequenced frames seen")
        return (Status.PASS, f"{len(seen)} frames, each new one the next number")


def _is_ack(frame: Frame, seq: int) -> bool:
    return frame.type is MessageType.ACK and frame.message.seq == seq


def _with_bad_crc(wire: bytes) -> bytes:
    body = bytearray(cobs.decode(wire[1:-1]))
    body[-1] ^= 0x01
    return b"\x00" + cobs.encode(bytes(body)) + b"\x00"


def _is_data(frame: Frame) -> bool:
    return frame.type is not MessageType.ACK


def run_conformance(session: DeviceSession, timing: Timing | None = None, kind: str | None = None) -> SuiteReport:
    return Suite(session, timing or Timing(), kind).run()
