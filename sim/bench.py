"""``tagsim bench``: the checkout's pytest-benchmark suites, for CI and for people.

Measuring and saving runs are pytest-benchmark's; this module chooses its
options, finds saved runs by name, and judges a run against a saved one
itself (``compare_runs``): on this machine an untouched benchmark's absolute
time moves by up to half between runs minutes apart, so where a benchmark
measured a reference in the same run (``ratio_to_reference`` in its
``extra_info``: its speed as a share of the reference's), the ratio is what is
compared, and only a benchmark without one falls back to its minimum time.
"""

from __future__ import annotations

import importlib.util
import json
import math
import os
import re
import subprocess
import sys
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TextIO

import sim
from sim.cli_error import CliError

DEFAULT_MARGIN_PCT = 20

# pytest's exit status when it ran nothing (-k matched nothing, or all were slow).
NO_TESTS_COLLECTED = 5
# The command's exit status when a benchmark got slower than the margin allows.
REGRESSED = 1

# The extra_info key of a benchmark's speed as a share of a reference's measured in the
# same run (its rate over the reference's rate, or the reference's time over its time):
# higher is faster.
RATIO_KEY = "ratio_to_reference"

# pytest-benchmark names a saved run <4-digit counter>_<NAME>.json.
SAVED_RUN = re.compile(r"^(\d{4})_(.+)\.json$")
# What pytest-benchmark's --benchmark-save refuses in a name.
NAME_FORBIDDEN = set("\\/:*?<>|")


def default_benchmarks_dir() -> Path:
    """``benchmarks/`` of the source checkout this ``sim`` was imported from (absent in a wheel)."""
    return Path(sim.__file__).resolve().parents[1] / "benchmarks"


def storage_dir(benchmarks: Path) -> Path:
    """Where saved runs live: ``.benchmarks`` beside the suites, so they stay in the checkout."""
    return benchmarks.parent / ".benchmarks"


@dataclass(frozen=True)
class SavedRun:
    machine: str
    number: int
    name: str
    path: Path


def saved_runs(storage: Path) -> list[SavedRun]:
    """Every run saved under ``storage``, from each machine's folder."""
    if not storage.is_dir():
        return []
    runs = []
    for file in storage.glob("*/*.json"):
        match = SAVED_RUN.match(file.name)
        if match:
            runs.append(SavedRun(file.parent.name, int(match[1]), match[2], file))
    return runs


def find_saved_run(storage: Path, name: str, machine_id: str) -> Path:
    """The latest run saved as ``name``, preferring this machine's; else a one-line CliError."""
    runs = saved_runs(storage)
    named = [run for run in runs if run.name == name]
    if not named:
        names = sorted({run.name for run in runs})
        saved = f"saved: {', '.join(names)}" if names else "none saved yet (tagsim bench --save NAME)"
        raise CliError(f"no saved benchmark run named {name!r} in {storage}; {saved}")
    # A run from another interpreter or OS is still worth comparing against
    # (pytest-benchmark warns that the machines differ), but this machine's wins.
    named.sort(key=lambda run: (run.machine == machine_id, run.number))
    return named[-1].path


@dataclass(frozen=True)
class Comparison:
    """One benchmark of this run against the saved run: what was compared and the verdict."""

    benchmark: str
    basis: str  # RATIO, MIN_TIME or NEW
    saved: float | None
    now: float | None
    # How much slower this run is, as a fraction: relative to the reference on the
    # ratio basis (saved ratio / this ratio - 1), in absolute time on the time basis.
    slowdown: float | None
    regressed: bool


RATIO = "ratio to reference"
MIN_TIME = "min time (no reference)"
NEW = "not in the saved run"


def compare_runs(saved: dict[str, Any], now: dict[str, Any], margin_pct: float) -> list[Comparison]:
    """Every benchmark of ``now`` (pytest-benchmark's JSON) judged against ``saved``: by the
    ratio to its same-run reference where both runs recorded one, else by minimum time; a
    slowdown of more than ``margin_pct`` percent regresses."""
    before = {b["fullname"]: b for b in saved.get("benchmarks", [])}
    comparisons = []
    for bench in now.get("benchmarks", []):
        name = bench["fullname"]
        old = before.get(name)
        if old is None:
            comparisons.append(Comparison(name, NEW, None, None, None, False))
            continue
        old_ratio, new_ratio = _ratio(old), _ratio(bench)
        if old_ratio is not None and new_ratio is not None:
            basis, saved_value, now_value, slowdown = RATIO, old_ratio, new_ratio, old_ratio / new_ratio - 1
        else:
            old_min, new_min = old["stats"]["min"], bench["stats"]["min"]
            basis, saved_value, now_value, slowdown = MIN_TIME, old_min, new_min, new_min / old_min - 1
        comparisons.append(Comparison(name, basis, saved_value, now_value, slowdown, slowdown * 100 > margin_pct))
    return comparisons


def _ratio(bench: dict[str, Any]) -> float | None:
    """The benchmark's ratio to its reference, if it recorded a usable one."""
    ratio = bench.get("extra_info", {}).get(RATIO_KEY)
    if isinstance(ratio, (int, float)) and math.isfinite(ratio) and ratio > 0:
        return float(ratio)
    return None


