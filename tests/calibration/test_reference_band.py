"""The calibration held in CI: a reduced ``baseline`` run, and the reference policy (today's
centre) inside the published range of alerts a person-day (seeds/calibration.toml). A change to
the world, the devices or the reference policy that moves the volume out of the published
record fails here, not in a reader's hands. Not timed: it asserts figures, never speed."""

from __future__ import annotations

import pytest

from sim.calibration.measures import measures
from sim.calibration.published import load_calibration
from sim.policies import load_policy
from sim.run import run
from sim.scenario import load_scenario, load_supplier
from sim.score import load_scoring_rules

# A thirteenth of the caseload for two days: about 4,100 subject-days, some 1,500 reference
# alerts, so the volume's sampling error (a few per cent) is well inside the band's margins.
SUBJECTS, DAYS = 2_050, 2.0


@pytest.fixture(scope="module")
def reduced_baseline() -> dict[str, dict[str, float | None]]:
    scenario = load_scenario("baseline").with_changes(subjects=SUBJECTS, days=DAYS)
    result = run(scenario, load_supplier(scenario.supplier), [load_policy("reference"), load_policy("standard")],
                 load_scoring_rules())
    kind_of_device = {f.device: f.kind for case in result.world.cases for f in case.devices}
    return {name: measures(p.alerts, p.scorecard.alerts, kind_of_device, SUBJECTS * DAYS) for name, p in result.policies.items()}


def test_the_reference_policy_raises_alerts_inside_the_published_range(reduced_baseline: dict) -> None:
    low, high = load_calibration().alerts_per_person_day
    volume = reduced_baseline["reference"]["alerts_per_person_day"]
    assert low <= volume <= high, f"reference: {volume:.3f} alerts a person-day, published {low} to {high}"


def test_most_of_the_reference_policys_alerts_have_no_breach_behind_them_as_published(reduced_baseline: dict) -> None:
    # "Up to 70% judged false" (Arizona) is a supervisor's judgement, an upper bound of what
    # they could rule out; the share with no breach behind it is at least a majority.
    assert reduced_baseline["reference"]["false_share"] > 0.5


def test_the_standard_policy_puts_fewer_alerts_to_the_centre_than_the_reference(reduced_baseline: dict) -> None:
    assert reduced_baseline["standard"]["alerts_per_person_day"] < reduced_baseline["reference"]["alerts_per_person_day"] / 2
