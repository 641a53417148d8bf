"""Timeline tests for the scorer: hand-built truth and alerts, exact verdicts.

Subject 1 wears base unit 10 and tag 11; subject 2 wears unit 20. The run ends
at 48 h; the rules are the shipped figures, written out so a change to the
seeds file cannot move these timelines.
"""

from __future__ import annotations

import gc
import json
from pathlib import Path

import numpy as np
import pytest

from sim.detector.alerts import Alert, AlertKind, Category, Severity
from sim.score import (
    FAMILIES,
    incident_of,
    Scorecard,
    ScoringRules,
    ScoringRulesError,
    family_of,
    load_scoring_rules,
    score,
)
from sim.world.truth import TRUTH_DTYPE, TruthKind

END = 48 * 3600.0
SUBJECT_DAYS = 4.0  # two subjects for two days
RULES = ScoringRules(
    tolerance_before_s=900.0, tolerance_after_s=1800.0, horizon_s=7200.0,
    min_breach_s={"curfew": 600.0, "tamper": 0.0, "exclusion": 60.0, "alcohol": 0.0, "charging": 0.0},
    incident_window_s=3600.0,
)
CATEGORY = {
    AlertKind.MAINS_LOST: Category.EQUIPMENT, AlertKind.BACKUP_BATTERY_LOW: Category.EQUIPMENT,
    AlertKind.GPS_BATTERY_LOW: Category.EQUIPMENT, AlertKind.NO_CONTACT: Category.UNMONITORED,
    AlertKind.NEVER_HEARD: Category.UNMONITORED,
}


def H(hours: float) -> float:
    return hours * 3600.0


def truth(*rows: tuple[int, int, TruthKind, float, float]) -> np.ndarray:
    return np.array(list(rows), dtype=TRUTH_DTYPE)


NO_TRUTH = truth()


def alert(
    kind: AlertKind, event_time: float, raised_at: float | None, event_end: float | None = None,
    subject: int = 1, device: int = 10, category: Category | None = None, id: int = 1,
) -> Alert:
    category = category or CATEGORY.get(kind, Category.BREACH)
    return Alert(id, subject, device, kind, category, Severity.MEDIUM, event_time, raised_at=raised_at, event_end=event_end)


def numbered(*alerts: Alert) -> list[Alert]:
    for i, a in enumerate(alerts, 1):
        a.id = i
    return list(alerts)


def verdicts(card: Scorecard) -> list[str]:
    return [a.verdict for a in card.alerts]


# --- breach alerts against breach truth ---------------------------------------------------------


def test_a_true_alert_detects_its_breach_and_its_latency_is_raise_minus_start() -> None:
    t = truth((1, 0, TruthKind.ABSENT_IN_CURFEW, H(20), H(22)))
    card = score([alert(AlertKind.CURFEW_ABSENCE, H(20), H(20) + 660, event_end=H(22))], t, END, SUBJECT_DAYS, RULES)
    (av,) = card.alerts
    assert (av.verdict, av.family, av.truth_index, av.kind, av.category) == ("true", "curfew", 0, "curfew-absence", "breach")
    (tv,) = card.truth
    assert (tv.verdict, tv.family, tv.kind, tv.latency_s) == ("detected", "curfew", "absent-in-curfew", 660.0)
    curfew = card.by_family["curfew"]
    assert (curfew.alerts, curfew.true, curfew.false, curfew.breaches, curfew.detected, curfew.missed) == (1, 1, 0, 1, 1, 0)
    assert (curfew.precision, curfew.recall, curfew.false_share) == (1.0, 1.0, 0.0)
    assert (curfew.latency_median_s, curfew.latency_p95_s, curfew.latencies_s) == (660.0, 660.0, (660.0,))
    assert curfew.alerts_per_subject_day == 0.25 and curfew.false_per_1000_subject_days == 0.0
    assert card.overall == curfew


@pytest.mark.parametrize(
    ("truth_rows", "why"),
    [
        ((), "no truth at all"),
        (((2, 0, TruthKind.STRAP_TAMPERED, H(10), H(11)),), "another subject's tamper"),
        (((1, 0, TruthKind.ABSENT_IN_CURFEW, H(10), H(11)),), "this subject's curfew breach, another family"),
    ],
)
def test_a_false_alert_matches_nothing_of_its_own_subject_and_family(truth_rows: tuple, why: str) -> None:
    alerts = [alert(AlertKind.STRAP_TAMPER, H(10), H(10) + 30, H(10) + 60)]
    card = score(alerts, truth(*truth_rows), END, SUBJECT_DAYS, RULES)
    (av,) = card.alerts
    assert (av.verdict, av.family, av.truth_index) == ("false", "tamper", -1), why
    tamper = card.by_family["tamper"]
    assert (tamper.true, tamper.false, tamper.precision, tamper.false_share) == (0, 1, 0.0, 1.0)
    assert tamper.false_per_1000_subject_days == 250.0
    # Whatever truth there was goes undetected.
    assert [tv.verdict for tv in card.truth] == ["missed"] * len(truth_rows)


