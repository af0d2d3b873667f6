"""The bench's reading of /proc: how many of a server's connections each process holds."""

from __future__ import annotations

import os
import socket
import sys

import pytest

from bench.cpu import connections_by_process


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads Linux's /proc")
def test_the_connections_a_process_tree_holds_on_a_port_are_counted() -> None:
    with socket.create_server(("127.0.0.1", 0)) as server:
        port = server.getsockname()[1]
        clients = [socket.create_connection(("127.0.0.1", port)) for _ in range(3)]
        accepted = [server.accept()[0] for _ in clients]
        try:
            # the accepted ends are this process's (the client ends have other ports)
            assert connections_by_process(os.getpid(), port) == [3]
            accepted[0].close()
            assert connections_by_process(os.getpid(), port) == [2]
            assert connections_by_process(os.getpid(), 1) == []  # another port: none
        finally:
            for s in clients + accepted:
                s.close()
