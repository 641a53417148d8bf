"""The monitoring centre: where device links end and the detector's input begins.

``receiver.Receiver`` turns the bytes of every device link into the
detector's telemetry records (``docs/telemetry.md``) and acks what arrived,
as ``acks.AckTracker`` allows.
"""

from sim.centre.acks import REBOOT_MARGIN
from sim.centre.receiver import Receiver, ReceiverStats, SetAside

__all__ = ["REBOOT_MARGIN", "Receiver", "ReceiverStats", "SetAside"]