def comparison_table(comparisons: list[Comparison], margin_pct: float) -> str:
    """The comparisons as a plain-text table, one benchmark a row."""
    header = ("benchmark", "basis", "saved", "this run", "slowdown", "verdict")
    rows = [header]
    for c in comparisons:
        if c.slowdown is None:
            rows.append((c.benchmark, c.basis, "", "", "", "not compared"))
            continue
        verdict = f"REGRESSED (over {margin_pct:g}%)" if c.regressed else "ok"
        rows.append((c.benchmark, c.basis, _figure(c.basis, c.saved), _figure(c.basis, c.now),
                     f"{c.slowdown * 100:+.1f}%", verdict))
    widths = [max(len(row[i]) for row in rows) for i in range(len(header))]
    return "\n".join("  ".join(cell.ljust(w) for cell, w in zip(row, widths)).rstrip() for row in rows)


def _figure(basis: str, value: float | None) -> str:
    assert value is not None
    return f"{value:.4g}" if basis == RATIO else f"{value:.4g} s"


def pytest_command(
    benchmarks: Path,
    json_path: Path,
    storage: Path,
    save: str | None,
    keyword: str | None,
    color: bool,
) -> list[str]:
    """The pytest command line that runs the suites with pytest-benchmark's options."""
    command = [
        sys.executable, "-m", "pytest", str(benchmarks), "-q",
        f"--benchmark-storage={storage}",
        f"--benchmark-json={json_path}",
    ]
    if save is not None:
        command.append(f"--benchmark-save={save}")
    if keyword is not None:
        command += ["-k", keyword]
    if color:
        command.append("--color=yes")
    return command


def run_bench(
    benchmarks: Path | None = None,
    json_path: Path | None = None,
    save: str | None = None,
    compare: str | None = None,
    margin_pct: int = DEFAULT_MARGIN_PCT,
    keyword: str | None = None,
) -> int:
    """Run the suites in a pytest subprocess and return its exit status, or ``REGRESSED`` when
    a benchmark got slower than ``compare``'s by more than the margin; user mistakes raise CliError."""
    if importlib.util.find_spec("pytest_benchmark") is None:
        raise CliError("tagsim bench needs pytest-benchmark: pip install 'tagsim[test]'")
    from pytest_benchmark.utils import get_machine_id

    benchmarks = (benchmarks or default_benchmarks_dir()).resolve()
    if not benchmarks.is_dir():
        raise CliError(
            f"no benchmarks folder at {benchmarks}: tagsim bench needs a source checkout, or --benchmarks DIR"
        )
    for name in (save, compare):
        if name is not None and (not name or NAME_FORBIDDEN & set(name)):
            raise CliError(f"{name!r} cannot name a benchmark run: it must not be empty or contain any of \\/:*?<>|")
    storage = storage_dir(benchmarks)
    # Read before the run: a run saved under the same name must not become its own baseline.
    saved = _read_saved(find_saved_run(storage, compare, get_machine_id())) if compare is not None else None
    # Resolved here because pytest runs from the checkout, not from the caller's folder.
    json_path = (json_path or Path("bench.json")).resolve()
    try:
        json_path.parent.mkdir(parents=True, exist_ok=True)
        json_path.write_bytes(b"")
        # Gone until pytest-benchmark writes it, so a run that dies early never leaves last time's figures.
        json_path.unlink()
    except OSError as exc:
        raise CliError(f"cannot write the JSON {json_path}: {(exc.strerror or str(exc)).lower()}") from None

    command = pytest_command(benchmarks, json_path, storage, save, keyword, color=sys.stdout.isatty())
    status = _run(command, cwd=benchmarks.parent)

    if status == NO_TESTS_COLLECTED:
        what = f"matched -k {keyword!r}" if keyword is not None else "was collected (all marked slow?)"
        raise CliError(f"no benchmark in {benchmarks} {what}")
    if not json_path.exists():
        return status
    print(f"tagsim: bench: wrote the results to {json_path}")
    if saved is None:
        return status
    comparisons = compare_runs(saved, json.loads(json_path.read_text()), margin_pct)
    print(f"tagsim: bench: against {compare} (slowdown: relative to the same-run reference where there is one)")
    print(comparison_table(comparisons, margin_pct))
    regressed = [c.benchmark for c in comparisons if c.regressed]
    if regressed:
        print(f"tagsim: bench: {len(regressed)} regressed by more than {margin_pct}% against {compare}: "
              f"{', '.join(regressed)}", file=sys.stderr)
        return status or REGRESSED
    return status


def _read_saved(path: Path) -> dict[str, Any]:
    try:
        return json.loads(path.read_text())
    except (OSError, ValueError) as exc:
        raise CliError(f"cannot read the saved benchmark run {path}: {exc}") from None


def _run(command: list[str], cwd: Path) -> int:
    """Run pytest, relaying its output as it comes; its exit status."""
    # Unbuffered so a person watching sees each benchmark finish, not all at the end.
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    # The checkout as the working folder: pytest then finds its settings (the
    # slow marker stays excluded) and pytest-benchmark can name the storage
    # relative to it.
    proc = subprocess.Popen(
        command, cwd=cwd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        text=True, errors="replace", bufsize=1,
    )
    assert proc.stdout is not None and proc.stderr is not None
    relays = [threading.Thread(target=_relay, args=pipes, daemon=True)
              for pipes in ((proc.stdout, sys.stdout), (proc.stderr, sys.stderr))]
    for relay in relays:
        relay.start()
    try:
        status = proc.wait()
    except KeyboardInterrupt:
        # pytest got the same SIGINT and is writing its summary; its status is the answer.
        status = proc.wait()
    for relay in relays:
        relay.join()
    return status


def _relay(source: TextIO, sink: TextIO) -> None:
    for line in source:
        sink.write(line)
        sink.flush()
