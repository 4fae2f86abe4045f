"""Plain ASGI middleware, outermost first: the request log (a request id, one access line
without the query string, any unexpected error answered 500 and logged as its type only),
security headers, the Host allow-list, the optional bearer token, and the request budget
(body size and time). Pure ASGI (not BaseHTTPMiddleware) so that even the 400, 401, 408 and
413 answers, sent before the app runs, carry the security headers and the request id."""

from __future__ import annotations

import hmac
import json
import logging
import secrets
import time

import anyio

SECURITY_HEADERS = [
    # Only same-origin scripts, styles and images: no inline script, no inline style.
    (b"content-security-policy",
     b"default-src 'self'; img-src 'self' data:; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"),
    (b"x-content-type-options", b"nosniff"),
    (b"x-frame-options", b"DENY"),
    (b"referrer-policy", b"no-referrer"),
]

OPEN_PATHS = ("/v1/health",)  # answered without the token or a known Host (load balancers, monitors)
LOOPBACK_HOSTS = ("127.0.0.1", "localhost", "::1")
log = logging.getLogger("imr_ml.web")
access = logging.getLogger("imr_ml.web.access")


async def send_json(send, status: int, message: str, extra_headers=()) -> None:
    body = json.dumps({"error": message}).encode()
    await send({"type": "http.response.start", "status": status,
                "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode()),
                            *extra_headers]})
    await send({"type": "http.response.body", "body": body})


def printable(text: str, limit: int = 200) -> str:
    """`text` safe for one log line: at most `limit` characters, control characters, quotes
    and non-ASCII escaped (a path cannot forge a second line)."""
    return json.dumps(text[:limit])[1:-1]


class RequestLog:
    """Gives each request an id (the `x-request-id` header, `state["request_id"]`), logs one
    access line (client, method, path without the query string, status, time, id) and answers
    any exception that escapes the app with a 500 that names its type and the id; the log
    gets the same, never the message or a traceback (they may quote what the user sent)."""

    def __init__(self, app):
        self.app = app

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        rid = secrets.token_hex(4)
        scope.setdefault("state", {})["request_id"] = rid
        status = 0
        start = time.perf_counter()

        async def with_id(message):
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                message = dict(message)
                message["headers"] = [*message.get("headers", []), (b"x-request-id", rid.encode())]
            await send(message)

        try:
            await self.app(scope, receive, with_id)
        except Exception as exc:
            log.error("request %s failed: %s", rid, type(exc).__name__)
            if not status:
                await send_json(with_id, 500, f"internal error ({type(exc).__name__}; request id {rid})",
                                SECURITY_HEADERS)
        finally:
            client = scope.get("client") or ("-", 0)
            access.info('%s:%s - "%s %s" %s %.0f ms [%s]', client[0], client[1], scope.get("method", "-"),
                        printable(scope.get("path", "")), status or "-", 1000 * (time.perf_counter() - start), rid)


class SecurityHeaders:
    def __init__(self, app):
        self.app = app

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)

        async def with_headers(message):
            if message["type"] == "http.response.start":
                message = dict(message)
                message["headers"] = [*message.get("headers", []), *SECURITY_HEADERS]
            await send(message)

        await self.app(scope, receive, with_headers)


def host_name(value: str) -> str:
    """The name in a Host header or an --allowed-host value, without port or IPv6 brackets,
    lower-cased: `[::1]:8000` -> `::1`, `Example.org.:80` -> `example.org`."""
    value = value.strip().lower()
    if value.startswith("["):
        return value[1:].split("]", 1)[0]
    if value.count(":") == 1:
        value = value.split(":", 1)[0]
    return value.rstrip(".")


class AllowedHosts:
    """Answer only requests whose Host header names this server (`hosts`; `*` allows any):
    a page on another site whose name was rebound to 127.0.0.1 (DNS rebinding) sends its own
    name as the Host and is refused before it reaches anything, a token-less server included."""

    def __init__(self, app, hosts):
        self.app = app
        self.hosts = {host_name(h) for h in hosts}

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http" or "*" in self.hosts or scope["path"] in OPEN_PATHS:
            return await self.app(scope, receive, send)
        given = dict(scope.get("headers") or []).get(b"host", b"").decode("latin-1")
        if host_name(given) not in self.hosts:
            return await send_json(send, 400, "this server does not answer to that Host name "
                                              "(start it with --allowed-host NAME to allow the name)")
        await self.app(scope, receive, send)


class RequestBudget:
    """Refuse a body over `max_body` bytes (413), announced by Content-Length or streamed, and
    one not received within `timeout` seconds (408); the body is read here (at most
    `max_body` bytes held) and replayed to the app, and `state["deadline"]` tells the work
    of the request when its time is up (`imr_ml.web.work.Worker`)."""

    def __init__(self, app, max_body: int, timeout: float):
        self.app, self.max_body, self.timeout = app, max_body, timeout

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        scope.setdefault("state", {})["deadline"] = time.monotonic() + self.timeout
        too_big = f"request body larger than {self.max_body:,} bytes"
        length = dict(scope.get("headers") or []).get(b"content-length")
        if length is not None and (not length.isdigit() or int(length) > self.max_body):
            return await send_json(send, 413, too_big)
        chunks, size, more = [], 0, True
        with anyio.move_on_after(self.timeout) as timer:
            while more:
                message = await receive()
                if message["type"] != "http.request":
                    return
                chunks.append(message.get("body", b""))
                size += len(chunks[-1])
                if size > self.max_body:
                    return await send_json(send, 413, too_big)
                more = message.get("more_body", False)
        if timer.cancelled_caught:
            return await send_json(send, 408, f"request body not received within {self.timeout:g} s")
        replayed = False

        async def replay():
            nonlocal replayed
            if not replayed:
                replayed = True
                return {"type": "http.request", "body": b"".join(chunks), "more_body": False}
            return await receive()

        await self.app(scope, replay, send)


class BearerToken:
    """Every route but /v1/health needs `Authorization: Bearer <token>` (compared in
    constant time)."""

    def __init__(self, app, token: str):
        self.app = app
        self.expected = f"Bearer {token}".encode()

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http" or scope["path"] in OPEN_PATHS:
            return await self.app(scope, receive, send)
        given = dict(scope.get("headers") or []).get(b"authorization", b"")
        if not hmac.compare_digest(given, self.expected):
            return await send_json(send, 401, "missing or wrong bearer token (Authorization: Bearer ...)",
                                   [(b"www-authenticate", b"Bearer")])
        await self.app(scope, receive, send)
