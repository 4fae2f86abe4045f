"""`imr-ml serve`: the scorer as a local web app and JSON API (FastAPI on uvicorn).

uvicorn and the web app are imported inside the command: `imr-ml --help` must stay instant."""

from __future__ import annotations

import os
from pathlib import Path

import typer

from imr_ml.cli._app import command, fail, load_model

LOOPBACK = ("127.0.0.1", "localhost", "::1")
EXAMPLES = """Examples:

  imr-ml serve models/mine

  imr-ml serve builtin --host 0.0.0.0 --token-file token.txt --workers 4
"""


@command(EXAMPLES)
def serve(
    model_dir: str = typer.Argument("builtin", metavar="MODEL_DIR",
                                    help="Model directory written by `imr-ml train`, or builtin."),
    host: str = typer.Option("127.0.0.1", "--host", metavar="ADDRESS",
                             help="Address to listen on (this machine only by default)."),
    port: int = typer.Option(8000, "--port", min=0, max=65535, metavar="N"),
    workers: int = typer.Option(1, "--workers", min=1, metavar="N",
                                help="Worker processes; each loads the model once."),
    token_file: Path | None = typer.Option(None, "--token-file", metavar="FILE",
                                           help="File holding a bearer token every route but /v1/health requires."),
    max_batch: int = typer.Option(1000, "--max-batch", min=1, metavar="N",
                                  help="Most requests in one API call or upload."),
    log_inputs: bool = typer.Option(False, "--log-inputs",
                                    help="Log what users send (off: nothing they type is logged)."),
):
    """Serve a form, a CSV upload page and a JSON API (/v1/score, /v1/explain; /openapi.json)."""
    import uvicorn

    loaded = load_model(model_dir)  # an unsafe model directory ends here, one line, exit 2
    token = _read_token(token_file) if token_file else None
    if host not in LOOPBACK and not token:
        typer.echo(f"warning: listening on {host} without --token-file: anyone who can reach it can use it", err=True)
    # uvicorn's access log has method, path and status only; bodies are never logged.
    protocol = "imr_ml.web.protocol:NoDelayH11Protocol"
    if workers == 1:
        from imr_ml.web.app import create_app

        app = create_app(loaded, token=token, max_batch=max_batch, log_inputs=log_inputs)
        uvicorn.run(app, host=host, port=port, log_level="info", access_log=True, http=protocol)
        return
    os.environ.update(IMR_ML_SERVE_MODEL=model_dir, IMR_ML_SERVE_MAX_BATCH=str(max_batch),
                      IMR_ML_SERVE_LOG_INPUTS="1" if log_inputs else "0",
                      IMR_ML_SERVE_TOKEN_FILE=str(token_file.resolve()) if token_file else "")
    uvicorn.run("imr_ml.web.app:app_from_env", factory=True, workers=workers, host=host, port=port,
                log_level="info", access_log=True, http=protocol)


def _read_token(path: Path) -> str:
    """The bearer token in `path`, or the command ended with one line."""
    try:
        token = path.read_text(encoding="utf-8").strip()
    except (OSError, UnicodeDecodeError) as exc:
        fail(f"cannot read --token-file {path}: {getattr(exc, 'strerror', None) or exc}")
    if len(token) < 16 or any(c.isspace() for c in token):
        fail(f"--token-file {path} must hold one token of at least 16 characters without spaces")
    return token
