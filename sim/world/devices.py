"""Fleet fidelity: each device as the centre sees it, one message per thing it reports.

A fleet cannot step every 15 s beacon, so these models work from what the
world knows (presence intervals, trips, episodes, faults) and emit the same
protocol messages the firmware stubs emit, with the same timing rules:

- base unit: INSTALLATION at fitting; STATUS_CHECK every status interval,
  which is also the upload; TAG_LEAVE ``leave_time_s`` after the tag falls
  silent and TAG_RETURN at its next beacon (at once in curfew, else held for
  the next status check, a leave still open when curfew starts going then);
  STRAP_TAMPER when the tag's flag is first heard and TAMPER_CLEARED when it
  goes, both at once; MAINS_LOST at once and MAINS_RESTORED held; on backup
  battery past its hours the unit dies, hears and sends nothing, until mains
  returns;
- GPS tag: fixes every fix interval while out, hourly at rest at home, every
  violation interval inside an exclusion zone; every upload interval a
  batch of fixes and a GPS_STATUS; a strap opening, entering a zone and a
  low battery upload at once; flat, it is silent until charged;
- alcohol tag: a reading every reading interval, uploaded daily, and at once
  (at home) when a reading is over the threshold or tampered.

Each model returns its messages in the order the device queues them, with
when it queued each (``ready_at``) and the event time it stamps on it (its
own, drifting clock). ``sim.world.uplink`` takes them from there.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, replace

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
    make_fixes,
)
from sim.detector.cases import Curfew
from sim.world.draws import HOUR_S
from sim.world.intervals import contains, end_of, holds, next_start


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


@dataclass(frozen=True)
class UnitInputs:
    tag_id: int
    end: float
    curfews: np.ndarray  # (n, 2) windows
    tag_gone: np.ndarray  # (n, 2) [declared leave, return) as the unit sees them (true and spurious)
    tampers: np.ndarray  # (n, 2) the tag's strap flag set (true removals and false sensor reports)
    mains_cuts: np.ndarray  # (n, 2)


def base_unit(inputs: UnitInputs, params: DeviceParams) -> tuple[Outbox, np.ndarray]:
    """The unit's messages, and when it was dead (battery run down on a mains cut)."""
    p = params.base_unit
    box = Outbox()
    status_times = np.arange(p.status_interval_s, inputs.end, p.status_interval_s)
    dead = np.array([(a + p.backup_battery_hours * HOUR_S, b) for a, b in inputs.mains_cuts
                     if b - a > p.backup_battery_hours * HOUR_S], dtype=float).reshape(-1, 2)
    inputs = replace(inputs, tag_gone=_as_heard(inputs.tag_gone, dead, p.leave_time_s))

    def on_backup(t: float) -> bool:
        return holds(inputs.mains_cuts, t)

    def battery(t: float) -> int:
        i = int(np.searchsorted(inputs.mains_cuts[:, 0], t, side="right")) - 1
        if i < 0 or t >= inputs.mains_cuts[i, 1]:
            return 100  # recharge is not modelled: cuts are rare and the next one finds it full
        return max(0, round(100 - (t - inputs.mains_cuts[i, 0]) * 100 / (p.backup_battery_hours * HOUR_S)))

    def flags(t: float, present: bool) -> UnitFlags:
        f = UnitFlags.NONE
        if on_backup(t):
            f |= UnitFlags.ON_BACKUP_BATTERY
        if holds(inputs.curfews, t):
            f |= UnitFlags.IN_CURFEW
        if present:
            f |= UnitFlags.TAG_PRESENT
        return f

    def next_status(t: float) -> float:
        i = int(np.searchsorted(status_times, t, side="left"))
        return float(status_times[i]) if i < len(status_times) else inputs.end

    def event(code: BaseEventCode, t: float, present: bool, at_once: bool, tag_flags: TagFlags = TagFlags.NONE) -> None:
        if holds(dead, t):
            return
        f = flags(t, present) | (UnitFlags.VIOLATION if at_once and code in _VIOLATIONS else UnitFlags.NONE)
        ready = t if at_once else next_status(t)
        box.put(ready, t, BaseUnitEvent(code, inputs.tag_id, tag_flags, f, battery(t)))

    event(BaseEventCode.INSTALLATION, 0.0, True, True)
    for t in status_times:
        event(BaseEventCode.STATUS_CHECK, float(t), not holds(inputs.tag_gone, float(t)), True)
    for leave, back in inputs.tag_gone:
        in_curfew = holds(inputs.curfews, leave)
        if in_curfew:
            event(BaseEventCode.TAG_LEAVE, leave, False, True)
        else:
            # Held: goes with the next status check, or at curfew start if the tag is still gone then.
            starts = next_start(inputs.curfews, leave)
            ready = min(next_status(leave), starts if starts < back else math.inf)
            if not holds(dead, leave):
                box.put(ready, leave, BaseUnitEvent(BaseEventCode.TAG_LEAVE, inputs.tag_id, TagFlags.NONE, flags(leave, False), battery(leave)))
        if back < inputs.end:
            event(BaseEventCode.TAG_RETURN, back, True, holds(inputs.curfews, back))
    for start, stop in inputs.tampers:
        # The tag latches the flag until a beacon carrying it is acknowledged: a cut that begins
        # and ends out of range is still reported when the tag is next heard, then cleared.
        heard = end_of(inputs.tag_gone, start)
        if heard < inputs.end:
            event(BaseEventCode.STRAP_TAMPER, heard, True, True, TagFlags.STRAP_SEVERED)
        cleared = max(heard, end_of(inputs.tag_gone, stop))
        if cleared < inputs.end:
            event(BaseEventCode.TAMPER_CLEARED, cleared, True, True)
    for start, stop in inputs.mains_cuts:
        event(BaseEventCode.MAINS_LOST, start, not holds(inputs.tag_gone, start), True)
        low_at = start + p.backup_battery_hours * HOUR_S * (1 - p.backup_battery_low_pct / 100)
        if low_at < stop:
            event(BaseEventCode.BACKUP_BATTERY_LOW, low_at, not holds(inputs.tag_gone, low_at), False)
        if stop < inputs.end:
            event(BaseEventCode.MAINS_RESTORED, stop, not holds(inputs.tag_gone, stop), False)
    return box.in_queue_order(), dead


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


