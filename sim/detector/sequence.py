"""The duplicate window: which of a device's recent sequence numbers have been seen.

Sequence numbers are 16 bits and wrap. A device's window is its highest number
seen and a mask of which of the ``SEQ_WINDOW`` numbers at and below it have
come; a number already in it, or so far behind it that (devices resend in
order) it can only be a stale copy, is a duplicate. The streaming engine steps
the window one record at a time; the batch path plans runs of uploads with the
same arithmetic over arrays and has the engine apply a whole run at once.
"""

from __future__ import annotations

import numpy as np

SEQ_WINDOW = 64
SEQ_MODULUS = 1 << 16
_HALF = SEQ_MODULUS // 2
_MASK = (1 << SEQ_WINDOW) - 1


class SequenceWindow:
    __slots__ = ("hi", "mask")

    def __init__(self) -> None:
        self.hi: int | None = None  # the highest sequence number seen, as the wrap orders them
        self.mask = 0  # bit k: ``hi - k`` has been seen

    def admit(self, seq: int) -> bool:
        """Note ``seq``; False if it is a duplicate."""
        hi = self.hi
        if hi is None:
            self.hi, self.mask = seq, 1
            return True
        ahead = (seq - hi + _HALF) % SEQ_MODULUS - _HALF
        if ahead > 0:
            self.mask = (self.mask << ahead | 1) & _MASK
            self.hi = seq
            return True
        if ahead <= -SEQ_WINDOW or self.mask >> -ahead & 1:
            return False
        self.mask |= 1 << -ahead
        return True

    def restart(self) -> None:
        """The device rebooted: its numbering starts afresh."""
        self.hi, self.mask = None, 0

    def admit_run(self, span: int, bits: int, last: int) -> None:
        """Note at once a run of numbers stepping ahead from ``hi`` to ``last`` (``span`` steps,
        ``bits`` the run's numbers as a mask below ``last``), as ``admit`` would one by one."""
        self.mask = ((self.mask << span) | bits) & _MASK
        self.hi = last


def steps_ahead(before: np.ndarray, after: np.ndarray) -> np.ndarray:
    """How far each ``after`` is past its ``before``, in ``[0, SEQ_MODULUS)``."""
    return (after - before) % SEQ_MODULUS


def is_ahead(before: np.ndarray, after: np.ndarray) -> np.ndarray:
    """Whether ``admit`` would take ``after`` as a step ahead of ``before``."""
    step = steps_ahead(before, after)
    return (step >= 1) & (step < _HALF)
