"""The `imr-ml` command line. One module per command; each is a thin typer wrapper over a
plain function. Heavy imports (pandas, scikit-learn, pypdf) happen inside the commands so
that `imr-ml --help` stays instant."""

from imr_ml.cli._app import app

# Each command module registers itself on `app` when imported.
from imr_ml.cli import ingest, reasons  # noqa: F401,E402
from imr_ml.cli import train, evaluate  # noqa: F401,E402
from imr_ml.cli import synth  # noqa: F401,E402
from imr_ml.cli import score, explain, report, demo  # noqa: F401,E402
from imr_ml.cli import signals, serve  # noqa: F401,E402


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
