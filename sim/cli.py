"""The ``tagsim`` command.

Each subcommand is one function that declares its arguments and sets
``run``, the function that does the work and returns the exit status. A
user's mistake (a bad kind, a bad parameter file, a port that will not open)
is one line on stderr, never a traceback.
"""

from __future__ import annotations

import argparse
import sys

from firmware_stubs.device import BROADCAST_ID
from firmware_stubs.kinds import KINDS, UnknownKind
from firmware_stubs.params import ParamsError
from sim.links import LinkError
from sim.realtime import serve_kind

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


COMMANDS = (add_stub,)


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
    except (LinkError, ParamsError) as exc:
        return _error(exc, 1)


def _error(exc: Exception, status: int) -> int:
    print(f"tagsim: error: {exc}", file=sys.stderr)
    return status


def _device_id(text: str) -> int:
    value = _whole_number(text)
    if not 0 <= value < BROADCAST_ID:
        raise argparse.ArgumentTypeError(f"{value} is outside 0..{BROADCAST_ID - 1}")
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
