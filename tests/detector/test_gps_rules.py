"""GPS rules in virtual time: exclusion and inclusion zones, no fix while moving, battery,
strap and charging, and a scripted day held against the naive policy."""

from __future__ import annotations

import math
from collections import Counter
from dataclasses import replace

import numpy as np
import pytest
from timeline import EVERY_DAY, GPS, H, Timeline, home_case

from sim.detector import AlertKind, Case, Curfew, Kind, Policy, Zone
from sim.policies import load_policy
from sim.detector.zones import in_curfew
from sim.detector.telemetry import GPS_AT_REST, GPS_BATTERY_LOW, GPS_CHARGING, GPS_NO_FIX, GPS_STRAP_OPEN, make_fixes

# The figures these tests depend on, pinned so a change to the shipped policy files does not move them.
STANDARD = replace(
    load_policy("standard"), track_conditions=True, inhibit=True, zone_use_accuracy=True, zone_consecutive_fixes=3,
    go_outside_s=600.0, go_outside_grace_s=600.0, charge_period_s=H(24), no_contact_gps_intervals=6.0,
    zone_exit_fold_s=0.0,  # closing on confirmation alone here; the fold window has tests of its own
)
NAIVE = replace(load_policy("naive"), track_conditions=False, zone_use_accuracy=False, zone_consecutive_fixes=1)

EXCLUSION = AlertKind.EXCLUSION_ZONE
INCLUSION = AlertKind.INCLUSION_ZONE

# --- geometry ----------------------------------------------------------------------------

M_PER_DEG = math.pi / 180 * 6_371_000.0
EXCL_AT = (51.5400, -0.1000)  # a victim's address, 200 m exclusion zone
HOME_AT = (51.5000, -0.1200)  # the subject's home, 100 m inclusion zone (curfew 19:00 to 07:00)
EXCL = Zone(7, False, *EXCL_AT, 200.0)
HOME = Zone(3, True, *HOME_AT, 100.0)

# (metres east of the zone centre, accuracy in metres), against EXCL (radius 200 m)
SURE_IN = (50.0, 10.0)  # accuracy circle wholly inside
EDGE_IN = (190.0, 30.0)  # centre inside, circle over the edge
EDGE_OUT = (210.0, 30.0)  # centre outside, circle over the edge
FAR = (1000.0, 10.0)
# against HOME (radius 100 m)
HOME_IN = (10.0, 15.0)
HOME_EDGE_OUT = (120.0, 30.0)  # centre outside, circle over the edge
AWAY = (2000.0, 20.0)  # circle wholly outside


def place(origin: tuple[float, float], east_m: float) -> tuple[float, float]:
    lat0, lon0 = origin
    return lat0, lon0 + east_m / (M_PER_DEG * math.cos(math.radians(lat0)))


def fixes(origin: tuple[float, float], *rows: tuple[float, tuple[float, float]]) -> np.ndarray:
    """Fixes from (time, (metres east of ``origin``, accuracy)) rows, in the order given."""
    points = [place(origin, east) for _, (east, _) in rows]
    return make_fixes([t for t, _ in rows], [p[0] for p in points], [p[1] for p in points], [acc for _, (_, acc) in rows])


def excl(*rows: tuple[float, tuple[float, float]]) -> np.ndarray:
    return fixes(EXCL_AT, *rows)


def home(*rows: tuple[float, tuple[float, float]]) -> np.ndarray:
    return fixes(HOME_AT, *rows)


def upload(tl: Timeline, at: float, batch: np.ndarray) -> Timeline:
    return tl.push(at, GPS, Kind.GPS_FIXES, fixes=batch)


def status(tl: Timeline, at: float, flags: int, value: float = 80.0, event_time: float | None = None) -> Timeline:
    return tl.push(at, GPS, Kind.GPS_STATUS, event_time=event_time, flags=flags, value=value)


def ends(tl: Timeline, *kinds: AlertKind) -> list[tuple[float | None, int]]:
    """(event end, raw events folded in) of each raised alert of these kinds, in order."""
    return [(a.event_end, a.count) for a in tl.alerts() if a.kind in kinds]


T0 = H(10)  # mid-morning: outside curfew, so only the exclusion zone matters


def t(i: int) -> float:
    """The i-th fix of a one-a-minute track."""
    return T0 + 60.0 * i


def exclusion_timeline(**policy: object) -> Timeline:
    return Timeline([home_case(gps=GPS, zones=[EXCL])], replace(STANDARD, **policy))


# --- exclusion zone ---------------------------------------------------------------------------


def test_exclusion_fix_wholly_inside_raises_at_once() -> None:
    tl = exclusion_timeline()
    upload(tl, t(3), excl((t(0), FAR), (t(1), EDGE_OUT), (t(2), SURE_IN)))
    assert tl.summary(EXCLUSION) == [("exclusion-zone", "breach", t(2), t(3), None)]
    assert ends(tl, EXCLUSION) == [(None, 1)]


