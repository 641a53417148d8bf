"""Fleet fidelity: each device as the centre sees it, one message per thing it reports.

A fleet cannot step every 15 s beacon, so these models work from what the
world knows (presence intervals, trips, episodes, faults) and emit the same
protocol messages the firmware stubs emit, with the same timing rules:

- base unit: INSTALLATION at fitting; STATUS_CHECK every status interval,
  which is also the upload; TAG_LEAVE ``leave_time_s`` after the tag falls
  silent and TAG_RETURN at its next beacon (at once in curfew, else held for
  the next status check, a leave still open when curfew starts going then);
  STRAP_TAMPER when the tag's flag is first heard and TAMPER_CLEARED when it
  goes (the strap closed and the latch acked: one beacon after the report, for
  a cut made and mended out of range), both at once; MAINS_LOST at once and MAINS_RESTORED held; on backup
  battery past its hours the unit dies, hears and sends nothing, until mains
  returns; whatever is held goes, in the order the unit queued it (a held
  return before the status check that carries it), with the first session the
  unit opens after it (a status check, anything sent at once, a curfew
  starting with the tag gone);
- GPS tag: fixes every fix interval while out, hourly at rest at home, every
  violation interval inside an exclusion zone; every upload interval a
  batch of fixes and a GPS_STATUS; a strap opening, entering a zone and a
  low battery upload at once; its battery runs down off charge and fills on
  it, and at 0% off charge the tag is dead: no fixes, no uploads, nothing sent
  (what it had queued waits) until charging revives it, when it takes a fix
  and uploads at once if one fell due meanwhile;
- alcohol tag: a reading every reading interval, uploaded daily, and at once
  (at home) when a reading is over the threshold or tampered, each upload
  taking every reading held.

Each model returns its messages in the order the device queues them, with
when its upload session sends each (``ready_at``) and the event time it stamps
on it (its own, drifting clock). ``sim.links.network`` takes them from there.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from firmware_stubs.params import DeviceParams
from firmware_stubs.protocol import (
    MAX_FIXES_PER_FRAME,
    AlcoholFlags,
    AlcoholReading,
    BaseEventCode,
    BaseUnitEvent,
    GpsFixBatch,
    GpsFlags,
    GpsStatus,
    Message,
    TagFlags,
    UnitFlags,
    make_wire_fixes,
)
from sim.detector.cases import Curfew
from sim.world.draws import HOUR_S
from sim.intervals import contains, end_of, holds


@dataclass
class Outbox:
    """One device's messages in queue order."""

    ready_at: list[float] = field(default_factory=list)
    event_time: list[float] = field(default_factory=list)  # true time of the event
    messages: list[Message] = field(default_factory=list)

    def put(self, ready_at: float, event_time: float, message: Message) -> None:
        self.ready_at.append(ready_at)
        self.event_time.append(event_time)
        self.messages.append(message)

    def in_queue_order(self) -> Outbox:
        """Stably by ready time: what a device queues first, it sends first."""
        order = sorted(range(len(self.ready_at)), key=lambda i: (self.ready_at[i], i))
        out = Outbox()
        for i in order:
            out.put(self.ready_at[i], self.event_time[i], self.messages[i])
        return out


def curfew_windows(curfew: Curfew | None, end: float) -> np.ndarray:
    if curfew is None:
        return np.empty((0, 2))
    return np.array(list(curfew.windows(0.0, end)), dtype=float).reshape(-1, 2)


# --- base unit -------------------------------------------------------------------------------


def timer(interval: float, end: float, booted_s: float = 0.0) -> np.ndarray:
    """When a device's periodic timer of ``interval`` fires in (0, end), the device having
    started ``booted_s`` before the run: a fleet's devices were fitted at different times, so
    their timers do not all fire on the same second."""
    return np.arange(interval - booted_s % interval, end, interval)


@dataclass(frozen=True)
class UnitInputs:
    tag_id: int
    end: float
    curfews: np.ndarray  # (n, 2) windows
    tag_gone: np.ndarray  # (n, 2) [declared leave, return) as the unit sees them (true and spurious)
    tampers: np.ndarray  # (n, 2) the tag's strap flag set (true removals and false sensor reports)
    mains_cuts: np.ndarray  # (n, 2)
    booted_s: float = 0.0  # the unit started this long before the run (its status timer's phase)


