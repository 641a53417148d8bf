"""Timeline tests for the home monitoring unit, in virtual time: which events go up, stamped when, sent when."""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import replace

import numpy as np
import pytest

from firmware_stubs.base_unit import RADIO, BaseUnit, standalone
from firmware_stubs.device import UPLINK, DeviceClock
from firmware_stubs.kinds import build_standalone
from firmware_stubs.protocol import (
    Ack,
    BaseEventCode,
    BaseUnitEvent,
    Config,
    ConfigParam,
    CurfewWindow,
    Frame,
    RfBeacon,
    StreamDecoder,
    TagFlags,
    UnitFlags,
    encode_frame,
)
from firmware_stubs.rf_tag import RfTag
from firmware_stubs.wiring import Assembly, Machine, Wire
from sim.scenario import default_device_params

UNIT_ID = 700
TAG_ID = UNIT_ID + 1  # what standalone() pairs
DEFAULTS = default_device_params()
# The figures these timelines are written against, whatever the seeds say today.
PARAMS = replace(
    DEFAULTS,
    uplink=replace(DEFAULTS.uplink, queue_capacity=2500, window=8, retransmit_timeout_s=30.0, max_backoff_s=120.0),
    rf_tag=replace(DEFAULTS.rf_tag, beacon_interval_min_s=15.0, beacon_interval_max_s=15.0),
    base_unit=replace(
        DEFAULTS.base_unit,
        leave_time_s=300.0,
        status_interval_s=3600.0,
        backup_battery_hours=24.0,
        backup_battery_low_pct=20,
        motion_alarm_window_s=120.0,
        backup_battery_recharge_hours=12.0,
    ),
)

INSTALL = BaseEventCode.INSTALLATION
LEAVE = BaseEventCode.TAG_LEAVE
RETURN = BaseEventCode.TAG_RETURN
STRAP = BaseEventCode.STRAP_TAMPER
BODY = BaseEventCode.BODY_TAMPER
MOVED = BaseEventCode.UNIT_MOVED
LOST = BaseEventCode.MAINS_LOST
RESTORED = BaseEventCode.MAINS_RESTORED
LOW = BaseEventCode.BACKUP_BATTERY_LOW
STATUS = BaseEventCode.STATUS_CHECK
CLEARED = BaseEventCode.TAMPER_CLEARED

NONE = UnitFlags.NONE
PRESENT = UnitFlags.TAG_PRESENT
CURFEW = UnitFlags.IN_CURFEW
VIOLATION = UnitFlags.VIOLATION
BACKUP = UnitFlags.ON_BACKUP_BATTERY

# Sim time 0 is 1970-01-01 00:00, a Thursday, on an unset device clock.
WEDNESDAY, THURSDAY = 1 << 2, 1 << 3
# 19:00 for 12 h: runs past midnight to 07:00 the next day.
OVERNIGHT = 19 * 3600, 12 * 3600


def make_unit(clock: DeviceClock | None = None, **changes: float) -> BaseUnit:
    return BaseUnit(UNIT_ID, 0.0, replace(PARAMS.base_unit, **changes), PARAMS.uplink, TAG_ID, clock)


def bench(seed: int = 1, **changes: float) -> Assembly:
    params = replace(PARAMS, base_unit=replace(PARAMS.base_unit, **changes))
    return standalone(UNIT_ID, 0.0, params, np.random.default_rng(seed))


def beacon(seq: int, flags: TagFlags = TagFlags.NONE, tag_id: int = TAG_ID) -> bytes:
    return encode_frame(Frame(tag_id, seq, 0, RfBeacon(flags)))