def test_exclusion_fix_wholly_inside_waits_for_k_without_accuracy() -> None:
    tl = exclusion_timeline(zone_use_accuracy=False)
    upload(tl, t(3), excl((t(0), FAR), (t(1), SURE_IN), (t(2), FAR)))
    assert tl.summary(EXCLUSION) == []
    upload(tl, t(6), excl((t(3), SURE_IN), (t(4), SURE_IN), (t(5), SURE_IN)))
    assert tl.summary(EXCLUSION) == [("exclusion-zone", "breach", t(3), t(6), None)]


@pytest.mark.parametrize("k", [1, 2, 3, 5])
def test_exclusion_centres_inside_raise_at_the_kth_in_a_row(k: int) -> None:
    tl = exclusion_timeline(zone_consecutive_fixes=k)
    upload(tl, t(0) + 10, excl((t(0), FAR)))
    for i in range(1, 7):  # six edge fixes, each in an upload of its own
        upload(tl, t(i) + 10, excl((t(i), EDGE_IN)))
        want = [("exclusion-zone", "breach", t(1), t(k) + 10, None)] if i >= k else []
        assert tl.summary(EXCLUSION) == want, f"after edge fix {i}"
    assert ends(tl, EXCLUSION) == [(None, 6 - k + 1)]


def test_exclusion_run_broken_before_k_raises_nothing() -> None:
    tl = exclusion_timeline()
    upload(tl, t(8), excl(
        (t(0), EDGE_IN), (t(1), EDGE_IN), (t(2), EDGE_OUT),
        (t(3), EDGE_IN), (t(4), EDGE_IN), (t(5), FAR),
        (t(6), EDGE_IN), (t(7), EDGE_IN),
    ))
    assert tl.summary(EXCLUSION) == []
    upload(tl, t(9), excl((t(8), EDGE_IN)))  # the third of the last run
    assert tl.summary(EXCLUSION) == [("exclusion-zone", "breach", t(6), t(9), None)]


def test_exclusion_closes_only_on_the_confirmation_that_opened_it() -> None:
    """A centre just outside with the circle over the edge is not a confirmed exit: one such
    fix used to close the alert, and the next fix inside opened another (issue 17, defect 3)."""
    tl = exclusion_timeline()
    upload(tl, t(7), excl(
        (t(0), EDGE_IN), (t(1), EDGE_IN), (t(2), EDGE_IN),  # raised here, from t(0)
        (t(3), EDGE_IN), (t(4), SURE_IN),  # folded
        (t(5), EDGE_OUT),  # centre outside, circle over the edge: not yet an exit
        (t(6), EDGE_IN),  # folded: the same visit
    ))
    assert tl.summary(EXCLUSION) == [("exclusion-zone", "breach", t(0), t(7), None)]
    assert ends(tl, EXCLUSION) == [(None, 4)]
    upload(tl, t(10), excl((t(7), EDGE_OUT), (t(8), EDGE_OUT), (t(9), EDGE_OUT)))  # three in a row: the exit, from t(7)
    assert tl.summary(EXCLUSION) == [("exclusion-zone", "breach", t(0), t(7), t(10))]
    assert ends(tl, EXCLUSION) == [(t(7), 4)]


def flapping_visit(tl: Timeline, minutes: int) -> Timeline:
    """A visit at the zone's edge for ``minutes``, a fix a minute, uploaded every 10 minutes:
    centres alternating in and out, circles over the edge, as a tag sitting on the boundary gives."""
    for first in range(0, minutes, 10):
        rows = [(t(i), EDGE_IN if i % 2 == 0 else EDGE_OUT) for i in range(first, min(first + 10, minutes))]
        upload(tl, t(first + 10), excl(*rows))
    upload(tl, t(minutes + 10), excl(*((t(i), FAR) for i in range(minutes, minutes + 10))))
    return tl.run(t(minutes + 120))


def test_a_long_visit_on_the_boundary_is_one_alert() -> None:
    tl = flapping_visit(exclusion_timeline(zone_use_accuracy=False, zone_consecutive_fixes=1, zone_exit_fold_s=1800.0), 600)
    assert [(a.event_time, a.event_end) for a in tl.alerts(EXCLUSION)] == [(t(0), t(599))]  # the last fix, centre out


def test_a_re_entry_within_the_fold_window_folds_into_the_open_alert() -> None:
    tl = exclusion_timeline(zone_exit_fold_s=1800.0)
    upload(tl, t(5), excl((t(0), SURE_IN), (t(1), SURE_IN), (t(2), FAR), (t(3), FAR), (t(4), FAR)))
    upload(tl, t(25), excl((t(20), SURE_IN), (t(21), SURE_IN), (t(22), FAR)))  # back 18 minutes after leaving
    upload(tl, t(60), excl(*((t(i), FAR) for i in range(23, 60))))
    assert [(a.event_time, a.event_end, a.count) for a in tl.alerts(EXCLUSION)] == [(t(0), t(22), 4)]
    assert "back in zone 7 within 1800 s of leaving it" in [d.note for d in tl.alerts(EXCLUSION)[0].decisions]


