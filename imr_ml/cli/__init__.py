"""The `imr-ml` command line. One module per command; each is a thin typer wrapper over a
plain function. Heavy imports (pandas, scikit-learn, pypdf) happen inside the commands so
that `imr-ml --help` stays instant."""

# Each command module registers itself on `app` when imported.
from imr_ml.cli import (  # noqa: F401,E402  # noqa: F401,E402  # noqa: F401,E402  # noqa: F401,E402
    demo,
    evaluate,
    explain,
    ingest,
    reasons,
    report,
    score,
    serve,
    signals,
    synth,  # noqa: F401,E402
    train,
)
from imr_ml.cli._app import app


def main() -> None:
    _exit_on_sigterm()
    app()


def _exit_on_sigterm() -> None:
    """SIGTERM unwinds like Ctrl-C, so temp files are removed and worker processes stopped
    on the way out (the default action kills at once, leaving both)."""
    import signal

    def stop(signum, frame):
        raise SystemExit(128 + signum)

    signal.signal(signal.SIGTERM, stop)
