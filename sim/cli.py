"""The ``tagsim`` command.

Each subcommand is one function that declares its arguments and sets
``run``, the function that does the work and returns the exit status. A
user's mistake (a bad kind, a bad parameter file, a port that will not open)
is one line on stderr, never a traceback.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, TextIO

from firmware_stubs.device import BROADCAST_ID
from firmware_stubs.kinds import KINDS, UnknownKind
from sim.cli_error import CliError
from sim.conformance import Timing, run_conformance
from sim.device_session import DeviceSession
from sim.links import LinkError, SerialLink
from sim.realtime import serve_kind, serving
from sim.seeds import ParamsError

if TYPE_CHECKING:
    from sim.detector.alerts import AlertUpdate
    from sim.pipeline.pool import Pool
    from sim.operations.centre.params import CentreParams
    from sim.operations.field.params import FieldParams
    from sim.detector.policy import Policy
    from sim.pipeline.world_stream import WorldRun
    from sim.run import Progress
    from sim.scenario import Scenario, Supplier

# argparse's own status for a usage error; an unknown kind is one.
USAGE_ERROR = 2
# Today's centre (one alert per device alarm episode) and the standard policy beside it;
# naive, one alert per raw event, is there by --policy naive.
DEFAULT_POLICIES = ("reference", "standard")


def add_stub(commands: argparse._SubParsersAction) -> None:
    parser = commands.add_parser(
        "stub",
        help="serve one device kind on a fresh PTY (its path is the first line of stdout)",
        description="Serve one device kind on a fresh PTY until SIGINT or SIGTERM.",
    )
    parser.add_argument("kind", metavar="KIND", help=f"one of: {', '.join(KINDS)}")
    parser.add_argument("--device-id", type=_device_id, default=1, help="the device's id (default 1)")
    parser.add_argument("--seed", type=_seed, default=0, help="random seed (default 0)")
    parser.add_argument("--upload-log", type=Path, metavar="PATH",
                        help="write every message the device stores for upload, and every one its full queue "
                        "overwrites, to PATH (JSON lines, docs/proxy.md): what tagsim proxy --upload-log accounts for")

    def run(args: argparse.Namespace) -> int:
        from sim.proxy.accounting import UploadLogFile

        with ExitStack() as stack:
            upload_log = None
            if args.upload_log is not None:
                upload_log = UploadLogFile(_open_to_write(stack, args.upload_log, "upload log"))
            stats = serve_kind(args.kind, args.device_id, args.seed, upload_log)
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
    _add_baud_argument(parser)
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


def add_listen(commands: argparse._SubParsersAction) -> None:
    parser = commands.add_parser(
        "listen",
        help="be the monitoring centre for the device at PORT: receive, ack and detect, live",
        description="Be the monitoring centre for one device at PORT (a stub or real hardware): every frame "
        "goes through the same receiver (acks back down the line) and breach detector as a simulated run, "
        "for --for seconds. Prints each alert as it is raised, updated or closed, then a summary.",
    )
    target = parser.add_mutually_exclusive_group(required=True)
    target.add_argument(
        "port", metavar="PORT", nargs="?", help="a serial port or PTY path, or a pyserial URL (socket://host:port)"
    )
    target.add_argument("--stub", action="store_true", help="serve a stub of --kind on a fresh PTY and listen to it")
    parser.add_argument("--kind", choices=KINDS, required=True, help="the device's kind (a base unit brings its RF tag, id + 1)")
    parser.add_argument("--device-id", type=_device_id, default=1, help="the device's id (default 1)")
    _add_policies_argument(parser)
    parser.add_argument("--for", type=_positive_float, default=60.0, dest="duration_s", metavar="SECONDS",
                        help="how long to listen, wall seconds (default 60)")
    _add_baud_argument(parser)
    parser.add_argument("--fitted-new", action="store_true",
                        help="the device was just fitted and numbers its messages from 0 (a stub always is): wait for "
                        "its seq 0 rather than start at the first frame heard, so a lost seq 0 is resent, not acked over")

    def run(args: argparse.Namespace) -> int:
        from sim.centre.live import listen_on_port

        def show(policy: str, update: AlertUpdate) -> None:
            a = update.alert
            print(f"{update.at:.3f} {policy}: {update.change.value} alert {a.id} {a.kind.value} ({a.category.value}) "
                  f"device {a.device}" + (f", cause: {a.cause}" if a.cause else ""), flush=True)

        policies = _policies(args.policies)
        with ExitStack() as stack:
            port = stack.enter_context(serving(args.kind, args.device_id, seed=0)) if args.stub else args.port
            heard = listen_on_port(port, args.kind, args.device_id, policies, args.duration_s, args.baud, on_update=show,
                                   fitted_new=args.stub or args.fitted_new)
        st = heard.stats
        print(f"listened {args.duration_s:g} s: {st.frames} frames, {len(heard.records)} records, {st.acks_sent} acks sent, "
              f"{st.rejected_total} rejected; alerts: "
              + ", ".join(f"{name} {len(alerts)}" for name, alerts in heard.alerts.items()))
        return 0

    parser.set_defaults(run=run)


def add_proxy(commands: argparse._SubParsersAction) -> None:
    parser = commands.add_parser(
        "proxy",
        help="carry frames between a device at PORT_A and the centre at PORT_B, with faults, seeded and logged",
        description="Carry frames between a device (PORT_A) and the centre (PORT_B), both ways, dropping, corrupting, "
        "duplicating, reordering, delaying and cutting them on purpose (docs/proxy.md), until SIGINT, SIGTERM or "
        "--duration. A port is tcp:HOST:PORT (connect to a TCP server), pty (open a fresh PTY here: its path is "
        "printed on stdout, a line each, A's first), or a serial port or PTY path or pyserial URL. At the end, prints "
        "the faults applied and, with --upload-log, the account: every message the device stored is at the centre "
        "exactly once, or listed as lost with its reason.",
    )
    parser.add_argument("port_a", metavar="PORT_A", help="the device's side: tcp:HOST:PORT, pty, or a port path or URL")
    parser.add_argument("port_b", metavar="PORT_B", help="the centre's side: tcp:HOST:PORT, pty, or a port path or URL")
    for name, what in (("drop", "lost"), ("corrupt", "damaged in one byte (the CRC rejects it)"),
                       ("duplicate", "sent twice"), ("reorder", "swapped with the next frame")):
        parser.add_argument(f"--{name}", type=_number, default=0.0, metavar="P",
                            help=f"chance a frame is {what}, each direction (default 0)")
    parser.add_argument("--delay", type=_number, default=0.0, metavar="S", help="seconds every frame is held (default 0)")
    parser.add_argument("--cut", metavar="EVERY/FOR",
                        help="the link is dead both ways for FOR seconds in every EVERY (up first for EVERY-FOR)")
    parser.add_argument("--seed", type=_seed, default=0, help="random seed (default 0)")
    parser.add_argument("--log", type=Path, metavar="PATH", help="write every fault applied to PATH (JSON lines)")
    parser.add_argument("--duration", type=_positive_float, metavar="S", help="stop after S seconds (default: at SIGINT or SIGTERM)")
    parser.add_argument("--upload-log", type=Path, metavar="PATH",
                        help="the device's upload log (tagsim stub --upload-log): account for every message in it")
    _add_baud_argument(parser)

    def run(args: argparse.Namespace) -> int:
        import signal
        import threading

        from sim.proxy.accounting import UploadLogError, account, read_upload_logs
        from sim.proxy.endpoints import PtyLink, open_endpoint
        from sim.proxy.faults import FaultLog, Faults, log_header
        from sim.proxy.proxy import Proxy

        every, for_ = _cut(args.cut) if args.cut else (0.0, 0.0)
        try:
            faults = Faults(args.drop, args.corrupt, args.duplicate, args.reorder, args.delay, every, for_)
        except ValueError as exc:
            raise CliError(str(exc)) from None
        if args.upload_log is not None and not args.upload_log.is_file():
            raise CliError(f"no upload log at {args.upload_log}")
        stop = threading.Event()
        with ExitStack() as stack:
            for sig in (signal.SIGINT, signal.SIGTERM):
                stack.callback(signal.signal, sig, signal.signal(sig, lambda *_: stop.set()))
            log_out = _open_to_write(stack, args.log, "log") if args.log is not None else None
            a = stack.enter_context(open_endpoint(args.port_a, args.baud))
            b = stack.enter_context(open_endpoint(args.port_b, args.baud))
            for link in (a, b):
                if isinstance(link, PtyLink):
                    print(link.path, flush=True)
            log = FaultLog(log_out, log_header(a.name, b.name, args.seed, faults))
            proxy = Proxy(a, b, faults, args.seed, log)
            try:
                proxy.run(stop, args.duration or float("inf"))
            except LinkError as exc:  # a side went away: what was carried is still worth the account
                failed = exc
            else:
                failed = None
        frames = {d: line.frames for d, line in proxy.lines.items()}
        print(f"proxy: {frames['a>b']} frames a>b, {frames['b>a']} b>a; faults: "
              + (", ".join(f"{d} {fault} {n}" for (d, fault), n in sorted(log.counts.items())) or "none"))
        if args.upload_log is not None:
            try:
                upload_log = read_upload_logs([args.upload_log])
            except UploadLogError as exc:
                raise CliError(str(exc)) from None
            print(account(upload_log, proxy.arrivals).report())
        if failed is not None:
            raise failed
        return 0

    parser.set_defaults(run=run)


def add_simulate(commands: argparse._SubParsersAction) -> None:
    parser = commands.add_parser(
        "simulate",
        help="run the fleet simulation on a scenario and summarise its telemetry and truth",
        description="Run the fleet simulation (fleet fidelity) and print what reached the centre and "
        "what really happened. With --out, write telemetry.csv, fixes.csv and truth.csv there.",
    )
    _add_scenario_arguments(parser)
    parser.add_argument("--out", type=Path, help="a folder to write the CSV files to")

    def run(args: argparse.Namespace) -> int:
        from sim.pipeline.world_stream import simulate
        from sim.world.export import write_telemetry, write_truth

        scenario, supplier = _scenario_of(args)
        if args.out is not None:
            _writable_folder(args.out)
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


def add_run(commands: argparse._SubParsersAction) -> None:
    parser = commands.add_parser(
        "run",
        help="simulate a scenario, detect with each policy, score every alert against the truth",
        description="Simulate SCENARIO once at fleet fidelity, feed the same telemetry to each policy's "
        "breach detector, score every alert against the ground truth and print the scorecard. Writes "
        "results.json, alerts.csv, truth.csv and report.html to --out.",
    )
    _add_scenario_arguments(parser)
    _add_policies_argument(parser)
    _add_workers_argument(parser)
    _add_staff_arguments(parser)
    parser.add_argument("--out", type=Path, help="where to write the results (default out/SCENARIO)")
    saving = parser.add_mutually_exclusive_group()
    saving.add_argument("--checkpoint", type=Path, metavar="DIR",
                        help="save every detector and its alerts to DIR/checkpoint.sqlite at each span of "
                        "telemetry, so that a killed run can be resumed")
    saving.add_argument("--resume", type=Path, metavar="DIR",
                        help="go on from the checkpoint in DIR, given the same scenario, seed, supplier and "
                        "policies (from the start if the run was killed before its first span was saved)")

    def run(args: argparse.Namespace) -> int:
        from sim.calibration.published import load_calibration
        from sim.pipeline.checkpoint import Checkpoint, identity
        from sim.report import format_calibration, format_incidents, format_operations, format_scorecard
        from sim.run import OUTPUTS, write_outputs
        from sim.run import run as run_all
        from sim.score import load_scoring_rules

        scenario, supplier = _scenario_of(args)
        policies = _policies(args.policies)
        rules = load_scoring_rules()
        load_calibration()  # a broken figures file fails now, not after the run
        centre, field = _service_of(args)
        out = args.out or Path("out") / scenario.name
        _writable_folder(out)
        with ExitStack() as stack:
            checkpoint = None
            if args.checkpoint or args.resume:
                checkpoint = Checkpoint(args.checkpoint or args.resume, identity(scenario, supplier, policies),
                                        resume=args.resume is not None)
                stack.callback(checkpoint.close)
            pool, progress = stack.enter_context(_pool_of(args)), stack.enter_context(_progress(scenario))
            result = run_all(scenario, supplier, policies, rules, progress=progress, centre=centre, field=field,
                             pool=pool, checkpoint=checkpoint)
        started = time.perf_counter()
        written = write_outputs(result, out)
        outputs_s = time.perf_counter() - started
        print(format_scorecard(written))
        print()
        print(format_incidents(written))
        print()
        print(format_calibration(written))
        print()
        print(format_operations(written))
        print(f"wrote {', '.join(OUTPUTS[:-1])} and {OUTPUTS[-1]} to {out}")
        print(_stage_times(result.wall_s, {name: p.wall_s for name, p in result.policies.items()}, outputs_s))
        return 0

    parser.set_defaults(run=run)


def add_staff(commands: argparse._SubParsersAction) -> None:
    parser = commands.add_parser(
        "staff",
        help="the fewest operators and field officers, shift by shift, that hold every deadline, by policy",
        description="Simulate SCENARIO once, detect with each policy, and for each find by simulation the fewest "
        "monitoring-centre operators on each shift (seeds/operations/centre.toml) for which every alert class has "
        "at least --target of its alerts taken up within its deadline and of its genuine breaches notified in time, "
        "then the fewest field officers on each shift (seeds/operations/field.toml) for which every kind of job "
        "has --target reached within its deadline and the backlog drains. Erlang C gives the first guess. Prints "
        "the service at today's staff (the seeds', or --operators and --field-officers) beside the answer.",
    )
    _add_scenario_arguments(parser)
    _add_policies_argument(parser)
    parser.add_argument("--target", "--service-level", type=_share_percent, default=90, metavar="PCT", dest="target",
                        help="the share of each class's alerts and each kind's jobs to handle within its deadline, "
                        "in percent (default 90)")
    _add_staff_arguments(parser)
    _add_workers_argument(parser)
    parser.add_argument("--json", type=Path, metavar="PATH", help="also write the answer, today's service and the "
                        "service at the answer as JSON (docs/operations.md)")

    def run(args: argparse.Namespace) -> int:
        from sim.operations.staffing import staff_service
        from sim.report import format_operations, format_staffing
        from sim.run import caseload_of, staffing_results
        from sim.run import run as run_all
        from sim.score import load_scoring_rules

        scenario, supplier = _scenario_of(args)
        policies = _policies(args.policies)
        rules = load_scoring_rules()
        centre, field = _service_of(args)
        if args.json is not None:
            _writable_folder(args.json.parent)
        with _pool_of(args) as pool, _progress(scenario) as progress:
            result = run_all(scenario, supplier, policies, rules, progress=progress, centre=centre, field=field, pool=pool)
        caseload = caseload_of(result.world)
        answers = {name: staff_service(p.arrivals, centre, field, caseload, args.target / 100)
                   for name, p in result.policies.items()}
        today = {name: {"operations": p.operations} for name, p in result.policies.items()}
        needed = {name: {"operations": a.measures} for name, a in answers.items() if a.measures is not None}
        print(f"At today's staff (operators {'/'.join(map(str, centre.rota.staff))}, field officers "
              f"{'/'.join(map(str, field.rota.staff))}):\n")
        print(format_operations({"policies": today}))
        print()
        print(format_staffing(scenario, centre, field, args.target,
                              {name: (p.operations, answers[name]) for name, p in result.policies.items()}))
        if needed:
            print("\nAt the staff needed:\n")
            print(format_operations({"policies": needed}))
        if args.json is not None:
            staffing = staffing_results(result, args.target, answers)
            args.json.write_text(json.dumps(staffing, indent=1) + "\n")
            print(f"wrote {args.json}")
        return 0

    parser.set_defaults(run=run)


def add_compare(commands: argparse._SubParsersAction) -> None:
    parser = commands.add_parser(
        "compare",
        help="compare suppliers on the same scenario, replicated, with intervals and verdicts",
        description="Run SCENARIO with each --supplier (default: every shipped profile) on the same seeds: the same "
        "people, lives and breaches, only the devices differ (common random numbers). Replicate with independent "
        "seeds, a fixed number of times or until every difference's interval is within --precision. Prints each "
        "supplier's mean with its 95%% interval and each pair's paired difference with its interval (Bonferroni over "
        "every difference reported) and verdict; writes compare.json, compare.csv and compare.html to --out.",
    )
    _add_scenario_arguments(parser, one_supplier=False)
    parser.add_argument("--supplier", action="append", dest="suppliers", metavar="NAME",
                        help="a supplier profile by name or file; repeat for each (default: every shipped profile)")
    _add_policies_argument(parser)
    how_many = parser.add_mutually_exclusive_group()
    how_many.add_argument("--replications", type=_replications, metavar="N",
                          help="replications, each on its own seed (default 5)")
    how_many.add_argument("--precision", type=_precision, metavar="PCT",
                          help="add replications until every difference's interval half-width is within PCT of the "
                          "larger mean, e.g. 5%%")
    parser.add_argument("--most", type=_most, default=20, metavar="N",
                        help="with --precision, the most replications to run (default 20; at least 3)")
    parser.add_argument("--independent", action="store_true",
                        help="run each supplier on seeds of its own instead of common random numbers: independent "
                        "worlds, to see what pairing buys")
    parser.add_argument("--staff", action="store_true",
                        help="also find the operators and field officers each supplier needs (tagsim staff's search; "
                        "slow: a search a policy a run)")
    parser.add_argument("--target", type=_share_percent, default=90, metavar="PCT",
                        help="with --staff, the service level the search holds, percent (default 90)")
    _add_staff_arguments(parser)
    _add_workers_argument(parser)
    parser.add_argument("--out", type=Path, help="where to write the comparison (default out/compare-SCENARIO)")

    def run(args: argparse.Namespace) -> int:
        from datetime import datetime, timezone

        from tqdm import tqdm

        from sim.compare.outputs import comparison, format_comparison, write_comparison
        from sim.compare.observations import Observations
        from sim.compare.replicate import Settings, compare
        from sim.scenario import available_suppliers, load_supplier
        from sim.score import load_scoring_rules

        scenario = _scenario_only(args)
        names = args.suppliers or available_suppliers()
        suppliers = [load_supplier(name) for name in names]
        if len({s.name for s in suppliers}) != len(suppliers):
            raise CliError(f"a supplier is named twice in --supplier {' '.join(names)}")
        if len(suppliers) < 2:
            raise CliError("a comparison needs two or more suppliers: give --supplier twice or more")
        policies = _policies(args.policies)
        centre, field = _service_of(args)
        staff_share = args.target / 100 if args.staff else None
        rules = load_scoring_rules()
        service = {"operators": list(centre.rota.staff), "field_officers": list(field.rota.staff),
                   "staff_target": staff_share}
        out = args.out or Path("out") / f"compare-{scenario.name}"
        _writable_folder(out)
        replications = None if args.precision is not None else (args.replications or 5)
        started = datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")

        def written(observed: Observations, met: bool | None = None) -> dict:
            """The comparison so far, written after every replication: a run killed late loses
            only the replication under way."""
            result = comparison(observed, args.precision, met, args.most, started, service)
            write_comparison(result, out)
            return result

        with _pool_of(args) as pool, tqdm(total=len(suppliers) * (replications or args.most), desc="compare",
                                          unit=" runs", disable=not sys.stderr.isatty()) as bar:
            settings = Settings(rules, centre, field, args.workers, staff_share, not args.independent, pool)
            def on_run(k: int, supplier: str) -> None:
                bar.set_postfix_str(f"replication {k + 1}, {supplier}")
                bar.update(1)

            observed, met = compare(scenario, suppliers, policies, settings, replications, args.precision, args.most,
                                    on_run, written)
            bar.total = bar.n  # a precision met early stops short of the most
            bar.refresh()
        result = written(observed, met)
        print(format_comparison(result))
        if args.precision is not None:
            print(f"\nprecision {100 * args.precision:g}% of the larger mean: {'met' if met else 'not met'} after "
                  f"{result['replications']} replications (at most {args.most})")
        print(f"wrote compare.json, compare.csv and compare.html to {out}; {result['wall_s']['total']:.1f} s of runs")
        return 0

    parser.set_defaults(run=run)


def _add_staff_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--operators", type=_staff_counts, metavar="N[,M...]",
                        help="monitoring-centre operators rostered on each shift, or one count for every shift "
                        "(default: seeds/operations/centre.toml)")
    parser.add_argument("--field-officers", type=_staff_counts, metavar="N[,M...]",
                        help="field officers rostered on each shift, or one count for every shift "
                        "(default: seeds/operations/field.toml)")


def _service_of(args: argparse.Namespace) -> tuple[CentreParams, FieldParams]:
    """The centre and the field force: the seeds', with the arguments' rosters."""
    from sim.operations.centre.params import load_centre, with_operators
    from sim.operations.field.params import load_field, with_officers
    from sim.operations.service import check_visits

    centre, field = load_centre(), load_field()
    check_visits(centre, field)
    if args.operators is not None:
        centre = with_operators(centre, args.operators)
    if args.field_officers is not None:
        field = with_officers(field, args.field_officers)
    return centre, field


def _add_scenario_arguments(parser: argparse.ArgumentParser, one_supplier: bool = True) -> None:
    parser.add_argument("scenario", metavar="SCENARIO", nargs="?", default="smoke",
                        help="a shipped scenario's name or a TOML file (default smoke)")
    if one_supplier:
        parser.add_argument("--supplier", help="a supplier profile by name or file (default: the scenario's)")
    parser.add_argument("--subjects", type=_positive_int, help="override the population size")
    parser.add_argument("--days", type=_positive_float, help="override the run's length")
    parser.add_argument("--seed", type=_seed, help="override the root seed")


def _add_policies_argument(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--policy", action="append", dest="policies", metavar="NAME",
                        help="a detector policy by name or TOML file; repeat for several (default: reference and standard)")


def _add_baud_argument(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--baud", type=_positive_int, default=115200, help="line speed for a real port (default 115200)")


def _open_to_write(stack: ExitStack, path: Path, what: str) -> TextIO:
    """``path`` opened for writing text, closed with ``stack``; one line naming it if it cannot be."""
    try:
        return stack.enter_context(path.open("w", encoding="utf-8"))
    except OSError as exc:
        raise CliError(f"cannot write the {what} {path}: {(exc.strerror or str(exc)).lower()}") from None


def _add_workers_argument(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--workers", type=_positive_int, default=os.cpu_count() or 1,
                        help="processes simulating the world (default: one a core)")
    cluster = parser.add_mutually_exclusive_group()
    cluster.add_argument("--scheduler", metavar="ADDRESS",
                         help="send the work to the Dask scheduler at ADDRESS (or set TAGSIM_SCHEDULER); needs "
                         "pip install 'tagsim[dask]'")
    cluster.add_argument("--cluster", metavar="local:N",
                         help="start a Dask LocalCluster of N worker processes here and run on it")


@contextmanager
def _pool_of(args: argparse.Namespace) -> Iterator[Pool]:
    """The pool the arguments ask for: a Dask cluster, or tagsim's local pool of --workers."""
    from sim.pipeline.pool import pool_for

    pool = pool_for(args.workers, args.scheduler, args.cluster)
    try:
        yield pool
    finally:
        pool.close()


