"""The two ways a model directory is refused, shared by the modules that read and write one
(`manifest`, `modeltrust`, `modeldir`, `modelio`); each message is one line saying why."""

from __future__ import annotations


class ModelLoadError(Exception):
    """A model directory that must not be loaded; the message is one line saying why."""


class ModelOutError(ValueError):
    """A place a model directory must not be written to; the message is one line saying why."""
