"""imr-ml: predict IMR outcomes (upheld / overturned) from pre-decision facts only.

    import imr_ml
    model = imr_ml.load_model("builtin")
    model.score({"summary": "...", "item": "MRI right shoulder"})

Imports stay lazy (`__getattr__`) so that `imr-ml --help` stays instant.
"""

__version__ = "0.1.0"
__all__ = ["Model", "load_model", "__version__"]


def __getattr__(name: str):
    if name in ("Model", "load_model"):
        from imr_ml import api

        return getattr(api, name)
    raise AttributeError(f"module 'imr_ml' has no attribute {name!r}")
