"""`tagsim bench`: saves a run, passes against it, fails on a clear slowdown; mistakes are one line.

The suites here are a tiny stand-in for the checkout's: one benchmark that
sleeps, so its minimum time is steady even on a busy machine, and grows by
the factor in TAGSIM_TEST_SLOWDOWN (a "slower build").
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

import sim.bench
from sim.cli import main

SLOWDOWN = "TAGSIM_TEST_SLOWDOWN"

BENCHMARK = f'''
import os
import time


def work():
    time.sleep(0.01 * float(os.environ.get("{SLOWDOWN}", "1")))


def test_sleep(benchmark):
    benchmark.pedantic(work, rounds=5)
'''


def make_checkout(root: Path) -> Path:
    """A folder laid out like the checkout: settings at the root, suites in benchmarks/."""
    root.mkdir(parents=True, exist_ok=True)
    # Pins pytest's rootdir here, whatever sits above the temp folder.
    (root / "pytest.ini").write_text("[pytest]\n")
    benchmarks = root / "benchmarks"
    benchmarks.mkdir()
    (benchmarks / "test_bench_tiny.py").write_text(BENCHMARK)
    return benchmarks


@pytest.fixture(scope="module")
def saved(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, int, Path]:
    """A checkout with a run saved as `base`: the suites' folder, the exit status and the JSON."""
    root = tmp_path_factory.mktemp("checkout")
    benchmarks = make_checkout(root)
    json_path = root / "base.json"
    with pytest.MonkeyPatch.context() as mp:
        mp.delenv(SLOWDOWN, raising=False)
        status = main(["bench", "--benchmarks", str(benchmarks), "--save", "base", "--json", str(json_path)])
    return benchmarks, status, json_path


def test_save_writes_the_json_and_keeps_the_run_beside_the_suites(saved):
    benchmarks, status, json_path = saved
    assert status == 0
    results = json.loads(json_path.read_text())
    assert [b["name"] for b in results["benchmarks"]] == ["test_sleep"]
    assert results["benchmarks"][0]["stats"]["min"] >= 0.01
    assert [p.name for p in (benchmarks.parent / ".benchmarks").glob("*/*.json")] == ["0001_base.json"]


def test_compare_with_an_unchanged_build_passes(saved, tmp_path, monkeypatch, capsys):
    benchmarks, _, _ = saved
    monkeypatch.delenv(SLOWDOWN, raising=False)
    json_path = tmp_path / "now.json"
    assert main(["bench", "--benchmarks", str(benchmarks), "--compare", "base", "--json", str(json_path)]) == 0
    captured = capsys.readouterr()
    assert f"tagsim: bench: wrote the results to {json_path}" in captured.out
    assert "regressed" not in captured.err
    assert json.loads(json_path.read_text())["benchmarks"][0]["name"] == "test_sleep"


def test_compare_with_a_three_times_slower_build_fails_and_says_so(saved, tmp_path, monkeypatch, capsys):
    benchmarks, _, _ = saved
    monkeypatch.setenv(SLOWDOWN, "3")
    json_path = tmp_path / "slow.json"
    status = main(["bench", "--benchmarks", str(benchmarks), "--compare", "base", "--json", str(json_path)])
    assert status != 0
    captured = capsys.readouterr()
    assert captured.err.rstrip("\n").splitlines()[-1] == (
        "tagsim: bench: a figure regressed by more than 20% against base"
    )
    # The regression is reported in words; pytest-benchmark's own traceback for it is not relayed.
    assert "Traceback" not in captured.err
    assert f"wrote the results to {json_path}" in captured.out  # the slow figures are still there to read


def test_compare_with_a_name_never_saved_is_one_line_and_runs_nothing(saved, monkeypatch, capsys):
    benchmarks, _, _ = saved

    def no_run(*args, **kwargs):
        raise AssertionError("pytest was started")

    monkeypatch.setattr(sim.bench, "_run", no_run)
    assert main(["bench", "--benchmarks", str(benchmarks), "--compare", "nosuch"]) == 1
    captured = capsys.readouterr()
    assert captured.err.count("\n") == 1
    assert captured.err.startswith("tagsim: error: no saved benchmark run named 'nosuch'")
    assert captured.err.rstrip().endswith("saved: base")
    assert captured.out == ""


def test_a_missing_benchmarks_folder_is_one_line(tmp_path, capsys):
    assert main(["bench", "--benchmarks", str(tmp_path / "nowhere")]) == 1
    captured = capsys.readouterr()
    assert captured.err.count("\n") == 1
    assert captured.err.startswith(f"tagsim: error: no benchmarks folder at {tmp_path / 'nowhere'}")
    assert "source checkout" in captured.err and "--benchmarks" in captured.err
    assert captured.out == ""


def test_the_default_folder_is_the_checkouts():
    assert sim.bench.default_benchmarks_dir() == Path(sim.__file__).resolve().parents[1] / "benchmarks"


def test_a_k_that_matches_nothing_is_a_clear_line(tmp_path, monkeypatch, capsys):
    benchmarks = make_checkout(tmp_path / "checkout")
    monkeypatch.chdir(tmp_path)
    assert main(["bench", "--benchmarks", str(benchmarks), "-k", "nomatch"]) != 0
    err = capsys.readouterr().err
    assert err.rstrip("\n").splitlines()[-1] == f"tagsim: error: no benchmark in {benchmarks} matched -k 'nomatch'"
    assert not (tmp_path / "bench.json").exists()


def test_a_negative_margin_is_a_usage_error(capsys):
    assert main(["bench", "--margin", "-5"]) == 2
    assert "-5 is negative" in capsys.readouterr().err
