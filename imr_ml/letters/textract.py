"""Turn a letter file (PDF or plain text) into text, or say in one line why it cannot be.

PDFs are read with pdfium (pypdfium2): it is about ten times faster than pure-Python
readers, opens the DWC's AES-encrypted letters with their empty password, and its wheels
need no compiler. It reads in a child process under a memory and a time budget
(`imr_ml.letters.pdfread`): a decompression bomb costs its letter, not the run.
"""

from __future__ import annotations

import os
from pathlib import Path

from imr_ml.letters.pdfread import Unreadable, pdf_text

LETTER_SUFFIXES = (".pdf", ".txt", ".text")
__all__ = ["LETTER_SUFFIXES", "Unreadable", "read_text"]


def read_text(path: str | Path, max_bytes: int | None = None) -> str:
    """The file's text; a file over `max_bytes` is refused before it is read."""
    data = _read_bytes(path, max_bytes)
    if not data.strip():
        raise Unreadable("empty file")
    if data.startswith(b"%PDF"):
        return pdf_text(data)
    if b"\x00" in data[:4096]:
        raise Unreadable("binary file, neither PDF nor text")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise Unreadable(f"not UTF-8 text (bad byte at offset {exc.start})") from None
    return text


def _read_bytes(path: str | Path, max_bytes: int | None) -> bytes:
    """At most `max_bytes` (+1 to notice more), so a giant costs no more memory than the limit."""
    with open(path, "rb") as fh:
        if max_bytes is None:
            return fh.read()
        size = os.fstat(fh.fileno()).st_size
        data = fh.read(size + 1) if size <= max_bytes else b""  # read(n) allocates n
    if size > max_bytes or len(data) > max_bytes:
        raise Unreadable(f"too large for a letter ({max(size, len(data)) / 2**20:.0f} MB; the limit is "
                         f"{max_bytes / 2**20:g} MB, see --max-letter-mb)")
    return data
