"""The live centre: a real stub on a PTY, through the run's receiver and detectors."""

from __future__ import annotations

import time
from collections.abc import Callable

import pytest

from firmware_stubs.kinds import UnknownKind
from firmware_stubs.protocol import Frame, GpsStatus, StreamDecoder, encode_frame
from firmware_stubs.wiring import Assembly
from sim.centre.live import listen, listen_on_port, port_case
from sim.detector.alerts import AlertKind, AlertUpdate
from sim.detector.cases import CaseBook, DeviceKind
from sim.detector.telemetry import Kind
from sim.links import LinkError, SerialLink
from sim.policies import load_policy
from sim.realtime import serving_machine
from sim.scenario import default_device_params

UNIT = 40
# Centre seconds per wall second: the standard policy's ten-minute tamper hold in under a second.
SPEEDUP = 1000.0


def fast_clock() -> Callable[[], float]:
    start = time.time()
    return lambda: start + (time.time() - start) * SPEEDUP


@pytest.mark.pty
def test_a_cut_strap_on_a_port_is_acked_recorded_and_alerted_by_every_policy(severed_unit: Assembly) -> None:
    """The unit's STRAP_TAMPER goes through the receiver (acked back down the line, so the
    unit's queue empties) to each policy: naive alerts at once; standard holds it for its
    confirmation from the tamper's event time, which the injected clock runs through while the
    line is silent."""
    machine = severed_unit
    unit = machine.device.device_id
    policies = [load_policy("naive"), load_policy("standard")]
    clock = fast_clock()
    updates: list[tuple[str, AlertUpdate]] = []
    case = port_case("base-unit", unit, clock())
    with serving_machine(machine, "base-unit") as path, SerialLink(path) as link:
        heard = listen(link, CaseBook([case]), policies, 3 * policies[1].tamper_confirm_s, clock,
                       on_update=lambda name, update: updates.append((name, update)))

    tampers = [r for r in heard.records if r.kind is Kind.STRAP_TAMPER]
    assert tampers and tampers[0].device == unit
    assert heard.stats.acks_sent >= 1 and len(machine.device.queue) == 0  # type: ignore[attr-defined]
    raised = {name: [a for a in alerts if a.kind is AlertKind.STRAP_TAMPER and a.raised_at is not None]
              for name, alerts in heard.alerts.items()}
    assert raised["naive"][0].raised_at == pytest.approx(tampers[0].receive_time)
    assert raised["standard"][0].raised_at == pytest.approx(tampers[0].event_time + policies[1].tamper_confirm_s)
    assert {name for name, _ in updates} == {"naive", "standard"}


def test_the_case_of_a_base_unit_on_a_port_names_its_tag_too() -> None:
    case = port_case("base-unit", UNIT, 5.0)
    assert [(d.device, d.kind) for d in case.devices] == [(UNIT, DeviceKind.BASE_UNIT), (UNIT + 1, DeviceKind.RF_TAG)]
    assert case.devices[0].report_interval_s == default_device_params().base_unit.status_interval_s
    with pytest.raises(UnknownKind, match="pager"):
        port_case("pager", UNIT, 5.0)


def test_a_port_that_is_not_there_is_one_line_naming_it() -> None:
    with pytest.raises(LinkError) as caught:
        listen_on_port("/dev/tagsim-no-such-port", "base-unit", UNIT, [load_policy("standard")], 1.0)
    message = str(caught.value)
    assert message == "cannot open /dev/tagsim-no-such-port: no such file or directory"


class _Line:
    """A line that delivers ``data`` at its first read, then nothing; keeps what is written."""

    name = "line"

    def __init__(self, data: bytes) -> None:
        self.data, self.written = data, b""

    def read(self, timeout: float) -> bytes:
        data, self.data = self.data, b""
        return data

    def write(self, data: bytes) -> None:
        self.written += data


@pytest.mark.parametrize(("fitted_new", "acked"), [(False, [1]), (True, [65535])])
def test_a_centre_told_the_device_is_new_does_not_ack_over_a_lost_seq_0(fitted_new: bool, acked: list[int]) -> None:
    # Seq 0 lost on the way, seq 1 through: acking 1 would make the device drop 0 for good.
    case = port_case("gps-tag", 7, 0.0)
    line = _Line(encode_frame(Frame(7, 1, 1_700_000_000_000, GpsStatus(80))))
    ticks = iter(range(100))
    listen(line, CaseBook([case]), [load_policy("naive")], 3.0, clock=lambda: float(next(ticks)), fitted_new=fitted_new)
    assert [f.message.seq for f in StreamDecoder().feed(line.written)] == acked