def test_a_re_entry_after_the_fold_window_is_a_new_alert() -> None:
    tl = exclusion_timeline(zone_exit_fold_s=1800.0)
    upload(tl, t(5), excl((t(0), SURE_IN), (t(1), FAR)))
    upload(tl, t(40), excl(*((t(i), FAR) for i in range(2, 40))))
    upload(tl, t(45), excl((t(40), SURE_IN), (t(41), FAR)))
    tl.run(H(14))
    assert [(a.event_time, a.event_end) for a in tl.alerts(EXCLUSION)] == [(t(0), t(1)), (t(40), t(41))]


def test_an_alert_closes_after_the_fold_window_though_the_tag_goes_quiet() -> None:
    tl = exclusion_timeline(zone_exit_fold_s=1800.0)
    upload(tl, t(3), excl((t(0), SURE_IN), (t(1), FAR), (t(2), FAR)))  # then nothing more
    tl.run(t(1) + 1800 + 600 - 1)
    assert tl.alerts(EXCLUSION)[0].closed_at is None
    tl.run(t(1) + 1800 + 600 + 1)  # the fold window and one upload interval (600 s) after the exit
    assert [(a.closed_at, a.event_end) for a in tl.alerts(EXCLUSION)] == [(t(1) + 1800 + 600, t(1))]


def test_a_zone_visit_in_an_upload_that_lands_after_the_next_is_raised_late() -> None:
    """Store and forward: the 10:00-10:05 upload was held and lands after the 10:10 one."""
    tl = exclusion_timeline()
    upload(tl, t(10), excl(*((t(i), FAR) for i in range(5, 10))))
    upload(tl, t(11), excl(*((t(i), SURE_IN) for i in range(0, 5))))
    assert tl.summary(EXCLUSION) == [("exclusion-zone", "breach", t(0), t(11), t(11))]
    assert tl.alerts(EXCLUSION)[0].event_end == t(4)  # the late upload's last fix
    assert tl.detector.stats.merged_late == 1


def test_a_late_upload_inside_an_alert_already_raised_adds_nothing() -> None:
    tl = exclusion_timeline()
    upload(tl, t(3), excl((t(0), SURE_IN), (t(2), SURE_IN)))
    upload(tl, t(4), excl((t(1), SURE_IN)))  # resent, late, inside the open alert
    assert len(tl.alerts(EXCLUSION)) == 1


def test_exclusion_closes_in_a_later_upload() -> None:
    tl = exclusion_timeline()
    upload(tl, t(2), excl((t(0), SURE_IN), (t(1), EDGE_IN)))
    assert tl.summary(EXCLUSION) == [("exclusion-zone", "breach", t(0), t(2), None)]
    assert ends(tl, EXCLUSION) == [(None, 2)]
    upload(tl, t(4), excl((t(2), EDGE_IN), (t(3), FAR)))
    assert tl.summary(EXCLUSION) == [("exclusion-zone", "breach", t(0), t(2), t(4))]
    assert ends(tl, EXCLUSION) == [(t(3), 3)]


def test_exclusion_run_spans_two_uploads() -> None:
    tl = exclusion_timeline()
    upload(tl, t(3) + 5, excl((t(0), FAR), (t(1), EDGE_IN), (t(2), EDGE_IN)))
    assert tl.summary(EXCLUSION) == []
    upload(tl, t(5) + 5, excl((t(3), EDGE_IN), (t(4), EDGE_IN)))
    assert tl.summary(EXCLUSION) == [("exclusion-zone", "breach", t(1), t(5) + 5, None)]
    assert ends(tl, EXCLUSION) == [(None, 2)]


def test_exclusion_unsorted_upload_is_taken_in_time_order() -> None:
    tl = exclusion_timeline()
    # In arrival order the far fix would break the run; in time order it comes first.
    upload(tl, t(4), excl((t(3), EDGE_IN), (t(0), FAR), (t(2), EDGE_IN), (t(1), EDGE_IN)))
    assert tl.summary(EXCLUSION) == [("exclusion-zone", "breach", t(1), t(4), None)]
    # In arrival order this would close at t(6) and start a new run; in time order it folds two, then closes.
    upload(tl, t(7), excl((t(6), FAR), (t(5), EDGE_IN), (t(4), EDGE_IN)))
    assert tl.summary(EXCLUSION) == [("exclusion-zone", "breach", t(1), t(4), t(7))]
    assert ends(tl, EXCLUSION) == [(t(6), 3)]


# --- inclusion zone ---------------------------------------------------------------------------

M = 60.0  # a minute


def inclusion_timeline() -> Timeline:
    return Timeline([home_case(gps=GPS, zones=[HOME])], STANDARD)  # curfew 19:00 to 07:00 every day


