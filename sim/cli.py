"""The ``tagsim`` command.

Each subcommand is one function that declares its arguments and sets
``run``, the function that does the work and returns the exit status. A
user's mistake (a bad kind, a bad parameter file, a port that will not open)
is one line on stderr, never a traceback.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from contextlib import ExitStack
from pathlib import Path
from typing import TYPE_CHECKING

from firmware_stubs.device import BROADCAST_ID
from firmware_stubs.kinds import KINDS, UnknownKind
from firmware_stubs.params import ParamsError
from sim.conformance import Timing, run_conformance
from sim.device_session import DeviceSession
from sim.links import LinkError, SerialLink
from sim.realtime import serve_kind, serving

if TYPE_CHECKING:
    from sim.world.world import WorldRun

# argparse's own status for a usage error; an unknown kind is one.
USAGE_ERROR = 2


def add_stub(commands: argparse._SubParsersAction) -> None:
    parser = commands.add_parser(
        "stub",
        help="serve one device kind on a fresh PTY (its path is the first line of stdout)",
        description="Serve one device kind on a fresh PTY until SIGINT or SIGTERM.",
    )
    parser.add_argument("kind", metavar="KIND", help=f"one of: {', '.join(KINDS)}")
    parser.add_argument("--device-id", type=_device_id, default=1, help="the device's id (default 1)")
    parser.add_argument("--seed", type=_seed, default=0, help="random seed (default 0)")

    def run(args: argparse.Namespace) -> int:
        stats = serve_kind(args.kind, args.device_id, args.seed)
        print(
            f"tagsim: stub {args.kind} stopped: {stats.bytes_in} bytes in,"
            f" {stats.bytes_out} out, {stats.bytes_dropped} dropped unread",
            file=sys.stderr,
        )
        return 0

    parser.set_defaults(run=run)


def add_harness(commands: argparse._SubParsersAction) -> None:
    parser = commands.add_parser(
        "harness",
        help="run the protocol conformance suite against the device at PORT",
        description="Run the protocol conformance suite against the device at PORT and print a "
        "pass/fail table. Exit status 0 only if every check passes.",
    )
    target = parser.add_mutually_exclusive_group(required=True)
    target.add_argument(
        "port", metavar="PORT", nargs="?", help="a serial port or PTY path, or a pyserial URL (socket://host:port)"
    )
    target.add_argument("--stub", choices=KINDS, help="serve this stub on a fresh PTY and test it there")
    parser.add_argument("--kind", choices=KINDS, help="the device's kind (default: learn it from its traffic)")
    parser.add_argument("--baud", type=_positive_int, default=115200, help="line speed for a real port (default 115200)")
    parser.add_argument(
        "--interval", type=_positive_float, default=Timing.interval_s,
        help=f"the periodic interval pushed to the device, seconds (default {Timing.interval_s})",
    )
    parser.add_argument("--log", type=Path, help="where to log every byte (default: a new file in the temp folder)")

    def run(args: argparse.Namespace) -> int:
        log = args.log or _new_log_path()
        try:
            log.touch()
        except OSError as exc:
            raise CliError(f"cannot write the log {log}: {exc.strerror.lower()}") from None
        with ExitStack() as stack:
            port = stack.enter_context(serving(args.stub, device_id=1, seed=0)) if args.stub else args.port
            session = stack.enter_context(DeviceSession(SerialLink(port, args.baud), log))
            report = run_conformance(session, Timing(interval_s=args.interval), args.kind)
        print(report.table())
        return 0 if report.passed else 1

    parser.set_defaults(run=run)


def add_simulate(commands: argparse._SubParsersAction) -> None:
    parser = commands.add_parser(
        "simulate",
        help="run the fleet simulation on a scenario and summarise its telemetry and truth",
        description="Run the fleet simulation (fleet fidelity) and print what reached the centre and "
        "what really happened. With --out, write telemetry.csv, fixes.csv and truth.csv there.",
    )
    parser.add_argument("scenario", metavar="SCENARIO", nargs="?", default="smoke",
                        help="a shipped scenario's name or a TOML file (default smoke)")
    parser.add_argument("--supplier", help="a supplier profile by name or file (default: the scenario's)")
    parser.add_argument("--subjects", type=_positive_int, help="override the population size")
    parser.add_argument("--days", type=_positive_float, help="override the run's length")
    parser.add_argument("--seed", type=_seed, help="override the root seed")
    parser.add_argument("--out", type=Path, help="a folder to write the CSV files to")

    def run(args: argparse.Namespace) -> int:
        from sim.scenario import load_scenario, load_supplier
        from sim.world.export import write_telemetry, write_truth
        from sim.world.world import simulate

        scenario = load_scenario(args.scenario)
        changes = {k: v for k, v in (("subjects", args.subjects), ("days", args.days), ("seed", args.seed)) if v is not None}
        scenario = scenario.with_changes(**changes)
        supplier = load_supplier(args.supplier or scenario.supplier)
        if args.out is not None:
            try:
                args.out.mkdir(parents=True, exist_ok=True)
                (args.out / "truth.csv").touch()
            except OSError as exc:
                raise CliError(f"cannot write to {args.out}: {exc.strerror.lower()}") from None
        started = time.perf_counter()
        result = simulate(scenario, supplier)
        wall = time.perf_counter() - started
        print(summary(result, wall))
        if args.out is not None:
            write_telemetry(result.records, args.out / "telemetry.csv", args.out / "fixes.csv")
            write_truth(result.truth, args.out / "truth.csv")
            print(f"wrote telemetry.csv, fixes.csv and truth.csv to {args.out}")
        return 0

    parser.set_defaults(run=run)


def summary(result: WorldRun, wall_s: float) -> str:
    """What a run sent, what reached the centre, and what really happened, as lines of text."""
    from collections import Counter

    from sim.world.truth import TruthKind

    s, sc = result.stats, result.scenario
    lines = [
        f"{sc.name}: {s.subjects} subjects, {s.devices} reporting devices, {sc.days:g} days, seed {sc.seed}, "
        f"supplier {result.supplier.name}; {wall_s:.1f} s ({sc.days * 86400 / wall_s:,.0f}x real time)",
        f"frames: {s.messages} queued, {s.frames_sent} sends, {s.lost} lost, {s.corrupted} corrupted, "
        f"{s.duplicated} duplicated, {s.overwritten} overwritten; {result.centre.rejected_total} rejected at the centre",
        f"records: {len(result.records)}",
    ]
    kinds = Counter(r.kind.name.lower() for r in result.records)
    lines += [f"  {kind:<18} {n}" for kind, n in sorted(kinds.items())]
    lines.append(f"truth: {len(result.truth)} intervals")
    truths = Counter(TruthKind(k).label for k in result.truth["kind"].tolist())
    lines += [f"  {kind:<18} {n}" for kind, n in sorted(truths.items())]
    return "\n".join(lines)


class CliError(Exception):
    """A user's mistake the command found itself (an unwritable log, say)."""


