"""The detector: telemetry records in, alerts out. Pure: no SimPy, no I/O, no clock of its own.

Processing time is the receive time of the record being processed; when no
record comes, the caller moves time on with ``advance(now)`` (the injected
clock). Records must come in receive-time order; their event times may be
late, duplicated and out of order, as store-and-forward makes them.

Each record passes the same stages: duplicate check (per device, a window of
recent sequence numbers), the subject's event-time watermark (a record more
than the allowed lateness behind its subject's newest is counted late, and
still applied), contact tracking, then the rule for its kind.
"""

from __future__ import annotations

import bisect
import math
from collections.abc import Iterable
from dataclasses import dataclass, field

from sim.detector.alerts import Alert, AlertBook, AlertKey, AlertKind, AlertUpdate
from sim.detector.cases import Case, CaseBook, FittedDevice
from sim.detector.policy import Policy
from sim.detector.telemetry import Kind, Telemetry
from sim.detector.timers import Timers

SEQ_WINDOW = 64
_SEQ_MASK = (1 << SEQ_WINDOW) - 1
_REBOOT = Kind.DEVICE_REBOOT


@dataclass
class DetectorStats:
    records: int = 0
    duplicates: int = 0
    late: int = 0  # more than the allowed lateness behind the subject's newest record
    # Older than the newest record its rule had applied, among those a rule keeps a history
    # for (presence records, alcohol readings, GPS uploads with a fix on the wrong side):
    # merged into it (a breach it reveals is raised late), or, beyond the allowed lateness, not.
    merged_late: int = 0
    unmerged_late: int = 0
    unknown_device: int = 0  # from a device no case names
    fixes: int = 0


@dataclass(slots=True)
class SubjectState:
    case: Case
    newest_event: float = -math.inf  # the event-time watermark is this less the allowed lateness


@dataclass(slots=True)
class DeviceState:
    fitted: FittedDevice
    case: Case
    subject: SubjectState
    silent_after: float | None  # the no-contact threshold for its kind; None: not heard directly
    last_heard: float | None = None  # receive time
    silence_armed: bool = False
    seq_hi: int | None = None
    seq_mask: int = 0
    on_backup: bool = False  # as the newest record says
    power_known_at: float = -math.inf  # event time of the record ``on_backup`` came from
    # (event time, on backup) at each change, in time order: what the power was at any moment.
    power_changes: list[tuple[float, bool]] = field(default_factory=list)
    rebooted_at: float = -math.inf
    battery_low: bool = False
    silence_alert: bool = False  # a no-contact kind of alert is open for this device

    def on_backup_at(self, t: float) -> bool:
        i = bisect.bisect_right(self.power_changes, (t, True)) - 1
        return self.power_changes[i][1] if i >= 0 else False


