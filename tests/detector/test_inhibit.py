"""Inhibition as data: the declared rules, a policy with the stage off, and the causes' text."""

from __future__ import annotations

import dataclasses

from timeline import UNIT, H, Timeline, home_case

from sim.detector import AlertKind, Category, Kind
from sim.detector.alerts import AlertBook, Cause, CauseKind
from sim.detector.cases import DeviceKind
from sim.detector.inhibit import INHIBITIONS, Inhibitor, Match
from sim.detector.state import DeviceState, SubjectState
from sim.detector.telemetry import UNIT_ON_BACKUP
from sim.policies import load_policy

STANDARD = load_policy("standard")


def unit_state() -> DeviceState:
    case = home_case()
    fitted = next(d for d in case.devices if d.kind is DeviceKind.BASE_UNIT)
    return DeviceState(fitted, case, SubjectState(case), 3 * fitted.report_interval_s)


def test_every_cause_kind_has_a_rule_and_every_rule_a_window_the_policy_gives() -> None:
    assert {rule.source for rule in INHIBITIONS} == set(CauseKind)
    for rule in INHIBITIONS:
        assert rule.within is None or isinstance(getattr(STANDARD, rule.within), float)
        assert rule.targets and (rule.match is Match.SAME_AREA) == (rule.source is CauseKind.CELLULAR_OUTAGE)


def test_a_reboot_explains_an_absence_only_within_its_window() -> None:
    unit = unit_state()
    unit.rebooted_at = H(20)
    inhibitor = Inhibitor(STANDARD, AlertBook(), INHIBITIONS)
    assert inhibitor.explain(AlertKind.CURFEW_ABSENCE, unit, H(20) + STANDARD.reboot_inhibit_s) == Cause(CauseKind.UNIT_REBOOTED, device=UNIT)
    assert inhibitor.explain(AlertKind.CURFEW_ABSENCE, unit, H(20) + STANDARD.reboot_inhibit_s + 1) is None
    assert inhibitor.explain(AlertKind.CURFEW_ABSENCE, unit, H(20) - 1) is None
    assert inhibitor.explain(AlertKind.NO_CONTACT, unit, H(20)) is None  # a reboot explains no silence


def test_with_the_stage_off_nothing_is_explained() -> None:
    unit = unit_state()
    unit.rebooted_at, unit.on_backup = H(20), True
    inhibitor = Inhibitor(STANDARD, AlertBook(), ())
    assert inhibitor.explain(AlertKind.CURFEW_ABSENCE, unit, H(20)) is None
    assert inhibitor.explain(AlertKind.NO_CONTACT, unit, H(20)) is None


def test_a_policy_that_does_not_inhibit_leaves_a_silence_after_mains_loss_unmonitored() -> None:
    policy = dataclasses.replace(STANDARD, inhibit=False)
    for p, want in ((STANDARD, (Category.EQUIPMENT, "mains lost at base unit 10")), (policy, (Category.UNMONITORED, None))):
        tl = Timeline(cases=[home_case()], policy=p).push(H(1), UNIT, Kind.MAINS_LOST, flags=UNIT_ON_BACKUP).run(H(5))
        (silence,) = tl.alerts(AlertKind.NO_CONTACT)
        assert (silence.category, None if silence.cause is None else str(silence.cause)) == want


def test_the_causes_render_the_text_alerts_have_always_shown() -> None:
    assert str(Cause(CauseKind.UNIT_REBOOTED, device=10)) == "base unit 10 rebooted"
    assert str(Cause(CauseKind.MAINS_LOST, device=10)) == "mains lost at base unit 10"
    assert str(Cause(CauseKind.CELLULAR_OUTAGE, area=7, units=5, window_s=900.0)) == (
        "cellular outage in area 7 (5 units silent within 900 s)"
    )
    assert str(Cause(CauseKind.BATTERY_LOW, device=12)) == "battery reported low, then silence"
