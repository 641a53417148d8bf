"""The one interface every transport offers, and the one error it raises."""

from __future__ import annotations

from typing import Protocol


class LinkError(Exception):
    """A link failed; the message names the port and the problem on one line."""


class Link(Protocol):
    """A byte pipe to a device: a serial port, a socket, a PTY, a replayed recording."""

    name: str

    def write(self, data: bytes) -> None: ...

    def read(self, timeout: float) -> bytes:
        """Whatever arrives within ``timeout`` seconds; ``b""`` if nothing does."""
        ...

    def close(self) -> None: ...