class Centre:
    """The far end of the uplink: drives the machine at every deadline it names,
    decodes what it sends and when, and acks what arrives while the link is up."""

    def __init__(self, machine: Machine, link_up: bool = True) -> None:
        self.machine = machine
        self.link_up = link_up
        self.received: list[tuple[float, Frame]] = []
        self._decoder = StreamDecoder()
        self._command_seq = 0

    def run(self, until: float) -> None:
        while (t := self.machine.next_deadline()) < until:
            self.tick(t)
        self.tick(until)

    def at(self, t: float, action: Callable[..., None], *args: object) -> None:
        """Run to ``t``, then ``action(t, *args)``, then let the machine answer at ``t``."""
        self.run(t)
        action(t, *args)
        self.tick(t)

    def configure(self, t: float, config: Config) -> None:
        self._command_seq += 1
        self.at(t, self.machine.receive, encode_frame(Frame(UNIT_ID, self._command_seq, 0, config)))

    def events(self, *codes: BaseEventCode) -> list[tuple[float, BaseEventCode, float, UnitFlags]]:
        """(sent at, code, event time in s, unit flags) of each event sent, in order."""
        return [
            (t, frame.message.code, frame.event_time_ms / 1000, frame.message.unit_flags)
            for t, frame in self.received
            if isinstance(frame.message, BaseUnitEvent) and (not codes or frame.message.code in codes)
        ]

    def messages(self) -> list[BaseUnitEvent]:
        return [frame.message for _, frame in self.received if isinstance(frame.message, BaseUnitEvent)]

    def tick(self, t: float) -> None:
        """One tick at ``t``, however late: a driver that overslept."""
        self.machine.tick(t)
        frames = self._decoder.feed(self.machine.drain())
        self.received += [(t, frame) for frame in frames]
        events = [frame for frame in frames if isinstance(frame.message, BaseUnitEvent)]
        if self.link_up and events:
            self.machine.receive(t, encode_frame(Frame(UNIT_ID, 0, 0, Ack(events[-1].seq))))
            self.tick(t)


class Air:
    """The radio path from tag to unit: out of range, beacons are lost."""

    def __init__(self) -> None:
        self.in_range = True
        self._carrying = bytearray()

    def receive(self, now: float, data: bytes, port: str = UPLINK) -> None:
        if self.in_range:
            self._carrying += data

    def tick(self, now: float) -> None:
        pass

    def drain(self, port: str = UPLINK) -> bytes:
        out = bytes(self._carrying)
        self._carrying.clear()
        return out

    def next_deadline(self) -> float:
        return math.inf


# --- installation, leave, return --------------------------------------------------


def test_installation_goes_up_at_once() -> None:
    centre = Centre(make_unit())
    centre.run(0.0)
    assert centre.events() == [(0.0, INSTALL, 0.0, PRESENT)]
    ((_, frame),) = centre.received
    assert frame.device_id == UNIT_ID and frame.seq == 0
    assert frame.message == BaseUnitEvent(INSTALL, TAG_ID, TagFlags.NONE, PRESENT, 100)


def test_leave_declared_exactly_leave_time_after_the_last_beacon() -> None:
    unit = make_unit()
    centre = Centre(unit)
    for seq, t in enumerate((10.0, 20.0, 100.0)):
        centre.at(t, unit.receive, beacon(seq), RADIO)
    centre.run(399.999)
    assert unit.tag_present
    assert unit.next_deadline() == 400.0
    centre.run(400.0)
    assert not unit.tag_present
    centre.run(3600.0)
    assert centre.events() == [
        (0.0, INSTALL, 0.0, PRESENT),
        (3600.0, LEAVE, 400.0, NONE),
        (3600.0, STATUS, 3600.0, NONE),
    ]


def test_one_late_tick_does_everything_due_in_time_order() -> None:
    unit = make_unit()
    centre = Centre(unit)
    centre.at(10000.0, unit.receive, beacon(0), RADIO)
    centre.at(10050.0, unit.set_mains, False)
    centre.tick(90000.0)
    hours = [3600.0 * h for h in range(3, 26)]  # 10800 to 90000
    assert centre.events() == [
        (0.0, INSTALL, 0.0, PRESENT),
        (3600.0, LEAVE, 300.0, NONE),
        (3600.0, STATUS, 3600.0, NONE),
        (7200.0, STATUS, 7200.0, NONE),
        (10050.0, RETURN, 10000.0, PRESENT),
        (10050.0, LOST, 10050.0, BACKUP | PRESENT),
        (90000.0, LEAVE, 10300.0, BACKUP),
        *[(90000.0, STATUS, t, BACKUP) for t in hours if t < 79170.0],
        (90000.0, LOW, 79170.0, BACKUP),
        *[(90000.0, STATUS, t, BACKUP) for t in hours if t > 79170.0],
    ]


