"""Turn a letter file (PDF or plain text) into text, or say in one line why it cannot be.

PDFs are read with pdfium (pypdfium2): it is about ten times faster than pure-Python
readers, opens the DWC's AES-encrypted letters with their empty password, and its wheels
need no compiler.
"""

from __future__ import annotations

import os
from pathlib import Path

import pypdfium2 as pdfium

LETTER_SUFFIXES = (".pdf", ".txt", ".text")


class Unreadable(Exception):
    """The file cannot be turned into text; the message is the one-line reason."""


def read_text(path: str | Path, max_bytes: int | None = None) -> str:
    """The file's text; a file over `max_bytes` is refused before it is read."""
    data = _read_bytes(path, max_bytes)
    if not data.strip():
        raise Unreadable("empty file")
    if data.startswith(b"%PDF"):
        return _pdf_text(data)
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


def _pdf_text(data: bytes) -> str:
    """The text of every page, pages joined by a newline; a PDF that cannot be read says why."""
    try:
        pdf = pdfium.PdfDocument(data, password="")
    except pdfium.PdfiumError as exc:
        reason = str(exc).lower()
        if "password" in reason:
            raise Unreadable("password-protected PDF") from None
        raise Unreadable(f"unreadable PDF ({exc})") from None
    try:
        pages = []
        for i in range(len(pdf)):
            page = pdf[i]
            textpage = page.get_textpage()
            pages.append(textpage.get_text_range())
            textpage.close()
            page.close()
    except pdfium.PdfiumError as exc:
        raise Unreadable(f"damaged PDF ({exc})") from None
    finally:
        pdf.close()
    # pdfium marks a hyphen that ends a line as U+FFFE, with the line joined
    text = "\n".join(p.rstrip("\r\n") for p in pages).replace("\ufffe", "-")
    if not text.strip():
        raise Unreadable("PDF has no text layer (scanned image?)")
    return text