def _scenario_of(args: argparse.Namespace) -> tuple[Scenario, Supplier]:
    """The scenario the arguments name, with their overrides, and its supplier (or theirs)."""
    from sim.scenario import load_supplier

    scenario = _scenario_only(args)
    return scenario, load_supplier(args.supplier or scenario.supplier)


def _scenario_only(args: argparse.Namespace) -> Scenario:
    from sim.scenario import load_scenario

    scenario = load_scenario(args.scenario)
    changes = {k: v for k, v in (("subjects", args.subjects), ("days", args.days), ("seed", args.seed)) if v is not None}
    return scenario.with_changes(**changes)


def _writable_folder(folder: Path) -> None:
    """Make ``folder`` and prove it takes files, before hours of simulation, not after."""
    try:
        folder.mkdir(parents=True, exist_ok=True)
        probe = folder / ".tagsim-write-test"
        probe.touch()
        probe.unlink()
    except OSError as exc:
        raise CliError(f"cannot write to {folder}: {(exc.strerror or str(exc)).lower()}") from None


@contextmanager
def _progress(scenario: Scenario) -> Iterator[Progress]:
    """Bars in simulated time on a terminal (subject-days simulated, then days detected); quiet
    when stderr is not a terminal, so logs and pipes stay clean."""
    from tqdm import tqdm

    from sim.run import Progress
    from sim.world.draws import DAY_S

    quiet = not sys.stderr.isatty()
    subject_days = scenario.subjects * scenario.days
    bar = "{desc}: {percentage:3.0f}%|{bar}| {n:.1f}/{total:.1f}{unit} [{elapsed}<{remaining}]"
    with tqdm(total=subject_days / 1000, desc="world ", unit="k subject-days", bar_format=bar, disable=quiet) as world, \
            tqdm(total=scenario.days, desc="detect", unit=" days", bar_format=bar, disable=quiet) as detect:

        def on_world(share: float) -> None:
            world.update(share * subject_days / 1000 - world.n)

        def on_detected(done_s: float, total_s: float) -> None:
            detect.total = total_s / DAY_S
            detect.update(done_s / DAY_S - detect.n)

        yield Progress(on_world, on_detected)


