"""Drive a device stub in wall-clock time over a file descriptor, usually a PTY.

The stub sees driver time from ``clock`` (monotonic, so it never goes back)
and stamps its frames in Unix milliseconds, as a device set by TIME_SYNC would.
The line behaves like a serial line: bytes the other end does not read in
time are dropped, and counted, rather than holding the device up.
"""

from __future__ import annotations

import os
import select
import signal
import threading
import time
import tty
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass

import numpy as np

from firmware_stubs.device import UploadLog
from firmware_stubs.kinds import build_standalone
from firmware_stubs.wiring import Assembly, Machine
from sim.links.base import LinkError
from sim.scenario import default_device_params

# Longest the loop waits before looking at ``stop`` again; bounds how long a stop takes.
STOP_POLL_S = 0.1
READ_CHUNK = 4096


@dataclass
class LineStats:
    bytes_in: int = 0
    bytes_out: int = 0
    bytes_dropped: int = 0  # the other end was not reading and the buffer was full


def open_pty() -> tuple[int, str]:
    """A fresh raw pseudo-terminal: its master fd (non-blocking) and its slave's path.

    The slave is closed here; whoever serves the master should hold it open
    (see ``serve_kind``), or the master reads EIO whenever no client has it.
    """
    try:
        master, slave = os.openpty()
    except OSError as exc:
        raise LinkError(f"cannot open a new PTY: {exc.strerror.lower()}") from exc
    try:
        tty.setraw(slave)  # no echo, no line editing: the protocol is binary
        path = os.ttyname(slave)
    finally:
        os.close(slave)
    os.set_blocking(master, False)
    return master, path


def set_unix_clock(machine: Machine, now: float) -> None:
    """Set the device's clock so that driver time ``now`` reads as the wall clock's Unix time."""
    _device_of(machine).clock.set_to(now, round(time.time() * 1000))  # type: ignore[attr-defined]


def set_upload_log(machine: Machine, log: UploadLog) -> None:
    """Have the device tell ``log`` of every message it stores for upload, and every one it overwrites."""
    _device_of(machine).attach_upload_log(log)  # type: ignore[attr-defined]


def _device_of(machine: Machine) -> Machine:
    """The device itself: an assembly's (a base unit with its tag) is its base unit."""
    return machine.device if isinstance(machine, Assembly) else machine


def run_machine(
    machine: Machine, fd: int, stop: threading.Event, clock: Callable[[], float] = time.monotonic
) -> LineStats:
    """Feed what arrives on ``fd`` to ``machine``, tick it at its deadlines and write what
    it sends, until ``stop`` is set. ``fd`` must be non-blocking (``open_pty`` makes it so)."""
    stats = LineStats()
    while not stop.is_set():
        wait = min(max(0.0, machine.next_deadline() - clock()), STOP_POLL_S)
        readable, _, _ = select.select([fd], [], [], wait)
        now = clock()
        if readable:
            data = _read(fd)
            stats.bytes_in += len(data)
            if data:
                machine.receive(now, data)
        if now >= machine.next_deadline():
            machine.tick(now)
        _write(fd, machine.drain(), stats)
    return stats


def standalone_now(kind: str, device_id: int, seed: int) -> Machine:
    """A standalone ``kind`` built at the monotonic now, its clock reading Unix time.

    Raises ``UnknownKind`` or ``ParamsError`` for a bad kind or parameter file.
    """
    now = time.monotonic()
    machine = build_standalone(kind, device_id, now, default_device_params(), np.random.default_rng(seed))
    set_unix_clock(machine, now)
    return machine


@contextmanager
def pty_line() -> Iterator[tuple[int, str]]:
    """A fresh PTY for a server: the master fd and the path clients open."""
    with ExitStack() as cleanup:
        master, path = open_pty()
        cleanup.callback(os.close, master)
        # Held while serving, so a client may come and go without the master reading EIO.
        cleanup.callback(os.close, os.open(path, os.O_RDWR | os.O_NOCTTY))
        yield master, path


def serve_kind(kind: str, device_id: int, seed: int, upload_log: UploadLog | None = None) -> LineStats:
    """Serve a standalone ``kind`` on a fresh PTY until SIGINT or SIGTERM, telling ``upload_log``
    (if given) of every message it stores for upload.

    The PTY's path is the first line on stdout, so a script or test can open it.
    Raises ``LinkError`` if no PTY can be had.
    """
    machine = standalone_now(kind, device_id, seed)
    if upload_log is not None:
        set_upload_log(machine, upload_log)
    stop = threading.Event()
    with ExitStack() as cleanup:
        for sig in (signal.SIGINT, signal.SIGTERM):
            cleanup.callback(signal.signal, sig, signal.signal(sig, lambda *_: stop.set()))
        master, path = cleanup.enter_context(pty_line())
        print(path, flush=True)
        return run_machine(machine, master, stop)


@contextmanager
def serving(kind: str, device_id: int, seed: int) -> Iterator[str]:
    """Serve a standalone ``kind`` on a fresh PTY from a background thread; yields the path."""
    with serving_machine(standalone_now(kind, device_id, seed), kind) as path:
        yield path


@contextmanager
def serving_machine(machine: Machine, name: str) -> Iterator[str]:
    """Serve ``machine`` (built at the monotonic now, as ``standalone_now`` builds one, and
    not touched again while served) on a fresh PTY from a background thread; yields the path."""
    stop = threading.Event()
    with pty_line() as (master, path):
        thread = threading.Thread(target=run_machine, args=(machine, master, stop), name=f"tagsim-{name}", daemon=True)
        thread.start()
        try:
            yield path
        finally:
            stop.set()
            thread.join(timeout=10 * STOP_POLL_S)


def _read(fd: int) -> bytes:
    try:
        return os.read(fd, READ_CHUNK)
    except BlockingIOError:
        return b""


def _write(fd: int, data: bytes, stats: LineStats) -> None:
    if not data:
        return
    try:
        written = os.write(fd, data)
    except BlockingIOError:
        written = 0
    stats.bytes_out += written
    stats.bytes_dropped += len(data) - written