def test_return_on_the_next_beacon_and_the_leave_timer_restarts() -> None:
    unit = make_unit()
    centre = Centre(unit)
    centre.at(100.0, unit.receive, beacon(0), RADIO)
    centre.at(1000.0, unit.receive, beacon(1), RADIO)
    centre.run(3600.0)
    assert centre.events() == [
        (0.0, INSTALL, 0.0, PRESENT),
        (3600.0, LEAVE, 400.0, NONE),
        (3600.0, RETURN, 1000.0, PRESENT),
        (3600.0, LEAVE, 1300.0, NONE),
        (3600.0, STATUS, 3600.0, NONE),
    ]


# --- curfew ----------------------------------------------------------------------------


def test_leave_and_return_in_curfew_go_at_once_as_violations() -> None:
    unit = make_unit()
    centre = Centre(unit)
    # Wednesday's overnight window covers the small hours of Thursday.
    centre.configure(0.0, Config(curfews=(CurfewWindow(WEDNESDAY, *OVERNIGHT),)))
    centre.at(1000.0, unit.receive, beacon(0), RADIO)
    centre.run(3600.0)
    assert centre.events() == [
        (0.0, INSTALL, 0.0, PRESENT),
        (300.0, LEAVE, 300.0, CURFEW | VIOLATION),
        (1000.0, RETURN, 1000.0, PRESENT | CURFEW | VIOLATION),
        (1300.0, LEAVE, 1300.0, CURFEW | VIOLATION),
        (3600.0, STATUS, 3600.0, CURFEW),
    ]


@pytest.mark.parametrize(
    ("days", "offset_s", "violation"),
    [
        pytest.param(WEDNESDAY, 0, True, id="wednesday-window-past-midnight"),
        pytest.param(WEDNESDAY, 7 * 3600 - 301, True, id="last-second-of-window"),
        pytest.param(WEDNESDAY, 7 * 3600 - 300, False, id="window-end-is-exclusive"),
        pytest.param(THURSDAY, 0, False, id="thursday-window-starts-that-evening"),
    ],
)
def test_leave_is_a_violation_only_inside_a_curfew_window(days: int, offset_s: int, violation: bool) -> None:
    unit = make_unit(clock=DeviceClock(offset_s=offset_s))
    centre = Centre(unit)
    centre.configure(0.0, Config(curfews=(CurfewWindow(days, *OVERNIGHT),)))
    centre.run(3600.0)
    if violation:
        assert centre.events(LEAVE) == [(300.0, LEAVE, 300.0 + offset_s, CURFEW | VIOLATION)]
    else:
        assert centre.events(LEAVE) == [(3600.0, LEAVE, 300.0 + offset_s, NONE)]


def test_a_leave_before_curfew_goes_up_when_curfew_starts_with_the_tag_still_gone() -> None:
    unit = make_unit(status_interval_s=24 * 3600.0)
    centre = Centre(unit)
    # Thursday 1970-01-01: curfew 19:00; the tag is never heard, so it is gone at 300 s.
    centre.configure(0.0, Config(curfews=(CurfewWindow(THURSDAY, *OVERNIGHT),)))
    centre.run(19 * 3600.0 + 60)
    assert centre.events(LEAVE) == [(19 * 3600.0, LEAVE, 300.0, NONE)]  # sent at 19:00, not at the daily check


def test_no_curfew_start_upload_while_the_tag_is_home() -> None:
    assembly = bench(status_interval_s=6 * 3600.0)
    centre = Centre(assembly)
    centre.configure(0.0, Config(curfews=(CurfewWindow(THURSDAY, *OVERNIGHT),)))
    centre.run(19 * 3600.0 + 60)
    assert [at for at, *_ in centre.events()] == [0.0, 6 * 3600.0, 12 * 3600.0, 18 * 3600.0]


# --- tamper ------------------------------------------------------------------------------


def test_tamper_flags_reported_once_as_they_appear_and_the_ack_clears_the_tags_latch() -> None:
    assembly = bench()
    (tag,) = assembly.peers
    centre = Centre(assembly)
    centre.at(50.0, tag.pulse, TagFlags.PARTIAL_CUT)
    centre.run(60.0)  # the tag beacons every 15 s
    assert tag.flags == TagFlags.NONE  # latch cleared by the unit's ack of the 60 s beacon
    centre.at(100.0, tag.set_condition, TagFlags.STRAP_SEVERED, True)
    centre.at(130.0, tag.set_condition, TagFlags.CASE_OPEN, True)
    centre.run(3600.0)
    assert centre.events() == [
        (0.0, INSTALL, 0.0, PRESENT),
        (60.0, STRAP, 60.0, PRESENT | VIOLATION),
        (75.0, CLEARED, 75.0, PRESENT),  # the acked pulse is gone from the next beacon
        (105.0, STRAP, 105.0, PRESENT | VIOLATION),
        (135.0, BODY, 135.0, PRESENT | VIOLATION),
        (3600.0, STATUS, 3600.0, PRESENT),
    ]
    severed_and_open = TagFlags.STRAP_SEVERED | TagFlags.CASE_OPEN
    assert [m.tag_flags for m in centre.messages()] == [
        TagFlags.NONE,
        TagFlags.PARTIAL_CUT,
        TagFlags.NONE,
        TagFlags.STRAP_SEVERED,
        severed_and_open,
        severed_and_open,
    ]