def test_inclusion_away_outside_curfew_is_fine() -> None:
    tl = inclusion_timeline()
    # 07:00 (the curfew's end) to 18:58, a fix every 2 min, uploaded hourly; all far from home.
    for hour in range(7, 19):
        batch = home(*((H(hour) + 2 * M * j, AWAY) for j in range(30)))
        upload(tl, H(hour + 1) - 30, batch)
    assert tl.summary(INCLUSION) == []
    upload(tl, H(19) + 30, home((H(19), AWAY)))  # the first fix in curfew
    assert tl.summary(INCLUSION) == [("inclusion-zone", "breach", H(19), H(19) + 30, None)]


def test_inclusion_away_in_curfew_raises_and_back_inside_closes() -> None:
    tl = inclusion_timeline()
    upload(tl, H(19) + 3 * M, home((H(19) - 4 * M, AWAY), (H(19) - 2 * M, AWAY), (H(19), AWAY), (H(19) + 2 * M, AWAY)))
    assert tl.summary(INCLUSION) == [("inclusion-zone", "breach", H(19), H(19) + 3 * M, None)]
    assert ends(tl, INCLUSION) == [(None, 2)]
    upload(tl, H(19) + 5 * M, home((H(19) + 4 * M, HOME_IN)))
    assert tl.summary(INCLUSION) == [("inclusion-zone", "breach", H(19), H(19) + 3 * M, H(19) + 5 * M)]
    assert ends(tl, INCLUSION) == [(H(19) + 4 * M, 2)]


def test_inclusion_run_counts_only_fixes_in_curfew() -> None:
    tl = inclusion_timeline()
    # Centres just outside home, circles overlapping it: the k rule. 18:56 and 18:58 do not count.
    for minute in (-4, -2, 0, 2):
        upload(tl, H(19) + minute * M + 10, home((H(19) + minute * M, HOME_EDGE_OUT)))
    assert tl.summary(INCLUSION) == []
    upload(tl, H(19) + 4 * M + 10, home((H(19) + 4 * M, HOME_EDGE_OUT)))
    assert tl.summary(INCLUSION) == [("inclusion-zone", "breach", H(19), H(19) + 4 * M + 10, None)]


def test_inclusion_curfew_end_breaks_a_run() -> None:
    morning = H(24 + 7)  # 07:00 on day 1, when the curfew that began at 19:00 ends
    tl = inclusion_timeline()
    upload(tl, morning + 5 * M, home(*((morning + m * M, HOME_EDGE_OUT) for m in (-4, -2, 0, 2, 4))))
    assert tl.summary(INCLUSION) == []  # two in curfew, then the curfew is over
    tl = inclusion_timeline()
    upload(tl, morning + 5 * M, home(*((morning + m * M, HOME_EDGE_OUT) for m in (-6, -4, -2, 0, 2, 4))))
    assert tl.summary(INCLUSION) == [("inclusion-zone", "breach", morning - 6 * M, morning + 5 * M, morning + 5 * M)]
    assert ends(tl, INCLUSION) == [(morning, 1)]


def test_inclusion_with_overlapping_curfews_counts_the_whole_union() -> None:
    # A second order's curfew (20:00 to 21:00) inside the first (19:00 to 07:00): 22:00 is still in curfew.
    case = replace(home_case(gps=GPS, zones=[HOME]), curfews=(Curfew(EVERY_DAY, int(H(19)), int(H(12))), Curfew(EVERY_DAY, int(H(20)), int(H(1)))))
    tl = Timeline([case], STANDARD)
    upload(tl, H(22) + M, home((H(19) + 30 * M, HOME_IN), (H(20) + 30 * M, HOME_IN), (H(22), AWAY)))
    assert tl.summary(INCLUSION) == [("inclusion-zone", "breach", H(22), H(22) + M, None)]


def test_in_curfew_agrees_with_the_case() -> None:
    case = Case(1, (), (Curfew(EVERY_DAY, int(H(19)), int(H(12))), Curfew(EVERY_DAY, int(H(20)), int(H(1))), Curfew(0x01, int(H(9)), int(H(2)))))
    times = np.arange(0.0, H(24 * 8), 900.0) + 7.0  # a week and a day, every quarter hour
    want = [case.in_curfew(float(x)) is not None for x in times]
    assert in_curfew(case, times).tolist() == want
    assert 0 < sum(want) < len(want)


# --- naive --------------------------------------------------------------------------------


