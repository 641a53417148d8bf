"""``tagsim compare``: every shipped supplier on the same seeds, the table printed, the JSON, CSV
and HTML written; a user's mistake is one line and a non-zero exit."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import numpy as np
import pytest

from sim.cli import main
from sim.compare.metrics import METRICS
from sim.scenario import available_suppliers

SMALL = ["--subjects", "40", "--days", "1", "--workers", "1", "--policy", "standard"]


def test_compare_writes_the_comparison_of_every_shipped_supplier(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["compare", *SMALL, "--replications", "2", "--out", str(tmp_path)]) == 0
    printed = capsys.readouterr().out
    suppliers = available_suppliers()
    assert len(suppliers) >= 3 and all(name in printed for name in suppliers)
    assert "Bonferroni over" in printed and "wrote compare.json, compare.csv and compare.html" in printed
    out = json.loads((tmp_path / "compare.json").read_text())
    assert (out["schema"], out["schema_version"], out["replications"]) == ("tagsim-compare", 1, 2)
    assert [s["name"] for s in out["supplier_profiles"]] == suppliers and out["design"] == "common random numbers"
    assert len(out["seeds"]) == 2 and all(len(set(seeds)) == 1 for seeds in out["seeds"])
    assert out["precision"] == {"target": None, "met": None, "most": None}
    assert out["service"] == {"operators": [40, 30], "field_officers": [110, 80, 15], "staff_target": None}
    pairs = len(suppliers) * (len(suppliers) - 1) // 2
    assert out["correction"]["comparisons"] == pairs * len(METRICS) == len(out["differences"])
    for name in suppliers:
        alerts = out["suppliers"][name]["standard"]["alerts_per_subject_day"]
        assert len(alerts["values"]) == 2 and alerts["low"] <= alerts["mean"] <= alerts["high"]
    rows = list(csv.DictReader((tmp_path / "compare.csv").open()))
    assert len(rows) == len(out["differences"]) and {r["verdict"] for r in rows} <= {
        "better", "worse", "no significant difference", "too few replications"}
    for row, d in zip(rows, out["differences"], strict=True):
        a = [x for x, y in zip(out["suppliers"][d["a"]]["standard"][d["metric"]]["values"],
                               out["suppliers"][d["b"]]["standard"][d["metric"]]["values"], strict=True)
             if x is not None and y is not None]
        assert (float(row["a_mean"]) if row["a_mean"] else None) == (pytest.approx(np.mean(a)) if a else None)
    page = (tmp_path / "compare.html").read_text()
    assert page.count("<img") == 1 and "forest plot" in page


@pytest.mark.parametrize(("argv", "says"), [
    (["--supplier", "supplier-a"], "two or more suppliers"),
    (["--supplier", "supplier-a", "--supplier", "supplier-a"], "named twice"),
    (["--supplier", "supplier-a", "--supplier", "nosuchsupplier"], "nosuchsupplier"),
])
def test_a_bad_supplier_list_is_one_line_and_a_non_zero_exit(argv: list[str], says: str, tmp_path: Path,
                                                             capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["compare", *SMALL, *argv, "--out", str(tmp_path)]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and says in err[0]


def test_a_profile_file_with_a_field_wrong_or_missing_names_the_file_the_field_and_the_problem(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from sim.seeds import seeds_dir

    shipped = (seeds_dir() / "suppliers" / "supplier-c.toml").read_text()
    cases = [("loss_good = 0.015", "loss_good = 1.5", "rf_channel: loss_good: a share must be between 0 and 1, got 1.5"),
             ("good_to_bad = 0.0003\n", "", "rf_channel: missing key 'good_to_bad'"),
             ("upload_interval_s = 1800.0", 'upload_interval_s = "often"', "upload_interval_s: expected a number")]
    for old, new, problem in cases:
        assert old in shipped
        profile = tmp_path / "profile.toml"
        profile.write_text(shipped.replace(old, new, 1))
        assert main(["compare", *SMALL, "--supplier", str(profile), "--supplier", "supplier-a", "--out", str(tmp_path)]) == 1
        err = capsys.readouterr().err.strip()
        assert str(profile) in err and problem in err


@pytest.mark.parametrize(("argv", "says"), [
    (["--replications", "1"], "two replications or more"),
    (["--precision", "none"], "is not a percentage"),
    (["--precision", "0%"], "is not between 0 and 100%"),
    (["--replications", "3", "--precision", "5%"], "not allowed with argument"),
    (["--precision", "5%", "--most", "2"], "three replications or more"),
])
def test_a_bad_plan_is_a_usage_error(argv: list[str], says: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["compare", *argv]) == 2
    assert says in capsys.readouterr().err