def test_a_breach_nobody_alerted_on_is_missed() -> None:
    t = truth((1, 11, TruthKind.DEVICE_FLAT, H(5), H(9)))
    card = score([], t, END, SUBJECT_DAYS, RULES)
    (tv,) = card.truth
    assert (tv.verdict, tv.family, tv.latency_s, tv.device) == ("missed", "charging", None, 11)
    charging = card.by_family["charging"]
    assert (charging.breaches, charging.detected, charging.missed) == (1, 0, 1)
    assert (charging.recall, charging.precision) == (0.0, None)
    assert (charging.latency_median_s, charging.latency_p95_s, charging.latencies_s) == (None, None, ())


# The breach is [10 h, 11 h]. tolerance_before_s (900) lets an alert begin up to 900 s after it
# ended; tolerance_after_s (1800) lets one end (or, still open, be raised) up to 1800 s before it began.
@pytest.mark.parametrize(
    ("event_time", "raised_at", "event_end", "expected"),
    [
        (H(11) + 900, H(11) + 960, H(11) + 1000, "true"),
        (H(11) + 901, H(11) + 960, H(11) + 1000, "false"),
        (H(9), H(9) + 60, H(10) - 1800, "true"),
        (H(9), H(9) + 60, H(10) - 1801, "false"),
        (H(9), H(10) - 1800, None, "true"),  # still open: its window ends at its raise
        (H(9), H(10) - 1801, None, "false"),
    ],
    ids=["start-900-after-end", "start-901-after-end", "ended-1800-before", "ended-1801-before",
         "open-raised-1800-before", "open-raised-1801-before"],
)
def test_each_tolerance_edge_is_inside_and_one_second_past_it_is_outside(
    event_time: float, raised_at: float, event_end: float | None, expected: str
) -> None:
    t = truth((1, 0, TruthKind.IN_EXCLUSION_ZONE, H(10), H(11)))
    card = score([alert(AlertKind.EXCLUSION_ZONE, event_time, raised_at, event_end)], t, END, SUBJECT_DAYS, RULES)
    assert verdicts(card) == [expected]
    assert card.truth[0].verdict == ("detected" if expected == "true" else "missed")
    if expected == "true":
        assert card.truth[0].latency_s == raised_at - H(10)


def test_a_late_alert_is_still_true_and_its_latency_is_as_late_as_it_was() -> None:
    # Raised an hour after the subject came back (store-and-forward), begun within the tolerance.
    t = truth((1, 0, TruthKind.STRAP_TAMPERED, H(10), H(10.5)))
    card = score([alert(AlertKind.STRAP_TAMPER, H(10.5) + 600, H(11.5), H(10.5) + 660)], t, END, SUBJECT_DAYS, RULES)
    assert verdicts(card) == ["true"]
    assert card.truth[0].latency_s == H(1.5)


def test_an_early_alert_within_tolerance_has_a_negative_latency_reported_as_is() -> None:
    t = truth((1, 0, TruthKind.DRINKING, H(10), H(12)))
    card = score([alert(AlertKind.ALCOHOL, H(10) - 1440, H(10) - 1080, H(10) - 720)], t, END, SUBJECT_DAYS, RULES)
    assert verdicts(card) == ["true"]
    assert card.truth[0].latency_s == -1080.0
    assert card.by_family["alcohol"].latency_median_s == -1080.0


def test_a_breach_below_its_minimum_is_neither_detected_nor_missed_but_an_alert_on_it_is_true() -> None:
    # Two minutes late into curfew: inside the 10-minute grace. The alert on it is right, if harsh.
    t = truth((1, 0, TruthKind.ABSENT_IN_CURFEW, H(19), H(19) + 120), (2, 0, TruthKind.ABSENT_IN_CURFEW, H(19), H(19) + 599))
    card = score([alert(AlertKind.CURFEW_ABSENCE, H(19), H(19) + 60, H(19) + 120)], t, END, SUBJECT_DAYS, RULES)
    assert verdicts(card) == ["true"]
    assert [tv.verdict for tv in card.truth] == ["below-threshold", "below-threshold"]
    assert [tv.latency_s for tv in card.truth] == [None, None]
    curfew = card.by_family["curfew"]
    assert (curfew.true, curfew.breaches, curfew.detected, curfew.missed, curfew.recall) == (1, 0, 0, 0, None)


def test_a_breach_of_exactly_the_minimum_counts() -> None:
    t = truth((1, 0, TruthKind.ABSENT_IN_CURFEW, H(19), H(19) + 600))
    assert score([], t, END, SUBJECT_DAYS, RULES).truth[0].verdict == "missed"


