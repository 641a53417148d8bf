"""Every copy that reached a block's centre, in arrival order, and the hash that says so."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

import numpy as np

from sim.links.network import Delivery


@dataclass(frozen=True)
class Arrivals:
    """Every copy that reached a block's centre, in arrival order (ties by device, then frame)."""

    arrive_at: np.ndarray
    device: np.ndarray
    data: list[bytes]

    @classmethod
    def of(cls, deliveries: list[tuple[int, Delivery]]) -> Arrivals:
        arrive = np.concatenate([d.arrive_at for _, d in deliveries]) if deliveries else np.empty(0)
        device = np.concatenate([np.full(len(d.data), n, dtype=np.int64) for n, d in deliveries]) if deliveries else np.empty(0, np.int64)
        index = np.concatenate([d.frame_index for _, d in deliveries]) if deliveries else np.empty(0, np.int64)
        order = np.lexsort((index, device, arrive))
        data = [copy for _, d in deliveries for copy in d.data]
        return cls(arrive[order], device[order], [data[i] for i in order.tolist()])

    def digests(self) -> dict[int, bytes]:
        """Per device, a hash of its copies' arrival times and bytes in arrival order."""
        by_device = np.argsort(self.device, kind="stable")
        devices = self.device[by_device]
        cuts = np.flatnonzero(np.diff(devices)) + 1
        out = {}
        for part in np.split(by_device, cuts) if len(by_device) else []:
            digest = hashlib.sha256(self.arrive_at[part].tobytes())
            digest.update(b"".join([self.data[i] for i in part.tolist()]))
            out[int(self.device[part[0]])] = digest.digest()
        return out


def wire_digest(digests: dict[int, bytes]) -> str:
    """One hash of each device's arrivals (time and bytes, in arrival order), devices in id
    order: the same however the subjects were split into blocks or processes."""
    whole = hashlib.sha256()
    for device in sorted(digests):
        whole.update(device.to_bytes(4, "little") + digests[device])
    return whole.hexdigest()
