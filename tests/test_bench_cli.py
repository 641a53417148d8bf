"""`tagsim bench`: saves a run, passes against it, fails on a clear slowdown; mistakes are one line.

The suites here are a tiny stand-in for the checkout's: one benchmark that
sleeps, so its minimum time is steady even on a busy machine, and grows by
the factor in TAGSIM_TEST_SLOWDOWN (a "slower build"). It has no same-run
reference, so it is judged by minimum time; the judging by ratio to a
reference is tested on hand-made JSON, as pytest-benchmark writes it.
"""

from __future__ import annotations

import json
from collections.abc import Callable
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
        "tagsim: bench: 1 regressed by more than 20% against base: benchmarks/test_bench_tiny.py::test_sleep"
    )
    assert "Traceback" not in captured.err
    row = next(line for line in captured.out.splitlines() if line.startswith("benchmarks/test_bench_tiny.py::test_sleep"))
    assert "min time (no reference)" in row and "REGRESSED" in row
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


# The comparison itself, on runs as pytest-benchmark's JSON holds them.


def bench_json(*benchmarks: tuple[str, float, float | None]) -> dict:
    """A run of (fullname, minimum time, ratio to its reference or None for none recorded)."""
    rows = []
    for name, minimum, ratio in benchmarks:
        extra = {} if ratio is None else {"ratio_to_reference": ratio, "reference_s": minimum * ratio}
        rows.append({"name": name.split("::")[-1], "fullname": name, "extra_info": extra,
                     "stats": {"min": minimum, "mean": minimum * 1.1}})
    return {"machine_info": {}, "benchmarks": rows}


SAVED = bench_json(("b.py::test_decode", 1.0, 0.20), ("b.py::test_run", 40.0, 0.05), ("b.py::test_plain", 2.0, None))


def by_name(comparisons: list[sim.bench.Comparison]) -> dict[str, sim.bench.Comparison]:
    return {c.benchmark: c for c in comparisons}


def test_a_busy_machine_slows_the_reference_too_and_passes():
    # Everything 44% slower in absolute time (the reference with it): the ratios hold.
    now = bench_json(("b.py::test_decode", 1.44, 0.19), ("b.py::test_run", 57.6, 0.05), ("b.py::test_plain", 2.1, None))
    result = by_name(sim.bench.compare_runs(SAVED, now, 20))
    assert not any(c.regressed for c in result.values())
    decode = result["b.py::test_decode"]
    assert decode.basis == sim.bench.RATIO and (decode.saved, decode.now) == (0.20, 0.19)
    assert decode.slowdown == pytest.approx(0.20 / 0.19 - 1)


def test_a_slowed_build_regresses_on_its_ratio_though_its_time_did_not_move():
    # A quiet machine hides a 50% slower decoder in absolute time; the same-run reference does not.
    now = bench_json(("b.py::test_decode", 1.0, 0.10), ("b.py::test_run", 40.0, 0.05), ("b.py::test_plain", 2.0, None))
    result = by_name(sim.bench.compare_runs(SAVED, now, 20))
    assert result["b.py::test_decode"].regressed
    assert result["b.py::test_decode"].slowdown == pytest.approx(1.0)
    assert not result["b.py::test_run"].regressed and not result["b.py::test_plain"].regressed


def test_the_margin_is_the_slowdown_that_fails():
    just_inside = bench_json(("b.py::test_decode", 1.0, 0.20 / 1.19))
    just_over = bench_json(("b.py::test_decode", 1.0, 0.20 / 1.21))
    assert not sim.bench.compare_runs(SAVED, just_inside, 20)[0].regressed
    assert sim.bench.compare_runs(SAVED, just_over, 20)[0].regressed
    assert not sim.bench.compare_runs(SAVED, just_over, 25)[0].regressed


def test_without_a_reference_on_both_sides_the_minimum_time_is_judged():
    now = bench_json(("b.py::test_plain", 2.5, None), ("b.py::test_decode", 1.3, None))  # decode lost its reference
    result = by_name(sim.bench.compare_runs(SAVED, now, 20))
    for name, slowdown in (("b.py::test_plain", 0.25), ("b.py::test_decode", 0.30)):
        assert result[name].basis == sim.bench.MIN_TIME
        assert result[name].slowdown == pytest.approx(slowdown)
        assert result[name].regressed