def test_a_breach_starting_within_the_horizon_is_not_judged_but_one_on_its_edge_is() -> None:
    t = truth(
        (1, 0, TruthKind.STRAP_TAMPERED, END - 7200, END),  # exactly horizon_s before the end
        (2, 0, TruthKind.STRAP_TAMPERED, END - 7199, END),
        (2, 0, TruthKind.ABSENT_IN_CURFEW, END - 300, END),  # also below its minimum: the horizon rules
    )
    card = score([alert(AlertKind.STRAP_TAMPER, END - 7000, END - 6900, subject=2, device=20)], t, END, SUBJECT_DAYS, RULES)
    assert [tv.verdict for tv in card.truth] == ["missed", "beyond-horizon", "beyond-horizon"]
    assert verdicts(card) == ["true"]  # a true alert all the same
    tamper = card.by_family["tamper"]
    assert (tamper.breaches, tamper.missed, tamper.detected, tamper.recall) == (1, 1, 0, 0.0)


def test_one_curfew_episode_seen_as_absence_and_out_of_zone_counts_once() -> None:
    t = truth(
        (1, 0, TruthKind.ABSENT_IN_CURFEW, H(20), H(22)),
        (1, 0, TruthKind.OUT_OF_INCLUSION_ZONE, H(20) + 30, H(22) - 30),
        (1, 0, TruthKind.OUT_OF_INCLUSION_ZONE, H(22), H(23)),  # touching: the same episode goes on
    )
    alerts = numbered(
        alert(AlertKind.INCLUSION_ZONE, H(20) + 120, H(20) + 180, H(22), device=12),
        alert(AlertKind.CURFEW_ABSENCE, H(20), H(20) + 600, H(22)),
    )
    card = score(alerts, t, END, SUBJECT_DAYS, RULES)
    assert verdicts(card) == ["true", "true"]
    assert [a.truth_index for a in card.alerts] == [0, 0]
    assert [(tv.verdict, tv.latency_s) for tv in card.truth] == [("detected", 180.0)] * 3
    curfew = card.by_family["curfew"]
    assert (curfew.breaches, curfew.detected, curfew.latencies_s) == (1, 1, (180.0,))


def test_separate_episodes_of_one_subject_each_count() -> None:
    t = truth((1, 0, TruthKind.ABSENT_IN_CURFEW, H(20), H(21)), (1, 0, TruthKind.OUT_OF_INCLUSION_ZONE, H(21) + 1, H(22)))
    card = score([alert(AlertKind.CURFEW_ABSENCE, H(20), H(20) + 600, H(20) + 700)], t, END, SUBJECT_DAYS, RULES)
    assert [tv.verdict for tv in card.truth] == ["detected", "missed"]
    assert card.by_family["curfew"].breaches == 2


def test_two_alerts_on_one_breach_are_both_true_and_latency_runs_from_the_first_raised() -> None:
    t = truth((1, 0, TruthKind.STRAP_TAMPERED, H(3), H(4)))
    alerts = numbered(
        alert(AlertKind.BODY_TAMPER, H(3) + 60, H(3) + 900, H(3) + 960),  # first in the list, raised second
        alert(AlertKind.STRAP_TAMPER, H(3), H(3) + 120, H(4)),
    )
    card = score(alerts, t, END, SUBJECT_DAYS, RULES)
    assert [(a.alert_id, a.verdict) for a in card.alerts] == [(1, "true"), (2, "true")]
    tamper = card.by_family["tamper"]
    assert (tamper.alerts, tamper.true, tamper.breaches, tamper.detected, tamper.latencies_s) == (2, 2, 1, 1, (120.0,))


def test_one_long_alert_detects_every_episode_it_spans() -> None:
    t = truth((1, 0, TruthKind.DRINKING, H(1), H(2)), (1, 0, TruthKind.DRINKING, H(3), H(4)))
    card = score([alert(AlertKind.ALCOHOL, H(1.5), H(5), H(3.5))], t, END, SUBJECT_DAYS, RULES)
    assert [(tv.verdict, tv.latency_s) for tv in card.truth] == [("detected", H(4)), ("detected", H(2))]
    assert card.alerts[0].truth_index == 0


def test_no_fix_and_unit_moved_alerts_are_all_false_and_have_no_recall() -> None:
    t = truth((1, 0, TruthKind.ABSENT_IN_CURFEW, H(20), H(22)))
    alerts = numbered(
        alert(AlertKind.NO_FIX, H(20), H(20) + 60, device=12),
        alert(AlertKind.NO_FIX, H(30), H(30) + 60, device=12),
        alert(AlertKind.UNIT_MOVED, H(21), H(21) + 5),
        alert(AlertKind.UNIT_MOVED, H(21), H(21) + 5, category=Category.INFO),  # not an alarm: not scored
    )
    card = score(alerts, t, END, SUBJECT_DAYS, RULES)
    assert verdicts(card) == ["false", "false", "false", ""]
    assert [a.family for a in card.alerts] == ["no-fix", "no-fix", "unit-moved", None]
    no_fix, moved = card.by_family["no-fix"], card.by_family["unit-moved"]
    assert (no_fix.alerts, no_fix.false, no_fix.precision, no_fix.breaches, no_fix.recall) == (2, 2, 0.0, 0, None)
    assert (moved.alerts, moved.false, moved.recall) == (1, 1, None)
    assert (card.overall.alerts, card.overall.false, card.overall.breaches, card.overall.recall) == (3, 3, 1, 0.0)