_VIOLATIONS = {BaseEventCode.TAG_LEAVE, BaseEventCode.TAG_RETURN, BaseEventCode.STRAP_TAMPER, BaseEventCode.BODY_TAMPER}


# --- GPS tag ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class GpsInputs:
    end: float
    fix_times: np.ndarray  # when the tag tries for a fix (its schedule, flat times removed)
    got_fix: np.ndarray  # per fix_times
    lat: np.ndarray
    lon: np.ndarray
    accuracy_m: np.ndarray
    at_rest: np.ndarray  # per fix_times
    violations: np.ndarray  # (n, 2) a zone rule broken: in an exclusion zone, or out of the home zone in curfew
    strap_open: np.ndarray  # (n, 2)
    flat: np.ndarray  # (n, 2)
    charging: np.ndarray  # (n, 2)
    clock_scale: float = 1.0  # the tag's clock runs at this rate: fixes are stamped on it, as uploads are


def gps_tag(inputs: GpsInputs, params: DeviceParams) -> Outbox:
    p = params.gps_tag
    box = Outbox()
    uploads = np.arange(p.upload_interval_s, inputs.end, p.upload_interval_s)
    urgent = np.concatenate((inputs.violations[:, 0], inputs.strap_open[:, 0], _low_battery_times(inputs, params)))
    sessions = np.unique(np.concatenate((uploads, urgent)))
    sessions = sessions[~contains(inputs.flat, sessions)]
    strap_open, charging = contains(inputs.strap_open, sessions), contains(inputs.charging, sessions)
    violating = contains(inputs.violations, sessions)
    levels = _battery_pct(inputs, params, sessions)
    ok = inputs.got_fix
    times = inputs.fix_times[ok]
    wire = make_fixes(
        np.round(times * inputs.clock_scale * 1000).astype(np.uint64), np.round(inputs.lat[ok] * 1e7).astype(np.int32),
        np.round(inputs.lon[ok] * 1e7).astype(np.int32), np.minimum(np.round(inputs.accuracy_m[ok] * 10), 0xFFFF).astype(np.uint16),
        np.full(int(ok.sum()), 8, dtype=np.uint8),
    )
    cut = np.searchsorted(times, sessions, side="right")
    tried_cut = np.searchsorted(inputs.fix_times, sessions, side="right")
    previous = 0
    previous_tried = 0
    for t, upto, tried_upto, strap, charge, level, violation in zip(
        sessions.tolist(), cut.tolist(), tried_cut.tolist(), strap_open.tolist(), charging.tolist(), levels.tolist(),
        violating.tolist(), strict=True,
    ):
        for a in range(previous, upto, MAX_FIXES_PER_FRAME):
            batch = wire[a : min(upto, a + MAX_FIXES_PER_FRAME)]
            box.put(t, t, GpsFixBatch(batch))
        flags = GpsFlags.NONE
        if tried_upto > previous_tried and not inputs.got_fix[tried_upto - 1]:
            flags |= GpsFlags.NO_FIX
        if tried_upto > 0 and inputs.at_rest[tried_upto - 1]:
            flags |= GpsFlags.AT_REST
        if strap:
            flags |= GpsFlags.STRAP_OPEN
        if charge:
            flags |= GpsFlags.CHARGING
        if violation:
            flags |= GpsFlags.ZONE_VIOLATION
        if level <= p.battery_low_pct:
            flags |= GpsFlags.BATTERY_LOW
        box.put(t, t, GpsStatus(level, flags))
        previous, previous_tried = upto, tried_upto
    return box


