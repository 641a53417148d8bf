"""The fleet's device models (``sim.world.devices``) against the firmware stubs they stand for."""

from __future__ import annotations

from dataclasses import replace

import numpy as np

from firmware_stubs.alcohol_tag import AlcoholTag, SkinSample
from firmware_stubs.gps_tag import GpsTag
from firmware_stubs.params import default_device_params
from firmware_stubs.protocol import Ack, BaseEventCode, Frame, GpsFlags, GpsStatus, StreamDecoder, encode_frame
from sim.world import devices as models
from sim.world.intervals import EMPTY

DEVICE_ID = 77
DEFAULTS = default_device_params()


# --- GPS tag battery ---------------------------------------------------------------------------

# A one-hour battery on 10-minute uploads, so one run holds a flat from fitting, a partial charge
# run down to flat again, and a charge to nearly full run down to flat. Charging starts fall on
# the upload grid, where the stub's schedule starts again after it revives; ends fall off it.
BATTERY = replace(DEFAULTS, gps_tag=replace(DEFAULTS.gps_tag, battery_life_hours=1.0, charge_hours_to_full=2.0,
                                            upload_interval_s=600.0, fix_interval_s=60.0, battery_low_pct=20))
CHARGING = np.array([[6000.0, 7700.0], [9000.0, 16150.0]])
BATTERY_END = 21000.0


def stub_statuses(charging: np.ndarray, end: float) -> list[tuple[int, int, GpsFlags]]:
    """(event ms, battery %, flags) of every status the stub uploads, without a GNSS fix, put on
    and taken off charge as ``charging`` says, every frame acked as it arrives."""
    tag = GpsTag(DEVICE_ID, 0.0, BATTERY.gps_tag, BATTERY.uplink)
    toggles = sorted([(float(a), True) for a, _ in charging] + [(float(b), False) for _, b in charging])
    decoder, statuses, seen = StreamDecoder(), {}, set()
    t = 0.0
    while t < end:
        wake = min(tag.next_deadline(), toggles[0][0] if toggles else end, end)
        if toggles and wake == toggles[0][0]:
            tag.set_charging(wake, toggles.pop(0)[1])
        else:
            tag.tick(wake)
        for frame in decoder.feed(tag.drain()):
            seen.add(frame.seq)
            if isinstance(frame.message, GpsStatus):
                statuses[frame.seq] = (frame.event_time_ms, frame.message.battery_pct, frame.message.flags)
        if seen:
            tag.receive(wake, encode_frame(Frame(DEVICE_ID, 0, 0, Ack(max(seen)))))
        t = wake
    return [statuses[seq] for seq in sorted(statuses)]


def fleet_statuses(charging: np.ndarray, end: float) -> tuple[list[tuple[int, int, GpsFlags]], models.Battery]:
    battery = models.gps_battery(charging, BATTERY, end)
    schedule = np.arange(BATTERY.gps_tag.fix_interval_s, end, BATTERY.gps_tag.fix_interval_s)
    tries = np.union1d(schedule[~models.contains(battery.flat, schedule)], models.revivals(battery.flat, schedule, end))
    n = len(tries)
    nothing = np.full(n, np.nan)
    inputs = models.GpsInputs(end, tries, np.zeros(n, bool), nothing, nothing, nothing, np.zeros(n, bool), EMPTY, EMPTY,
                              charging, battery)
    box = models.gps_tag(inputs, BATTERY)
    return [(round(t * 1000), m.battery_pct, m.flags) for t, m in zip(box.event_time, box.messages, strict=True)
            if isinstance(m, GpsStatus)], battery


def test_the_fleet_battery_runs_down_fills_and_goes_flat_as_the_stub_does() -> None:
    battery = models.gps_battery(CHARGING, BATTERY, BATTERY_END)
    # Full at fitting, flat at its hour's life; a 1700 s charge from empty gives 23.6%, which
    # lasts 850 s; 7150 s of charge from empty gives 99.3%, which lasts 3575 s.
    np.testing.assert_allclose(battery.flat, [[3600, 6000], [8550, 9000], [19725, BATTERY_END]], atol=1)
    np.testing.assert_allclose(battery.low_at, [2880, 7830, 19005], atol=1)
    np.testing.assert_allclose(battery.at(np.array([1800.0, 7700.0, 16150.0])), [50.0, 1700 / 72, 7150 / 72])