def test_tamper_while_out_of_range_is_reported_on_return() -> None:
    tag = RfTag(TAG_ID, 0.0, PARAMS.rf_tag, PARAMS.uplink, np.random.default_rng(1))
    unit = make_unit()
    air = Air()
    wires = [Wire(tag, UPLINK, air, UPLINK), Wire(air, UPLINK, unit, RADIO), Wire(unit, RADIO, tag, UPLINK)]
    centre = Centre(Assembly(unit, [tag, air], wires))
    centre.run(15.0)  # first beacon heard
    air.in_range = False
    centre.at(100.0, tag.pulse, TagFlags.PARTIAL_CUT)
    centre.run(400.0)
    assert tag.flags == TagFlags.PARTIAL_CUT  # nobody acked it
    air.in_range = True
    centre.run(3600.0)
    assert centre.events() == [
        (0.0, INSTALL, 0.0, PRESENT),
        (405.0, LEAVE, 315.0, NONE),  # held until the tamper forced an upload
        (405.0, RETURN, 405.0, PRESENT),
        (405.0, STRAP, 405.0, PRESENT | VIOLATION),
        (420.0, CLEARED, 420.0, PRESENT),
        (3600.0, STATUS, 3600.0, PRESENT),
    ]
    assert tag.flags == TagFlags.NONE


def test_the_radio_ack_answers_only_beacons_that_carry_a_tamper_flag() -> None:
    unit = make_unit()
    centre = Centre(unit)
    radio = StreamDecoder()
    centre.at(10.0, unit.receive, beacon(5), RADIO)
    assert unit.drain(RADIO) == b""
    centre.at(20.0, unit.receive, beacon(6, TagFlags.PARTIAL_CUT), RADIO)
    centre.at(30.0, unit.receive, beacon(7, TagFlags.PARTIAL_CUT), RADIO)  # still latched: no new event
    assert radio.feed(unit.drain(RADIO)) == [Frame(TAG_ID, 0, 20_000, Ack(6)), Frame(TAG_ID, 0, 30_000, Ack(7))]
    assert centre.events(STRAP) == [(20.0, STRAP, 20.0, PRESENT | VIOLATION)]


def test_beacons_from_another_tag_are_ignored() -> None:
    unit = make_unit()
    centre = Centre(unit)
    for seq in range(29):
        centre.at(10.0 * (seq + 1), unit.receive, beacon(seq, TagFlags.STRAP_SEVERED, tag_id=TAG_ID + 1), RADIO)
    # The paired tag's id on something that is not a beacon counts for nothing either.
    centre.at(295.0, unit.receive, encode_frame(Frame(TAG_ID, 0, 0, Ack(3))), RADIO)
    centre.run(3600.0)
    assert unit.ignored_frames == 30
    assert unit.drain(RADIO) == b""
    assert centre.events() == [
        (0.0, INSTALL, 0.0, PRESENT),
        (3600.0, LEAVE, 300.0, NONE),
        (3600.0, STATUS, 3600.0, NONE),
    ]


# --- power, battery, motion -------------------------------------------------------------


