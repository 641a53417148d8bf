"""A live centre on a real port: a device's bytes through the run's receiver and detectors.

What the simulation does for a fleet, done for one device on a line: every
chunk read from a ``sim.links`` transport (a PTY, a serial port,
``socket://host:port``) goes through the centre's ``Receiver``, whose acks go
straight back down the same line, and its records into one ``Detector`` per
policy, with processing time from an injected clock. So a device on a port (a
stub, or real hardware) is judged by exactly the code that judges the fleet.

Times are the centre's clock (Unix seconds by default) for receive and
processing, and the device's own stamps (Unix milliseconds, once a device is
set by TIME_SYNC, as the served stubs are) for events: curfews are read in
UTC, as ``Curfew`` says.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from firmware_stubs.kinds import KINDS, UnknownKind
from sim.centre.receiver import Receiver, ReceiverStats
from sim.detector.alerts import Alert, AlertUpdate
from sim.detector.cases import Case, CaseBook, Curfew, DeviceKind, FittedDevice
from sim.detector.engine import Detector
from sim.detector.policy import Policy
from sim.detector.telemetry import Telemetry
from sim.links import SerialLink
from sim.links.base import Link
from sim.scenario import default_device_params

# Longest one read waits, so deadlines (a tamper confirmed, a device gone quiet) fall due on
# time while the line is silent.
READ_WAIT_S = 0.05

# The subject a port's case stands for: there is only the one.
PORT_SUBJECT = 0


@dataclass
class Listened:
    """What the centre made of a port: its records in receive order, each policy's alerts."""

    records: list[Telemetry] = field(default_factory=list)
    alerts: dict[str, list[Alert]] = field(default_factory=dict)
    stats: ReceiverStats = field(default_factory=ReceiverStats)


def listen(link: Link, cases: CaseBook, policies: Sequence[Policy], duration_s: float,
           clock: Callable[[], float] = time.time,
           on_update: Callable[[str, AlertUpdate], None] | None = None, fitted_new: bool = False) -> Listened:
    """Take in what arrives on ``link`` for ``duration_s`` seconds of ``clock``, acking it
    and judging it by every one of ``policies``; ``on_update`` hears each alert change as it
    happens, with its policy's name. ``fitted_new``: every device of ``cases`` was just fitted
    and numbers from 0, so a lost seq 0 is waited for (``Receiver.fitted_new``). Raises
    ``LinkError`` if the line fails."""
    receiver = Receiver(cases)
    if fitted_new:
        for device in cases.device_of:
            receiver.fitted_new(device)
    start = clock()
    detectors = {p.name: Detector(p, cases, start=start) for p in policies}
    result = Listened(stats=receiver.stats)
    now = start
    while now < start + duration_s:
        data = link.read(min(READ_WAIT_S, start + duration_s - now))
        now = max(now, clock())  # a wall clock stepped back must not take the detectors back
        records = receiver.receive(link.name, data, now) if data else []
        acks = receiver.take_acks(link.name)
        if acks:
            link.write(acks)
        result.records += records
        for name, detector in detectors.items():
            updates = detector.feed(records) + detector.advance(now)
            if on_update is not None:
                for update in updates:
                    on_update(name, update)
    result.alerts = {name: detector.alerts for name, detector in detectors.items()}
    return result


def port_case(kind: str, device_id: int, installed_at: float, curfews: Sequence[Curfew] = ()) -> Case:
    """The case of a device of ``kind`` fitted at ``installed_at``, as the served stubs come:
    a base unit stands for its tag too, id ``device_id + 1``. Raises ``UnknownKind``."""
    if kind not in KINDS:
        raise UnknownKind(kind)
    params = default_device_params()
    kinds = [(DeviceKind(kind), device_id)]
    if kinds[0][0] is DeviceKind.BASE_UNIT:
        kinds.append((DeviceKind.RF_TAG, device_id + 1))
    devices = tuple(FittedDevice(i, k, installed_at, report_interval_s=params.report_interval_s(k.value)) for k, i in kinds)
    return Case(PORT_SUBJECT, devices, tuple(curfews))


def listen_on_port(port: str, kind: str, device_id: int, policies: Sequence[Policy], duration_s: float,
                   baud: int = 115200, curfews: Sequence[Curfew] = (),
                   on_update: Callable[[str, AlertUpdate], None] | None = None, fitted_new: bool = False) -> Listened:
    """``tagsim listen``: the device of ``kind`` and ``device_id`` at ``port`` (a path or a
    pyserial URL), judged by ``policies`` for ``duration_s`` wall seconds.

    Raises, each with one line for the user: ``LinkError`` naming the port (not there, not
    openable, failed mid-run), ``UnknownKind``.
    """
    case = port_case(kind, device_id, time.time(), curfews)
    with SerialLink(port, baud) as link:
        return listen(link, CaseBook([case]), policies, duration_s, on_update=on_update, fitted_new=fitted_new)