class Detector:
    def __init__(self, policy: Policy, cases: CaseBook | Iterable[Case], start: float) -> None:
        # Late imports would hide a cycle; the rules take the detector as their context.
        from sim.detector.rules.alcohol import AlcoholRule
        from sim.detector.rules.contact import ContactRule
        from sim.detector.rules.curfew import CurfewRule
        from sim.detector.rules.gps import GpsRule
        from sim.detector.rules.unit import UnitRule

        self.policy = policy
        self._lateness = policy.allowed_lateness_s
        self.cases = cases if isinstance(cases, CaseBook) else CaseBook(cases)
        self.now = start
        self.book = AlertBook()
        self.timers = Timers()
        self.stats = DetectorStats()
        self.subjects = {s: SubjectState(case) for s, case in self.cases.by_subject.items()}
        self.devices = {
            d: DeviceState(fitted, case, self.subjects[case.subject], ContactRule.silence_threshold(policy, fitted))
            for d, (case, fitted) in self.cases.device_of.items()
        }
        self.contact = ContactRule(self)
        self.curfew = CurfewRule(self)
        self.unit = UnitRule(self)
        self.gps = GpsRule(self)
        self.alcohol = AlcoholRule(self)
        self._handlers = {
            Kind.TAG_LEAVE: self.curfew.on_leave,
            Kind.TAG_RETURN: self.curfew.on_return,
            Kind.STRAP_TAMPER: self.unit.on_tamper,
            Kind.BODY_TAMPER: self.unit.on_tamper,
            Kind.TAMPER_CLEARED: self.unit.on_tamper_cleared,
            Kind.UNIT_MOVED: self.unit.on_moved,
            Kind.MAINS_LOST: self.unit.on_mains_lost,
            Kind.MAINS_RESTORED: self.unit.on_mains_restored,
            Kind.BACKUP_BATTERY_LOW: self.unit.on_backup_low,
            Kind.STATUS_CHECK: self.unit.observe,
            Kind.INSTALLATION: self.unit.observe,
            Kind.GPS_FIXES: self.gps.on_fixes,
            Kind.GPS_STATUS: self.gps.on_status,
            Kind.ALCOHOL_READING: self.alcohol.on_reading,
        }

    # --- the streaming API ------------------------------------------------------

    def feed(self, records: Iterable[Telemetry]) -> list[AlertUpdate]:
        """Process records (in receive-time order); the alert updates they caused."""
        admit, handlers = self.admit_fields, self._handlers
        for record in records:
            device = admit(record.device, record.kind, record.seq, record.event_time, record.receive_time)
            if device is not None:
                handler = handlers.get(record.kind)
                if handler is not None:
                    handler(device, record)
        return self.book.take_updates()

    def advance(self, now: float) -> list[AlertUpdate]:
        """Move processing time on to ``now``; the updates that deadlines before it caused."""
        self._run_timers(now)
        self.now = max(self.now, now)
        return self.book.take_updates()

    @property
    def alerts(self) -> list[Alert]:
        """Every alert raised so far, in the order raised."""
        return self.book.raised

    # --- stages -------------------------------------------------------------------

    def admit_fields(self, device_id: int, kind: Kind, seq: int, event_time: float, t: float) -> DeviceState | None:
        """Every stage but the rule, for a record received at ``t``: time, duplicates,
        lateness, contact. The record's device, or None if it goes no further (unknown
        device, duplicate). Every record passes here, so it is written for speed and
        takes fields, not a record: the batch path need not build one."""
        if t < self.now:
            raise ValueError(
                f"record from device {device_id} seq {seq} received at {t} comes after time {self.now}: "
                "records must be fed in receive-time order"
            )
        heap = self.timers.heap
        if heap and heap[0][0] < t:
            self._run_timers(t)
        self.now = t
        device = self.devices.get(device_id)
        if device is None:
            self.stats.unknown_device += 1
            return None
        if kind is _REBOOT:
            device.seq_hi, device.seq_mask, device.rebooted_at = None, 0, event_time
        else:
            hi = device.seq_hi
            if hi is None:
                device.seq_hi, device.seq_mask = seq, 1
            else:
                ahead = (seq - hi + 32768) % 65536 - 32768
                if ahead > 0:
                    device.seq_mask = (device.seq_mask << ahead | 1) & _SEQ_MASK
                    device.seq_hi = seq
                elif ahead <= -SEQ_WINDOW or device.seq_mask >> -ahead & 1:
                    # Seen already; or so far back that, as devices resend in order, it is a stale copy.
                    self.stats.duplicates += 1
                    return None
                else:
                    device.seq_mask |= 1 << -ahead
        self.stats.records += 1
        subject = device.subject
        if event_time < subject.newest_event - self._lateness:
            self.stats.late += 1
        elif event_time > subject.newest_event:
            subject.newest_event = event_time
        if device.last_heard is None or t > device.last_heard:  # the batch path may have noted a later upload
            device.last_heard = t
        if device.silence_alert or (not device.silence_armed and device.silent_after is not None):
            self.contact.heard_again(device, t, event_time)
        return device

    def _run_timers(self, now: float) -> None:
        """Fire every deadline before ``now``: one at exactly ``now`` waits, since a
        record received at ``now`` still counts before it (contact at the deadline is
        not silence)."""
        while (due := self.timers.pop_due(now)) is not None:
            at, action, arg = due
            self.now = max(self.now, at)
            action(arg)

    # --- shared by the rules ------------------------------------------------------

    def key(self, subject: int, kind: AlertKind, scope: int = 0) -> AlertKey | None:
        """Where a condition's alert is tracked; None when the policy tracks nothing."""
        return (subject, kind, scope) if self.policy.track_conditions else None

    def leave_cause(self, unit: DeviceState, event_time: float) -> str | None:
        """A known cause that explains a leave this base unit reported at ``event_time``, if
        the policy inhibits: the unit's state then, not now. Only a reboot does (the unit has
        not yet heard its tag again). Mains loss does not: a unit on its backup battery still
        hears the tag, so the leave it reports is real, and "unplug the unit and go out" is
        the breach an inhibition would hide. Mains loss explains silence (``ContactRule``)."""
        if not self.policy.inhibit:
            return None
        if 0 <= event_time - unit.rebooted_at <= self.policy.reboot_inhibit_s:
            return f"base unit {unit.fitted.device} rebooted"
        return None
