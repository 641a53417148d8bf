"""A run's detection saved at span boundaries, so that a killed run can be resumed.

``tagsim run --checkpoint DIR`` keeps ``DIR/checkpoint.sqlite``, a SQLite
database in WAL mode. After each span of telemetry has been taken in, one
transaction replaces every policy's detector (pickled: the detector is pure,
no I/O, no SimPy, so its state is all in its objects) and appends the alerts
raised since the last commit, with the number of spans done. A process killed
at any moment, even inside that transaction, leaves the database as of the
last commit: SQLite rolls back a commit the WAL did not finish.

``tagsim run --resume DIR`` opens the same database, refuses it if it was made
by another tagsim, scenario, seed, supplier or set of policies (one line
saying which), takes the detectors back and goes on from the first span not
committed. The world itself is not saved: it is a pure function of the
scenario and seed, so it is simulated again (``docs/reliability.md``).

Only ``sim.pipeline`` knows this file exists; the detector never does.
"""

from __future__ import annotations

import hashlib
import os
import pickle
import sqlite3
import struct
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from importlib.metadata import version
from pathlib import Path

from sim.cli_error import CliError
from sim.detector.engine import Detector
from sim.detector.policy import Policy
from sim.scenario import Scenario, Supplier

FILE_NAME = "checkpoint.sqlite"
# Tests only: seconds to sleep inside each commit's transaction, so that a test can kill the
# run in the middle of one. Unset (the only setting outside the tests), no sleep.
TEST_COMMIT_SLEEP_ENV = "TAGSIM_TEST_COMMIT_SLEEP_S"

_SCHEMA = """
CREATE TABLE run (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE detector (policy TEXT PRIMARY KEY, state BLOB NOT NULL);
CREATE TABLE alert (policy TEXT NOT NULL, n INTEGER NOT NULL, alert_id INTEGER NOT NULL, subject INTEGER NOT NULL,
                    kind TEXT NOT NULL, raised_at REAL, PRIMARY KEY (policy, n));
"""


class CheckpointError(CliError):
    """A checkpoint that cannot be used for this run: another run's, or not a whole database."""


@dataclass(frozen=True)
class Saved:
    """What a checkpoint holds: the spans already taken in, and every detector just after them."""

    spans_done: int
    detectors: dict[str, Detector]


def identity(scenario: Scenario, supplier: Supplier, policies: Sequence[Policy]) -> dict[str, str]:
    """What a checkpoint must match to be resumed, in the order a mismatch is reported: anything
    else would give other results. Settings are hashed from their reprs (frozen dataclasses of
    numbers and strings), so an override such as ``--subjects`` counts as another scenario."""
    return {
        "tagsim version": version("tagsim"),
        "scenario": scenario.name,
        "seed": str(scenario.seed),
        "scenario settings": _digest(repr(scenario.with_changes(seed=0))),
        "supplier": f"{supplier.name} {_digest(repr(supplier))}",
        "policies": " ".join(f"{p.name}:{_digest(repr(p))}" for p in policies),
    }


