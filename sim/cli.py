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
from contextlib import ExitStack
from pathlib import Path

from firmware_stubs.device import BROADCAST_ID
from firmware_stubs.kinds import KINDS, UnknownKind
from firmware_stubs.params import ParamsError
from sim.conformance import Timing, run_conformance
from sim.device_session import DeviceSession
from sim.links import LinkError, SerialLink
from sim.realtime import serve_kind, serving

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


class CliError(Exception):
    """A user's mistake the command found itself (an unwritable log, say)."""


COMMANDS = (add_stub, add_harness)


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
