"""Store-and-forward uplink: sequenced, kept until acknowledged, resent until then.

Every message queued gets the next sequence number and stays in the queue
until a cumulative ack covers it. Messages go out during an upload session:
one opens when the device asks (its upload interval, or a violation that must
go at once) and stays open until the queue is empty. Within a session up to
``window`` frames are in flight; when the oldest has waited a retransmit
timeout with no ack, the whole window is sent again (go-back-N) and the
timeout doubles, up to a cap, so a device retries until it connects without
flooding a dead link.

A full queue overwrites its oldest message. The centre's ack is cumulative, so
it could never pass a message that is gone, and the device would send the same
window for ever: the oldest entry becomes a ``QUEUE_OVERFLOW`` instead, taking
the sequence number of the newest message overwritten and their count, and
the centre's ack passes the gap when it arrives (protocol 1.1).
"""

from __future__ import annotations

import math
from collections import deque
from collections.abc import Callable, Iterator
from dataclasses import dataclass

from firmware_stubs.protocol import Frame, Message, QueueOverflow, decode_frame, encode_frame, seq_diff, seq_next


@dataclass(slots=True)
class _Entry:
    seq: int
    wire: bytes
    sent_at: float | None = None
    overwritten: int = 0  # a QUEUE_OVERFLOW's count of messages overwritten; 0 for a message


class ReliableUplink:
    def __init__(
        self,
        device_id: int,
        capacity: int,
        window: int,
        retransmit_timeout_s: float,
        max_backoff_s: float,
        first_seq: int = 0,
    ) -> None:
        if capacity < 1 or window < 1:
            raise ValueError("capacity and window must be at least 1")
        self.device_id = device_id
        self.capacity = capacity
        self.window = window
        self.retransmit_timeout_s = retransmit_timeout_s
        self.max_backoff_s = max_backoff_s
        self.next_seq = first_seq
        self.dropped = 0  # messages overwritten because the queue was full
        self.retransmissions = 0
        self.on_overwrite: Callable[[int], None] | None = None  # told each overwritten message's seq
        self._queue: deque[_Entry] = deque()
        self._session_open = False
        self._timeout_s = retransmit_timeout_s

    def __len__(self) -> int:
        """Entries queued: up to ``capacity`` messages, and a ``QUEUE_OVERFLOW`` after an overflow."""
        return len(self._queue)

    def set_retransmit_timeout(self, seconds: float) -> None:
        self.retransmit_timeout_s = seconds
        self._timeout_s = seconds

    def queued_messages(self) -> Iterator[Frame]:
        """The messages queued, oldest first (a ``QUEUE_OVERFLOW`` marker is not one)."""
        for entry in self._queue:
            if not entry.overwritten:
                yield decode_frame(entry.wire[1:-1])  # without its delimiters

    def take_seq(self) -> int:
        """Reserve a sequence number for a frame sent outside the queue (a beacon)."""
        seq = self.next_seq
        self.next_seq = seq_next(seq)
        return seq

    def enqueue(self, message: Message, event_time_ms: int) -> int:
        seq = self.take_seq()
        wire = encode_frame(Frame(self.device_id, seq, event_time_ms, message))
        messages = len(self._queue) - (1 if self._queue and self._queue[0].overwritten else 0)
        if messages >= self.capacity:
            self._overwrite_oldest(event_time_ms)
        self._queue.append(_Entry(seq, wire))
        return seq

    def _overwrite_oldest(self, event_time_ms: int) -> None:
        """Overwrite the oldest message, folding it into the ``QUEUE_OVERFLOW`` at the head."""
        head = self._queue.popleft()
        lost = head.overwritten
        if lost:  # an overflow not yet acked: the next message goes into it too
            head = self._queue.popleft()
        lost += 1
        self.dropped += 1
        if self.on_overwrite is not None:
            self.on_overwrite(head.seq)
        marker = Frame(self.device_id, head.seq, event_time_ms, QueueOverflow(lost))
        self._queue.appendleft(_Entry(head.seq, encode_frame(marker), overwritten=lost))

    def open_session(self) -> None:
        """Send what is queued now (upload time, or a violation that cannot wait)."""
        if self._queue:
            self._session_open = True

    def acknowledge(self, seq: int) -> int:
        """Drop every entry up to ``seq``; returns how many were newly acked."""
        acked = 0
        while self._queue and seq_diff(seq, self._queue[0].seq) >= 0:
            self._queue.popleft()
            acked += 1
        if acked:
            self._timeout_s = self.retransmit_timeout_s
        if not self._queue:
            self._session_open = False
        return acked

    def poll(self, now: float) -> list[bytes]:
        """Frames to put on the wire at ``now``."""
        if not self._session_open:
            return []
        window = self._window()
        if window[0].sent_at is not None and now - window[0].sent_at >= self._timeout_s:
            for entry in window:
                if entry.sent_at is not None:
                    entry.sent_at = None
                    self.retransmissions += 1
            self._timeout_s = min(self._timeout_s * 2, self.max_backoff_s)
        out = []
        for entry in window:
            if entry.sent_at is None:
                entry.sent_at = now
                out.append(entry.wire)
        return out

    def next_deadline(self) -> float:
        """When ``poll`` next has something to send; -inf means now."""
        if not self._session_open:
            return math.inf
        window = self._window()
        if any(entry.sent_at is None for entry in window):
            return -math.inf
        return window[0].sent_at + self._timeout_s

    def _window(self) -> list[_Entry]:
        return [self._queue[i] for i in range(min(self.window, len(self._queue)))]