def test_naive_every_wrong_fix_is_its_own_alert() -> None:
    tl = Timeline([home_case(gps=GPS, zones=[EXCL, HOME])], NAIVE)
    noon = H(12)
    batch = np.concatenate([
        excl((noon, EDGE_IN), (noon + M, EDGE_OUT), (noon + 2 * M, SURE_IN), (noon + 3 * M, FAR), (noon + 4 * M, EDGE_IN)),
        home((noon + 5 * M, AWAY)),  # away from home outside curfew: fine
    ])
    upload(tl, noon + 6 * M, batch)
    evening = H(19)
    upload(tl, evening + 5 * M, home(
        (evening - M, AWAY), (evening, AWAY), (evening + M, HOME_EDGE_OUT), (evening + 2 * M, HOME_IN), (evening + 3 * M, AWAY),
    ))
    at1, at2 = noon + 6 * M, evening + 5 * M
    assert tl.summary(EXCLUSION, INCLUSION) == [
        ("exclusion-zone", "breach", noon, at1, at1),
        ("exclusion-zone", "breach", noon + 2 * M, at1, at1),
        ("exclusion-zone", "breach", noon + 4 * M, at1, at1),
        ("inclusion-zone", "breach", evening, at2, at2),
        ("inclusion-zone", "breach", evening + M, at2, at2),
        ("inclusion-zone", "breach", evening + 3 * M, at2, at2),
    ]
    assert ends(tl, EXCLUSION, INCLUSION) == [
        (noon, 1), (noon + 2 * M, 1), (noon + 4 * M, 1), (evening, 1), (evening + M, 1), (evening + 3 * M, 1),
    ]


# --- no fix while moving -----------------------------------------------------------------------

BLIND = GPS_NO_FIX  # no fix, moving
RESTING = GPS_NO_FIX | GPS_AT_REST


def gps_timeline(policy: Policy = STANDARD) -> Timeline:
    return Timeline([home_case(gps=GPS)], policy)


def test_no_fix_while_moving_raises_after_go_outside_and_grace() -> None:
    tl = gps_timeline()
    for s in (0, 300, 600, 900):
        status(tl, T0 + s, BLIND)
    assert tl.summary(AlertKind.NO_FIX) == []
    status(tl, T0 + 1200, BLIND)  # go_outside_s + go_outside_grace_s after the first
    assert tl.summary(AlertKind.NO_FIX) == [("no-fix", "breach", T0, T0 + 1200, None)]
    status(tl, T0 + 1500, BLIND)
    status(tl, T0 + 1800, 0)  # a fix again
    assert tl.summary(AlertKind.NO_FIX) == [("no-fix", "breach", T0, T0 + 1200, T0 + 1800)]
    assert ends(tl, AlertKind.NO_FIX) == [(T0 + 1800, 2)]


def test_no_fix_one_second_short_raises_nothing() -> None:
    tl = gps_timeline()
    for s in (0, 600, 1199):
        status(tl, T0 + s, BLIND)
    tl.run(T0 + 3600)
    assert tl.summary(AlertKind.NO_FIX) == []


def test_no_fix_at_rest_does_not_count() -> None:
    tl = gps_timeline()
    for s in range(0, 7200, 600):  # two hours at rest indoors, no fix
        status(tl, T0 + s, RESTING)
    assert tl.summary(AlertKind.NO_FIX) == []
    start = T0 + 7200
    status(tl, start, BLIND)
    status(tl, start + 600, RESTING)  # resting breaks the run
    for s in (900, 1500, 2099):
        status(tl, start + s, BLIND)
    assert tl.summary(AlertKind.NO_FIX) == []
    status(tl, start + 2100, BLIND)
    assert tl.summary(AlertKind.NO_FIX) == [("no-fix", "breach", start + 900, start + 2100, None)]


def test_no_fix_naive_raises_one_per_status_while_moving() -> None:
    tl = gps_timeline(NAIVE)
    for s, flags in ((0, BLIND), (60, RESTING), (120, BLIND), (180, 0), (240, BLIND)):
        status(tl, T0 + s, flags)
    assert tl.summary(AlertKind.NO_FIX) == [
        ("no-fix", "breach", T0 + s, T0 + s, T0 + s) for s in (0, 120, 240)
    ]


# --- battery, strap, charging ----------------------------------------------------------------------


def test_battery_low_is_equipment_open_until_cleared() -> None:
    tl = gps_timeline()
    status(tl, T0, 0, 40.0)
    status(tl, T0 + 600, GPS_BATTERY_LOW, 15.0)
    status(tl, T0 + 1200, GPS_BATTERY_LOW, 12.0)
    assert tl.summary(AlertKind.GPS_BATTERY_LOW) == [("gps-battery-low", "equipment", T0 + 600, T0 + 600, None)]
    status(tl, T0 + 1800, GPS_CHARGING, 30.0)
    assert tl.summary(AlertKind.GPS_BATTERY_LOW) == [("gps-battery-low", "equipment", T0 + 600, T0 + 600, T0 + 1800)]
    assert ends(tl, AlertKind.GPS_BATTERY_LOW) == [(T0 + 1800, 2)]


# A GPS strap's window: the confirmation, and one upload interval for the closing to be sent.
STRAP_WINDOW = STANDARD.tamper_confirm_s + 600.0


