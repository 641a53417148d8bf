"""The detector: telemetry records in, alerts out. Pure: no SimPy, no I/O, no clock of its own.

Processing time is the receive time of the record being processed; when no
record comes, the caller moves time on with ``advance(now)`` (the injected
clock). Records must come in receive-time order; their event times may be
late, duplicated and out of order, as store-and-forward makes them.

Each record passes admission (``admit_fields``): the duplicate check (per
device, a ``SequenceWindow`` of recent sequence numbers), the subject's
event-time watermark (a record more than the allowed lateness behind its
subject's newest is counted late, and still applied), and contact tracking.
Then the rule for its kind (``sim.detector.rules``) judges it, seeing the
detector only through a ``RuleContext``. The alerts rules raise pass two
stages a policy may switch off (``Stages``, built here from the policy):
tracking, which keeps each condition one open alert, folding repeated raw
events into it, holding it in grace or for confirmation (off: every raw alarm
event is an alert of its own, the ``rules.raw`` variants), and inhibition
(``sim.detector.inhibit``; off: an inhibitor with no rules).

The batch path (``sim.detector.batch``) takes runs of clean GPS uploads
through admission at once, by ``admit_clean_run``.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from sim.detector.alerts import Alert, AlertBook, AlertUpdate
from sim.detector.cases import Case, CaseBook
from sim.detector.context import RuleContext, Stages
from sim.detector.inhibit import INHIBITIONS, Inhibitor
from sim.detector.policy import Policy
from sim.detector.rules.alcohol import AlcoholRule
from sim.detector.rules.contact import ContactRule
from sim.detector.rules.curfew import CurfewRule
from sim.detector.rules.gps import GpsRule
from sim.detector.rules.raw import RawAlcoholRule, RawCurfewRule, RawGpsRule, RawUnitRule
from sim.detector.rules.unit import UnitRule
from sim.detector.state import DetectorStats, DeviceState, SubjectState
from sim.detector.telemetry import Kind, Telemetry
from sim.detector.timers import Timers

_REBOOT = Kind.DEVICE_REBOOT
_BOOT = Kind.DEVICE_BOOT


@dataclass(frozen=True, slots=True)
class CleanRun:
    """GPS uploads of one tag after a lead upload, each with no fix on the wrong side, that
    streaming would take through admission only to count them, note them heard and move
    the tag's window (``sim.detector.batch`` finds them)."""

    lead_seq: int  # the lead's sequence number: the run follows it directly
    span: int  # sequence numbers from the lead to the last upload
    last_seq: int
    seq_bits: int  # the run's sequence numbers as a window mask below the last
    uploads: int  # uploads after the lead
    fixes: int  # their fixes
    first_event: float  # event time of the first upload after the lead
    last_event: float
    last_receive: float
    newest_fix: float


class Detector:
    def __init__(self, policy: Policy, cases: CaseBook | Iterable[Case], start: float) -> None:
        self.policy = policy
        self._lateness = policy.allowed_lateness_s
        self.cases = cases if isinstance(cases, CaseBook) else CaseBook(cases)
        stages = Stages.of(policy)
        self.book = AlertBook()
        self.subjects = {s: SubjectState(case) for s, case in self.cases.by_subject.items()}
        self.devices = {
            d: DeviceState(fitted, case, self.subjects[case.subject], ContactRule.silence_threshold(policy, fitted))
            for d, (case, fitted) in self.cases.device_of.items()
        }
        inhibitor = Inhibitor(policy, self.book, INHIBITIONS if stages.inhibit else ())
        self.context = ctx = RuleContext(policy, stages, start, self.subjects, self.devices, self.book, inhibitor)
        self.timers: Timers = ctx.timers
        self.stats: DetectorStats = ctx.stats
        tracked = stages.track  # off: each raw alarm an alert of its own, by the rules.raw variants
        self.contact = ContactRule(ctx)
        self.curfew = (CurfewRule if tracked else RawCurfewRule)(ctx)
        self.unit = (UnitRule if tracked else RawUnitRule)(ctx)
        self.gps = (GpsRule if tracked else RawGpsRule)(ctx)
        self.alcohol = (AlcoholRule if tracked else RawAlcoholRule)(ctx)
        ctx.presence, ctx.base_units = self.curfew, self.unit
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
        self.context.now = max(self.context.now, now)
        return self.book.take_updates()

    @property
    def now(self) -> float:
        """Processing time: the receive time of the newest record, or as ``advance`` moved it."""
        return self.context.now

    @property
    def alerts(self) -> list[Alert]:
        """Every alert raised so far, in the order raised."""
        return self.book.raised

    # --- admission ----------------------------------------------------------------

    def admit_fields(self, device_id: int, kind: Kind, seq: int, event_time: float, t: float) -> DeviceState | None:
        """Every stage but the rule, for a record received at ``t``: time, duplicates,
        lateness, contact. The record's device, or None if it goes no further (unknown
        device, duplicate). Every record passes here, so it is written for speed and
        takes fields, not a record: the batch path need not build one."""
        ctx = self.context
        if t < ctx.now:
            raise ValueError(
                f"record from device {device_id} seq {seq} received at {t} comes after time {ctx.now}: "
                "records must be fed in receive-time order"
            )
        heap = self.timers.heap
        if heap and heap[0][0] < t:
            self._run_timers(t)
        ctx.now = t
        device = self.devices.get(device_id)
        if device is None:
            self.stats.unknown_device += 1
            return None
        if kind is _REBOOT:
            device.window.restart()
            device.rebooted_at = event_time
        elif not device.window.admit(seq):
            # Seen already; or so far back that, as devices resend in order, it is a stale copy.
            self.stats.duplicates += 1
            return None
        elif kind is _BOOT:
            device.rebooted_at = event_time
        self.stats.records += 1
        subject = device.subject
        if event_time < subject.newest_event - self._lateness:
            self.stats.late += 1
        elif event_time > subject.newest_event:
            subject.newest_event = event_time
        if device.last_heard is None or t > device.last_heard:  # a clean run may have noted a later upload
            device.last_heard = t
        if device.silence_alert or (not device.silence_armed and device.silent_after is not None):
            self.contact.heard_again(device, t, event_time)
        return device

    def admit_clean_run(self, device: DeviceState, run: CleanRun) -> bool:
        """Take ``run`` through admission at once, just after its lead upload came through
        ``admit_fields`` for ``device``, as streaming would one upload at a time: the same
        counts, watermark, last heard, window and newest fix. False, changing nothing, if
        streaming might decide otherwise for one of them (a zone run to close, a window
        not led by the lead, an upload late against the watermark): then each must be fed."""
        subject = device.subject
        if (
            self.gps.tracking(device.case.subject) or device.window.hi != run.lead_seq
            or run.first_event < subject.newest_event - self._lateness
        ):
            return False
        device.window.admit_run(run.span, run.seq_bits, run.last_seq)
        self.stats.records += run.uploads
        subject.newest_event = max(subject.newest_event, run.last_event)
        device.last_heard = run.last_receive
        self.gps.judged_clean(device.case.subject, run.fixes, run.newest_fix)
        return True

    def _run_timers(self, now: float) -> None:
        """Fire every deadline before ``now``: one at exactly ``now`` waits, since a
        record received at ``now`` still counts before it (contact at the deadline is
        not silence)."""
        ctx = self.context
        while (due := self.timers.pop_due(now)) is not None:
            at, action, arg = due
            ctx.now = max(ctx.now, at)
            action(arg)