def test_overall_adds_the_families_up() -> None:
    t = truth(
        (1, 0, TruthKind.ABSENT_IN_CURFEW, H(20), H(22)), (1, 0, TruthKind.STRAP_TAMPERED, H(5), H(6)),
        (2, 0, TruthKind.IN_EXCLUSION_ZONE, H(7), H(8)),
    )
    alerts = numbered(
        alert(AlertKind.CURFEW_ABSENCE, H(20), H(20) + 600, H(22)),
        alert(AlertKind.STRAP_TAMPER, H(5), H(5) + 100, H(6)),
        alert(AlertKind.NO_FIX, H(1), H(1) + 10),
        alert(AlertKind.EXCLUSION_ZONE, H(30), H(30) + 10, subject=2, device=20),
    )
    overall = score(alerts, t, END, SUBJECT_DAYS, RULES).overall
    assert (overall.alerts, overall.true, overall.false) == (4, 2, 2)
    assert (overall.breaches, overall.detected, overall.missed) == (3, 2, 1)
    assert (overall.precision, overall.false_share, overall.recall) == (0.5, 0.5, pytest.approx(2 / 3))
    assert overall.latencies_s == (600.0, 100.0)  # family by family, in FAMILIES order
    assert overall.latency_median_s == 350.0 and overall.latency_p95_s == pytest.approx(575.0)
    assert overall.alerts_per_subject_day == 1.0 and overall.false_per_1000_subject_days == 500.0


def test_an_alert_never_raised_does_not_count() -> None:
    t = truth((1, 0, TruthKind.STRAP_TAMPERED, H(5), H(6)))
    card = score([alert(AlertKind.STRAP_TAMPER, H(5), None)], t, END, SUBJECT_DAYS, RULES)
    assert card.alerts == [] and card.by_family["tamper"].alerts == 0
    assert card.truth[0].verdict == "missed"


# --- equipment ---------------------------------------------------------------------------------


def test_an_equipment_alert_is_real_only_with_an_equipment_cause_on_its_device_or_its_subject() -> None:
    t = truth(
        (1, 0, TruthKind.CELLULAR_OUTAGE, H(2), H(3)),  # about the whole subject
        (2, 20, TruthKind.MAINS_LOST, H(2), H(3)),  # on unit 20 only
    )
    alerts = numbered(
        # Subject 1's absence filed as equipment, explained by the outage in its area.
        alert(AlertKind.CURFEW_ABSENCE, H(2.5), H(2.6), H(2.7), category=Category.EQUIPMENT),
        alert(AlertKind.MAINS_LOST, H(2), H(2) + 5, subject=2, device=20),
        alert(AlertKind.GPS_BATTERY_LOW, H(2), H(2) + 5, subject=2, device=21),  # mains lost is the unit's, not the tag's
        alert(AlertKind.MAINS_LOST, H(4) + 1801, H(4) + 1805),  # no outage then
    )
    card = score(alerts, t, END, SUBJECT_DAYS, RULES)
    assert verdicts(card) == ["real", "real", "unexplained", "unexplained"]
    assert [a.truth_index for a in card.alerts] == [0, 1, -1, -1]
    assert [a.family for a in card.alerts] == [None] * 4
    eq = card.equipment
    assert (eq.alerts, eq.real, eq.unexplained) == (4, 2, 2)
    assert card.overall.alerts == 0  # equipment alerts are counted apart from breaches
    assert [tv.verdict for tv in card.truth] == ["", ""]


def test_equipment_alerts_get_the_same_tolerances() -> None:
    t = truth((1, 10, TruthKind.MAINS_LOST, H(2), H(3)))
    alerts = numbered(
        alert(AlertKind.BACKUP_BATTERY_LOW, H(3) + 900, H(3) + 901),
        alert(AlertKind.BACKUP_BATTERY_LOW, H(3) + 901, H(3) + 902),
    )
    assert verdicts(score(alerts, t, END, SUBJECT_DAYS, RULES)) == ["real", "unexplained"]


# --- unmonitored -------------------------------------------------------------------------------


def test_unmonitored_spans_named_and_unnamed_and_an_alert_on_a_reporting_device() -> None:
    t = truth(
        (1, 11, TruthKind.UNMONITORED, 0.0, H(30)),  # named at 2 h
        (2, 20, TruthKind.UNMONITORED, 0.0, H(10)),  # never named
    )
    alerts = numbered(
        alert(AlertKind.NEVER_HEARD, 0.0, H(2), device=11),
        alert(AlertKind.NO_CONTACT, H(1), H(4), device=11),  # a second name for the same span
        alert(AlertKind.NO_CONTACT, H(5), H(8), device=10),  # unit 10 was reporting: false
        alert(AlertKind.NO_CONTACT, H(9), H(12), subject=2, device=20),  # 2 h after the span: too late
    )
    card = score(alerts, t, END, SUBJECT_DAYS, RULES)
    assert verdicts(card) == ["named", "named", "unmatched", "unmatched"]
    assert [a.truth_index for a in card.alerts] == [0, 0, -1, -1]
    assert [(tv.verdict, tv.latency_s, tv.family) for tv in card.truth] == [("named", H(2), None), ("unnamed", None, None)]
    um = card.unmonitored
    assert (um.devices, um.device_hours, um.named) == (2, 40.0, 1)
    assert (um.hours_to_name_median, um.hours_caught) == (2.0, 28.0)
    assert (um.alerts, um.alerts_true) == (4, 2)


