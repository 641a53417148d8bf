"""A link over anything pyserial can open: ``loop://``, ``socket://host:port``, a PTY, a real port."""

from __future__ import annotations

import os

import serial

from sim.links.base import ClosesOnExit, LinkError

# Most a single read takes once data is flowing; more stays in the OS buffer for the next read.
READ_CHUNK = 4096


class SerialLink(ClosesOnExit):
    def __init__(self, url: str, baudrate: int = 115200) -> None:
        self.name = url
        try:
            self._port = serial.serial_for_url(url, baudrate=baudrate, timeout=0)
        except (OSError, ValueError) as exc:  # SerialException is an OSError; a bad URL a ValueError
            raise LinkError(f"cannot open {url}: {_why(exc)}") from exc

    def write(self, data: bytes) -> None:
        try:
            self._port.write(data)
        except OSError as exc:
            raise LinkError(f"cannot write {self.name}: {_why(exc)}") from exc

    def read(self, timeout: float) -> bytes:
        try:
            if self._port.timeout != timeout:  # on a tty, each change is a tcgetattr
                self._port.timeout = timeout
            data = self._port.read(1)
        except OSError as exc:
            raise LinkError(f"cannot read {self.name}: {_why(exc)}") from exc
        # Then take what has already arrived, without waiting out the timeout again.
        try:
            while data and len(data) < READ_CHUNK and (waiting := self._port.in_waiting):
                data += self._port.read(min(waiting, READ_CHUNK - len(data)))
        except OSError:
            pass  # keep the bytes already read; the next read reports the failure
        return data

    def close(self) -> None:
        self._port.close()


def _why(exc: BaseException) -> str:
    """The OS's own words when an errno is behind it, else pyserial's message.

    pyserial wraps OS errors in long messages that repeat the port name; the
    errno, on the exception or the one it was raised from, says it shortest.
    A ``termios.error`` carries its errno as its first argument.
    """
    for err in (exc, exc.__context__):
        if isinstance(err, OSError) and isinstance(err.errno, int):
            return os.strerror(err.errno).lower()
        if err is not None and len(err.args) == 2 and isinstance(err.args[0], int):
            return os.strerror(err.args[0]).lower()
    return str(exc)