def _battery_pct(inputs: GpsInputs, params: DeviceParams, times: np.ndarray) -> np.ndarray:
    """Full after each charge, running down over the battery life; heading for a flat, it
    reaches 0 as the flat begins."""
    life = params.gps_tag.battery_life_hours * HOUR_S
    charged = inputs.charging[:, 1]
    i = np.searchsorted(charged, times, side="right") - 1
    since = times - np.where(i >= 0, charged[np.maximum(i, 0)] if len(charged) else 0.0, 0.0)
    level = 100 - since * 100 / life
    k = np.searchsorted(inputs.flat[:, 0], times, side="right")
    to_flat = np.where(k < len(inputs.flat), inputs.flat[np.minimum(k, len(inputs.flat) - 1), 0] - times, np.inf) if len(inputs.flat) else np.full(len(times), np.inf)
    level = np.minimum(level, to_flat * 100 / life)
    level[contains(inputs.charging, times)] = 100
    return np.clip(np.round(level), 0, 100).astype(int)


def _low_battery_times(inputs: GpsInputs, params: DeviceParams) -> np.ndarray:
    life = params.gps_tag.battery_life_hours * HOUR_S
    return np.maximum(0.0, inputs.flat[:, 0] - life * params.gps_tag.battery_low_pct / 100)


# --- alcohol tag -----------------------------------------------------------------------------


@dataclass(frozen=True)
class AlcoholInputs:
    end: float
    reading_times: np.ndarray
    tac_mg_dl: np.ndarray
    skin_temp_c: np.ndarray
    tampered: np.ndarray  # (n, 2)
    away: np.ndarray  # (n, 2) out of reach of its base station


def alcohol_tag(inputs: AlcoholInputs, params: DeviceParams) -> Outbox:
    p = params.alcohol_tag
    box = Outbox()
    daily = np.arange(p.upload_interval_s, inputs.end + p.upload_interval_s, p.upload_interval_s)
    for t, tac, temp in zip(inputs.reading_times.tolist(), inputs.tac_mg_dl.tolist(), inputs.skin_temp_c.tolist(), strict=True):
        flags = AlcoholFlags.STRAP_TAMPER if holds(inputs.tampered, t) else AlcoholFlags.NONE
        urgent = tac >= p.tac_threshold_mg_dl or bool(flags)
        upload = t if urgent else float(daily[int(np.searchsorted(daily, t, side="left"))])
        upload = end_of(inputs.away, upload)  # within reach of the base station
        box.put(upload, t, AlcoholReading(min(0xFFFF, round(tac)), round(temp * 100), flags))
    return box.in_queue_order()