def test_an_unmonitored_span_named_within_tolerance_after_it_ended_caught_no_hours() -> None:
    t = truth((1, 11, TruthKind.UNMONITORED, 0.0, H(10)))
    alerts = numbered(alert(AlertKind.NO_CONTACT, H(9), H(10) + 1800, device=11))
    card = score(alerts, t, END, SUBJECT_DAYS, RULES)
    assert verdicts(card) == ["named"]
    assert (card.unmonitored.hours_to_name_median, card.unmonitored.hours_caught) == (10.5, 0.0)


def test_an_unmonitored_alert_inhibited_as_equipment_is_scored_as_equipment() -> None:
    t = truth((1, 11, TruthKind.UNMONITORED, 0.0, H(10)))
    alerts = [alert(AlertKind.NO_CONTACT, H(1), H(3), device=11, category=Category.EQUIPMENT)]
    card = score(alerts, t, END, SUBJECT_DAYS, RULES)
    assert verdicts(card) == ["real"]
    assert (card.unmonitored.alerts, card.unmonitored.named, card.truth[0].verdict) == (0, 0, "unnamed")


# --- the whole card ----------------------------------------------------------------------------


def test_empty_inputs_score_zero_with_undefined_ratios() -> None:
    card = score([], NO_TRUTH, END, SUBJECT_DAYS, RULES)
    assert card.alerts == [] and card.truth == []
    assert set(card.by_family) == set(FAMILIES)
    for s in [card.overall, *card.by_family.values()]:
        assert (s.alerts, s.breaches, s.precision, s.recall, s.false_share) == (0, 0, None, None, None)
        assert (s.latency_median_s, s.latency_p95_s, s.latencies_s) == (None, None, ())
        assert s.alerts_per_subject_day == 0.0
    assert (card.equipment.alerts, card.unmonitored.devices, card.unmonitored.hours_to_name_median) == (0, 0, None)
    assert card.unmonitored.hours_caught == 0.0


def test_to_dict_is_plain_json_with_the_same_numbers_and_no_lists() -> None:
    t = truth((1, 0, TruthKind.ABSENT_IN_CURFEW, H(20), H(22)), (1, 11, TruthKind.UNMONITORED, 0.0, H(5)))
    alerts = numbered(
        alert(AlertKind.CURFEW_ABSENCE, H(20), H(20) + 600, H(22)),
        alert(AlertKind.NO_FIX, H(1), H(1) + 10),
        alert(AlertKind.NEVER_HEARD, 0.0, H(2), device=11),
    )
    card = score(alerts, t, END, SUBJECT_DAYS, RULES)
    d = json.loads(json.dumps(card.to_dict(), allow_nan=False))
    assert set(d) == {"overall", "by_family", "equipment", "unmonitored", "incidents"}
    assert list(d["by_family"]) == list(FAMILIES)
    assert d["overall"]["precision"] == 0.5 and d["overall"]["latency_median_s"] == 600.0
    assert d["by_family"]["curfew"]["detected"] == 1 and d["by_family"]["alcohol"]["recall"] is None
    assert "latencies_s" not in d["overall"]
    assert d["unmonitored"] == {
        "devices": 1, "device_hours": 5.0, "named": 1, "hours_to_name_median": 2.0, "hours_caught": 3.0,
        "alerts": 1, "alerts_true": 1,
    }
    assert d["equipment"] == {"alerts": 0, "real": 0, "unexplained": 0}
    # The values themselves are Python's, not numpy's, so any JSON encoder takes them.
    assert all(type(v) in (int, float, type(None)) for v in card.to_dict()["overall"].values())


def test_verdicts_keep_input_order_for_alerts_and_row_order_for_truth() -> None:
    t = truth((2, 0, TruthKind.STRAP_TAMPERED, H(9), H(10)), (1, 0, TruthKind.STRAP_TAMPERED, H(1), H(2)))
    alerts = numbered(
        alert(AlertKind.STRAP_TAMPER, H(9), H(9) + 30, H(10), subject=2, device=20),
        alert(AlertKind.STRAP_TAMPER, H(1), H(1) + 40, H(2)),
    )
    card = score(alerts, t, END, SUBJECT_DAYS, RULES)
    assert [(a.alert_id, a.truth_index) for a in card.alerts] == [(1, 0), (2, 1)]
    assert [(tv.index, tv.subject, tv.latency_s) for tv in card.truth] == [(0, 2, 30.0), (1, 1, 40.0)]


