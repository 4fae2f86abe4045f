"""Plain ASGI middleware: security headers on every response, a request-body size limit and
an optional bearer token. Pure ASGI (not BaseHTTPMiddleware) so that even the 401 and 413
answers, sent before the app runs, carry the security headers."""

from __future__ import annotations

import hmac
import json

SECURITY_HEADERS = [
    # Only same-origin scripts, styles and images: no inline script, no inline style.
    (b"content-security-policy",
     b"default-src 'self'; img-src 'self' data:; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"),
    (b"x-content-type-options", b"nosniff"),
    (b"x-frame-options", b"DENY"),
    (b"referrer-policy", b"no-referrer"),
]

OPEN_PATHS = ("/v1/health",)  # answered without the token (for load balancers and monitors)


async def send_json(send, status: int, message: str, extra_headers=()) -> None:
    body = json.dumps({"error": message}).encode()
    await send({"type": "http.response.start", "status": status,
                "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode()),
                            *extra_headers]})
    await send({"type": "http.response.body", "body": body})


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


class BodyLimit:
    """Refuse (413) a body over `max_body` bytes, whether announced by Content-Length or
    streamed; the body is read here (at most `max_body` bytes held) and replayed to the app."""

    def __init__(self, app, max_body: int):
        self.app = app
        self.max_body = max_body

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        too_big = f"request body larger than {self.max_body:,} bytes"
        length = dict(scope.get("headers") or []).get(b"content-length")
        if length is not None and (not length.isdigit() or int(length) > self.max_body):
            return await send_json(send, 413, too_big)
        chunks, size, more = [], 0, True
        while more:
            message = await receive()
            if message["type"] != "http.request":
                return
            chunks.append(message.get("body", b""))
            size += len(chunks[-1])
            if size > self.max_body:
                return await send_json(send, 413, too_big)
            more = message.get("more_body", False)
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