def test_strap_open_past_the_confirmation_window_is_a_breach_until_closed() -> None:
    tl = gps_timeline()
    status(tl, T0, GPS_STRAP_OPEN)
    status(tl, T0 + 600, GPS_STRAP_OPEN | GPS_BATTERY_LOW, 10.0)
    assert tl.summary(AlertKind.GPS_STRAP) == []  # held
    status(tl, T0 + 1800, 0)
    assert tl.summary(AlertKind.GPS_STRAP, AlertKind.GPS_BATTERY_LOW) == [
        ("gps-battery-low", "equipment", T0 + 600, T0 + 600, T0 + 1800),
        ("gps-strap", "breach", T0, T0 + STRAP_WINDOW, T0 + 1800),
    ]
    assert ends(tl, AlertKind.GPS_STRAP) == [(T0 + 1800, 2)]


def test_a_strap_closed_again_within_the_confirmation_window_is_a_suspect_sensor() -> None:
    """The false strap reports (California: 23% of GPS alerts, AP) that a base unit's tampers
    already had filtered: a GPS strap seen closed within the window is equipment, not a breach.
    Here open for a few minutes, the closing sent with the next upload but one."""
    tl = gps_timeline()
    status(tl, T0, GPS_STRAP_OPEN)
    status(tl, T0 + 600, GPS_STRAP_OPEN)
    status(tl, T0 + 1200, 0)
    tl.run(T0 + 3600)
    assert tl.summary(AlertKind.GPS_STRAP) == [("gps-strap", "equipment", T0, T0 + 1200, T0 + 1200)]
    assert ends(tl, AlertKind.GPS_STRAP) == [(T0 + 1200, 2)]


def test_a_strap_open_and_never_seen_closed_is_raised_when_the_window_ends() -> None:
    tl = gps_timeline()
    status(tl, T0, GPS_STRAP_OPEN)
    tl.run(T0 + STRAP_WINDOW - 1)
    assert tl.summary(AlertKind.GPS_STRAP) == []
    tl.run(T0 + STRAP_WINDOW + 1)
    assert tl.summary(AlertKind.GPS_STRAP) == [("gps-strap", "breach", T0, T0 + STRAP_WINDOW, None)]


def test_naive_status_problems_are_one_alert_each() -> None:
    tl = gps_timeline(NAIVE)
    status(tl, T0, GPS_STRAP_OPEN)
    status(tl, T0 + 300, GPS_STRAP_OPEN | GPS_BATTERY_LOW, 10.0)
    status(tl, T0 + 600, 0)
    assert tl.summary(AlertKind.GPS_STRAP, AlertKind.GPS_BATTERY_LOW) == [
        ("gps-strap", "breach", T0, T0, T0),
        ("gps-battery-low", "equipment", T0 + 300, T0 + 300, T0 + 300),
        ("gps-strap", "breach", T0 + 300, T0 + 300, T0 + 300),
    ]


NOT_CHARGING = AlertKind.NOT_CHARGING


# Each day (from midnight) is judged once it is over and the allowed lateness (6 h, longer
# than the tag's silence threshold of six 10-minute uploads) more has passed.
JUDGED = STANDARD.allowed_lateness_s


def test_not_charging_is_raised_for_each_day_heard_without_a_charge() -> None:
    tl = gps_timeline()
    status(tl, H(1), 0)  # heard on day 0, never charging
    tl.run(H(24) + JUDGED - 1)
    assert tl.summary(NOT_CHARGING) == []
    status(tl, H(30), 0)  # and on day 1
    tl.run(H(72))
    assert tl.summary(NOT_CHARGING) == [
        ("not-charging", "breach", 0.0, H(24) + JUDGED, H(24) + JUDGED),
        ("not-charging", "breach", H(24), H(48) + JUDGED, H(48) + JUDGED),
    ]  # day 2: not heard, so nothing to say about its charging (its silence is the contact rule's)


def test_not_charging_needs_the_tag_heard() -> None:
    tl = gps_timeline()
    tl.run(H(49))
    assert tl.summary(NOT_CHARGING) == []


def charge(tl: Timeline, at: float, minutes: int, late_by: float = 0.0) -> Timeline:
    """On charge from ``at`` for ``minutes``: a charging status at each 10-minute upload
    (arriving ``late_by`` after its event time, as store-and-forward may deliver them)."""
    for k in range(0, minutes, 10):
        event = at + k * 60
        status(tl, event + late_by, GPS_CHARGING, event_time=event if late_by else None)
    return tl


def test_charging_every_evening_at_varying_hours_raises_nothing() -> None:
    """The old 24-hour window fired here (18:00, then 22:00 next day: 28 h apart): wearers
    who charge every evening, not at the same hour, keep the daily rule (issue 11)."""
    tl = gps_timeline()
    for hour in (18, 24 + 22, 48 + 19):
        charge(tl, H(hour), 120)
    tl.run(H(80))
    assert tl.summary(NOT_CHARGING) == []


