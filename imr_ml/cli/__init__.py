"""The `imr-ml` command line. One module per command; each is a thin typer wrapper over a
library function, registered on the shared app by `imr_ml.cli._app.command` when the module
is imported (below). Heavy imports (pandas, scikit-learn, pypdf) happen inside the commands
so that `imr-ml --help` stays instant."""

import signal

# Each command module registers itself on `app` when imported.
from imr_ml.cli import (  # noqa: F401
    demo,
    evaluate,
    explain,
    index,
    ingest,
    reasons,
    report,
    score,
    search,
    serve,
    signals,
    similar,
    synth,
    train,
)
from imr_ml.cli._app import app


def main() -> None:
    """The `imr-ml` entry point."""
    _exit_on_sigterm()
    app()


def _exit_on_sigterm() -> None:
    """SIGTERM unwinds like Ctrl-C, so temp files are removed and worker processes stopped
    on the way out (the default action kills at once, leaving both)."""

    def stop(signum, frame):
        raise SystemExit(128 + signum)

    signal.signal(signal.SIGTERM, stop)
