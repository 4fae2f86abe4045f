"""imr-ml: predict IMR outcomes (upheld / overturned) from pre-decision facts only."""

__version__ = "0.1.0"
