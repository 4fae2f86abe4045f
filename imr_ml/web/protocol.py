"""uvicorn's HTTP/1.1 protocol (h11) with the connection guard a public port needs.

uvicorn closes an idle keep-alive connection after `timeout_keep_alive`, but has no timeout
for a request's headers (the keep-alive timer is cancelled by the first byte, and a new
connection has none), and its `limit_concurrency` answers 503 only once a request has
arrived: connections that never finish their headers hold a file descriptor each until the
process runs out (asyncio then logs a traceback per failed accept). So each connection here:

- must deliver its request headers within `header_timeout` seconds of opening, or of the
  previous response (then 408 if it sent part of a request, else a silent close);
- counts against `max_connections` (per process): the connection that would exceed it closes
  the oldest one that is only waiting for headers, or, when every connection has a request in
  progress, is answered 503 and closed. Descriptors stay bounded, and a flood of idle
  connections cannot lock out a client that sends its request at once;
- has Nagle's algorithm off. With `--workers` above 1 uvicorn binds the listening socket
  itself and asyncio then leaves TCP_NODELAY unset on accepted connections: a response
  written in two pieces waits for the client's delayed ACK, about 40 ms a request
  (experiments/bench_serve.md).

Refusals and timeouts are logged at most once every `LOG_EVERY` seconds, with a count.
"""

from __future__ import annotations

import asyncio
import json
import logging
import socket
import time
import weakref
from collections import OrderedDict

import uvicorn
from uvicorn.protocols.http.h11_impl import H11Protocol
from uvicorn.server import ServerState

HEADER_TIMEOUT = 10.0
MAX_CONNECTIONS = 1000
FD_RESERVE = 64  # descriptors left for the model files, logs, pipes and the listening socket
LOG_EVERY = 10.0
log = logging.getLogger("imr_ml.web")


class ServeConfig(uvicorn.Config):
    """uvicorn's settings plus the guard's; pickled to every `--workers` process."""

    def __init__(self, app, *, header_timeout: float = HEADER_TIMEOUT, max_connections: int = MAX_CONNECTIONS,
                 **kwargs) -> None:
        super().__init__(app, **kwargs)
        self.header_timeout, self.max_connections = header_timeout, max_connections


class Tally:
    """Counts an event and logs it at most once every `LOG_EVERY` seconds."""

    def __init__(self, what: str) -> None:
        self.what, self.count, self.logged = what, 0, -LOG_EVERY

    def add(self) -> None:
        self.count += 1
        now = time.monotonic()
        if now - self.logged >= LOG_EVERY:
            log.warning("%s: %d since the last report", self.what, self.count)
            self.count, self.logged = 0, now


WAITING: weakref.WeakKeyDictionary[ServerState, OrderedDict[GuardedH11Protocol, None]] = weakref.WeakKeyDictionary()
REFUSED = Tally("connections refused: every connection has a request in progress (--max-connections)")
EVICTED = Tally("idle connections closed to make room for new ones (--max-connections)")
TIMED_OUT = Tally("connections closed: no complete request headers in time (--header-timeout)")


def raw_answer(status: int, reason: str, message: str) -> bytes:
    """A whole HTTP/1.1 response that closes the connection, for the moments h11 cannot
    send one (no request has been read)."""
    body = json.dumps({"error": message}).encode()
    return (f"HTTP/1.1 {status} {reason}\r\ncontent-type: application/json\r\ncontent-length: {len(body)}\r\n"
            "x-content-type-options: nosniff\r\nconnection: close\r\n\r\n").encode() + body


class GuardedH11Protocol(H11Protocol):
    """One HTTP connection, with a header deadline and a share of the connection cap (read
    from a `ServeConfig`; a plain uvicorn Config gets the defaults)."""

    def __init__(self, config, server_state, app_state, _loop=None) -> None:
        super().__init__(config, server_state, app_state, _loop)
        self.header_timeout = getattr(config, "header_timeout", HEADER_TIMEOUT)
        self.max_connections = getattr(config, "max_connections", MAX_CONNECTIONS)
        self.header_timer: asyncio.TimerHandle | None = None
        # this server's connections waiting for headers, oldest first (eviction is O(1))
        self.waiting = WAITING.setdefault(server_state, OrderedDict())
        self.partial = False  # part of a request arrived while waiting for headers

    def connection_made(self, transport) -> None:
        sock = transport.get_extra_info("socket")
        if sock is not None and sock.family in (socket.AF_INET, socket.AF_INET6):
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        super().connection_made(transport)
        if len(self.connections) > self.max_connections and not self.evict_one():
            REFUSED.add()
            transport.write(raw_answer(503, "Service Unavailable", "server busy: too many connections; try again"))
            transport.close()
            return
        self.await_headers()

    def evict_one(self) -> bool:
        """Close the connection that has waited longest for request headers; False when every
        other connection has a request in progress."""
        oldest = next((c for c in self.waiting if c is not self), None)
        if oldest is None:
            return False
        EVICTED.add()
        oldest.stop_waiting()
        oldest.transport.close()
        return True

    def in_progress(self) -> bool:
        return self.cycle is not None and not self.cycle.response_complete

    def await_headers(self) -> None:
        self.partial = False
        self.waiting[self] = None  # the newest last
        self.header_timer = self.loop.call_later(self.header_timeout, self.headers_too_slow)

    def stop_waiting(self) -> None:
        if self.header_timer is not None:
            self.header_timer.cancel()
        self.header_timer = None
        self.waiting.pop(self, None)

    def headers_too_slow(self) -> None:
        self.header_timer = None
        if self.transport.is_closing() or self.in_progress():
            return
        TIMED_OUT.add()
        self.stop_waiting()
        if self.partial:
            self.transport.write(raw_answer(408, "Request Timeout", "request headers not received in time"))
        self.transport.close()

    def data_received(self, data: bytes) -> None:
        self.partial = self.partial or self in self.waiting
        super().data_received(data)

    def handle_events(self) -> None:
        super().handle_events()
        if self in self.waiting and self.in_progress():
            self.stop_waiting()  # a request's headers are in

    def on_response_complete(self) -> None:
        super().on_response_complete()
        if not self.transport.is_closing() and not self.in_progress() and self not in self.waiting:
            self.await_headers()

    def connection_lost(self, exc: Exception | None) -> None:
        self.stop_waiting()
        super().connection_lost(exc)
