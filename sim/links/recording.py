"""Record a link's traffic to a file, and play it back so CI can test a session without hardware.

The recording format (``tagsim-link-recording``, version 1) is JSON Lines,
UTF-8, one object a line, each line ended by ``\\n``:

- line 1, the header::

    {"format": "tagsim-link-recording", "version": 1, "link": "/dev/ttyUSB0"}

  ``link`` is the name of the link that was recorded.

- every later line, one chunk of traffic, in the order it happened::

    {"t": 0.012345, "dir": "tx", "hex": "0011ab"}

  ``t`` is seconds since the recorder started (never decreasing), ``dir`` is
  ``"tx"`` for bytes the host wrote and ``"rx"`` for bytes it read, ``hex``
  the bytes in lower-case hex. A chunk is whatever one ``write`` call sent or
  one ``read`` call returned; empty reads are not recorded.

The recorder flushes each line as it is written, so a session cut short
leaves every line before the cut intact. A replay uses each good line up to
the first bad one and raises a ``LinkError`` naming the file and that line
when the host reads past them (its line and the byte it starts at).

On replay, an rx chunk recorded after the host had written N bytes is
released only once the host has written N bytes again: a device's answer
never arrives before the command that caused it.
"""

from __future__ import annotations

import json
import threading
import time
from collections import deque
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sim.links.base import ClosesOnExit, Link, LinkError

FORMAT = "tagsim-link-recording"
VERSION = 1


class RecordingLink(ClosesOnExit):
    """Passes traffic through to ``inner`` and writes every chunk of it to ``path``."""

    def __init__(self, inner: Link, path: str | Path) -> None:
        self.inner = inner
        self.name = inner.name
        self.path = Path(path)
        try:
            self._file = self.path.open("w", encoding="utf-8")
        except OSError as exc:
            raise LinkError(f"cannot record {inner.name} to {path}: {exc.strerror.lower()}") from exc
        # Reads and writes may come from different threads; each line must stay whole.
        self._lock = threading.Lock()
        self._start = time.monotonic()
        self._put({"format": FORMAT, "version": VERSION, "link": inner.name})

    def write(self, data: bytes) -> None:
        self.inner.write(data)
        if data:
            self._record("tx", data)

    def read(self, timeout: float) -> bytes:
        data = self.inner.read(timeout)
        if data:
            self._record("rx", data)
        return data

    def close(self) -> None:
        try:
            self.inner.close()
        finally:
            with self._lock:
                self._file.close()


    def _record(self, direction: str, data: bytes) -> None:
        self._put({"t": round(time.monotonic() - self._start, 6), "dir": direction, "hex": data.hex()})

    def _put(self, record: dict[str, Any]) -> None:
        with self._lock:
            try:
                self._file.write(json.dumps(record) + "\n")
                self._file.flush()
            except (OSError, ValueError) as exc:  # ValueError: written after close
                raise LinkError(f"cannot record {self.name} to {self.path}: {exc}") from exc


@dataclass(frozen=True)
class TxMismatch:
    """The host wrote ``actual`` where the recording has ``expected``; they first differ at ``offset``
    (counted in bytes from the start of everything the host wrote)."""

    offset: int
    expected: bytes
    actual: bytes


@dataclass(frozen=True)
class _Rx:
    t: float
    tx_before: int  # bytes the host had written when this chunk arrived
    data: bytes


