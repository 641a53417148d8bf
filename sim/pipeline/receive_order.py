"""Records from many blocks in one receive order.

Each block's receiver numbers its own records in the order it took them in
(``order``); where blocks meet, the records are ranked by receive time, then
block, then that number, so the merge is the same however the subjects were
split into blocks or processes.
"""

from __future__ import annotations

import numpy as np

from sim.detector.batch import upload_bounds
from sim.detector.telemetry import BATCH_FIX_DTYPE, RECORD_DTYPE


def in_receive_order(events: list[tuple[np.ndarray, int]], fixes: list[tuple[np.ndarray, int]]) -> tuple[np.ndarray, np.ndarray]:
    """Records from every block (each block's arrays with its number, ``order`` its own receive
    order), numbered in one receive order: receive time, then block, then place in the block's
    order. Each block's rows are written straight to their places: the fixes (most of the
    bytes) are neither concatenated nor sorted."""
    if not events:
        return np.empty(0, RECORD_DTYPE), np.empty(0, BATCH_FIX_DTYPE)
    uploads = [upload_bounds(f)[:-1] for f, _ in fixes]
    receive = np.concatenate([e["receive_time"] for e, _ in events] + [f["receive_time"][u] for (f, _), u in zip(fixes, uploads)])
    block = np.concatenate([np.full(len(e), n) for e, n in events] + [np.full(len(u), n) for (_, n), u in zip(fixes, uploads)])
    place = np.concatenate([e["order"] for e, _ in events] + [f["order"][u] for (f, _), u in zip(fixes, uploads)])
    n_events = sum(len(e) for e, _ in events)
    by_rank = np.lexsort((place, block, receive))  # record (events first, then uploads) at each rank
    is_event = by_rank < n_events

    # Events: each goes to its place among the events in rank order.
    event_dest = np.empty(n_events, dtype=np.int64)
    event_dest[by_rank[is_event]] = np.arange(n_events)
    ev = np.empty(n_events, dtype=RECORD_DTYPE)
    at = 0
    for e, _ in events:
        ev[event_dest[at : at + len(e)]] = e
        at += len(e)
    ev["order"] = np.flatnonzero(is_event)

    # Uploads: each upload's fixes go, in one piece, after those of the uploads ranked before it.
    counts = np.concatenate([np.diff(np.append(u, len(f))) for (f, _), u in zip(fixes, uploads)])
    upload_by_rank = by_rank[~is_event] - n_events
    first_row = np.empty(len(counts), dtype=np.int64)
    first_row[upload_by_rank] = np.concatenate(([0], np.cumsum(counts[upload_by_rank])[:-1])) if len(counts) else []
    fx = np.empty(int(counts.sum()), dtype=BATCH_FIX_DTYPE)
    k = 0
    for (f, _), u in zip(fixes, uploads):
        n = len(u)
        starts = np.repeat(first_row[k : k + n], counts[k : k + n])
        offsets = np.arange(len(f)) - np.repeat(u, counts[k : k + n])
        fx[starts + offsets] = f
        k += n
    fx["order"] = np.repeat(np.flatnonzero(~is_event), counts[upload_by_rank])
    return ev, fx