def test_the_fleet_gps_tag_uploads_what_the_stub_does_through_flats_and_charges() -> None:
    stub = stub_statuses(CHARGING, BATTERY_END)
    fleet, battery = fleet_statuses(CHARGING, BATTERY_END)
    assert [t for t, _, _ in fleet] == [t for t, _, _ in stub]
    # NO_FIX aside: the stub keeps it from its last try, the fleet sets it only if the tag tried
    # since its last upload (here the low-battery upload 30 s after the 7800 one differs).
    assert [f & ~GpsFlags.NO_FIX for _, _, f in fleet] == [f & ~GpsFlags.NO_FIX for _, _, f in stub]
    # Both round the level up; the last float digit may differ where it is a whole number.
    assert max(abs(a[1] - b[1]) for a, b in zip(fleet, stub, strict=True)) <= 1
    # Silent while flat; at 0% only the moment charging revives it; a status on each revival.
    times = np.array([t for t, _, _ in fleet]) / 1000
    assert not np.any(models.contains(battery.flat, times))
    assert all(GpsFlags.CHARGING in f for _, level, f in fleet if level == 0)
    assert {6000.0, 9000.0} <= set(times.tolist())


# --- base unit: tamper latch -------------------------------------------------------------------

TAG = DEFAULTS.rf_tag
UNIT_END = 20_000.0


def tamper_events(gone: list[tuple[float, float]], tampers: list[tuple[float, float]],
                  seed: int = 1) -> tuple[list[float], list[float]]:
    """STRAP_TAMPER and TAMPER_CLEARED event times from the unit's model: never in curfew, mains on."""
    inputs = models.UnitInputs(DEVICE_ID + 1, UNIT_END, EMPTY, np.array(gone, dtype=float).reshape(-1, 2),
                               np.array(tampers, dtype=float).reshape(-1, 2), EMPTY)
    box, _ = models.base_unit(inputs, DEFAULTS, np.random.default_rng(seed))
    codes = [(m.code, t) for t, m in zip(box.event_time, box.messages, strict=True)]
    return ([t for c, t in codes if c is BaseEventCode.STRAP_TAMPER],
            [t for c, t in codes if c is BaseEventCode.TAMPER_CLEARED])


def test_a_cut_made_and_mended_out_of_range_clears_one_beacon_after_it_is_reported() -> None:
    # The tag reports its latched flag on return; the unit acks that beacon and the tag clears
    # its latch, so the next beacon (11 to 15 s on) is the first without it (RfTag._on_ack).
    tampered, cleared = tamper_events(gone=[(1000.0, 5000.0)], tampers=[(2000.0, 3000.0)])
    assert tampered == [5000.0]
    assert len(cleared) == 1 and TAG.beacon_interval_min_s <= cleared[0] - 5000.0 <= TAG.beacon_interval_max_s


def test_a_cut_shorter_than_a_beacon_at_home_clears_one_beacon_after_it_is_reported() -> None:
    tampered, cleared = tamper_events(gone=[], tampers=[(6000.0, 6003.0)])
    assert tampered == [6000.0]
    assert len(cleared) == 1 and TAG.beacon_interval_min_s <= cleared[0] - 6000.0 <= TAG.beacon_interval_max_s


def test_a_strap_clears_when_it_is_closed_again_if_its_latch_was_acked_long_before() -> None:
    # Cut at home, mended at home: clear as the strap closes. Cut out of range, still cut on return,
    # mended at home: reported on return, cleared as it closes. Cut at home, mended out of range:
    # the latch was acked at home, so the first beacon heard on return carries no flag.
    assert tamper_events(gone=[], tampers=[(6000.0, 9000.0)]) == ([6000.0], [9000.0])
    assert tamper_events(gone=[(1000.0, 5000.0)], tampers=[(2000.0, 7000.0)]) == ([5000.0], [7000.0])
    assert tamper_events(gone=[(1000.0, 5000.0)], tampers=[(500.0, 2000.0)]) == ([500.0], [5000.0])