def base_unit(inputs: UnitInputs, params: DeviceParams, rng: np.random.Generator) -> tuple[Outbox, np.ndarray]:
    """The unit's messages, and when it was dead (battery run down on a mains cut); ``rng`` draws
    the tag's beacon intervals where they matter (one for each tamper interval)."""
    p, tag = params.base_unit, params.rf_tag
    backup_s = p.backup_battery_hours * HOUR_S
    status_times = timer(p.status_interval_s, inputs.end, inputs.booted_s)
    cuts = inputs.mains_cuts
    dead = np.column_stack((cuts[:, 0] + backup_s, cuts[:, 1]))[cuts[:, 1] - cuts[:, 0] > backup_s]
    gone = _as_heard(inputs.tag_gone, dead, p.leave_time_s)
    events = _UnitEvents()

    def next_status(t: float) -> float:
        i = int(np.searchsorted(status_times, t, side="left"))
        return float(status_times[i]) if i < len(status_times) else inputs.end

    events.add(BaseEventCode.INSTALLATION, 0.0, present=True, ready=0.0)
    for t in status_times.tolist():
        events.add(BaseEventCode.STATUS_CHECK, t, present=not holds(gone, t), ready=t)
    for leave, back in gone.tolist():
        if holds(inputs.curfews, leave):
            events.add(BaseEventCode.TAG_LEAVE, leave, present=False, ready=leave)
        else:
            # Held: goes with the next status check, or earlier with any session opened before it
            # (at curfew start if the tag is still gone then: ``_UnitEvents.outbox``).
            events.add(BaseEventCode.TAG_LEAVE, leave, present=False, ready=next_status(leave), violation=False)
        if back < inputs.end:
            at_once = holds(inputs.curfews, back)
            events.add(BaseEventCode.TAG_RETURN, back, present=True, ready=back if at_once else next_status(back), violation=at_once)
    # The tag latches the flag until the unit acks a beacon carrying it (RfTag._on_ack): the unit
    # hears it from the first beacon after a cut, on return if the tag was away then, and acks
    # that beacon at once. The flag goes at the first beacon heard once the strap is closed again
    # and the latch acked: as the strap closes, if the report came long before; else the beacon
    # after the report, one interval on. A cut the unit hears before the flag has gone keeps it
    # set: one report and one clear, however many cuts the tag latched while away.
    after_report = rng.uniform(tag.beacon_interval_min_s, tag.beacon_interval_max_s, len(inputs.tampers))
    flagged: list[tuple[float, float]] = []  # (reported, cleared) as the unit hears the flag
    for (start, stop), beacon in zip(inputs.tampers.tolist(), after_report.tolist(), strict=True):
        heard = end_of(gone, start)
        cleared = end_of(gone, max(stop, heard + beacon))
        if flagged and heard <= flagged[-1][1]:
            flagged[-1] = (flagged[-1][0], max(flagged[-1][1], cleared))
        else:
            flagged.append((heard, cleared))
    for heard, cleared in flagged:
        if heard < inputs.end:
            events.add(BaseEventCode.STRAP_TAMPER, heard, present=True, ready=heard, tag_flags=TagFlags.STRAP_SEVERED)
        if cleared < inputs.end:
            events.add(BaseEventCode.TAMPER_CLEARED, cleared, present=True, ready=cleared)
    for start, stop in cuts.tolist():
        events.add(BaseEventCode.MAINS_LOST, start, present=not holds(gone, start), ready=start)
        low_at = start + backup_s * (1 - p.backup_battery_low_pct / 100)
        if low_at < stop:
            events.add(BaseEventCode.BACKUP_BATTERY_LOW, low_at, present=not holds(gone, low_at), ready=next_status(low_at))
        if stop < inputs.end:
            events.add(BaseEventCode.MAINS_RESTORED, stop, present=not holds(gone, stop), ready=next_status(stop))
    # A curfew starting with the tag gone opens a session (BaseUnit._absent_at_curfew_start).
    starts = inputs.curfews[:, 0]
    absent_at_start = starts[contains(gone, starts) & (starts < inputs.end)]
    return events.outbox(inputs.tag_id, inputs.curfews, cuts, dead, backup_s, absent_at_start), dead


