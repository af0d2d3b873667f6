"""Running uvicorn for `flowdesk serve`, with one or several worker processes."""

from __future__ import annotations

import socket

import uvicorn
from uvicorn.supervisors import Multiprocess


class _TcpConfig(uvicorn.Config):
    """uvicorn's own socket for several workers is created without IPPROTO_TCP, so
    asyncio never sets TCP_NODELAY on its connections and every keep-alive response
    waits ~40 ms for a delayed ACK (measured: 45 ms per request with 2 workers).
    Re-open the bound socket with the protocol named."""

    def bind_socket(self) -> socket.socket:
        sock = super().bind_socket()
        if sock.family in (socket.AF_INET, socket.AF_INET6):
            tcp = socket.socket(sock.family, sock.type, socket.IPPROTO_TCP, fileno=sock.detach())
            tcp.set_inheritable(True)
            return tcp
        return sock


def run_server(*, host: str, port: int, workers: int) -> None:
    """Serve the API on host:port with `workers` processes."""
    config = _TcpConfig(
        "api.app:create_app", factory=True, host=host, port=port, workers=workers, log_level="info"
    )
    server = uvicorn.Server(config)
    if workers > 1:
        Multiprocess(config, sockets=[config.bind_socket()]).run()
    else:
        server.run()