def test_mains_loss_battery_low_once_dead_at_zero_then_revived() -> None:
    unit = make_unit(status_interval_s=21600.0)
    centre = Centre(unit)
    centre.at(1000.0, unit.set_mains, False)
    centre.run(87399.0)
    assert unit.next_deadline() == 87400.0  # 24 h of backup from 1000 s
    centre.run(87400.0)
    assert unit.dead and unit.battery_pct == 0 and unit.next_deadline() == math.inf
    # Dead: deaf on both ports, mute, no motion sensor.
    centre.at(90000.0, unit.receive, beacon(0, TagFlags.STRAP_SEVERED), RADIO)
    centre.configure(90000.0, Config(params={ConfigParam.LEAVE_TIME_MS: 60_000}))
    centre.at(90000.0, unit.move)
    assert unit.drain(RADIO) == b""
    assert [t for t, _ in centre.received if t > 86400.0] == []
    centre.at(100000.0, unit.set_mains, True)
    centre.at(100010.0, unit.receive, beacon(1), RADIO)
    centre.run(121600.0)
    assert centre.events() == [
        (0.0, INSTALL, 0.0, PRESENT),
        (1000.0, LEAVE, 300.0, NONE),  # rides with the urgent mains loss
        (1000.0, LOST, 1000.0, BACKUP),
        (21600.0, STATUS, 21600.0, BACKUP),
        (43200.0, STATUS, 43200.0, BACKUP),
        (64800.0, STATUS, 64800.0, BACKUP),
        (86400.0, LOW, 70120.0, BACKUP),
        (86400.0, STATUS, 86400.0, BACKUP),
        # Revived: the status checks restart from mains, the leave is timed afresh.
        (121600.0, RESTORED, 100000.0, NONE),
        (121600.0, RETURN, 100010.0, PRESENT),
        (121600.0, LEAVE, 100310.0, NONE),
        (121600.0, STATUS, 121600.0, NONE),
    ]
    assert [m.battery_pct for m in centre.messages()] == [100, 100, 100, 76, 51, 26, 20, 1, 0, 0, 1, 50]


def test_a_dead_unit_keeps_its_store_and_sends_it_once_revived() -> None:
    assembly = bench(status_interval_s=21600.0)
    unit = assembly.device
    centre = Centre(assembly, link_up=False)
    centre.at(1000.0, unit.set_mains, False)
    centre.run(99999.0)
    assert unit.dead and unit.next_deadline() == math.inf
    assert [t for t, _ in centre.received if t > 87400.0] == []  # no retries from a dead modem
    centre.link_up = True
    centre.at(100000.0, unit.set_mains, True)
    centre.run(121600.0)
    after = [(t, frame.seq, frame.message.code) for t, frame in centre.received if t >= 100000.0]
    stored = [INSTALL, LOST, STATUS, STATUS, STATUS, LOW, STATUS]
    assert after == [(100000.0, seq, code) for seq, code in enumerate([*stored, RESTORED])] + [(121600.0, 8, STATUS)]
    # The tag beaconed throughout: the dead spell is no leave.
    assert centre.events(LEAVE, RETURN) == []


def test_battery_low_warns_once_a_discharge() -> None:
    unit = make_unit()
    centre = Centre(unit)
    centre.at(1000.0, unit.set_mains, False)
    # Back on mains too briefly to climb above the threshold: no second warning.
    centre.at(80000.0, unit.set_mains, True)
    centre.at(80100.0, unit.set_mains, False)
    centre.run(88000.0)
    assert unit.dead
    centre.at(90000.0, unit.set_mains, True)
    # Recharged full after 12 h; the next discharge warns again.
    centre.at(140000.0, unit.set_mains, False)
    centre.run(212400.0)
    assert centre.events(LOW) == [
        (72000.0, LOW, 70120.0, BACKUP),
        (212400.0, LOW, 209120.0, BACKUP),
    ]


@pytest.mark.parametrize(
    ("disconnect", "after_s", "alarm"),
    [
        ("mains", 0.0, True),
        ("mains", 120.0, True),
        ("mains", 121.0, False),
        ("line", 120.0, True),
        ("line", 121.0, False),
        (None, 0.0, False),
    ],
)
def test_motion_soon_after_a_disconnect_is_an_alarm(disconnect: str | None, after_s: float, alarm: bool) -> None:
    assembly = bench()
    unit = assembly.device
    centre = Centre(assembly)
    if disconnect == "mains":
        centre.at(1000.0, unit.set_mains, False)
    elif disconnect == "line":
        centre.at(1000.0, unit.set_line, False)
    moved_at = 1000.0 + after_s
    centre.at(moved_at, unit.move)
    centre.run(3600.0)
    flags = PRESENT | (BACKUP if disconnect == "mains" else NONE)
    if alarm:
        assert centre.events(MOVED) == [(moved_at, MOVED, moved_at, flags | VIOLATION)]
    else:
        assert centre.events(MOVED) == [(3600.0, MOVED, moved_at, flags)]