class ReplayLink(ClosesOnExit):
    """Plays a recording back as if it were the device.

    ``read`` returns the recorded rx chunks in order (with ``realtime``, none
    before its recorded time); ``write`` checks what the host sends against
    the recorded tx bytes and keeps each difference in ``mismatches``, or
    raises ``LinkError`` at the first one if ``strict``. If the file is
    broken part way, ``error`` holds the ``LinkError`` that reading past the
    good lines raises.
    """

    def __init__(self, path: str | Path, realtime: bool = False, strict: bool = False) -> None:
        self.name = str(path)
        self.realtime = realtime
        self.strict = strict
        self.mismatches: list[TxMismatch] = []
        self.error: LinkError | None = None
        self._rx: deque[_Rx] = deque()
        self._tx = bytearray()
        self._tx_pos = 0
        self.recorded_link = self._load(Path(path))
        self._start = time.monotonic()

    def write(self, data: bytes) -> None:
        start = self._tx_pos
        expected = bytes(self._tx[start : start + len(data)])
        self._tx_pos += len(data)
        if data == expected:
            return
        if len(expected) < len(data) and self.error is not None:
            raise self.error.with_traceback(None)  # the recording may only look short because it was cut
        differs_at = next(
            (i for i, (a, b) in enumerate(zip(data, expected)) if a != b), min(len(data), len(expected))
        )
        mismatch = TxMismatch(start + differs_at, expected, data)
        self.mismatches.append(mismatch)
        if self.strict:
            raise LinkError(
                f"replay of {self.name}: host sent {data.hex()} at tx offset {mismatch.offset},"
                f" recording has {expected.hex() or 'nothing more'}"
            )

    def read(self, timeout: float) -> bytes:
        deadline = time.monotonic() + timeout
        if self._rx and self._rx[0].tx_before <= self._tx_pos:
            chunk = self._rx[0]
            if self.realtime:
                due = self._start + chunk.t
                if due > deadline:
                    _sleep_until(deadline)
                    return b""
                _sleep_until(due)
            self._rx.popleft()
            return chunk.data
        if not self._rx and self.error is not None:
            raise self.error.with_traceback(None)
        # A quiet line: the caller waits its timeout, as on a real port.
        _sleep_until(deadline)
        return b""

    def close(self) -> None:
        """Nothing to release: the file was read whole when the replay was made."""


    def _load(self, path: Path) -> str:
        """Read every good line; returns the recorded link's name. A bad header raises,
        a later bad line sets ``error`` and ends the recording there."""
        try:
            with path.open(encoding="utf-8") as fh:
                lines = fh.read().splitlines()
        except OSError as exc:
            raise LinkError(f"cannot open {path}: {exc.strerror.lower()}") from exc
        except UnicodeDecodeError as exc:
            raise LinkError(f"{path}: not a tagsim link recording (not UTF-8 text)") from exc
        if not lines:
            raise LinkError(f"{path} line 1: empty file, expected the {FORMAT} header")
        try:
            header = _parse_line(lines[0])
        except ValueError as exc:
            raise LinkError(f"{path} line 1: {exc}") from None
        if not (isinstance(header, dict) and header.get("format") == FORMAT and isinstance(header.get("link"), str)):
            raise LinkError(f"{path} line 1: not a {FORMAT} header")
        if header.get("version") != VERSION:
            raise LinkError(f"{path} line 1: recording version {header.get('version')!r}, this reads {VERSION}")
        last_t = 0.0
        offset = len(lines[0].encode()) + 1  # where each line starts in the file (lines end in \n)
        for number, line in enumerate(lines[1:], start=2):
            try:
                t, direction, data = _parse_record(_parse_line(line), last_t)
            except ValueError as exc:
                self.error = LinkError(f"{path} line {number} (byte {offset}): {exc}")
                break
            offset += len(line.encode()) + 1
            last_t = t
            if direction == "tx":
                self._tx += data
            else:
                self._rx.append(_Rx(t, len(self._tx), data))
        return header["link"]


def _parse_line(line: str) -> Any:
    try:
        return json.loads(line)
    except json.JSONDecodeError:
        raise ValueError("not a whole JSON record (file cut short?)") from None


def _parse_record(record: Any, last_t: float) -> tuple[float, str, bytes]:
    if not isinstance(record, dict):
        raise ValueError("expected a JSON object")
    t, direction, hex_data = record.get("t"), record.get("dir"), record.get("hex")
    if isinstance(t, bool) or not isinstance(t, (int, float)) or t < last_t:
        raise ValueError(f"time {t!r} is not a number of seconds at or after {last_t}")
    if direction not in ("rx", "tx"):
        raise ValueError(f"dir {direction!r} is neither 'rx' nor 'tx'")
    if not isinstance(hex_data, str):
        raise ValueError(f"hex {hex_data!r} is not a string")
    try:
        data = bytes.fromhex(hex_data)
    except ValueError:
        raise ValueError(f"hex {hex_data[:40]!r} is not hex bytes") from None
    return float(t), direction, data


def _sleep_until(when: float) -> None:
    delay = when - time.monotonic()
    if delay > 0:
        time.sleep(delay)
