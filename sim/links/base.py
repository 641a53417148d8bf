"""The one interface every transport offers, and the one error it raises."""

from __future__ import annotations

from types import TracebackType
from typing import Protocol, Self


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


class ClosesOnExit:
    """``with link:`` closes the link on the way out, whatever happened inside."""

    def close(self) -> None:
        raise NotImplementedError

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()