def add_bench(commands: argparse._SubParsersAction) -> None:
    parser = commands.add_parser(
        "bench",
        help="run the checkout's benchmarks; save a run, or compare with a saved one and fail on a regression",
        description="Run the pytest-benchmark suites of a source checkout (slow ones excluded) and write "
        "their JSON. With --save, keep the run under NAME; with --compare, print a table against the run "
        "saved as NAME and fail (exit 1) if any benchmark got more than --margin percent slower: judged "
        "by its ratio to a reference measured in the same run where it has one, else by its minimum time.",
    )
    parser.add_argument("--save", metavar="NAME", help="save this run as NAME (in .benchmarks beside the suites)")
    parser.add_argument("--compare", metavar="NAME", help="compare with the latest run saved as NAME")
    parser.add_argument(
        "--margin", metavar="PCT", type=_percent, default=20,
        help="with --compare, the slowdown that fails, percent (default 20)",
    )
    parser.add_argument("--json", metavar="PATH", type=Path, help="where to write the JSON results (default bench.json here)")
    parser.add_argument(
        "--benchmarks", metavar="DIR", type=Path,
        help="the suites' folder (default: benchmarks/ of the checkout tagsim runs from)",
    )
    parser.add_argument("-k", metavar="EXPR", dest="keyword", help="run only the benchmarks pytest's -k EXPR selects")

    def run(args: argparse.Namespace) -> int:
        from sim.bench import run_bench

        return run_bench(args.benchmarks, args.json, args.save, args.compare, args.margin, args.keyword)

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


