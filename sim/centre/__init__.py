"""The monitoring centre: where device links end and the detector's input begins.

``receiver.Receiver`` turns the bytes of every device link into the
detector's telemetry records (``docs/telemetry.md``) and acks what arrived.
"""

from sim.centre.receiver import REBOOT_MARGIN, Receiver, ReceiverStats, SetAside

__all__ = ["REBOOT_MARGIN", "Receiver", "ReceiverStats", "SetAside"]
