"""`tagsim simulate`: runs a scenario, summarises it, writes its telemetry and truth; user errors are one line."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

from sim.cli import main


def test_simulate_summarises_and_writes_telemetry_and_truth(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "run"
    assert main(["simulate", "smoke", "--subjects", "40", "--days", "1", "--seed", "5", "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    assert printed.startswith("smoke: 40 subjects")
    assert "seed 5" in printed
    telemetry = list(csv.DictReader((out / "telemetry.csv").open()))
    fixes = list(csv.DictReader((out / "fixes.csv").open()))
    truth_lines = (out / "truth.csv").read_text().splitlines()
    assert f"records: {len(telemetry)}" in printed
    assert {"status_check", "gps_fixes", "gps_status"} <= {row["kind"] for row in telemetry}
    # Every fix row belongs to a GPS_FIXES record, and the counts agree.
    assert sum(int(r["fixes"]) for r in telemetry) == len(fixes) > 0
    assert truth_lines[0] == "subject,device,kind,start,end"
    assert f"truth: {len(truth_lines) - 1} intervals" in printed


def test_simulate_is_reproducible_from_the_command_line(tmp_path: Path) -> None:
    for name in ("a", "b"):
        assert main(["simulate", "--subjects", "15", "--days", "0.5", "--out", str(tmp_path / name)]) == 0
    for file in ("telemetry.csv", "fixes.csv", "truth.csv"):
        assert (tmp_path / "a" / file).read_bytes() == (tmp_path / "b" / file).read_bytes()


@pytest.mark.parametrize(
    ("argv", "status", "message"),
    [
        (["simulate", "nowhere"], 1, "unknown scenario 'nowhere' (choose from baseline, doubled, projected, smoke, stress)"),
        (["simulate", "--supplier", "nobody"], 1, "unknown supplier 'nobody'"),
        (["simulate", "--days", "0"], 2, "argument --days: 0 is not above zero"),
        (["simulate", "--subjects", "-3"], 2, "argument --subjects: -3 is not above zero"),
    ],
)
def test_simulate_bad_arguments_are_one_line(argv: list[str], status: int, message: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(argv) == status
    err = capsys.readouterr().err
    assert message in err
    assert "Traceback" not in err


def test_simulate_refuses_an_unwritable_out_before_running(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("")
    assert main(["simulate", "--out", str(blocker / "run")]) == 1
    captured = capsys.readouterr()
    assert captured.err.startswith(f"tagsim: error: cannot write to {blocker / 'run'}")
    assert captured.out == ""  # nothing ran
