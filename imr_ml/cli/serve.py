"""`imr-ml serve`: the scorer as a local web app and JSON API (FastAPI on uvicorn).

uvicorn and the web app are imported inside the command: `imr-ml --help` must stay instant."""

from __future__ import annotations

from pathlib import Path

import typer

from imr_ml.cli._app import command, fail, load_model

LOOPBACK = ("127.0.0.1", "localhost", "::1", "[::1]")
WILDCARDS = ("0.0.0.0", "::", "[::]")
EXAMPLES = """Examples:

  imr-ml serve models/mine

  imr-ml serve builtin --host 0.0.0.0 --allowed-host imr.example.org --token-file token.txt --workers 4
"""


@command(EXAMPLES)
def serve(
    model_dir: str = typer.Argument("builtin", metavar="MODEL_DIR",
                                    help="Model directory written by `imr-ml train`, or builtin."),
    host: str = typer.Option("127.0.0.1", "--host", metavar="ADDRESS",
                             help="Address to listen on (this machine only by default)."),
    port: int = typer.Option(8000, "--port", min=0, max=65535, metavar="N"),
    workers: int = typer.Option(1, "--workers", min=1, metavar="N",
                                help="Worker processes; each loads the model once and dies with the server."),
    token_file: Path | None = typer.Option(None, "--token-file", metavar="FILE",
                                           help="File holding a bearer token every route but /v1/health requires."),
    allowed_host: list[str] = typer.Option([], "--allowed-host", metavar="NAME",
                                           help="A name clients reach the server by (the Host header), besides "
                                                "127.0.0.1, localhost, [::1] and --host; repeatable; '*' for any."),
    max_batch: int = typer.Option(1000, "--max-batch", min=1, metavar="N",
                                  help="Most requests in one API call or upload."),
    request_timeout: float = typer.Option(30.0, "--request-timeout", min=0.1, metavar="SECONDS",
                                          help="Longest a request may take, body to answer (then 503)."),
    header_timeout: float = typer.Option(10.0, "--header-timeout", min=0.1, metavar="SECONDS",
                                         help="Longest a connection may take to send its request headers."),
    max_connections: int = typer.Option(1000, "--max-connections", min=1, metavar="N",
                                        help="Open connections per worker; idle ones are closed to make room."),
    log_inputs: bool = typer.Option(False, "--log-inputs",
                                    help="Log what users send (off: nothing they type is logged)."),
):
    """Serve a form, a CSV upload page and a JSON API (/v1/score, /v1/explain; /openapi.json)."""
    from imr_ml.web.server import AppSettings, ListenError, listen
    from imr_ml.web.server import serve as run

    loaded = load_model(model_dir)  # an unsafe model directory ends here, one line, exit 2
    token = _read_token(token_file) if token_file else None
    if host not in LOOPBACK and not token:
        typer.echo(f"warning: listening on {host} without --token-file: anyone who can reach it can use it", err=True)
    if host in WILDCARDS and not allowed_host:
        typer.echo(f"warning: listening on {host}, but only requests for 127.0.0.1, localhost or [::1] are "
                   "answered: name the host clients use with --allowed-host", err=True)
    try:
        sock = listen(host, port)
    except ListenError as exc:
        fail(str(exc))
    settings = AppSettings(max_batch=max_batch, log_inputs=log_inputs, request_timeout=request_timeout,
                           allowed_hosts=[*LOOPBACK, host, *allowed_host],
                           token_file=str(token_file.resolve()) if token_file else None)
    run(loaded, model_dir, sock, workers=workers, settings=settings, token=token, header_timeout=header_timeout,
        max_connections=max_connections)


def _read_token(path: Path) -> str:
    """The bearer token in `path`, or the command ended with one line."""
    try:
        token = path.read_text(encoding="utf-8").strip()
    except (OSError, UnicodeDecodeError) as exc:
        fail(f"cannot read --token-file {path}: {getattr(exc, 'strerror', None) or exc}")
    if len(token) < 16 or any(c.isspace() for c in token):
        fail(f"--token-file {path} must hold one token of at least 16 characters without spaces")
    return token
