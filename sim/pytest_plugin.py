"""pytest plugin: a connected tagsim device for your own device tests.

Installed with tagsim (entry point ``pytest11``), it gives every test suite a
``tagsim_device`` fixture: a ``sim.device_session.DeviceSession`` on a live
link, in the manner of pytest-embedded's ``dut``::

    import pytest
    from firmware_stubs.protocol import Config, ConfigParam, MessageType

    @pytest.mark.tagsim_kind("base-unit")
    def test_status_checks(tagsim_device):
        tagsim_device.auto_ack = True
        tagsim_device.send(Config({ConfigParam.STATUS_INTERVAL_MS: 500}))
        tagsim_device.expect(lambda f: f.type is MessageType.BASE_UNIT_EVENT, 5, "a base-unit event")

By default the fixture serves the stub named by the ``tagsim_kind`` marker
(else ``--tagsim-kind``) on a fresh PTY and connects to it through pyserial.
With ``--tagsim-port PORT`` it connects to the device at PORT instead (a real
serial port, a PTY, ``socket://host:port``). Every byte is logged to the
test's temporary folder; a failed ``expect`` names that log.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import ExitStack
from pathlib import Path

import pytest

from firmware_stubs.kinds import KINDS
from sim.device_session import DeviceSession
from sim.links import SerialLink
from sim.realtime import serving


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("tagsim", "tagsim device under test")
    group.addoption("--tagsim-port", metavar="PORT", help="test the device at PORT instead of a stub")
    group.addoption("--tagsim-kind", choices=KINDS, default="rf-tag", help="stub kind to serve (default rf-tag)")
    group.addoption("--tagsim-baud", type=int, default=115200, help="line speed for --tagsim-port (default 115200)")


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "tagsim_kind(kind): the stub kind the tagsim_device fixture serves")


@pytest.fixture
def tagsim_device(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[DeviceSession]:
    """A session with a live device: the stub for this test, or the one at ``--tagsim-port``."""
    config = request.config
    port = config.getoption("--tagsim-port")
    marker = request.node.get_closest_marker("tagsim_kind")
    kind = marker.args[0] if marker else config.getoption("--tagsim-kind")
    with ExitStack() as stack:
        if port is None:
            port = stack.enter_context(serving(kind, device_id=1, seed=0))
        session = stack.enter_context(DeviceSession(SerialLink(port, config.getoption("--tagsim-baud")), tmp_path / "tagsim-session.log"))
        yield session
