"""uvicorn's HTTP protocol with Nagle's algorithm off on every connection.

With `--workers` above 1, uvicorn binds the listening socket itself (protocol number 0), and
asyncio then leaves TCP_NODELAY unset on the connections it accepts: a response written in
two pieces waits for the client's delayed ACK, about 40 ms per request (measured:
experiments/bench_serve.md). Setting it on each connection costs nothing.
"""

from __future__ import annotations

import socket

from uvicorn.protocols.http.h11_impl import H11Protocol


class NoDelayH11Protocol(H11Protocol):
    def connection_made(self, transport) -> None:
        sock = transport.get_extra_info("socket")
        if sock is not None and sock.family in (socket.AF_INET, socket.AF_INET6):
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        super().connection_made(transport)
