"""`tagsim run`: the world once, each policy on the same telemetry, every alert scored, the
scorecard printed and the results written; a user's mistake is one line and a non-zero exit."""

from __future__ import annotations

import contextlib
import csv
import io
import json
import re
import subprocess
import sys
from html.parser import HTMLParser
from pathlib import Path

import pytest

from sim.cli import main

# A small slice of smoke keeps each run to seconds.
SMALL = ["--subjects", "60", "--days", "1", "--workers", "1"]


@pytest.fixture(scope="module")
def run_folder(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    out = tmp_path_factory.mktemp("run")
    printed = io.StringIO()  # a module-scoped fixture cannot take capsys
    with contextlib.redirect_stdout(printed):
        assert main(["run", *SMALL, "--out", str(out)]) == 0
    return out, printed.getvalue()


def test_a_run_prints_the_scorecard_for_both_default_policies_and_their_ratio(run_folder: tuple[Path, str]) -> None:
    out, printed = run_folder
    lines = printed.splitlines()
    assert any(line.lstrip().startswith("reference") for line in lines)
    assert any(line.lstrip().startswith("standard") for line in lines)
    assert any("standard/reference" in line for line in lines)
    assert any("incidents" in line for line in lines)  # the incident table's header
    assert f"to {out}" in lines[-2]
    stages = re.fullmatch(r"wall time: world ([0-9.]+) s, detection ([0-9.]+) s \(reference ([0-9.]+) s, standard ([0-9.]+) s\), "
                          r"scoring ([0-9.]+) s, operations ([0-9.]+) s, outputs ([0-9.]+) s; ([0-9.]+) s in all", lines[-1])
    assert stages, lines[-1]
    world, detection, _, _, scoring, operations, outputs, total = (float(x) for x in stages.groups())
    assert world > 0 and total > 0  # printed to a tenth of a second: a small run's detection can print 0.0
    assert total == pytest.approx(world + detection + scoring + operations + outputs, abs=0.35)
    assert any("within" in line for line in lines) and any("Little's" in line for line in lines)  # the centre's tables


def test_results_json_holds_the_scenario_both_policies_and_figures_that_add_up(run_folder: tuple[Path, str]) -> None:
    out, _ = run_folder
    results = json.loads((out / "results.json").read_text())
    assert (results["schema"], results["schema_version"]) == ("tagsim-results", 2)
    assert results["scenario"]["name"] == "smoke" and results["scenario"]["subjects"] == 60
    assert set(results["policies"]) == {"reference", "standard"}
    alerts = list(csv.DictReader((out / "alerts.csv").open()))
    for name, policy in results["policies"].items():
        overall = policy["scorecard"]["overall"]
        breach = [a for a in alerts if a["policy"] == name and a["category"] == "breach"]
        assert overall["alerts"] == len(breach)
        assert overall["true"] == sum(a["verdict"] == "true" for a in breach)
        assert overall["true"] + overall["false"] == overall["alerts"]
        assert sum(policy["daily"]["by_category"]["breach"]) == overall["alerts"]
        assert overall["alerts_per_subject_day"] == pytest.approx(overall["alerts"] / 60)
        incidents = policy["scorecard"]["incidents"]
        assert incidents["true"] + incidents["false"] == incidents["incidents"] <= overall["alerts"]
        assert incidents["items"] == sum(a["policy"] == name and a["category"] != "info" for a in alerts)
        assert policy["detector"]["records"] > 0
    volume = next(r for r in results["calibration"]["figures"] if r["measure"] == "alerts_per_person_day")
    items = sum(a["policy"] == "reference" and a["category"] != "info" for a in alerts)
    assert volume["tagsim"]["reference"] == pytest.approx(items / 60)  # every operator-facing alert, per subject-day
    for name, policy in results["policies"].items():  # every operator-facing alert reaches the centre
        centre = policy["operations"]["centre"]
        items = sum(a["policy"] == name and a["category"] != "info" for a in alerts)
        assert centre["alerts"] == sum(c["alerts"] for c in centre["classes"].values()) == items
        assert centre["littles_law"]["holds"] and centre["operators"]["at_desk"] == [28, 21]
        field = policy["operations"]["field"]
        assert field["jobs"] == sum(j["jobs"] for j in field["by_job"].values()) > 0
        assert field["by_job"]["fitting"]["jobs"] == field["fitting"]["orders"]
    ratio = results["comparison"]["standard/reference"]["alerts_per_subject_day"]
    reference = results["policies"]["reference"]["scorecard"]["overall"]["alerts_per_subject_day"]
    standard = results["policies"]["standard"]["scorecard"]["overall"]["alerts_per_subject_day"]
    assert ratio == pytest.approx(standard / reference)


def test_truth_csv_has_a_verdict_from_each_policy_for_every_interval(run_folder: tuple[Path, str]) -> None:
    out, _ = run_folder
    results = json.loads((out / "results.json").read_text())
    rows = list(csv.DictReader((out / "truth.csv").open()))
    assert len(rows) == sum(k["intervals"] for k in results["world"]["truth"].values()) > 0
    for name in ("reference", "standard"):
        for row in rows:
            verdict, latency = row[f"verdict_{name}"], row[f"latency_s_{name}"]
            if row["family"]:
                assert verdict in {"detected", "missed", "below-threshold", "beyond-horizon"}, row
                assert (latency != "") == (verdict == "detected"), row
            elif row["kind"] == "unmonitored":
                assert verdict in {"named", "unnamed"}, row
            else:  # equipment truth (mains lost, outages, faults) is not a breach to detect
                assert verdict == "", row


def test_the_report_is_html_with_its_plots(run_folder: tuple[Path, str]) -> None:
    out, _ = run_folder

    class Images(HTMLParser):
        def __init__(self) -> None:
            super().__init__()
            self.sources: list[str] = []

        def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
            if tag == "img":
                self.sources.append(dict(attrs).get("src") or "")

    parser = Images()
    parser.feed((out / "report.html").read_text())
    assert parser.sources and all(src.startswith("data:image/png;base64,") for src in parser.sources)


def test_the_same_seed_gives_the_same_results(run_folder: tuple[Path, str], tmp_path: Path) -> None:
    out, _ = run_folder
    assert main(["run", *SMALL, "--out", str(tmp_path)]) == 0
    first, again = (json.loads((folder / "results.json").read_text()) for folder in (out, tmp_path))
    assert first["policies"] == again["policies"] and first["world"] == again["world"]
    assert (out / "alerts.csv").read_bytes() == (tmp_path / "alerts.csv").read_bytes()
    assert set(first["run"]["wall_s"]) == {"world", "detection", "detect", "score", "operations", "total"}


def test_two_workers_give_the_results_of_one(run_folder: tuple[Path, str], tmp_path: Path) -> None:
    # The world's blocks and the policies' detectors then share two processes.
    out, _ = run_folder
    assert main(["run", *SMALL, "--workers", "2", "--out", str(tmp_path)]) == 0  # the last --workers counts
    first, again = (json.loads((folder / "results.json").read_text()) for folder in (out, tmp_path))
    assert again["run"]["workers"] == 2
    assert first["policies"] == again["policies"] and first["world"] == again["world"]
    for name in ("alerts.csv", "truth.csv"):
        assert (out / name).read_bytes() == (tmp_path / name).read_bytes()


@pytest.mark.parametrize(
    ("argv", "says"),
    [
        (["run", "nosuchscenario"], "nosuchscenario"),
        (["run", "--policy", "nosuchpolicy"], "nosuchpolicy"),
        (["run", "--policy", "naive", "--policy", "naive"], "named twice"),
        (["run", "--supplier", "nosuchsupplier"], "nosuchsupplier"),
        (["run", "--operators", "0"], "--operators 0: staff: shift 1 has 0 rostered"),
        (["run", "--operators", "40,1"], "shift 2 has 1 rostered, 0 at work after 30% shrinkage: no cover"),
        (["run", "--operators", "4,4,4"], "2 shifts of 12 h a day need 2 counts, got 3"),
        (["run", "--field-officers", "12"], "--field-officers 12: staff: shift 1: 8 officers at work cannot cover 9 areas"),
    ],
)
def test_a_bad_name_is_one_line_and_a_non_zero_exit(argv: list[str], says: str, tmp_path: Path,
                                                    capsys: pytest.CaptureFixture[str]) -> None:
    assert main([*argv, "--out", str(tmp_path)]) != 0
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and says in err[0] and err[0].startswith("tagsim: error:")


def test_fewer_operators_keep_alerts_waiting_longer(tmp_path: Path) -> None:
    # Busier than SMALL, so that one operator at a desk has alerts to keep waiting.
    busier = ["--subjects", "300", "--days", "1", "--workers", "1", "--policy", "reference"]
    with contextlib.redirect_stdout(io.StringIO()):
        assert main(["run", *busier, "--out", str(tmp_path / "default")]) == 0
        assert main(["run", *busier, "--operators", "2", "--out", str(tmp_path / "few")]) == 0
    default, few = (json.loads((tmp_path / name / "results.json").read_text())["policies"]["reference"]["operations"]["centre"]
                    for name in ("default", "few"))
    assert few["operators"]["rostered"] == [2, 2] and few["operators"]["at_desk"] == [1, 1]
    assert few["occupancy"] > default["occupancy"]
    assert few["littles_law"]["mean_wait_s"] > default["littles_law"]["mean_wait_s"]  # items wait longer in the queue
    assert few["classes"]["breach"]["time_to_action_p95_s"] > default["classes"]["breach"]["time_to_action_p95_s"]
    assert default["alerts"] == few["alerts"]  # the same alerts: only the centre changed


def test_fewer_field_officers_reach_jobs_later(run_folder: tuple[Path, str], tmp_path: Path) -> None:
    out, _ = run_folder
    with contextlib.redirect_stdout(io.StringIO()):
        assert main(["run", *SMALL, "--field-officers", "13", "--out", str(tmp_path)]) == 0
    default, few = (json.loads((folder / "results.json").read_text())["policies"]["standard"]["operations"]["field"]
                    for folder in (out, tmp_path))
    assert few["officers"]["rostered"] == [13, 13, 13] and few["officers"]["at_work"] == [9, 9, 9]
    assert default["jobs"] == few["jobs"]  # the same jobs: only the field force changed
    assert few["visits"] == default["visits"] > 0 and few["occupancy"] > 5 * default["occupancy"]


@pytest.mark.parametrize("option", ["--operators", "--field-officers"])
def test_a_negative_or_unnumbered_staff_count_is_a_usage_error(option: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["run", option, "-3"]) == 2
    assert "a count of staff must not be below zero" in capsys.readouterr().err
    assert main(["run", option, "4,many"]) == 2
    assert "'many' is not a whole number" in capsys.readouterr().err


def test_the_service_csvs_hold_every_alert_at_the_centre_every_field_job_and_every_hour(run_folder: tuple[Path, str]) -> None:
    out, _ = run_folder
    results = json.loads((out / "results.json").read_text())
    centre_rows = list(csv.DictReader((out / "centre.csv").open()))
    field_rows = list(csv.DictReader((out / "field.csv").open()))
    hourly = list(csv.DictReader((out / "hourly.csv").open()))
    alerts = {(a["policy"], a["alert_id"]): a for a in csv.DictReader((out / "alerts.csv").open())}
    for name, policy in results["policies"].items():
        centre, field = policy["operations"]["centre"], policy["operations"]["field"]
        mine = [r for r in centre_rows if r["policy"] == name]
        assert len(mine) == centre["alerts"] and len({r["item"] for r in mine}) == centre["items"]
        assert sum(r["joined_open_incident"] == "1" for r in mine) == centre["joined_open_incident"]
        assert all(r["raised_at"] == alerts[(name, r["alert_id"])]["raised_at"] for r in mine)
        jobs = [r for r in field_rows if r["policy"] == name]
        assert len(jobs) == field["jobs"] and sum(int(r["attempts"]) for r in jobs) == field["visits"]
        assert sum(r["kind"] == "fitting" and r["done"] != "" for r in jobs) == field["fitting"]["fitted"]
        hours = [r for r in hourly if r["policy"] == name]
        assert len(hours) == 24 and [float(r["centre_queue"]) for r in hours] == pytest.approx(
            centre["queue"]["hourly_mean"], abs=1e-3)


@pytest.mark.parametrize("days", ["0", "-1", "soon"])
def test_days_must_be_above_zero(days: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["run", "--days", days]) == 2
    assert "--days" in capsys.readouterr().err


def test_an_unwritable_out_folder_is_refused_before_anything_runs(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    assert main(["run", *SMALL, "--out", str(blocker / "results")]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "cannot write to" in err[0] and str(blocker) in err[0]


def test_with_no_arguments_the_installed_command_runs_smoke_and_prints_the_scorecard(tmp_path: Path) -> None:
    """The README's main job, as a user types it (the console script, in a fresh folder)."""
    tagsim = Path(sys.executable).with_name("tagsim")
    done = subprocess.run([str(tagsim) if tagsim.exists() else "tagsim", "run"], cwd=tmp_path, capture_output=True,
                          text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    assert "standard/reference" in done.stdout and "out/smoke" in done.stdout
    assert done.stderr == ""  # no progress bar when stderr is not a terminal
    results = json.loads((tmp_path / "out" / "smoke" / "results.json").read_text())
    assert results["scenario"]["subjects"] == 500 and results["scenario"]["days"] == 2.0


def test_the_detectors_are_watched_until_the_end_even_when_nothing_arrives_late_in_the_run() -> None:
    """The stream ends at the last span anything arrived in; every fitted device here is an
    installation fault, so nothing arrives at all, and the detectors must still reach the end."""
    from dataclasses import replace

    from sim.policies import load_policy
    from sim.run import run
    from sim.scenario import load_scenario, load_supplier
    from sim.score import load_scoring_rules

    scenario = load_scenario("smoke").with_changes(subjects=3, days=1.5)
    supplier = load_supplier(scenario.supplier)
    supplier = replace(supplier, faults=replace(supplier.faults, install_fault_share=1.0))
    result = run(scenario, supplier, [load_policy("standard")], load_scoring_rules())
    assert result.world.centre.frames == 0
    assert result.policies["standard"].watched_until == 1.5 * 86400
    card = result.policies["standard"].scorecard
    assert card.unmonitored.devices > 0 and card.unmonitored.named == card.unmonitored.devices


def test_outputs_that_fail_to_be_written_leave_no_results_json_nor_any_other(tmp_path: Path,
                                                                               monkeypatch: pytest.MonkeyPatch) -> None:
    # The report is written after results.json's content is ready: a run stopped there (killed,
    # or failing) must not leave that results.json, nor the CSVs, under their names.
    import sim.report
    from sim.policies import load_policy
    from sim.run import OUTPUTS, run, write_outputs
    from sim.scenario import load_scenario, load_supplier
    from sim.score import load_scoring_rules

    scenario = load_scenario("smoke").with_changes(subjects=20, days=0.5)
    result = run(scenario, load_supplier(scenario.supplier), [load_policy("standard")], load_scoring_rules())

    def stopped(results: dict, path: Path) -> None:
        path.write_text("<html>half")
        raise OSError("disk full")

    monkeypatch.setattr(sim.report, "write_report", stopped)
    with pytest.raises(OSError):
        write_outputs(result, tmp_path)
    assert list(tmp_path.iterdir()) == []
    monkeypatch.undo()
    write_outputs(result, tmp_path)
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(OUTPUTS)