def test_line_dropping_again_while_down_does_not_reopen_the_window() -> None:
    unit = make_unit()
    centre = Centre(unit)
    centre.at(1000.0, unit.set_line, False)
    centre.at(1100.0, unit.set_line, False)
    centre.at(1200.0, unit.move)
    centre.run(3600.0)
    assert centre.events(MOVED) == [(3600.0, MOVED, 1200.0, NONE)]


# --- uploads -------------------------------------------------------------------------------


def test_status_checks_on_time_with_the_tag_in_range() -> None:
    machine = build_standalone("base-unit", UNIT_ID, 0.0, PARAMS, np.random.default_rng(3))
    centre = Centre(machine)
    centre.run(3 * 3600.0 + 1.0)
    assert centre.events() == [
        (0.0, INSTALL, 0.0, PRESENT),
        (3600.0, STATUS, 3600.0, PRESENT),
        (7200.0, STATUS, 7200.0, PRESENT),
        (10800.0, STATUS, 10800.0, PRESENT),
    ]


def test_store_and_forward_resends_in_order_until_acked() -> None:
    unit = make_unit()
    centre = Centre(unit, link_up=False)
    centre.at(100.0, unit.set_mains, False)
    centre.run(400.0)
    centre.link_up = True
    centre.run(460.0)
    assert len(unit.queue) == 0
    centre.at(500.0, unit.set_mains, True)
    centre.run(3600.0)
    sent = [(t, frame.seq, frame.message.code) for t, frame in centre.received]
    assert sent == [
        (0.0, 0, INSTALL),
        (30.0, 0, INSTALL),  # retransmit timeout 30 s, doubling to the 120 s cap
        (90.0, 0, INSTALL),
        (100.0, 1, LOST),
        (210.0, 0, INSTALL),
        (210.0, 1, LOST),
        (300.0, 2, LEAVE),  # an upload session is open, so it goes at once
        (330.0, 0, INSTALL),
        (330.0, 1, LOST),
        (330.0, 2, LEAVE),
        (450.0, 0, INSTALL),  # link up: this round is acked
        (450.0, 1, LOST),
        (450.0, 2, LEAVE),
        (3600.0, 3, RESTORED),
        (3600.0, 4, STATUS),
    ]
    copies: dict[int, set[Frame]] = {}
    for _, frame in centre.received:
        copies.setdefault(frame.seq, set()).add(frame)
    assert all(len(c) == 1 for c in copies.values())  # a resend is the same frame, event time and all


# --- configuration ----------------------------------------------------------------------------


def test_config_changes_status_interval_and_leave_time() -> None:
    unit = make_unit()
    centre = Centre(unit)
    centre.at(90.0, unit.receive, beacon(0), RADIO)
    config = Config(params={ConfigParam.STATUS_INTERVAL_MS: 600_000, ConfigParam.LEAVE_TIME_MS: 60_000})
    centre.configure(100.0, config)
    centre.run(1300.0)
    assert [(t, f.message) for t, f in centre.received if isinstance(f.message, Ack)] == [(100.0, Ack(1))]
    assert centre.events() == [
        (0.0, INSTALL, 0.0, PRESENT),
        (700.0, LEAVE, 150.0, NONE),
        (700.0, STATUS, 700.0, NONE),
        (1300.0, STATUS, 1300.0, NONE),
    ]


def test_config_replaces_curfews_only_when_it_carries_some() -> None:
    unit = make_unit()
    centre = Centre(unit)
    centre.configure(0.0, Config(curfews=(CurfewWindow(0x7F, 0, 86400),)))  # all day, every day
    centre.configure(10.0, Config(params={ConfigParam.STATUS_INTERVAL_MS: 3_600_000}))
    centre.configure(400.0, Config(curfews=(CurfewWindow(WEDNESDAY, 0, 3600),)))  # not this Thursday
    centre.at(500.0, unit.receive, beacon(0), RADIO)
    centre.run(3600.0)
    assert centre.events() == [
        (0.0, INSTALL, 0.0, PRESENT),
        (300.0, LEAVE, 300.0, CURFEW | VIOLATION),
        (3600.0, RETURN, 500.0, PRESENT),
        (3600.0, LEAVE, 800.0, NONE),
        (3600.0, STATUS, 3600.0, NONE),
    ]
