"""The proxy's ends by address (``sim.proxy.endpoints``): a TCP server's end carries bytes and
fails as a port unplugged when the server goes."""

from __future__ import annotations

import socket
import threading
import time

import pytest

from sim.links.base import LinkError
from sim.proxy.endpoints import open_endpoint


def test_a_tcp_end_carries_bytes_both_ways_and_a_closed_peer_is_a_link_error() -> None:
    with socket.create_server(("127.0.0.1", 0)) as server:
        port = server.getsockname()[1]
        heard: list[bytes] = []

        def serve() -> None:
            peer, _ = server.accept()
            with peer:
                peer.sendall(b"\x00frame\x00")
                heard.append(peer.recv(64))

        thread = threading.Thread(target=serve)
        thread.start()
        with open_endpoint(f"tcp:127.0.0.1:{port}", 115200) as end:
            got = b""
            deadline = time.monotonic() + 10
            while got != b"\x00frame\x00" and time.monotonic() < deadline:
                got += end.read(0.05)
            assert got == b"\x00frame\x00"
            end.write(b"\x00ack\x00")
            thread.join(timeout=10)
            assert heard == [b"\x00ack\x00"]
            with pytest.raises(LinkError, match="socket disconnected"):
                while time.monotonic() < deadline:
                    end.read(0.05)


def test_a_tcp_address_nobody_answers_is_a_link_error_naming_it() -> None:
    with socket.create_server(("127.0.0.1", 0)) as server:
        port = server.getsockname()[1]  # closed on leaving: nothing listens there now
    with pytest.raises(LinkError, match=rf"cannot open socket://127.0.0.1:{port}: connection refused"):
        open_endpoint(f"tcp:127.0.0.1:{port}", 115200)