def test_bad_inputs_are_refused() -> None:
    with pytest.raises(ValueError, match="subject_days must be positive"):
        score([], NO_TRUTH, END, 0.0, RULES)
    with pytest.raises(ValueError, match="TRUTH_DTYPE"):
        score([], np.zeros(1), END, SUBJECT_DAYS, RULES)
    odd = truth((1, 0, TruthKind.DRINKING, 0.0, 1.0))
    odd["kind"] = 99
    with pytest.raises(ValueError, match="unknown kind 99"):
        score([], odd, END, SUBJECT_DAYS, RULES)


def test_the_cycle_collector_is_back_on_after_a_score_and_after_a_refusal() -> None:
    assert gc.isenabled()
    score([alert(AlertKind.NO_FIX, H(1), H(1))], NO_TRUTH, END, SUBJECT_DAYS, RULES)
    assert gc.isenabled()
    with pytest.raises(ValueError):
        score([], NO_TRUTH, END, -1.0, RULES)
    assert gc.isenabled()


def test_every_breach_kind_has_a_family_and_no_other_kind_does() -> None:
    assert {k for k in AlertKind if family_of(k) is None} == set(CATEGORY)  # the equipment and unmonitored kinds
    assert {family_of(k) for k in AlertKind} - {None} == set(FAMILIES)
    assert family_of(AlertKind.INCLUSION_ZONE) == "curfew" and family_of(AlertKind.GPS_STRAP) == "tamper"


def test_a_breach_alert_of_a_kind_with_no_family_is_refused_not_dropped() -> None:
    stray = alert(AlertKind.MAINS_LOST, H(1), H(1), category=Category.BREACH)
    with pytest.raises(ValueError, match="'mains-lost' belongs to no scoring family"):
        score([stray], NO_TRUTH, END, SUBJECT_DAYS, RULES)


# --- against a plain reading of the rules --------------------------------------------------------


def _reference(
    alerts: list[Alert], t: np.ndarray, rules: ScoringRules
) -> tuple[list[str], list[set[int]], list[str], list[float | None]]:
    """The rules of docs/scoring.md, alert by alert and row by row, with no cleverness: each
    alert's verdict and the truth rows it may name as its match, each row's verdict and latency."""
    fam_truth = {
        "curfew": {TruthKind.ABSENT_IN_CURFEW, TruthKind.OUT_OF_INCLUSION_ZONE}, "tamper": {TruthKind.STRAP_TAMPERED},
        "exclusion": {TruthKind.IN_EXCLUSION_ZONE}, "alcohol": {TruthKind.DRINKING}, "charging": {TruthKind.DEVICE_FLAT},
    }
    equipment = {
        TruthKind.MAINS_LOST, TruthKind.CELLULAR_OUTAGE, TruthKind.DEVICE_FAULTY, TruthKind.DEVICE_FLAT, TruthKind.UNMONITORED,
    }
    rows = [(int(r["subject"]), int(r["device"]), TruthKind(int(r["kind"])), float(r["start"]), float(r["end"])) for r in t]
    # Episodes (family, subject, start, end, first row): the union of a family's touching rows.
    episodes, episode_of = [], {}
    for fam, kinds in fam_truth.items():
        for subject in sorted({r[0] for r in rows}):
            mine = sorted((r[3], i) for i, r in enumerate(rows) if r[0] == subject and r[2] in kinds)
            for s, i in mine:
                last = episodes[-1] if episodes else None
                if last and last[:2] == [fam, subject] and s <= last[3]:
                    last[3] = max(last[3], rows[i][4])
                else:
                    episodes.append([fam, subject, s, rows[i][4], i])
                episode_of[i] = len(episodes) - 1

    def window(a: Alert) -> tuple[float, float]:
        end = a.raised_at if a.event_end is None else a.event_end
        return a.event_time - rules.tolerance_before_s, end + rules.tolerance_after_s

    def overlaps(a: Alert, start: float, end: float) -> bool:
        lo, hi = window(a)
        return start <= hi and end >= lo

    def names(a: Alert, r: tuple) -> bool:
        on_it = r[2] is TruthKind.UNMONITORED and (r[0], r[1]) == (a.subject, a.device)
        return on_it and r[3] <= a.raised_at <= r[4] + rules.tolerance_after_s

    a_out: list[str] = []
    a_rows: list[set[int]] = []
    for a in alerts:
        if a.category is Category.BREACH:
            hits = [e for e in episodes if e[:2] == [family_of(a.kind), a.subject] and overlaps(a, e[2], e[3])]
            a_out.append("true" if hits else "false")
            a_rows.append({min(hits, key=lambda e: e[2])[4]} if hits else set())
        elif a.category is Category.EQUIPMENT:
            causes = [
                (r[1], i) for i, r in enumerate(rows)
                if r[0] == a.subject and r[1] in (a.device, 0) and r[2] in equipment and overlaps(a, r[3], r[4])
            ]
            own = {i for d, i in causes if d == a.device}  # a cause on its own device is named first
            a_out.append("real" if causes else "unexplained")
            a_rows.append(own or {i for _, i in causes})
        elif a.category is Category.UNMONITORED:
            spans = {i for i, r in enumerate(rows) if names(a, r)}
            a_out.append("named" if spans else "unmatched")
            a_rows.append(spans)
        else:
            a_out.append("")
            a_rows.append(set())
    t_out, latency = ["" for _ in rows], [None for _ in rows]
    for i, r in enumerate(rows):
        if i in episode_of:
            fam, subject, s, e, _ = episodes[episode_of[i]]
            raises = [
                a.raised_at for a in alerts
                if a.category is Category.BREACH and family_of(a.kind) == fam and a.subject == subject and overlaps(a, s, e)
            ]
            if s > END - rules.horizon_s:
                t_out[i] = "beyond-horizon"
            elif e - s < rules.min_breach_s[fam]:
                t_out[i] = "below-threshold"
            elif raises:
                t_out[i], latency[i] = "detected", min(raises) - s
            else:
                t_out[i] = "missed"
        elif r[2] is TruthKind.UNMONITORED:
            raises = [a.raised_at for a in alerts if a.category is Category.UNMONITORED and names(a, r)]
            t_out[i], latency[i] = ("named", min(raises) - r[3]) if raises else ("unnamed", None)
    return a_out, a_rows, t_out, latency