def test_less_than_an_hour_on_charge_in_a_day_is_a_breach_and_an_hour_is_not() -> None:
    """"At least one hour a day" (gov.uk): each charging status stands for one upload interval."""
    tl = gps_timeline()
    charge(tl, H(20), 50)  # day 0: five statuses, 50 min seen
    charge(tl, H(24 + 20), 60)  # day 1: six, the hour
    status(tl, H(48 + 8), 0)
    charge(tl, H(48 + 20), 60)
    tl.run(H(80))
    assert tl.summary(NOT_CHARGING) == [("not-charging", "breach", 0.0, H(24) + JUDGED, H(24) + JUDGED)]


def test_a_charge_across_midnight_counts_in_each_day_for_its_own_part() -> None:
    tl = gps_timeline()
    charge(tl, H(23) + 1800, 120)  # 23:30 to 01:30: three statuses on day 0, nine on day 1
    charge(tl, H(48 + 20), 60)
    tl.run(H(80))
    assert tl.summary(NOT_CHARGING) == [("not-charging", "breach", 0.0, H(24) + JUDGED, H(24) + JUDGED)]


def test_a_day_without_a_charge_between_days_with_one_is_raised() -> None:
    tl = gps_timeline()
    charge(tl, H(20), 120)
    status(tl, H(24 + 12), 0)  # day 1: heard, no charge
    charge(tl, H(48 + 20), 120)
    tl.run(H(80))
    assert tl.summary(NOT_CHARGING) == [("not-charging", "breach", H(24), H(48) + JUDGED, H(48) + JUDGED)]


BATTERY_KINDS = (AlertKind.GPS_BATTERY_LOW, AlertKind.GPS_BATTERY_FLAT, AlertKind.NO_CONTACT)


def test_battery_low_then_silence_is_battery_flat() -> None:
    tl = gps_timeline()
    status(tl, H(10), GPS_BATTERY_LOW, 8.0)
    tl.run(H(11) - 1)
    assert tl.summary(*BATTERY_KINDS) == [("gps-battery-low", "equipment", H(10), H(10), None)]
    tl.run(H(12))
    assert tl.summary(*BATTERY_KINDS) == [
        ("gps-battery-low", "equipment", H(10), H(10), None),
        ("gps-battery-flat", "breach", H(10), H(11), None),
    ]
    status(tl, H(15), GPS_CHARGING, 20.0)  # back, charging
    assert tl.summary(*BATTERY_KINDS) == [
        ("gps-battery-low", "equipment", H(10), H(10), H(15)),
        ("gps-battery-flat", "breach", H(10), H(11), H(15)),
    ]


def test_silence_without_low_battery_is_no_contact() -> None:
    tl = gps_timeline()
    status(tl, H(10), 0, 60.0)
    tl.run(H(12))
    assert tl.summary(*BATTERY_KINDS) == [("no-contact", "unmonitored", H(10), H(11), None)]


# --- a scripted day ------------------------------------------------------------------------------

FIX_EVERY = 120.0
DAY_START, DAY_END = H(6), H(23)


