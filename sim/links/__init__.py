"""Transports between devices and the centre: one interface, several ways to carry bytes."""

from sim.links.base import Link, LinkError
from sim.links.recording import RecordingLink, ReplayLink, TxMismatch
from sim.links.serial_link import SerialLink

__all__ = ["Link", "LinkError", "RecordingLink", "ReplayLink", "SerialLink", "TxMismatch"]