@pytest.mark.parametrize("seed", range(20))
def test_the_vectorised_scorer_agrees_with_a_plain_reading_of_the_rules(seed: int) -> None:
    rng = np.random.default_rng(seed)

    def grid(n: int) -> np.ndarray:
        # On a 5-minute grid, so windows and intervals often touch exactly at their edges; in the
        # last 12 h (some beyond the horizon), and for two subjects, so they often meet at all.
        return rng.integers(36 * 12, 48 * 12, n) * 300.0

    n_truth = 60
    t = np.empty(n_truth, dtype=TRUTH_DTYPE)
    t["subject"] = rng.integers(1, 3, n_truth)
    t["device"] = np.where(rng.random(n_truth) < 0.5, 0, t["subject"] * 10 + rng.integers(0, 2, n_truth))
    t["kind"] = rng.integers(1, 11, n_truth)
    t["start"] = grid(n_truth)
    t["end"] = t["start"] + rng.integers(1, 12, n_truth) * 300.0
    kinds = [*AlertKind, *[AlertKind.NO_CONTACT, AlertKind.NEVER_HEARD] * 3]
    alerts = []
    for i in range(80):
        kind = kinds[rng.integers(len(kinds))]
        subject = int(rng.integers(1, 3))
        start = float(grid(1)[0])
        ended = None if rng.random() < 0.3 else start + float(rng.integers(0, 8)) * 300.0
        # Now and then one is inhibited: filed as equipment, whatever its kind.
        category = Category.EQUIPMENT if rng.random() < 0.2 else CATEGORY.get(kind, Category.BREACH)
        alerts.append(Alert(i, subject, subject * 10 + int(rng.integers(0, 2)), kind, category, Severity.LOW, start,
                            raised_at=start + float(rng.integers(0, 6)) * 300.0, event_end=ended))
    card = score(alerts, t, END, SUBJECT_DAYS, RULES)
    a_want, rows_want, t_want, lat_want = _reference(alerts, t, RULES)
    assert verdicts(card) == a_want
    for av, allowed in zip(card.alerts, rows_want):
        assert av.truth_index in (allowed or {-1}), av
    assert [tv.verdict for tv in card.truth] == t_want
    assert [tv.latency_s for tv in card.truth] == lat_want


# --- the rules file ----------------------------------------------------------------------------


def test_the_shipped_rules_load_with_their_documented_figures() -> None:
    rules = load_scoring_rules()
    assert (rules.tolerance_before_s, rules.tolerance_after_s, rules.horizon_s) == (900.0, 1800.0, 7200.0)
    assert dict(rules.min_breach_s) == {"curfew": 600.0, "tamper": 0.0, "exclusion": 60.0, "alcohol": 0.0, "charging": 0.0}
    assert rules == ScoringRules(900.0, 1800.0, 7200.0, dict(rules.min_breach_s))


