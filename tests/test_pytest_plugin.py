"""The ``tagsim_device`` fixture, as a user's own test suite sees it."""

from __future__ import annotations

import pytest

from sim.realtime import serving

pytestmark = pytest.mark.pty

USER_TESTS = '''
import pytest
from firmware_stubs.protocol import BaseEventCode, Config, ConfigParam, MessageType

@pytest.mark.tagsim_kind("base-unit")
def test_status_checks_arrive(tagsim_device):
    tagsim_device.auto_ack = True
    tagsim_device.send(Config({ConfigParam.STATUS_INTERVAL_MS: 300}))
    got = tagsim_device.expect(
        lambda f: f.type is MessageType.BASE_UNIT_EVENT and f.message.code is BaseEventCode.STATUS_CHECK,
        5, "a status check")
    assert got.frame.device_id == 1

def test_default_kind_is_an_rf_tag(tagsim_device):
    tagsim_device.send(Config({ConfigParam.BEACON_INTERVAL_MS: 200}))
    tagsim_device.expect(lambda f: f.type is MessageType.RF_BEACON, 5, "a beacon")

def test_impossible_expectation(tagsim_device):
    tagsim_device.send(Config({ConfigParam.BEACON_INTERVAL_MS: 100}))
    tagsim_device.expect(lambda f: f.type is MessageType.GPS_FIX_BATCH, 1, "a GPS batch from an RF tag")
'''


def test_fixture_serves_the_marked_kind_and_failures_carry_evidence(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_user=USER_TESTS)
    result = pytester.runpytest_subprocess()
    result.assert_outcomes(passed=2, failed=1)
    result.stdout.fnmatch_lines([
        "*expected a GPS batch from an RF tag within 1 s*",
        "*RF_BEACON 00*",
        "*log: */tagsim-session.log*",
    ])


def test_port_option_connects_to_the_device_there(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_port='''
from firmware_stubs.protocol import Config, ConfigParam, MessageType

def test_it_is_the_outside_device(tagsim_device):
    tagsim_device.send(Config({ConfigParam.READING_INTERVAL_MS: 200, ConfigParam.UPLOAD_INTERVAL_MS: 200}))
    got = tagsim_device.expect(lambda f: f.type is MessageType.ALCOHOL_READING, 5, "a reading")
    assert got.frame.device_id == 77
''')
    with serving("alcohol-tag", device_id=77, seed=3) as path:
        result = pytester.runpytest_subprocess(f"--tagsim-port={path}")
    result.assert_outcomes(passed=1)