class _UnitEvents:
    """The unit's events as columns, made messages all at once: their flags and battery
    depend only on their times, and a dead unit sends nothing."""

    def __init__(self) -> None:
        self.codes: list[BaseEventCode] = []
        self.times: list[float] = []
        self.present: list[bool] = []
        self.ready: list[float] = []
        self.violation: list[bool] = []
        self.tag_flags: list[TagFlags] = []

    def add(self, code: BaseEventCode, t: float, present: bool, ready: float, violation: bool | None = None,
            tag_flags: TagFlags = TagFlags.NONE) -> None:
        """``violation`` defaults to whether a code sent at once is one the unit flags so."""
        self.codes.append(code)
        self.times.append(t)
        self.present.append(present)
        self.ready.append(ready)
        self.violation.append(code in _VIOLATIONS and ready == t if violation is None else violation)
        self.tag_flags.append(tag_flags)

    def outbox(self, tag_id: int, curfews: np.ndarray, cuts: np.ndarray, dead: np.ndarray, backup_s: float,
               sessions: np.ndarray) -> Outbox:
        """In the stub's queue order, each sent with the first session opened at or after it
        was queued: a status check, an event sent at once, or ``sessions`` (other times the
        unit opens one)."""
        t = np.array(self.times)
        unit = (np.where(contains(cuts, t), int(UnitFlags.ON_BACKUP_BATTERY), 0)
                | np.where(contains(curfews, t), int(UnitFlags.IN_CURFEW), 0)
                | np.where(self.present, int(UnitFlags.TAG_PRESENT), 0)
                | np.where(self.violation, int(UnitFlags.VIOLATION), 0))
        i = np.searchsorted(cuts[:, 0], t, side="right") - 1
        on_backup_since = cuts[np.maximum(i, 0), 0] if len(cuts) else t
        # Recharge is not modelled: cuts are rare and the next one finds it full.
        battery = np.where(contains(cuts, t), np.maximum(0, np.round(100 - (t - on_backup_since) * 100 / backup_s)), 100).astype(int)
        alive = np.flatnonzero(~contains(dead, t))
        # The stub queues (and numbers) each event as it happens, and a session sends the whole
        # queue in that order: a held event goes before the status check that carries it. On a
        # tie, as the stub: what it times itself before a status check due then, what the world
        # brings (mains, beacons) after.
        rank = np.array([_TIE_RANK.get(code, 3) for code in self.codes])
        order = alive[np.lexsort((alive, rank[alive], t[alive]))]
        # A session takes everything queued before it, so each event goes at the earliest of
        # its own session and those of the events after it, and of any other session since.
        ready = np.minimum.accumulate(np.array(self.ready, dtype=float)[order][::-1])[::-1]
        opened = np.append(sessions[~contains(dead, sessions)], np.inf)  # a dead unit opens none
        ready = np.minimum(ready, opened[np.searchsorted(opened, t[order], side="left")])
        as_flags: dict[int, UnitFlags] = {}
        box = Outbox()
        for k, at in zip(order.tolist(), ready.tolist(), strict=True):
            f = int(unit[k])
            flags = as_flags.get(f)
            if flags is None:
                flags = as_flags[f] = UnitFlags(f)
            box.put(at, self.times[k], BaseUnitEvent(self.codes[k], tag_id, self.tag_flags[k], flags, int(battery[k])))
        return box


def _as_heard(gone: np.ndarray, dead: np.ndarray, leave_time_s: float) -> np.ndarray:
    """The tag's absences as a unit that was dead for a while knows them: reviving, it times a
    leave afresh (declared ``leave_time_s`` after it revives, if the tag is still gone) and
    hears at once a tag that came back while it was dead; an absence wholly inside is never known."""
    heard = []
    for leave, back in gone:
        if holds(dead, leave):
            leave = end_of(dead, leave) + leave_time_s
        if holds(dead, back):
            back = end_of(dead, back)
        if leave < back:
            heard.append((leave, back))
    return np.array(heard, dtype=float).reshape(-1, 2)


# Events at one instant, in the stub's order: the unit's own timers first, in ``BaseUnit._due``'s
# order (a leave or battery warning before the status check due with it), then what the world
# brings, which the stub takes after doing all that is due (``Device.tick``); mains before a
# beacon, since a unit revived by its mains hears the tag only then.
_TIE_RANK = {BaseEventCode.INSTALLATION: 0, BaseEventCode.TAG_LEAVE: 0, BaseEventCode.BACKUP_BATTERY_LOW: 0,
             BaseEventCode.STATUS_CHECK: 1, BaseEventCode.MAINS_LOST: 2, BaseEventCode.MAINS_RESTORED: 2}  # else 3

_VIOLATIONS = {BaseEventCode.TAG_LEAVE, BaseEventCode.TAG_RETURN, BaseEventCode.STRAP_TAMPER, BaseEventCode.BODY_TAMPER}


