"""``tagsim bench``: the checkout's pytest-benchmark suites, for CI and for people.

Everything that measures, saves, compares and fails on a regression is
pytest-benchmark's own; this module only chooses its options, finds saved
runs by name and turns pytest's outcome into the command's exit status and a
line a person can read.
"""

from __future__ import annotations

import importlib.util
import os
import re
import subprocess
import sys
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import TextIO

import sim
from sim.cli_error import CliError

DEFAULT_MARGIN_PCT = 20

# pytest's exit status when it ran nothing (-k matched nothing, or all were slow).
NO_TESTS_COLLECTED = 5

# pytest-benchmark logs this on stderr before raising PerformanceRegression
# out of pytest's session finish; the exit status alone (1) cannot tell a
# regression from a failed test.
REGRESSION_MARKER = "Performance has regressed"
TRACEBACK_START = "Traceback (most recent call last):"
REGRESSION_EXCEPTION = "pytest_benchmark.session.PerformanceRegression"

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


def pytest_command(
    benchmarks: Path,
    json_path: Path,
    storage: Path,
    save: str | None,
    compare_file: Path | None,
    margin_pct: int,
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
    if compare_file is not None:
        # A full path, not the name: pytest-benchmark globs NAME* and its files start with a counter.
        command += [f"--benchmark-compare={compare_file}", f"--benchmark-compare-fail=min:{margin_pct}%"]
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
    """Run the suites in a pytest subprocess and return its exit status; user mistakes raise CliError."""
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
    compare_file = find_saved_run(storage, compare, get_machine_id()) if compare is not None else None
    # Resolved here because pytest runs from the checkout, not from the caller's folder.
    json_path = (json_path or Path("bench.json")).resolve()
    try:
        json_path.parent.mkdir(parents=True, exist_ok=True)
        json_path.write_bytes(b"")
        # Gone until pytest-benchmark writes it, so a run that dies early never leaves last time's figures.
        json_path.unlink()
    except OSError as exc:
        raise CliError(f"cannot write the JSON {json_path}: {(exc.strerror or str(exc)).lower()}") from None

    command = pytest_command(
        benchmarks, json_path, storage, save, compare_file, margin_pct, keyword, color=sys.stdout.isatty()
    )
    status, regressed = _run(command, cwd=benchmarks.parent)

    if status == NO_TESTS_COLLECTED:
        what = f"matched -k {keyword!r}" if keyword is not None else "was collected (all marked slow?)"
        raise CliError(f"no benchmark in {benchmarks} {what}")
    if json_path.exists():
        print(f"tagsim: bench: wrote the results to {json_path}")
    if regressed:
        print(
            f"tagsim: bench: a figure regressed by more than {margin_pct}% against {compare}",
            file=sys.stderr,
        )
    return status


def _run(command: list[str], cwd: Path) -> tuple[int, bool]:
    """Run pytest, relaying its output as it comes; its exit status and whether a figure regressed."""
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
    relay = threading.Thread(target=_relay, args=(proc.stdout, sys.stdout), daemon=True)
    relay.start()
    try:
        regressed = _relay_stderr(proc.stderr, sys.stderr)
        status = proc.wait()
    except KeyboardInterrupt:
        # pytest got the same SIGINT and is writing its summary; its status is the answer.
        status = proc.wait()
        regressed = False
    relay.join()
    return status, regressed


def _relay(source: TextIO, sink: TextIO) -> None:
    for line in source:
        sink.write(line)
        sink.flush()


def _relay_stderr(source: TextIO, sink: TextIO) -> bool:
    """Relay pytest's stderr, noting a regression and dropping the traceback pytest-benchmark
    raises for it: the regression is reported in words, not as a crash."""
    regressed = False
    held: list[str] | None = None  # a traceback that may be the regression's
    for line in source:
        if REGRESSION_MARKER in line:
            regressed = True
        if regressed and held is None and line.startswith(TRACEBACK_START):
            held = [line]
            continue
        if held is not None:
            held.append(line)
            if line.startswith(REGRESSION_EXCEPTION):
                held = None
            continue
        sink.write(line)
        sink.flush()
    if held:  # not the traceback expected: show it whole
        sink.writelines(held)
        sink.flush()
    return regressed
