"""PDF text, read by a child process under a memory and a time budget.

pdfium (C, through pypdfium2) unpacks a page's content streams whole and keeps every drawing
operator as an object, with no limit: a 2 MB PDF whose Flate stream unpacks to 500 MB took
50 s and 8.5 GB before it failed. Neither pdfium nor pypdfium2 offers a decompression limit,
and C code cannot be stopped from Python, so PDFs are read by a child process (one per
process that reads PDFs, started on the first one and kept): its address space is limited to
`MEMORY_BUDGET` beyond what it starts with, and a PDF it has not read within `TIME_BUDGET`
seconds gets it killed. Either way the letter is skipped with the reason and the next PDF gets
a new child. The 111 real letters need about 4 MB and 30 ms each.

The child answers in JSON (never pickle: it is the process that parses untrusted files).
"""

from __future__ import annotations

import atexit
import json
import os
import resource
import select
import signal
import struct
import subprocess
import sys
import threading

import pypdfium2 as pdfium

MEMORY_BUDGET = 512 * 2**20  # bytes of address space a PDF may take
TIME_BUDGET = 30.0  # seconds a PDF may take
CHILD = "from imr_ml.letters.pdfread import serve_child; serve_child()"
FRAME = struct.Struct("<Q")


class Unreadable(Exception):
    """The file cannot be turned into text; the message is the one-line reason."""


def pdfium_text(data: bytes) -> str:
    """The text of every page, pages joined by a newline; a PDF that cannot be read says why.
    No budget: `pdf_text` runs this in the child."""
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


def pdf_text(data: bytes) -> str:
    """The text of a PDF from its file's bytes `data`, read within the budgets (see the module);
    `Unreadable` with the reason when it cannot be read or exceeds a budget.
    """
    return _READER.read(data)


class _Reader:
    """The parent's end of the child: one request (a PDF) and one answer (JSON) at a time."""

    def __init__(self) -> None:
        self.proc: subprocess.Popen | None = None
        self.owner = 0
        self.lock = threading.Lock()  # one request at a time, whichever thread asks

    def read(self, data: bytes) -> str:
        with self.lock:
            return self._read(data)

    def _read(self, data: bytes) -> str:
        if self.proc is None or self.owner != os.getpid() or self.proc.poll() is not None:
            self._start()
        if self.proc is None or self.proc.stdin is None or self.proc.stdout is None:
            raise Unreadable("the PDF reader process could not be started")
        try:
            self.proc.stdin.write(FRAME.pack(len(data)) + data)
            self.proc.stdin.flush()
            ready, _, _ = select.select([self.proc.stdout], [], [], TIME_BUDGET)
            if not ready:
                self._stop()
                raise Unreadable(f"PDF not read within {TIME_BUDGET:g} s (the time budget of a letter)")
            reply = json.loads(_read_frame(self.proc.stdout))
        except (OSError, EOFError, ValueError):  # the child died reading it
            self._stop()
            raise Unreadable(f"PDF needs more than {MEMORY_BUDGET // 2**20} MB to read (the memory budget of a "
                             "letter; a decompression bomb?)") from None
        if "text" in reply:
            return reply["text"]
        raise Unreadable(reply["unreadable"])

    def _start(self) -> None:
        """A new child (also in a forked worker: a parent's child is never shared)."""
        self.proc = subprocess.Popen([sys.executable, "-c", CHILD, str(MEMORY_BUDGET)], stdin=subprocess.PIPE,
                                     stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
        self.owner = os.getpid()

    def _stop(self) -> None:
        if self.proc is not None:
            self.proc.kill()
            self.proc.wait()
            self.proc = None

    def close(self) -> None:
        """End the child (it exits when its input closes)."""
        if self.proc is not None and self.owner == os.getpid():
            if self.proc.stdin:
                self.proc.stdin.close()
            try:
                self.proc.wait(5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
            self.proc = None


_READER = _Reader()
atexit.register(_READER.close)


def _read_frame(stream) -> bytes:
    head = stream.read(FRAME.size)
    if len(head) < FRAME.size:
        raise EOFError("the other end closed")
    (n,) = FRAME.unpack(head)
    body = stream.read(n)
    if len(body) < n:
        raise EOFError("the other end closed")
    return body


def serve_child() -> None:
    """The child: read PDFs from stdin, answer each with its text or the reason on stdout,
    until stdin closes (the parent is done or gone). Its memory is limited first."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the parent's to handle
    budget = int(sys.argv[1]) if len(sys.argv) > 1 else MEMORY_BUDGET
    try:
        size = int(open("/proc/self/statm").read().split()[0]) * os.sysconf("SC_PAGE_SIZE")
        resource.setrlimit(resource.RLIMIT_AS, (size + budget, resource.getrlimit(resource.RLIMIT_AS)[1]))
    except (OSError, ValueError):  # no /proc (not Linux): the time budget still holds
        pass
    requests, answers = sys.stdin.buffer, sys.stdout.buffer
    while True:
        try:
            data = _read_frame(requests)
        except EOFError:
            return
        try:
            reply = {"text": pdfium_text(data)}
        except Unreadable as exc:
            reply = {"unreadable": str(exc)}
        except MemoryError:
            return  # the parent reports the budget
        except Exception as exc:  # a reader bug on one odd file must not lose the others
            reply = {"unreadable": " ".join(f"unexpected error: {type(exc).__name__}: {exc}".split())}
        body = json.dumps(reply).encode()
        answers.write(FRAME.pack(len(body)) + body)
        answers.flush()
