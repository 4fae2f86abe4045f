"""How long work tells its progress: one `Reporter` protocol and its silent null object.

Library code takes a `Reporter` and calls `start` for each stage and `advance` as it goes;
the CLI's progress bar implements the protocol, everything else gets `NULL_REPORTER`.
"""

from __future__ import annotations

from typing import Protocol


class Reporter(Protocol):
    """A progress sink: a stage is started with its total, then advanced or updated."""

    def __init__(self) -> None:
        """Implementations take what they need; the protocol itself is never instantiated."""

    def start(self, description: str, total: int | None = None) -> None:
        """Begin a stage.

        Parameters
        ----------
        description : str
            What the stage does, in a few words.
        total : int or None
            Steps in the stage, if known.
        """

    def advance(self, n: int = 1) -> None:
        """Count `n` more steps of the current stage done.

        Parameters
        ----------
        n : int
            Steps just done.
        """

    def update(self, done: int, total: int | None = None) -> None:
        """Set the steps done of the current stage (and its total).

        Parameters
        ----------
        done : int
            Steps done so far.
        total : int or None
            A new total, if it changed.
        """


class NullReporter(Reporter):
    """A `Reporter` that shows nothing (no progress display asked for)."""

    def __init__(self) -> None:
        return None

    def start(self, description: str, total: int | None = None) -> None:
        return None

    def advance(self, n: int = 1) -> None:
        return None

    def update(self, done: int, total: int | None = None) -> None:
        return None


NULL_REPORTER = NullReporter()
