"""Running `imr-ml serve`: the port bound here (a failure is one line, `ListenError`), then
uvicorn over that socket with the connection guard of `imr_ml.web.protocol`, in this
process or in `--workers` processes that die with this one.

Binding the socket here rather than in uvicorn gives one message for a port in use whatever
the number of workers (uvicorn logs the OSError and exits 3) and the real port for `--port 0`.
"""

from __future__ import annotations

import copy
import errno
import gc
import inspect
import json
import logging
import os
import resource
import secrets
import socket
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import uvicorn
from fastapi import FastAPI
from uvicorn.config import LOGGING_CONFIG

from imr_ml.modeling.modelfiles.modelio import LoadedModel, load_model_dir
from imr_ml.pool import die_with_parent
from imr_ml.web.app import MAX_BATCH, create_app
from imr_ml.web.protocol import FD_RESERVE, HEADER_TIMEOUT, MAX_CONNECTIONS, GuardedH11Protocol, ServeConfig
from imr_ml.web.work import REQUEST_TIMEOUT

BACKLOG = 1024  # connections the kernel completes before they are accepted (it holds no descriptor)
KEEP_ALIVE = 5  # seconds an idle keep-alive connection stays open (uvicorn's default)
MAX_HEADER_BYTES = 16 * 1024  # request line and headers (h11's default, stated)
log = logging.getLogger("imr_ml.web")


class ListenError(Exception):
    """The port cannot be bound; the message is the command's one line."""


@dataclass
class AppSettings:
    """What each worker's app is built with (JSON in the environment for `--workers`)."""

    max_batch: int = MAX_BATCH
    log_inputs: bool = False
    allowed_hosts: list[str] = field(default_factory=list)
    request_timeout: float = REQUEST_TIMEOUT
    form_secret: str = field(default_factory=lambda: secrets.token_urlsafe(32))
    token_file: str | None = None


def listen(host: str, port: int) -> socket.socket:
    """A TCP socket bound to host:port (SO_REUSEADDR, as uvicorn binds); raises `ListenError`
    `cannot listen on HOST:PORT (reason)`."""
    name = host.strip("[]")
    shown = f"[{name}]" if ":" in name else name
    sock = socket.socket(socket.AF_INET6 if ":" in name else socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((name, port))
    except OSError as exc:
        sock.close()
        reason = {errno.EADDRINUSE: "address in use", errno.EADDRNOTAVAIL: "not an address of this machine",
                  errno.EACCES: "permission denied"}.get(exc.errno or 0)
        if isinstance(exc, socket.gaierror):
            reason = "unknown host name"
        raise ListenError(f"cannot listen on {shown}:{port} ({reason or (exc.strerror or str(exc)).lower()})") from None
    sock.set_inheritable(True)
    return sock


def connection_cap(wanted: int) -> int:
    """`wanted` connections per process, the descriptor limit raised to fit if the hard limit
    allows, else as many as it leaves room for (with a warning)."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    needed = wanted + FD_RESERVE
    if soft != resource.RLIM_INFINITY and soft < needed:
        target = needed if hard == resource.RLIM_INFINITY else min(needed, hard)
        resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
        soft = target
        if soft < needed:
            log.warning("--max-connections %d: the open-file limit (%d) leaves room for %d", wanted, soft,
                        soft - FD_RESERVE)
    return max(1, min(wanted, soft - FD_RESERVE)) if soft != resource.RLIM_INFINITY else wanted


def log_config() -> dict:
    """uvicorn's logging, plus imr-ml's loggers (the access lines are ours: without query
    strings) and python-multipart's kept to errors (its warnings quote bytes of the body)."""
    config = copy.deepcopy(LOGGING_CONFIG)
    config["loggers"] |= {"imr_ml": {"handlers": ["default"], "level": "INFO", "propagate": False},
                          "python_multipart": {"level": "ERROR"}, "multipart": {"level": "ERROR"}}
    return config


def serve(loaded: LoadedModel, model_dir: str, sock: socket.socket, *, workers: int, settings: AppSettings,
          token: str | None, header_timeout: float = HEADER_TIMEOUT, max_connections: int = MAX_CONNECTIONS) -> None:
    """Serve on `sock` until stopped: one process with `loaded`, or `workers` processes that
    each load `model_dir` and die with this one."""
    options: dict[str, Any] = dict(
        http=GuardedH11Protocol, log_config=log_config(), log_level="info", access_log=False,
        timeout_keep_alive=KEEP_ALIVE, h11_max_incomplete_event_size=MAX_HEADER_BYTES, backlog=BACKLOG,
        header_timeout=header_timeout, max_connections=connection_cap(max_connections))
    host, port = sock.getsockname()[:2]
    where = f"http://{f'[{host}]' if ':' in host else host}:{port}"
    if workers == 1:
        config = ServeConfig(_app(loaded, settings, token), **options)
        log.info("imr-ml serving on %s (Ctrl+C to stop)", where)
        uvicorn.Server(config).run(sockets=[sock])
        return
    os.environ.update(IMR_ML_SERVE_MODEL=model_dir, IMR_ML_SERVE_PARENT=str(os.getpid()),
                      IMR_ML_SERVE_SETTINGS=json.dumps(asdict(settings)))
    config = ServeConfig("imr_ml.web.server:worker_app", factory=True, workers=workers, **options)
    log.info("imr-ml serving on %s with %d workers (Ctrl+C to stop)", where, workers)
    _supervise(config, sock)


def worker_app() -> FastAPI:
    """The app of one `--workers` process, built (and the model loaded) from the settings
    `serve` put in the environment, after tying the process's life to the parent's: killed
    with it, even by SIGKILL, no orphan keeps the port serving an old model and token."""
    parent = os.environ.get("IMR_ML_SERVE_PARENT")
    if parent:
        die_with_parent(int(parent))
    settings = AppSettings(**json.loads(os.environ.get("IMR_ML_SERVE_SETTINGS") or "{}"))
    token = Path(settings.token_file).read_text().strip() if settings.token_file else None
    return _app(load_model_dir(os.environ.get("IMR_ML_SERVE_MODEL", "builtin")), settings, token)


def _app(loaded: LoadedModel, settings: AppSettings, token: str | None) -> FastAPI:
    """The app, and the garbage collector told to leave the loaded model alone: a full
    collection otherwise walks its ~250,000 objects, holding the GIL (and every request) for
    0.1-0.25 s. A server process, not the library, decides this (the CLI does it for batches)."""
    app = create_app(loaded, token=token, max_batch=settings.max_batch, log_inputs=settings.log_inputs,
                     allowed_hosts=settings.allowed_hosts, request_timeout=settings.request_timeout,
                     form_secret=settings.form_secret)
    gc.collect()
    gc.freeze()
    return app


def _supervise(config: ServeConfig, sock: socket.socket) -> None:
    """uvicorn's multiprocess supervisor over our socket (its constructor took the worker's
    target before uvicorn 0.4x and builds it itself since)."""
    from uvicorn.supervisors import Multiprocess

    extra = {"target": uvicorn.Server(config).run} if "target" in inspect.signature(Multiprocess).parameters else {}
    Multiprocess(config, sockets=[sock], **extra).run()