# --- GPS tag ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Battery:
    """A GPS tag's battery over the run, run as the stub runs it (``GpsTag._anchor_battery``):
    fitted full, draining over its life off charge, filling over the full-charge time on it,
    capped at 100%. Empty and off charge, the tag is dead until it is next put on charge."""

    t: np.ndarray  # corners of the piecewise-linear level
    level: np.ndarray  # % at each corner
    flat: np.ndarray  # (n, 2) empty and off charge
    low_at: np.ndarray  # when it drains down to the low threshold (the tag uploads at once then)

    def at(self, times: np.ndarray) -> np.ndarray:
        return np.interp(times, self.t, self.level)


def gps_battery(charging: np.ndarray, params: DeviceParams, end: float) -> Battery:
    """The battery from fitting (at 0, full) to ``end``, on charge during ``charging`` (sorted,
    disjoint, within [0, end])."""
    p = params.gps_tag
    drain = 100.0 / (p.battery_life_hours * HOUR_S)  # % a second
    fill = 100.0 / (p.charge_hours_to_full * HOUR_S)
    ts, levels = [0.0], [100.0]
    flat: list[tuple[float, float]] = []
    low_at: list[float] = []

    def corner(at: float, level: float) -> None:
        if at > ts[-1]:
            ts.append(at)
            levels.append(level)

    t, level = 0.0, 100.0
    for on, off in [*charging.tolist(), (end, end)]:  # off charge until ``on``, then on it until ``off``
        if level > p.battery_low_pct and t + (level - p.battery_low_pct) / drain < on:
            low_at.append(t + (level - p.battery_low_pct) / drain)
        empty_at = t + level / drain
        if empty_at < on:
            corner(empty_at, 0.0)
            flat.append((empty_at, on))
            level = 0.0
        else:
            level = max(0.0, level - (on - t) * drain)
        corner(on, level)
        full_at = on + (100.0 - level) / fill
        if full_at < off:
            corner(full_at, 100.0)
            level = 100.0
        else:
            level += (off - on) * fill
        corner(off, level)
        t = off
    return Battery(np.array(ts), np.array(levels), np.array(flat, dtype=float).reshape(-1, 2), np.array(low_at))


def revivals(flat: np.ndarray, due: np.ndarray, end: float) -> np.ndarray:
    """The ends (before ``end``) of the flat spells in which something of ``due`` (sorted) fell
    due: put on charge, the tag does it then, once, however much it missed (``GpsTag.set_charging``)."""
    if not len(flat):
        return np.empty(0)
    missed = np.searchsorted(due, flat[:, 1], side="left") > np.searchsorted(due, flat[:, 0], side="left")
    return flat[missed & (flat[:, 1] < end), 1]


@dataclass(frozen=True)
class GpsInputs:
    end: float
    fix_times: np.ndarray  # when the tag tries for a fix (its schedule, flat times removed, a try on each revival)
    got_fix: np.ndarray  # per fix_times
    lat: np.ndarray
    lon: np.ndarray
    accuracy_m: np.ndarray
    at_rest: np.ndarray  # per fix_times
    violations: np.ndarray  # (n, 2) a zone rule broken: in an exclusion zone, or out of the home zone in curfew
    strap_open: np.ndarray  # (n, 2)
    charging: np.ndarray  # (n, 2)
    battery: Battery  # from ``charging``
    clock_scale: float = 1.0  # the tag's clock runs at this rate: fixes are stamped on it, as uploads are
    booted_s: float = 0.0  # the tag started this long before the run (its upload timer's phase)