COMMANDS = (add_stub, add_harness, add_listen, add_proxy, add_simulate, add_run, add_staff, add_compare, add_bench)


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


def _stage_times(wall_s: dict[str, float], detect_s: dict[str, float], outputs_s: float) -> str:
    """The run's wall time by stage, as one line."""
    policies = ", ".join(f"{name} {t:.1f} s" for name, t in detect_s.items())
    return (f"wall time: world {wall_s['world']:.1f} s, detection {wall_s['detection']:.1f} s ({policies}), "
            f"scoring {wall_s['score']:.1f} s, operations {wall_s['operations']:.1f} s, outputs {outputs_s:.1f} s; "
            f"{wall_s['total'] + outputs_s:.1f} s in all")


def _policies(names: list[str] | None) -> list[Policy]:
    """The policies ``--policy`` names (default ``DEFAULT_POLICIES``), each once and each name its own."""
    from sim.policies import load_policy

    names = names or list(DEFAULT_POLICIES)
    if len(set(names)) != len(names):
        raise CliError(f"a policy is named twice in --policy {' '.join(names)}")
    policies = [load_policy(name) for name in names]
    if len({p.name for p in policies}) != len(policies):
        raise CliError("two of the policies share a name: give each policy file its own name")
    return policies


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


def _staff_counts(text: str) -> tuple[int, ...]:
    """``N`` or ``N,M,...``: whole numbers of staff, none below zero (the rota says if too few)."""
    counts = tuple(_whole_number(part.strip()) for part in text.split(","))
    if any(n < 0 for n in counts):
        raise argparse.ArgumentTypeError(f"{text!r}: a count of staff must not be below zero")
    return counts


