"""`imr-ml serve`: the scorer as a local web app and JSON API (FastAPI on uvicorn)."""

from __future__ import annotations

import os
from pathlib import Path

import typer

from imr_ml.cli._app import app, fail

LOOPBACK = ("127.0.0.1", "localhost", "::1")


@app.command()
def serve(
    model_dir: str = typer.Argument("builtin", help="Model directory written by `imr-ml train`, or builtin."),
    host: str = typer.Option("127.0.0.1", "--host", help="Address to listen on (this machine only by default)."),
    port: int = typer.Option(8000, "--port", min=0, max=65535),
    workers: int = typer.Option(1, "--workers", min=1, help="Worker processes; each loads the model once."),
    token_file: Path | None = typer.Option(None, "--token-file",
                                              help="File holding a bearer token every route but /v1/health requires."),
    max_batch: int = typer.Option(1000, "--max-batch", min=1, help="Most requests in one API call or upload."),
    log_inputs: bool = typer.Option(False, "--log-inputs", help="Log what users send (off: nothing they type is logged)."),
):
    """Serve a form, a CSV upload page and a JSON API (/v1/score, /v1/explain; /openapi.json)."""
    import uvicorn

    from imr_ml.cli.score import _load

    loaded = _load(model_dir)  # an unsafe model directory ends here, one line, exit 2
    token = _read_token(token_file) if token_file else None
    if host not in LOOPBACK and not token:
        typer.echo(f"warning: listening on {host} without --token-file: anyone who can reach it can use it", err=True)
    # uvicorn's access log has method, path and status only; bodies are never logged.
    settings = {"host": host, "port": port, "log_level": "info", "access_log": True,
                "http": "imr_ml.web.protocol:NoDelayH11Protocol"}
    if workers == 1:
        from imr_ml.web.app import create_app

        uvicorn.run(create_app(loaded, token=token, max_batch=max_batch, log_inputs=log_inputs), **settings)
        return
    os.environ.update(IMR_ML_SERVE_MODEL=model_dir, IMR_ML_SERVE_MAX_BATCH=str(max_batch),
                      IMR_ML_SERVE_LOG_INPUTS="1" if log_inputs else "0",
                      IMR_ML_SERVE_TOKEN_FILE=str(token_file.resolve()) if token_file else "")
    uvicorn.run("imr_ml.web.app:app_from_env", factory=True, workers=workers, **settings)


def _read_token(path: Path) -> str:
    try:
        token = path.read_text(encoding="utf-8").strip()
    except (OSError, UnicodeDecodeError) as exc:
        fail(f"cannot read --token-file {path}: {getattr(exc, 'strerror', None) or exc}")
    if len(token) < 16 or any(c.isspace() for c in token):
        fail(f"--token-file {path} must hold one token of at least 16 characters without spaces")
    return token
