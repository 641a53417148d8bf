"""SerialLink over every kind of port pyserial opens: loop://, socket://, a PTY; and its errors."""

from __future__ import annotations

import os
import socket
import threading
import time
import tty

import pytest

from sim.links import LinkError, SerialLink

TIMEOUT_S = 5.0


def read_exactly(link: SerialLink, size: int, timeout: float = TIMEOUT_S) -> bytes:
    """Everything up to ``size`` bytes, however it is chunked; fails rather than hangs."""
    got = b""
    deadline = time.monotonic() + timeout
    while len(got) < size and time.monotonic() < deadline:
        got += link.read(0.1)
    return got


def test_loop_reads_back_what_was_written():
    with SerialLink("loop://") as link:
        link.write(b"\x00frame\x00with\x00zeros\x00")
        assert read_exactly(link, 18) == b"\x00frame\x00with\x00zeros\x00"


def test_read_waits_the_timeout_and_returns_empty_when_nothing_arrives():
    with SerialLink("loop://") as link:
        start = time.monotonic()
        assert link.read(0.1) == b""
        assert 0.09 <= time.monotonic() - start < 1.0


def test_read_returns_early_once_data_has_arrived():
    with SerialLink("loop://") as link:
        link.write(b"abc")
        start = time.monotonic()
        assert link.read(2.0) == b"abc"
        assert time.monotonic() - start < 1.0


def test_socket_url_talks_to_a_tcp_server_and_reports_its_hangup():
    server = socket.create_server(("127.0.0.1", 0))
    server.settimeout(TIMEOUT_S)
    port = server.getsockname()[1]

    def answer_once_and_hang_up() -> None:
        conn, _ = server.accept()
        with conn:
            conn.settimeout(TIMEOUT_S)
            data = conn.recv(1024)
            conn.sendall(data.upper())

    peer = threading.Thread(target=answer_once_and_hang_up, daemon=True)
    peer.start()
    try:
        with SerialLink(f"socket://127.0.0.1:{port}") as link:
            link.write(b"beacon")
            # The answer is not lost to the hangup right behind it...
            assert read_exactly(link, 6) == b"BEACON"
            peer.join(TIMEOUT_S)
            # ...and the hangup is then a one-line error naming the link.
            with pytest.raises(LinkError, match=rf"^cannot read socket://127\.0\.0\.1:{port}: .*disconnected$"):
                read_exactly(link, 1)
    finally:
        peer.join(TIMEOUT_S)
        server.close()
    assert not peer.is_alive()


@pytest.mark.pty
def test_pty_carries_bytes_both_ways():
    master, slave = os.openpty()
    tty.setraw(slave)
    try:
        with SerialLink(os.ttyname(slave)) as link:
            os.write(master, b"\x00from-device\x00")
            assert read_exactly(link, 13) == b"\x00from-device\x00"
            link.write(b"\x00to-device\x00")
            assert os.read(master, 64) == b"\x00to-device\x00"
    finally:
        os.close(slave)
        os.close(master)


def test_missing_path_names_the_path_and_the_problem():
    with pytest.raises(LinkError) as info:
        SerialLink("/dev/does-not-exist")
    assert str(info.value) == "cannot open /dev/does-not-exist: no such file or directory"


def test_refused_socket_names_the_url():
    with socket.create_server(("127.0.0.1", 0)) as probe:
        port = probe.getsockname()[1]
    with pytest.raises(LinkError, match=rf"^cannot open socket://127\.0\.0\.1:{port}: connection refused$"):
        SerialLink(f"socket://127.0.0.1:{port}")


def test_unknown_url_scheme_is_a_link_error():
    with pytest.raises(LinkError, match=r"^cannot open nope://x: .*'nope'"):
        SerialLink("nope://x")


def test_reading_a_closed_link_is_a_link_error_naming_it():
    link = SerialLink("loop://")
    link.close()
    with pytest.raises(LinkError, match=r"^cannot read loop://: "):
        link.read(0.01)


@pytest.mark.pty
def test_pty_hangup_is_a_one_line_link_error():
    master, slave = os.openpty()
    tty.setraw(slave)
    path = os.ttyname(slave)
    os.close(slave)
    with SerialLink(path) as link:
        os.close(master)
        with pytest.raises(LinkError) as info:
            link.read(1.0)
    assert str(info.value) == f"cannot read {path}: input/output error"