def _replications(text: str) -> int:
    value = _whole_number(text)
    if value < 2:
        raise argparse.ArgumentTypeError(f"{value}: an interval needs two replications or more")
    return value


def _most(text: str) -> int:
    value = _whole_number(text)
    if value < 3:
        raise argparse.ArgumentTypeError(f"{value}: a precision is judged on three replications or more")
    return value


def _precision(text: str) -> float:
    """``5%`` or ``5``: a share of the larger mean, above 0 and below 100%."""
    try:
        value = float(text.strip().removesuffix("%"))
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a percentage") from None
    if not 0 < value < 100:
        raise argparse.ArgumentTypeError(f"{text} is not between 0 and 100%")
    return value / 100


def _share_percent(text: str) -> int:
    """A service level in whole percent, 1 to 99."""
    value = _whole_number(text)
    if not 0 < value < 100:
        raise argparse.ArgumentTypeError(f"{value} is not between 1 and 99")
    return value


def _percent(text: str) -> int:
    # Whole percent only: a finer margin is far inside this machine's run-to-run noise.
    value = _whole_number(text)
    if value < 0:
        raise argparse.ArgumentTypeError(f"{value} is negative")
    return value


def _positive_float(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None
    if not value > 0:
        raise argparse.ArgumentTypeError(f"{text} is not above zero")
    return value


def _number(text: str) -> float:
    try:
        return float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None


def _cut(text: str) -> tuple[float, float]:
    """``EVERY/FOR``: seconds; ``Faults`` checks that the cut fits its period."""
    every, sep, for_ = text.partition("/")
    try:
        if not sep:
            raise ValueError
        return float(every), float(for_)
    except ValueError:
        raise CliError(f"--cut {text}: expected EVERY/FOR in seconds, as 10/2") from None


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