def test_cuts_the_unit_hears_as_one_are_one_tamper_and_one_clear() -> None:
    # The tag latches one STRAP_SEVERED flag whatever happened while it was away; and a cut made
    # again before the first one's clearing beacon keeps the flag set at the unit.
    tampered, cleared = tamper_events(gone=[(1000.0, 5000.0)], tampers=[(2000.0, 2500.0), (3000.0, 3500.0)])
    assert tampered == [5000.0] and len(cleared) == 1 and 5000.0 + TAG.beacon_interval_min_s <= cleared[0]
    assert tamper_events(gone=[(1000.0, 5000.0)], tampers=[(2000.0, 3000.0), (5005.0, 6000.0)]) == ([5000.0], [6000.0])
    # Apart by more than the clearing beacon: two pairs.
    assert tamper_events(gone=[], tampers=[(6000.0, 7000.0), (8000.0, 9000.0)]) == ([6000.0, 8000.0], [7000.0, 9000.0])


# --- alcohol tag -------------------------------------------------------------------------------

ALCOHOL = DEFAULTS.alcohol_tag
READINGS = np.arange(1, 60) * ALCOHOL.reading_interval_s  # 29.5 h: one daily upload
POSITIVE = (10, 40)  # readings at the threshold: one at home, one while away
AWAY = np.array([[READINGS[38] - 60.0, READINGS[44] + 60.0]])


def stub_uploads() -> dict[int, float]:
    """When the stub first sends each reading (by event ms), at home but for ``AWAY``, every
    frame acked as it goes."""
    positive = {float(READINGS[i]) for i in POSITIVE}
    tag = AlcoholTag(DEVICE_ID, 0.0, ALCOHOL, DEFAULTS.uplink_for(AlcoholTag.KIND),
                     lambda at: SkinSample(ALCOHOL.tac_threshold_mg_dl if at in positive else 0.0, ALCOHOL.bench_skin_temp_c))
    moves = [(float(AWAY[0, 0]), False), (float(AWAY[0, 1]), True)]
    decoder, sent = StreamDecoder(), {}
    end = float(READINGS[-1])
    t = 0.0
    while t < end:
        wake = min(tag.next_deadline(), moves[0][0] if moves else end, end)
        if moves and wake == moves[0][0]:
            tag.set_in_range(wake, moves.pop(0)[1])
        else:
            tag.tick(wake)
        while frames := decoder.feed(tag.drain()):  # a window at a time, each acked at once
            for frame in frames:
                sent.setdefault(frame.event_time_ms, wake)
            tag.receive(wake, encode_frame(Frame(DEVICE_ID, 0, 0, Ack(max(f.seq for f in frames)))))
        t = wake
    return sent


def test_the_fleet_alcohol_tag_sends_what_it_holds_with_each_upload_as_the_stub_does() -> None:
    # A positive reading opens a session that takes every reading before it, at home at once,
    # away on return; the daily upload takes the rest.
    tac = np.zeros(len(READINGS))
    tac[list(POSITIVE)] = ALCOHOL.tac_threshold_mg_dl
    inputs = models.AlcoholInputs(float(READINGS[-1]), READINGS, tac, np.full(len(READINGS), ALCOHOL.bench_skin_temp_c),
                                  EMPTY, AWAY)
    box = models.alcohol_tag(inputs, DEFAULTS)
    fleet = {round(e * 1000): r for e, r in zip(box.event_time, box.ready_at, strict=True) if r < READINGS[-1]}
    stub = stub_uploads()
    assert fleet == stub
    assert fleet[round(READINGS[0] * 1000)] == READINGS[POSITIVE[0]]  # held, then taken by the positive reading's session