def test_a_benchmark_new_since_the_saved_run_is_listed_and_not_judged():
    now = bench_json(("b.py::test_new", 9.0, 0.01))
    (only,) = sim.bench.compare_runs(SAVED, now, 20)
    assert (only.benchmark, only.basis, only.regressed) == ("b.py::test_new", sim.bench.NEW, False)


def test_the_table_names_each_benchmarks_basis_and_verdict():
    now = bench_json(("b.py::test_decode", 1.0, 0.10), ("b.py::test_plain", 2.0, None), ("b.py::test_new", 1.0, None))
    lines = sim.bench.comparison_table(sim.bench.compare_runs(SAVED, now, 20), 20).splitlines()
    assert lines[0].split() == ["benchmark", "basis", "saved", "this", "run", "slowdown", "verdict"]
    decode, plain, new = lines[1:]
    assert decode.split()[0] == "b.py::test_decode" and "ratio to reference" in decode
    assert "0.2" in decode and "0.1" in decode and "+100.0%" in decode and decode.endswith("REGRESSED (over 20%)")
    assert "min time (no reference)" in plain and "2 s" in plain and "+0.0%" in plain and plain.endswith("ok")
    assert "not in the saved run" in new and new.endswith("not compared")


@pytest.fixture
def compare_against_base(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Callable[[dict], int]:
    """``tagsim bench --compare base`` in a checkout with SAVED stored as run `base`, pytest
    replaced by a writer of the run given (the run the test pretends was measured); the
    JSON goes to now.json in the test's folder."""
    from pytest_benchmark.utils import get_machine_id

    benchmarks = make_checkout(tmp_path / "checkout")
    machine = sim.bench.storage_dir(benchmarks) / get_machine_id()
    machine.mkdir(parents=True)
    (machine / "0001_base.json").write_text(json.dumps(SAVED))

    def compare(run: dict) -> int:
        def fake_pytest(command: list[str], cwd: Path) -> int:
            (json_arg,) = [a for a in command if a.startswith("--benchmark-json=")]
            Path(json_arg.split("=", 1)[1]).write_text(json.dumps(run))
            return 0

        monkeypatch.setattr(sim.bench, "_run", fake_pytest)
        return main(["bench", "--benchmarks", str(benchmarks), "--compare", "base", "--json", str(tmp_path / "now.json")])

    return compare


def test_compare_passes_a_clean_build_on_a_busy_machine(compare_against_base, capsys):
    busy = bench_json(("b.py::test_decode", 1.4, 0.21), ("b.py::test_run", 55.0, 0.048), ("b.py::test_plain", 2.2, None))
    assert compare_against_base(busy) == 0
    captured = capsys.readouterr()
    assert "regressed" not in captured.err
    table = captured.out[captured.out.index("benchmark "):]
    assert len(table.splitlines()) == 4 and table.count(" ok") == 3


def test_compare_fails_a_slowed_build_and_names_it(compare_against_base, tmp_path, capsys):
    slowed = bench_json(("b.py::test_decode", 1.0, 0.20), ("b.py::test_run", 40.0, 0.03), ("b.py::test_plain", 2.0, None))
    assert compare_against_base(slowed) == sim.bench.REGRESSED
    captured = capsys.readouterr()
    assert captured.err.rstrip("\n").splitlines()[-1] == (
        "tagsim: bench: 1 regressed by more than 20% against base: b.py::test_run"
    )
    row = next(line for line in captured.out.splitlines() if line.startswith("b.py::test_run"))
    assert "+66.7%" in row and "REGRESSED" in row
    assert json.loads((tmp_path / "now.json").read_text()) == slowed  # the absolute times stay in the JSON


def test_an_unreadable_saved_run_is_one_line(compare_against_base, tmp_path, capsys):
    (saved,) = (tmp_path / "checkout" / ".benchmarks").glob("*/0001_base.json")
    saved.write_text("{not json")
    assert compare_against_base(SAVED) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith(f"tagsim: error: cannot read the saved benchmark run {saved}")
