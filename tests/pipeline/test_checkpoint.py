"""Checkpoint and resume of ``tagsim run`` (``sim.pipeline.checkpoint``): a run killed with
SIGKILL at random moments, in the middle of a commit too, and resumed each time, ends with the
results of a run never stopped; a checkpoint of another run, or cut short, is refused in one
line; a killed run leaves no results.json that is not its whole run's."""

from __future__ import annotations

import csv
import json
import os
import random
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from sim.cli import main
from sim.pipeline.checkpoint import FILE_NAME, TEST_COMMIT_SLEEP_ENV
from sim.pipeline.world_stream import simulate_stream
from sim.run import OUTPUTS
from sim.scenario import load_scenario

from clocks import without_clocks

SMALL = ["--subjects", "60", "--days", "1", "--workers", "1"]
CSVS = [name for name in OUTPUTS if name.endswith(".csv")]
COMMIT_SLEEP_S = 0.4  # each commit holds its transaction open this long, so that a kill can land inside one
POLL_S = 0.02
STUCK_S = 60.0  # a run that commits nothing for this long has hung: fail rather than wait for ever


@pytest.fixture(scope="module")
def plain(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A run never stopped, with no checkpoint: what every resumed run must end with."""
    out = tmp_path_factory.mktemp("plain")
    assert main(["run", *SMALL, "--out", str(out)]) == 0
    return out


@pytest.fixture(scope="module")
def saved(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A folder holding the checkpoint of a whole run of SMALL."""
    folder = tmp_path_factory.mktemp("saved")
    assert main(["run", *SMALL, "--out", str(folder / "out"), "--checkpoint", str(folder / "ck")]) == 0
    return folder / "ck"


def results_of(out: Path) -> str:
    return without_clocks(json.loads((out / "results.json").read_text()))


def spans_done(folder: Path) -> int:
    """Spans the checkpoint in ``folder`` has committed (0 before its first commit)."""
    if not (folder / FILE_NAME).exists():
        return 0
    db = sqlite3.connect(folder / FILE_NAME)
    try:
        tables = {name for name, in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
        row = db.execute("SELECT value FROM run WHERE key = 'spans done'").fetchone() if "run" in tables else None
        return int(row[0]) if row else 0
    finally:
        db.close()


def tagsim(args: list[str], sleep: bool) -> subprocess.Popen:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    env.pop(TEST_COMMIT_SLEEP_ENV, None)
    if sleep:
        env[TEST_COMMIT_SLEEP_ENV] = str(COMMIT_SLEEP_S)
    return subprocess.Popen([sys.executable, "-m", "sim", "run", *SMALL, *args],
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=env)


def kill(process: subprocess.Popen) -> None:
    process.send_signal(signal.SIGKILL)
    process.wait()
    process.stderr.close()


def test_a_run_saved_to_a_checkpoint_gives_the_plain_runs_results(plain: Path, saved: Path) -> None:
    assert results_of(saved.parent / "out") == results_of(plain)
    for name in CSVS:
        assert (saved.parent / "out" / name).read_bytes() == (plain / name).read_bytes(), name


def test_a_run_killed_at_random_moments_and_resumed_ends_with_the_uninterrupted_runs_results(
        plain: Path, tmp_path: Path) -> None:
    scenario = load_scenario("smoke").with_changes(subjects=60, days=1.0)
    world, stream = simulate_stream(scenario)
    stream.close()
    total = world.spans
    rng = random.Random(16)
    ck, out = tmp_path / "ck", tmp_path / "out"
    expected = results_of(plain)

    # First, a kill at a random moment of the start (importing, simulating the world), most
    # likely before any commit: the resume must then start from the beginning.
    first = tagsim(["--out", str(out), "--checkpoint", str(ck)], sleep=True)
    time.sleep(rng.uniform(0.1, 1.0))
    kill(first)
    assert not (out / "results.json").exists()

    # Then kills inside commits: once a commit is seen, the next span's is under way (its
    # detection takes milliseconds, its transaction COMMIT_SLEEP_S); kill at a random moment in it.
    kills_in_commit = 0
    while kills_in_commit < 3:
        before = spans_done(ck)
        if before >= total - 2:
            break
        # A run killed before it made its checkpoint file is started again, not resumed.
        again = "--resume" if (ck / FILE_NAME).is_file() else "--checkpoint"
        process = tagsim(["--out", str(out), again, str(ck)], sleep=True)
        waited = time.monotonic()
        while spans_done(ck) <= before and process.poll() is None:
            assert time.monotonic() - waited < STUCK_S, "the resumed run committed nothing"
            time.sleep(POLL_S)
        committed = spans_done(ck)
        time.sleep(rng.uniform(0.05, COMMIT_SLEEP_S * 0.6))
        assert process.poll() is None, process.stderr.read().decode()
        kill(process)
        kills_in_commit += 1
        # Nothing committed was lost (a kill late enough may have let one more commit through).
        assert spans_done(ck) >= committed > before
        # A killed run never leaves a results.json, or one that is not its whole run's.
        assert not (out / "results.json").exists()
    assert kills_in_commit == 3

    last = tagsim(["--out", str(out), "--resume", str(ck)], sleep=False)
    assert last.wait() == 0, last.stderr.read().decode()
    last.stderr.close()
    assert results_of(out) == expected
    for name in CSVS:
        assert (out / name).read_bytes() == (plain / name).read_bytes(), name

    # The checkpoint's alerts, committed a few spans at a time across four processes: each
    # policy's every alert once, in the order raised (alerts.csv lists them so, policy by policy).
    with (out / "alerts.csv").open() as fh:
        listed = [(row["policy"], int(row["alert_id"])) for row in csv.DictReader(fh)]
    db = sqlite3.connect(ck / FILE_NAME)
    saved_alerts = list(db.execute("SELECT policy, alert_id FROM alert ORDER BY policy, n"))
    db.close()
    assert sorted(saved_alerts) == sorted(listed) and len(set(listed)) == len(listed)
    for policy in {p for p, _ in listed}:
        assert [a for p, a in saved_alerts if p == policy] == [a for p, a in listed if p == policy]
    assert spans_done(ck) == total


@pytest.mark.parametrize(
    ("argv", "says"),
    [
        (["--seed", "5"], "differs from this run in its seed: '1' there, '5' here"),
        (["--subjects", "61"], "in its scenario settings"),
        (["--policy", "naive"], "in its policies"),
        (["--supplier", "supplier-b"], "in its supplier"),
        (["baseline"], "in its scenario: 'smoke' there, 'baseline' here"),
    ],
)
def test_a_checkpoint_of_another_run_is_refused_in_one_line_saying_what_differs(
        saved: Path, argv: list[str], says: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["run", *SMALL, *argv, "--out", str(tmp_path), "--resume", str(saved)]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("tagsim: error: checkpoint") and says in err[0], err
    assert not (tmp_path / "results.json").exists()


def test_a_checkpoint_of_another_tagsim_version_is_refused(saved: Path, tmp_path: Path,
                                                           capsys: pytest.CaptureFixture[str]) -> None:
    ck = tmp_path / "ck"
    shutil.copytree(saved, ck)
    db = sqlite3.connect(ck / FILE_NAME)
    with db:
        db.execute("UPDATE run SET value = '0.0.1' WHERE key = 'tagsim version'")
    db.close()
    assert main(["run", *SMALL, "--out", str(tmp_path), "--resume", str(ck)]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "in its tagsim version: '0.0.1' there" in err[0], err


def test_a_checkpoint_is_not_overwritten_by_a_new_run(saved: Path, tmp_path: Path,
                                                      capsys: pytest.CaptureFixture[str]) -> None:
    before = (saved / FILE_NAME).read_bytes()
    assert main(["run", *SMALL, "--out", str(tmp_path), "--checkpoint", str(saved)]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and f"--resume {saved} continues it" in err[0], err
    assert (saved / FILE_NAME).read_bytes() == before


def test_resuming_where_there_is_no_checkpoint_is_refused_rather_than_starting_a_new_run(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    for folder in (tmp_path / "mistyped", tmp_path):  # not there; there, with no checkpoint in it
        assert main(["run", *SMALL, "--out", str(tmp_path / "out"), "--resume", str(folder)]) == 1
        err = capsys.readouterr().err.strip().splitlines()
        assert err == [f"tagsim: error: no checkpoint in {folder}: a run killed before it saved one starts again "
                       f"with --checkpoint {folder}"]
    assert not (tmp_path / "mistyped").exists() and not (tmp_path / FILE_NAME).exists()


@pytest.mark.parametrize(("keep", "says"), [(0.5, "is cut short at byte {cut}: its header says {whole} bytes"),
                                             (0.0001, "is cut short or not a SQLite database: no whole header in its {cut} bytes")],
                         ids=["half", "in-the-header"])
def test_a_cut_checkpoint_is_one_line_naming_the_file_and_where_it_ends(
        saved: Path, keep: float, says: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    ck = tmp_path / "ck"
    ck.mkdir()
    whole = (saved / FILE_NAME).read_bytes()
    cut = whole[: int(len(whole) * keep)]
    (ck / FILE_NAME).write_bytes(cut)
    assert main(["run", *SMALL, "--out", str(tmp_path), "--resume", str(ck)]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert err == [f"tagsim: error: checkpoint {ck / FILE_NAME} {says.format(cut=len(cut), whole=len(whole))}"]


def test_a_corrupt_checkpoint_is_one_line_naming_the_file(saved: Path, tmp_path: Path,
                                                          capsys: pytest.CaptureFixture[str]) -> None:
    ck = tmp_path / "ck"
    ck.mkdir()
    whole = bytearray((saved / FILE_NAME).read_bytes())
    whole[4096:] = bytes(len(whole) - 4096)  # every page after the first zeroed: the header still whole
    (ck / FILE_NAME).write_bytes(bytes(whole))
    assert main(["run", *SMALL, "--out", str(tmp_path), "--resume", str(ck)]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and str(ck / FILE_NAME) in err[0] and "not a readable database" in err[0], err



def test_a_detector_that_cannot_be_read_back_is_one_line_naming_the_file(
        saved: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    # A whole database (its quick check passes) whose saved detector is not a pickle.
    ck = tmp_path / "ck"
    shutil.copytree(saved, ck)
    db = sqlite3.connect(ck / FILE_NAME)
    with db:
        db.execute("UPDATE detector SET state = ?", (b"not a pickle",))
    db.close()
    assert main(["run", *SMALL, "--out", str(tmp_path / "out"), "--resume", str(ck)]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and f"checkpoint {ck / FILE_NAME} holds a detector that cannot be read back" in err[0], err