def gps_tag(inputs: GpsInputs, params: DeviceParams) -> Outbox:
    p = params.gps_tag
    box = Outbox()
    battery = inputs.battery
    uploads = timer(p.upload_interval_s, inputs.end, inputs.booted_s)
    urgent = np.concatenate((inputs.violations[:, 0], inputs.strap_open[:, 0], battery.low_at))
    # Flat, the tag does nothing: a violation, a strap opening or an upload due then is missed,
    # and the status of the upload it makes when charging revives it shows how things are then.
    sessions = np.unique(np.concatenate((uploads, urgent, revivals(battery.flat, uploads, inputs.end))))
    sessions = sessions[~contains(battery.flat, sessions)]
    strap_open, charging = contains(inputs.strap_open, sessions), contains(inputs.charging, sessions)
    violating = contains(inputs.violations, sessions)
    charge = battery.at(sessions)
    charge[np.isin(sessions, battery.low_at)] = p.battery_low_pct  # the stub re-anchors there exactly
    # Reported rounded up, as the stub does: a tag with any charge left never says 0% off charge.
    levels = np.ceil(charge).astype(int)
    ok = inputs.got_fix
    times = inputs.fix_times[ok]
    wire = make_wire_fixes(
        np.round(times * inputs.clock_scale * 1000).astype(np.uint64), np.round(inputs.lat[ok] * 1e7).astype(np.int32),
        np.round(inputs.lon[ok] * 1e7).astype(np.int32), np.minimum(np.round(inputs.accuracy_m[ok] * 10), 0xFFFF).astype(np.uint16),
        np.full(int(ok.sum()), 8, dtype=np.uint8),
    )
    cut = np.searchsorted(times, sessions, side="right")
    tried_cut = np.searchsorted(inputs.fix_times, sessions, side="right")
    # The newest try before each session: whether it got a fix, whether the tag was at rest.
    newest = np.maximum(tried_cut - 1, 0)
    none = np.zeros(len(sessions), dtype=bool)
    got_newest = inputs.got_fix[newest] if len(inputs.fix_times) else none
    resting = inputs.at_rest[newest] & (tried_cut > 0) if len(inputs.fix_times) else none
    tried_since_last = tried_cut > np.concatenate(([0], tried_cut[:-1]))
    flags = np.where(tried_since_last & ~got_newest, int(GpsFlags.NO_FIX), 0)
    flags |= np.where(resting, int(GpsFlags.AT_REST), 0)
    flags |= np.where(strap_open, int(GpsFlags.STRAP_OPEN), 0)
    flags |= np.where(charging, int(GpsFlags.CHARGING), 0)
    flags |= np.where(violating, int(GpsFlags.ZONE_VIOLATION), 0)
    flags |= np.where(charge <= p.battery_low_pct, int(GpsFlags.BATTERY_LOW), 0)
    as_flags = {f: GpsFlags(f) for f in set(flags.tolist())}
    previous = 0
    for t, upto, level, f in zip(sessions.tolist(), cut.tolist(), levels.tolist(), flags.tolist(), strict=True):
        for a in range(previous, upto, MAX_FIXES_PER_FRAME):
            box.put(t, t, GpsFixBatch(wire[a : min(upto, a + MAX_FIXES_PER_FRAME)]))
        box.put(t, t, GpsStatus(level, as_flags[f]))
        previous = upto
    return box


# --- alcohol tag -----------------------------------------------------------------------------


@dataclass(frozen=True)
class AlcoholInputs:
    end: float
    reading_times: np.ndarray
    tac_mg_dl: np.ndarray
    skin_temp_c: np.ndarray
    tampered: np.ndarray  # (n, 2)
    away: np.ndarray  # (n, 2) out of reach of its base station
    booted_s: float = 0.0  # the tag started this long before the run (its daily upload's phase)


def alcohol_tag(inputs: AlcoholInputs, params: DeviceParams) -> Outbox:
    p = params.alcohol_tag
    box = Outbox()
    t = inputs.reading_times
    daily = timer(p.upload_interval_s, inputs.end + p.upload_interval_s, inputs.booted_s)
    tampered = contains(inputs.tampered, t)
    urgent = (inputs.tac_mg_dl >= p.tac_threshold_mg_dl) | tampered
    upload = np.where(urgent, t, daily[np.minimum(np.searchsorted(daily, t, side="left"), len(daily) - 1)])
    # Within reach of the base station.
    k = np.searchsorted(inputs.away[:, 0], upload, side="right") - 1
    upload = np.where(contains(inputs.away, upload), inputs.away[np.maximum(k, 0), 1] if len(inputs.away) else upload, upload)
    # The queue is first in, first out: a session, however it was opened, sends every reading
    # taken by then, so a reading goes with the first session at or after it.
    sessions = np.unique(upload)
    upload = sessions[np.searchsorted(sessions, t, side="left")]
    tac = np.minimum(0xFFFF, np.round(inputs.tac_mg_dl)).astype(int)
    temp = np.round(inputs.skin_temp_c * 100).astype(int)
    for u, r, level, centi_c, strap in zip(upload.tolist(), t.tolist(), tac.tolist(), temp.tolist(), tampered.tolist(), strict=True):
        box.put(u, r, AlcoholReading(level, centi_c, AlcoholFlags.STRAP_TAMPER if strap else AlcoholFlags.NONE))
    return box.in_queue_order()