COMMANDS = (add_stub, add_harness, add_simulate)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="tagsim", description="Simulator and test harness for offender electronic-monitoring tags."
    )
    commands = parser.add_subparsers(title="commands", metavar="COMMAND", required=True)
    for add in COMMANDS:
        add(commands)
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # argparse has printed usage or help; hand back its status
        return int(exc.code or 0)
    try:
        return args.run(args)
    except UnknownKind as exc:
        return _error(exc, USAGE_ERROR)
    except (LinkError, ParamsError, CliError) as exc:
        return _error(exc, 1)


def _error(exc: Exception, status: int) -> int:
    print(f"tagsim: error: {exc}", file=sys.stderr)
    return status


def _device_id(text: str) -> int:
    value = _whole_number(text)
    if not 0 <= value < BROADCAST_ID:
        raise argparse.ArgumentTypeError(f"{value} is outside 0..{BROADCAST_ID - 1}")
    return value


def _new_log_path() -> Path:
    fd, path = tempfile.mkstemp(prefix="tagsim-harness-", suffix=".log")
    os.close(fd)
    return Path(path)


def _positive_int(text: str) -> int:
    value = _whole_number(text)
    if value <= 0:
        raise argparse.ArgumentTypeError(f"{value} is not above zero")
    return value


def _positive_float(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None
    if not value > 0:
        raise argparse.ArgumentTypeError(f"{text} is not above zero")
    return value


def _seed(text: str) -> int:
    value = _whole_number(text)
    if value < 0:
        raise argparse.ArgumentTypeError(f"{value} is negative")
    return value


def _whole_number(text: str) -> int:
    try:
        return int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
