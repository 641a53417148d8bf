"""The proxy tests' child processes (stubs, proxies): a line they print, and stopping them."""

from __future__ import annotations

import select
import subprocess

import pytest

START_TIMEOUT_S = 60.0  # a busy machine's Python start and imports


def first_line(proc: subprocess.Popen) -> str:
    """The next line ``proc`` prints on stdout (a PTY's path); the test fails with its stderr if
    none comes in ``START_TIMEOUT_S``."""
    ready, _, _ = select.select([proc.stdout], [], [], START_TIMEOUT_S)
    if not ready:
        proc.kill()
        pytest.fail(f"no line on stdout in {START_TIMEOUT_S} s: {proc.communicate()[1]!r}")
    return proc.stdout.readline().strip()


def stop_process(proc: subprocess.Popen) -> None:
    """SIGTERM, then SIGKILL if it has not ended within 10 s."""
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.communicate(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.communicate()
