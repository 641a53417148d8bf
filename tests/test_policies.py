"""Loading detector policies: the shipped two, and clear errors for a bad one."""

from __future__ import annotations

from pathlib import Path

import pytest

from sim.policies import available_policies, load_policy
from sim.seeds import ParamsError, seeds_dir

STANDARD = (seeds_dir() / "policies" / "standard.toml").read_text()


def test_the_two_shipped_policies_load_and_differ_where_they_should() -> None:
    assert available_policies() == ["naive", "reference", "standard"]
    naive, standard = load_policy("naive"), load_policy("standard")
    assert (naive.track_conditions, naive.inhibit, naive.curfew_grace_s, naive.never_heard_intervals) == (False, False, 0.0, 0.0)
    assert (standard.track_conditions, standard.inhibit) == (True, True)
    assert standard.curfew_grace_s > 0 and standard.never_heard_intervals > 1
    # Today's centre: episodes (repeated raw events folded), but no grace, confirmation or inhibition.
    reference = load_policy("reference")
    assert (reference.track_conditions, reference.inhibit) == (True, False)
    assert (reference.curfew_grace_s, reference.tamper_confirm_s, reference.zone_exit_fold_s) == (0.0, 0.0, 0.0)
    assert (reference.zone_consecutive_fixes, reference.alcohol_confirm_readings, reference.zone_use_accuracy) == (1, 1, False)


def test_unknown_name_lists_the_choices() -> None:
    with pytest.raises(ParamsError, match=r"unknown policy 'lenient' \(choose from naive, reference, standard\)"):
        load_policy("lenient")


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (("curfew_grace_s = 600.0", 'curfew_grace_s = "ten minutes"'), r"curfew_grace_s: expected a number"),
        (("curfew_grace_s = 600.0", "curfew_grace_s = -1.0"), r"curfew_grace_s: must not be negative"),
        (("inhibit = true", "inhibit = true\ninhibt = false"), r"unknown key 'inhibt'"),
        (("lateness_escalation_s = 14400.0", "lateness_escalation_s = 60.0"), r"lateness_escalation_s is below"),
        (("zone_consecutive_fixes = 3", "zone_consecutive_fixes = 0"), r"at least 1"),
        (("name = ", "nom = "), r"unknown key 'nom'"),
        (("no_contact_gps_intervals = 6.0", "no_contact_gps_intervals = 1.0"), r"no_contact_gps_intervals = 1.0 must be more than 1"),
        (("never_heard_intervals = 2.0", "never_heard_intervals = 0.5"), r"never_heard_intervals = 0.5 must be 0 \(off\) or more than 1"),
    ],
    ids=["wrong-type", "negative", "misspelt-key", "escalation-below-warning", "zero-fixes", "missing-name",
         "silence-at-the-cadence", "never-heard-within-one-interval"],
)
def test_a_bad_policy_file_names_the_file_and_the_problem(tmp_path: Path, edit: tuple[str, str], message: str) -> None:
    path = tmp_path / "mine.toml"
    assert edit[0] in STANDARD
    path.write_text(STANDARD.replace(edit[0], edit[1], 1))
    with pytest.raises(ParamsError, match=message) as info:
        load_policy(str(path))
    assert str(path) in str(info.value)


def test_a_truncated_policy_file_is_a_clear_error(tmp_path: Path) -> None:
    path = tmp_path / "cut.toml"
    path.write_text(STANDARD[: len(STANDARD) // 2] + '\nname = "')
    with pytest.raises(ParamsError, match="not valid TOML"):
        load_policy(str(path))
