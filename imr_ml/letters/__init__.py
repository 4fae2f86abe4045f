"""Stage 1, letters to rows: text extraction (`textract`), one parser per letter layout
(`layouts`), ingest. What other stages read of a letter's fields is exported here."""

from imr_ml.letters.letter import RETRO_RE

__all__ = ["RETRO_RE"]
