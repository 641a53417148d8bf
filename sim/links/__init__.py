"""Between devices and the centre: the transports that carry real bytes (one interface,
several ways to carry them), and the simulated mobile network (``sim.links.network``)."""

from sim.links.base import Link, LinkError
from sim.links.recording import RecordingLink, ReplayLink, TxMismatch
from sim.links.serial_link import SerialLink

__all__ = ["Link", "LinkError", "RecordingLink", "ReplayLink", "SerialLink", "TxMismatch"]