SHIPPED = (Path(__file__).resolve().parents[1] / "seeds" / "scoring.toml").read_text()


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (("horizon_s = 7200.0", "horizon_s = 7200.0\nhorizon = 3600.0"), r"unknown key 'horizon'"),
        (("curfew = 600.0", "curfew = 600.0\nno-fix = 0.0"), r"min_breach_s: unknown key 'no-fix'"),
        (("tolerance_after_s = 1800.0", "tolerance_after_s = -1.0"), r"tolerance_after_s: must not be negative"),
        (("exclusion = 60.0", "exclusion = -60.0"), r"min_breach_s: exclusion: must not be negative"),
        (("tolerance_before_s = 900.0", 'tolerance_before_s = "15 min"'), r"tolerance_before_s: expected a number"),
        (("alcohol = 0.0", "alcohol = true"), r"min_breach_s: alcohol: expected a number"),
        (("horizon_s = 7200.0", "horizon_s = inf"), r"horizon_s: expected a finite number"),
        (("charging = 0.0\n", ""), r"min_breach_s: missing key 'charging'"),
    ],
    ids=[
        "unknown-key", "unknown-family", "negative", "negative-minimum", "wrong-type", "bool-minimum", "infinite", "missing",
    ],
)
def test_a_bad_rules_file_is_one_error_naming_the_file_and_the_key(
    tmp_path: Path, edit: tuple[str, str], message: str
) -> None:
    path = tmp_path / "rules.toml"
    assert edit[0] in SHIPPED
    path.write_text(SHIPPED.replace(edit[0], edit[1], 1))
    with pytest.raises(ScoringRulesError, match=message) as info:
        load_scoring_rules(path)
    assert str(info.value).startswith(f"{path}: ")
    assert isinstance(info.value, ValueError)


def test_a_missing_or_broken_rules_file_is_the_same_error(tmp_path: Path) -> None:
    with pytest.raises(ScoringRulesError, match="no such file"):
        load_scoring_rules(tmp_path / "absent.toml")
    broken = tmp_path / "broken.toml"
    broken.write_text("tolerance_before_s = ")
    with pytest.raises(ScoringRulesError, match="not valid TOML"):
        load_scoring_rules(broken)


def test_rules_built_in_code_are_checked_too() -> None:
    with pytest.raises(ValueError, match="min_breach_s must name exactly the families with truth"):
        ScoringRules(900.0, 1800.0, 7200.0, {"curfew": 600.0})
    with pytest.raises(ValueError, match="horizon_s: must not be negative"):
        ScoringRules(900.0, 1800.0, -1.0, dict(RULES.min_breach_s))
    with pytest.raises(ValueError, match="min_breach_s.tamper: must not be negative"):
        ScoringRules(900.0, 1800.0, 7200.0, {**RULES.min_breach_s, "tamper": -1.0})


# --- incidents --------------------------------------------------------------------------------


def test_a_flood_about_one_breach_is_one_true_incident_and_redundant_items() -> None:
    """100 exclusion alerts over one 2 h visit: one true incident, 99 redundant alerts."""
    t = truth((1, 12, TruthKind.IN_EXCLUSION_ZONE, H(10), H(12)))
    flood = [alert(AlertKind.EXCLUSION_ZONE, H(10) + 72 * i, H(10) + 72 * i + 30, H(10) + 72 * i + 60, device=12) for i in range(100)]
    card = score(numbered(*flood), t, END, SUBJECT_DAYS, RULES)
    assert (card.overall.alerts, card.overall.true, card.overall.precision) == (100, 100, 1.0)
    inc = card.incidents
    assert (inc.incidents, inc.true, inc.false, inc.precision, inc.redundant_alerts) == (1, 1, 0, 1.0, 99)
    assert (inc.items, inc.item_incidents, inc.items_per_genuine_breach, inc.item_incidents_per_genuine_breach) == (100, 1, 100.0, 1.0)
    assert inc.latency_median_s == 30.0 and inc.recall == card.overall.recall == 1.0
    assert inc.by_family["exclusion"] == {"incidents": 1, "true": 1}


def test_alerts_group_within_the_window_and_split_beyond_it_by_subject_and_family() -> None:
    t = truth((1, 0, TruthKind.ABSENT_IN_CURFEW, H(20), H(21)))
    alerts = numbered(
        alert(AlertKind.CURFEW_ABSENCE, H(20), H(20) + 600, H(21)),
        alert(AlertKind.CURFEW_MISSED, H(21.5), H(21.5)),  # within an hour of the first's end: the same incident
        alert(AlertKind.CURFEW_ABSENCE, H(23), H(23) + 600, H(23.1)),  # 1.5 h after the latest end: a new one, false
        alert(AlertKind.STRAP_TAMPER, H(20), H(20) + 900, H(20.1)),  # another family: its own incident, false
        alert(AlertKind.CURFEW_ABSENCE, H(20), H(20) + 600, H(21), subject=2, device=20),  # another subject
        alert(AlertKind.MAINS_LOST, H(20), H(20)),  # equipment: an item, not a breach incident
    )
    inc = score(alerts, t, END, SUBJECT_DAYS, RULES).incidents
    assert (inc.incidents, inc.true, inc.false) == (4, 1, 3)
    assert (inc.items, inc.item_incidents, inc.items_per_genuine_breach) == (6, 5, 6.0)


def test_incident_of_chains_on_the_latest_end_not_the_previous_alert() -> None:
    key = np.array([1, 1, 1, 2, 1])
    start = np.array([0.0, 10.0, 500.0, 0.0, 5000.0])
    stop = np.array([400.0, 20.0, 600.0, 10.0, 5000.0])
    # The second ends early, but the first's end (400) still reaches the third (500) within 100 s.
    assert incident_of(key, start, stop, 100.0).tolist() == [0, 0, 0, 2, 1]
