"""The two ends a proxy joins, by address: a port or path, a TCP server, or a fresh PTY.

Addresses (``tagsim proxy --help`` says the same):

- ``tcp:HOST:PORT``: connect to a TCP server (pyserial's ``socket://HOST:PORT``);
- ``pty``: open a fresh PTY here and serve it; its path (``PtyLink.path``) is
  for the other program to open, as ``tagsim stub`` prints its own;
- anything else: a serial port or PTY path, or a pyserial URL, opened by
  ``sim.links.SerialLink``.

Each is a ``sim.links.base.Link``; a failure to open raises ``LinkError``
naming the address.
"""

from __future__ import annotations

import os
import select
from contextlib import ExitStack

from sim.links import SerialLink
from sim.links.base import ClosesOnExit, Link, LinkError
from sim.realtime import READ_CHUNK, pty_line

PTY = "pty"
TCP_PREFIX = "tcp:"


def open_endpoint(address: str, baud: int) -> Link:
    if address == PTY:
        return PtyLink()
    if address.startswith(TCP_PREFIX):
        # pyserial's socket:// is a TCP client: a peer that closes is a failed read, as a port unplugged.
        host, sep, port = address.removeprefix(TCP_PREFIX).rpartition(":")
        if not sep or not host or not port.isdigit() or not 0 < int(port) < 65536:
            raise LinkError(f"cannot open {address}: expected tcp:HOST:PORT")
        return SerialLink(f"socket://{host}:{port}")
    return SerialLink(address, baud)


class PtyLink(ClosesOnExit):
    """A fresh PTY served here: the proxy holds the master, another program opens ``path``.
    As on a serial line, bytes the other end does not read in time are dropped, not waited for."""

    def __init__(self) -> None:
        self._cleanup = ExitStack()
        self._fd, self.path = self._cleanup.enter_context(pty_line())
        self.name = self.path

    def write(self, data: bytes) -> None:
        try:
            os.write(self._fd, data)
        except BlockingIOError:
            pass  # nobody reading and the buffer full: the line drops it

    def read(self, timeout: float) -> bytes:
        readable, _, _ = select.select([self._fd], [], [], timeout)
        if not readable:
            return b""
        try:
            return os.read(self._fd, READ_CHUNK)
        except BlockingIOError:
            return b""

    def close(self) -> None:
        self._cleanup.close()