class Checkpoint:
    """``DIR/checkpoint.sqlite`` for one run. ``resume`` says whether a checkpoint already in
    ``folder`` is to be continued (``--resume``) or refused (``--checkpoint``, which must not
    overwrite one by mistake)."""

    def __init__(self, folder: Path, run: Mapping[str, str], resume: bool) -> None:
        self.path = folder / FILE_NAME
        if resume and not self.path.is_file():  # a mistyped folder must not start a new run unnoticed
            raise CheckpointError(f"no checkpoint in {folder}: a run killed before it saved one starts again "
                                  f"with --checkpoint {folder}")
        try:
            folder.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise CheckpointError(f"cannot make the checkpoint folder {folder}: {(exc.strerror or str(exc)).lower()}") from None
        _check_whole(self.path)
        try:
            self._db = sqlite3.connect(self.path, isolation_level=None)  # transactions are begun and ended here
        except sqlite3.Error as exc:
            raise CheckpointError(f"cannot open the checkpoint {self.path}: {exc}") from None
        try:
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA synchronous=FULL")  # a commit survives a power cut too, not only a kill
            problems = [row for row, in self._db.execute("PRAGMA quick_check") if row != "ok"]
            if problems:
                raise sqlite3.DatabaseError(problems[0])
            found = dict(self._db.execute("SELECT key, value FROM run")) if self._has_tables() else {}
        except sqlite3.DatabaseError as exc:
            self._db.close()
            raise CheckpointError(f"checkpoint {self.path} is not a readable database: {exc}") from None
        if not found:  # none yet, or the run was killed before its first commit
            self._create(run)
        elif not resume:
            self._db.close()
            raise CheckpointError(f"{folder} holds a checkpoint already: --resume {folder} continues it")
        elif differ := [key for key, value in run.items() if found.get(key) != value]:
            self._db.close()
            key = differ[0]
            raise CheckpointError(f"checkpoint {self.path} differs from this run in its {key}: "
                                  f"{found.get(key)!r} there, {run[key]!r} here")
        self._committed = dict(self._db.execute("SELECT policy, count(*) FROM alert GROUP BY policy"))

    def restore(self) -> Saved | None:
        """The detectors as last committed, or None if no span was."""
        try:
            spans_done = int(dict(self._db.execute("SELECT key, value FROM run")).get("spans done", 0))
            states = list(self._db.execute("SELECT policy, state FROM detector"))
        except sqlite3.DatabaseError as exc:
            raise CheckpointError(f"checkpoint {self.path} is not a readable database: {exc}") from None
        if not spans_done:
            return None
        try:
            return Saved(spans_done, {policy: pickle.loads(state) for policy, state in states})
        except (pickle.UnpicklingError, EOFError, AttributeError, ImportError, TypeError, ValueError) as exc:
            raise CheckpointError(f"checkpoint {self.path} holds a detector that cannot be read back: {exc}") from None

    def commit(self, spans_done: int, detectors: Mapping[str, Detector]) -> None:
        """In one transaction: every detector's state, the alerts each raised since the last
        commit, and that ``spans_done`` spans have been taken in."""
        db = self._db
        try:
            db.execute("BEGIN IMMEDIATE")
        except sqlite3.Error as exc:  # another run holding the same checkpoint, a disk gone
            raise CheckpointError(f"cannot save to the checkpoint {self.path}: {exc}") from None
        try:
            for name, detector in detectors.items():
                db.execute("INSERT OR REPLACE INTO detector VALUES (?, ?)",
                           (name, pickle.dumps(detector, protocol=pickle.HIGHEST_PROTOCOL)))
                first = self._committed.get(name, 0)
                db.executemany("INSERT INTO alert VALUES (?, ?, ?, ?, ?, ?)",
                               [(name, n, a.id, a.subject, a.kind.value, a.raised_at)
                                for n, a in enumerate(detector.alerts[first:], start=first)])
            if sleep_s := os.environ.get(TEST_COMMIT_SLEEP_ENV):  # the detectors written, their span count not
                time.sleep(float(sleep_s))
            db.execute("INSERT OR REPLACE INTO run VALUES ('spans done', ?)", (str(spans_done),))
            db.execute("COMMIT")
        except BaseException as exc:
            if db.in_transaction:  # SQLite may have rolled back by itself (a full disk)
                db.execute("ROLLBACK")
            if isinstance(exc, sqlite3.Error):
                raise CheckpointError(f"cannot save to the checkpoint {self.path}: {exc}") from None
            raise
        self._committed = {name: len(d.alerts) for name, d in detectors.items()}

    def close(self) -> None:
        self._db.close()

    def _has_tables(self) -> bool:
        return self._db.execute("SELECT count(*) FROM sqlite_master WHERE name = 'run'").fetchone()[0] > 0

    def _create(self, run: Mapping[str, str]) -> None:
        """The tables and the run's identity, in one transaction: a kill leaves all or nothing."""
        db = self._db
        db.execute("BEGIN IMMEDIATE")
        for table in ("alert", "detector", "run"):  # a database killed before its first commit may hold any
            db.execute(f"DROP TABLE IF EXISTS {table}")
        for statement in _SCHEMA.split(";"):
            if statement.strip():
                db.execute(statement)
        db.executemany("INSERT INTO run VALUES (?, ?)", run.items())
        db.execute("COMMIT")


def _check_whole(path: Path) -> None:
    """Refuse a database file cut short (copied in part, a disk filled), naming the byte it
    ends at: its header says how many pages it has. Bytes 16-17 are the page size (1 meaning
    65536), 28-31 the page count (SQLite's file format, 1.3). Beside a write-ahead log the
    file may lag its header (a kill in the middle of moving the log's pages in): SQLite's
    recovery from the log, then its quick check, judge it instead."""
    wal = path.with_name(path.name + "-wal")
    if not path.exists() or path.stat().st_size == 0 or (wal.exists() and wal.stat().st_size > 0):
        return
    size = path.stat().st_size
    with path.open("rb") as fh:
        header = fh.read(100)
    if len(header) < 100 or not header.startswith(b"SQLite format 3\0"):
        raise CheckpointError(f"checkpoint {path} is cut short or not a SQLite database: "
                              f"no whole header in its {size} bytes")
    page_size, = struct.unpack(">H", header[16:18])
    pages, = struct.unpack(">I", header[28:32])
    expected = (65536 if page_size == 1 else page_size) * pages
    if size < expected:
        raise CheckpointError(f"checkpoint {path} is cut short at byte {size}: its header says {expected} bytes")


def _digest(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()[:16]