def scripted_position(time: float) -> tuple[tuple[float, float], tuple[float, float]]:
    """Where the subject is at ``time`` on day 0: (zone origin, (metres east, accuracy))."""
    j = int((time - H(int(time // 3600))) // FIX_EVERY)  # the fix's index within its hour
    elsewhere = (HOME_AT, (-3000.0, 10.0))  # far from both zones
    if time < H(7):  # at home in curfew; every fifth fix drifts just outside, indoors: 6 naive
        return (HOME_AT, (120.0, 80.0)) if j % 5 == 0 else (HOME_AT, HOME_IN)
    if time < H(8):
        return HOME_AT, HOME_IN
    if time < H(12):
        return elsewhere
    if time < H(13):  # walks past the exclusion zone; every fourth fix's centre strays inside: 8 naive
        return (EXCL_AT, EDGE_IN) if j % 4 == 0 else (EXCL_AT, (230.0, 20.0))
    if time < H(13) + 1200:  # goes in for 20 min, sure fixes: 10 naive, 1 standard
        return EXCL_AT, SURE_IN
    if time < H(14):
        return EXCL_AT, (500.0, 10.0)
    if time < H(14) + 3 * FIX_EVERY:  # three edge fixes in a row: 3 naive, 1 standard
        return EXCL_AT, EDGE_IN
    if H(14) + 1800 <= time < H(14) + 1800 + 2 * FIX_EVERY:  # two in a row: 2 naive
        return EXCL_AT, EDGE_IN
    if time < H(15):
        return EXCL_AT, (500.0, 10.0)
    if time < H(19) + 1800:  # home half an hour into curfew: 15 naive, 1 standard
        return elsewhere
    if H(21) <= time < H(22) and j % 3 == 0:  # poor fixes indoors, centre just outside: 10 naive
        return HOME_AT, (130.0, 60.0)
    return HOME_AT, HOME_IN


def scripted_day(policy: Policy) -> Timeline:
    tl = Timeline([home_case(gps=GPS, zones=[EXCL, HOME])], policy)
    rng = np.random.default_rng(7)
    for hour in range(6, 23):  # hourly uploads, each shuffled
        times = H(hour) + FIX_EVERY * np.arange(30)
        batch = np.concatenate([fixes(scripted_position(x)[0], (x, scripted_position(x)[1])) for x in times.tolist()])
        upload(tl, H(hour + 1) + 30, batch[rng.permutation(len(batch))])
    return tl


def test_scripted_day_naive_raises_every_wrong_fix_and_standard_a_handful() -> None:
    naive, standard = scripted_day(NAIVE), scripted_day(STANDARD)
    assert naive.detector.stats.fixes == standard.detector.stats.fixes == 510

    flood = naive.alerts(EXCLUSION) + naive.alerts(INCLUSION)
    assert len(flood) == 54
    assert (len(naive.alerts(EXCLUSION)), len(naive.alerts(INCLUSION))) == (23, 31)
    assert Counter(int(a.event_time // 3600) for a in flood) == {6: 6, 12: 8, 13: 10, 14: 5, 19: 15, 21: 10}

    assert standard.summary(EXCLUSION, INCLUSION) == [
        ("exclusion-zone", "breach", H(13), H(14) + 30, H(14) + 30),
        ("exclusion-zone", "breach", H(14), H(15) + 30, H(15) + 30),
        ("inclusion-zone", "breach", H(19), H(20) + 30, H(20) + 30),
    ]
    assert ends(standard, EXCLUSION, INCLUSION) == [(H(13) + 1200, 10), (H(14) + 3 * FIX_EVERY, 1), (H(19) + 1800, 15)]


def test_a_late_visit_raised_while_another_is_open_does_not_hide_later_late_visits() -> None:
    tl = exclusion_timeline()
    upload(tl, t(3), excl((t(0), SURE_IN), (t(1), SURE_IN), (t(2), SURE_IN)))  # open from t(0)
    upload(tl, t(4), excl((t(-20), SURE_IN), (t(-19), FAR)))  # late, a visit of its own
    upload(tl, t(6), excl((t(3), FAR), (t(4), FAR), (t(5), FAR)))  # the open one closes
    upload(tl, t(200), excl(*((t(i), FAR) for i in range(100, 200))))
    upload(tl, t(201), excl((t(150), SURE_IN), (t(151), FAR)))  # late: a new visit
    assert [a.event_time for a in tl.alerts(EXCLUSION)] == [t(0), t(-20), t(150)]


def test_late_fixes_from_the_start_of_an_open_visit_raise_no_second_alert() -> None:
    tl = exclusion_timeline(zone_exit_fold_s=1800.0)
    upload(tl, t(10), excl(*((t(i), SURE_IN) for i in range(5, 10))))
    upload(tl, t(11), excl(*((t(i), SURE_IN) for i in range(0, 5))))
    assert len(tl.alerts(EXCLUSION)) == 1


def test_a_late_re_entry_within_the_fold_window_raises_no_second_alert() -> None:
    tl = exclusion_timeline(zone_exit_fold_s=1800.0)
    upload(tl, t(2), excl((t(0), SURE_IN), (t(1), FAR)))
    upload(tl, t(60), excl(*((t(i), FAR) for i in range(2, 60))))
    tl.run(t(62))
    upload(tl, t(63), excl((t(10), SURE_IN), (t(11), FAR)))  # 9 minutes after the exit, late
    assert len(tl.alerts(EXCLUSION)) == 1


def test_uploads_drained_late_still_fold_a_re_entry() -> None:
    """Held uploads arriving a second apart must not let the fold window's timer close the alert
    before the upload holding the re-entry is in."""
    batches = [excl((t(0), SURE_IN), (t(1), SURE_IN), (t(2), FAR)), excl(*((t(i), FAR) for i in range(3, 13))),
               excl((t(13), SURE_IN), (t(14), FAR)), excl(*((t(i), FAR) for i in range(15, 80)))]
    tl = exclusion_timeline(zone_exit_fold_s=1800.0)
    for k, batch in enumerate(batches):
        upload(tl, H(14) + k, batch)
    tl.run(H(16))
    assert [(a.event_time, a.event_end) for a in tl.alerts(EXCLUSION)] == [(t(0), t(14))]


def test_a_charge_reported_late_but_within_the_allowed_lateness_counts() -> None:
    tl = gps_timeline()
    status(tl, H(20), 0)
    charge(tl, H(22), 60, late_by=H(4))  # four hours late: day 0's charge, arriving on day 1
    charge(tl, H(30), 60)
    tl.run(H(49))
    assert tl.summary(NOT_CHARGING) == []


def test_a_day_the_tag_said_nothing_is_not_judged_on_charging() -> None:
    tl = gps_timeline()
    charge(tl, H(1), 60)  # day 0 fine; then silent through all of day 1
    charge(tl, H(48.5), 60)  # heard 00:30 on day 2
    tl.run(H(60))
    assert tl.summary(NOT_CHARGING) == []
