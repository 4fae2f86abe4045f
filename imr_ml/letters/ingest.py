"""Letters in, one row per disputed item out (`imr-ml ingest`).

Bad files never stop a run: each is skipped with a one-line reason. Output is written
atomically; a run journals every finished file so a rerun after a kill resumes and ends
with the same corpus as one clean run.
"""

from __future__ import annotations

import errno
import hashlib
import json
import os
import re
import stat
from collections.abc import Callable, Generator, Iterable
from contextlib import closing, suppress
from dataclasses import asdict
from functools import partial
from pathlib import Path

from imr_ml.dates import DateError, read_date
from imr_ml.letters.duplicates import ConflictingRows, unique_items
from imr_ml.letters.layouts import NotALetter, parse_letter_text
from imr_ml.letters.letter import CASE_RE, LayoutError
from imr_ml.letters.textract import LETTER_SUFFIXES, Unreadable, read_text
from imr_ml.pool import ordered_map
from imr_ml.schema import COLUMNS, ITEM_SEPARATOR, is_missing
from imr_ml.textio import atomic_write_jsonl, atomic_write_parquet

MAX_LETTER_MB = 20


class SkipLetter(Exception):
    """This file yields no rows; the message is the one-line reason. `key` names the letter
    (its case number) when the text shows one, so a broken copy can point to a good one."""

    def __init__(self, reason: str, key: str | None = None) -> None:
        super().__init__(reason)
        self.key = key


class IngestError(Exception):
    """The run cannot start or finish (bad --out, another run writing it); one line."""


def parse_text(text: str, source: str = "") -> list[dict]:
    """Rows (one per disputed item) of one letter's text."""
    return read_letter(text, source)[0]


def read_letter(text: str, source: str = "") -> tuple[list[dict], str]:
    """Rows of one letter's text and the key that finds its copies: the case number, or a
    hash of the text when it has none (file names repeat across folders)."""
    try:
        letter = parse_letter_text(text)
    except NotALetter as exc:
        raise SkipLetter(str(exc)) from None
    except LayoutError as exc:  # a letter, but not whole: its case number finds a whole copy
        case = CASE_RE.search(text)
        raise SkipLetter(str(exc), case.group(0) if case else None) from None
    key = letter.letter_id or "sha256:" + hashlib.sha256(" ".join(text.split()).encode()).hexdigest()[:16]
    letter_id = letter.letter_id or (Path(source).stem if source else None)
    rows = []
    names = [it.item for it in letter.items]
    warning = {"ingest_warning": "; ".join(letter.warnings)} if letter.warnings else {}  # a doubt, not a skip
    for i, it in enumerate(letter.items):
        row = asdict(it)
        row.update(
            letter_id=letter_id,
            item_index=i,
            source=source,
            layout=letter.layout,
            label=int(it.decision == "overturned"),
            summary=letter.summary,
            date_of_injury=letter.date_of_injury,
            ur_denial_date=letter.ur_denial_date,
            retrospective=it.retrospective,
            other_items=ITEM_SEPARATOR.join(names[:i] + names[i + 1:]),
            reviewer_specialty=letter.reviewer_specialty,
            decision_date=letter.decision_date,
        )
        rows.append({k: row.get(k) for k in COLUMNS} | {"item_full": it.item_full} | warning)
    return rows, key


def parse_file(path: str | Path, max_mb: float = MAX_LETTER_MB) -> list[dict]:
    """Rows of one letter file (PDF or text); raises SkipLetter with the reason."""
    return _read_file(path, max_mb)[0]


def _read_file(path: str | Path, max_mb: float) -> tuple[list[dict], str]:
    """Rows and copy key of one file; every way a file cannot be read is a SkipLetter."""
    try:
        text = read_text(path, int(max_mb * 2**20))
    except Unreadable as exc:
        raise SkipLetter(str(exc)) from None
    except OSError as exc:
        raise SkipLetter(f"cannot read file ({exc.strerror or exc})") from None
    return read_letter(text, str(path))


def read_record(path: str, max_mb: float = MAX_LETTER_MB) -> dict:
    """What `ingest_paths` reads of one file by default (in a worker process when it runs
    several); never raises, so one bad file cannot take down a pool. The record the journal
    keeps: `path`, `rows` or the `reason` there are none, and the letter's key (`dup`)."""
    try:
        rows, key = _read_file(path, max_mb)
        return {"path": path, "rows": rows, "reason": None, "dup": key}
    except SkipLetter as exc:
        return {"path": path, "rows": None, "reason": str(exc), "dup": exc.key}
    except Exception as exc:  # a parser bug on one odd file must not lose the others
        reason = " ".join(f"unexpected error: {type(exc).__name__}: {exc}".split())
        return {"path": path, "rows": None, "reason": reason, "dup": None}


def find_letters(paths: Iterable[str | Path]) -> tuple[list[str], list[dict]]:
    """Files to read (folders searched recursively, following links, for letter files) and,
    as skip records, every path that cannot be: missing, dangling or looping links,
    unreadable folders, FIFOs and devices (never opened: reading a FIFO can block forever)."""
    files: list[str] = []
    skipped: list[dict] = []
    seen_dirs: set[tuple[int, int]] = set()
    for p in map(str, paths):
        _visit(p, files, skipped, seen_dirs, top=True)
    return list(dict.fromkeys(files)), skipped


def _visit(path: str, files: list[str], skipped: list[dict], seen_dirs: set, top: bool = False) -> None:
    """Add `path` (a letter file, or a folder searched for them) to `files`, or say in
    `skipped` why it cannot be read. Inside folders, hidden entries and other file types
    are ignored, not skipped."""
    name = os.path.basename(path)
    if not top and name.startswith("."):
        return
    try:
        st = os.stat(path)
    except OSError as exc:
        skipped.append({"source": path, "reason": _stat_reason(path, exc)})
        return
    if not top and not stat.S_ISDIR(st.st_mode) and not name.lower().endswith(LETTER_SUFFIXES):
        return
    if stat.S_ISDIR(st.st_mode):
        if (st.st_dev, st.st_ino) in seen_dirs:
            skipped.append({"source": path, "reason": "folder already searched (a symbolic link loop?)"})
            return
        seen_dirs.add((st.st_dev, st.st_ino))
        try:
            entries = sorted(os.listdir(path))
        except OSError as exc:
            skipped.append({"source": path, "reason": f"cannot read folder ({exc.strerror or exc})"})
            return
        for e in entries:
            _visit(os.path.join(path, e), files, skipped, seen_dirs)
    elif stat.S_ISREG(st.st_mode):
        files.append(path)
    else:
        skipped.append({"source": path, "reason": f"not a regular file ({_kind(st.st_mode)})"})


def _stat_reason(path: str, exc: OSError) -> str:
    """Why a path cannot even be looked at, in words."""
    if exc.errno == errno.ELOOP:
        return "symbolic link loop"
    if os.path.islink(path):
        return "dangling symbolic link"
    if exc.errno == errno.ENOENT:
        return "no such file or folder"
    return f"cannot read ({exc.strerror or exc})"


def _kind(mode: int) -> str:
    """The kind of a file that is neither a folder nor a regular file."""
    for test, kind in ((stat.S_ISFIFO, "FIFO"), (stat.S_ISCHR, "character device"),
                       (stat.S_ISBLK, "block device"), (stat.S_ISSOCK, "socket")):
        if test(mode):
            return kind
    return "special file"


def _file_key(path: str) -> list:
    """Path, size and modification time: a journaled file whose key changed is read again."""
    try:
        st = os.stat(path)
    except OSError:  # gone since the search; reading it will say so
        return [path, None, None]
    return [path, st.st_size, st.st_mtime_ns]


def _read_journal(journal: Path) -> dict[str, dict]:
    """Records of the files an interrupted run finished, by path."""
    done: dict[str, dict] = {}
    if journal.exists():
        for line in journal.read_text(encoding="utf-8").splitlines():
            try:
                rec = json.loads(line)
                if {"rows", "reason", "dup"} <= set(rec):
                    done[rec["key"][0]] = rec
            except (json.JSONDecodeError, KeyError, TypeError, IndexError):
                continue  # the line being written when the run was killed
    return done


def _results(files: list[str], jobs: int, max_mb: float, reader: Callable[..., dict]) -> Generator[dict, None, None]:
    """Records in the files' order; a file whose reader process dies is skipped alone."""
    read = partial(reader, max_mb=max_mb)
    if jobs <= 1 or len(files) < 4:
        yield from map(read, files)
        return
    yield from ordered_map(read, files, jobs,
                           on_crash=lambda path: {"path": path, "rows": None, "reason": "reader crashed", "dup": None})


def check_out(out: str | Path, inputs: Iterable[str | Path]) -> None:
    """Raise IngestError unless `out` can be written without harming anything: its folder
    exists and is writable, it is not a folder, and it is none of the inputs (nor inside
    one given as a file)."""
    out = Path(out)
    folder = out.parent
    if out.is_dir():
        raise IngestError(f"--out {out} is a folder; give a file name ending in .jsonl or .parquet")
    if not folder.is_dir():
        state = "is not a folder" if folder.exists() else "does not exist"
        raise IngestError(f"the folder of --out {state}: {folder}")
    if not os.access(folder, os.W_OK | os.X_OK):
        raise IngestError(f"cannot write in the folder of --out: {folder}")
    targets = {os.path.realpath(p) for p in (out, skipped_path(out), journal_path(out))}
    for p in map(Path, inputs):
        if os.path.realpath(p) in targets:
            raise IngestError(f"--out would overwrite the input {p}; choose another --out")


def journal_path(out: str | Path) -> Path:
    """Where a run writing `out` journals its progress."""
    return Path(str(out) + ".journal")


def ingest_paths(
    paths: Iterable[str | Path],
    out: str | Path | None = None,
    jobs: int = 1,
    progress: Callable[[int, int], None] | None = None,
    max_mb: float = MAX_LETTER_MB,
    reader: Callable[..., dict] = read_record,
) -> tuple[list[dict], list[dict]]:
    """Read letters into rows. With `out`, write the corpus (JSONL, or Parquet for
    `.parquet`) and `<out>.skipped.jsonl` atomically, journaling progress in
    `<out>.journal` so that an interrupted run resumes. When no letter could be read,
    nothing is written and existing outputs stay as they were. `reader(path, max_mb=...)`
    reads one file (`read_record`; a module-level function, as worker processes call it).
    Returns (rows, skipped)."""
    paths = [str(p) for p in paths]
    if out:
        check_out(out, paths)
    files, skipped = find_letters(paths)
    journal = journal_path(out) if out else None
    fh = _lock_journal(journal) if journal else None
    try:
        done = _read_journal(journal) if journal else {}
        resumed = bool(done)
        _read_new(files, done, fh, partial(_results, jobs=jobs, max_mb=max_mb, reader=reader), progress)
        rows_out = _keep_best(files, done, skipped)
        if out and rows_out:
            write_corpus(rows_out, out)
            atomic_write_jsonl(skipped, skipped_path(out))
        if journal and (rows_out or not resumed):  # a run that read nothing keeps what it resumed
            journal.unlink(missing_ok=True)
    except OSError as exc:
        if journal is None or fh is None or exc.errno not in OUT_OF_SPACE:
            raise
        # The journal is as large as the corpus: kept, it would fill the disk for every rerun.
        with suppress(OSError):  # its unwritten tail is lost with it
            fh.close()
        journal.unlink(missing_ok=True)
        raise IngestError(f"cannot write {exc.filename or out}: {exc.strerror or exc}; its journal was removed "
                          "to free the space it took, so a rerun reads every letter again") from None
    finally:
        if fh:
            fh.close()
    return rows_out, skipped


OUT_OF_SPACE = (errno.ENOSPC, errno.EFBIG, errno.EDQUOT)


def _read_new(files: list[str], done: dict[str, dict], journal,
              results: Callable[[list[str]], Generator[dict, None, None]],
              progress: Callable[[int, int], None] | None) -> None:
    """Read the files not in `done` (or changed since) into it, journaling each record. The
    readers stop with the loop, whatever ends it (a full disk under the journal)."""
    keys = {f: _file_key(f) for f in files}
    todo = [f for f in files if f not in done or done[f]["key"] != keys[f]]
    if progress:
        progress(len(files) - len(todo), len(files))
    with closing(results(todo)) as records:
        for i, rec in enumerate(records, len(files) - len(todo) + 1):
            path = rec.pop("path")
            rec = {"key": keys[path], **rec}
            done[path] = rec
            if journal:
                journal.write(json.dumps(rec) + "\n")
                journal.flush()
            if progress:
                progress(i, len(files))


def _lock_journal(journal: Path):
    """The journal, opened for appending and locked: two runs writing one corpus would mix
    their journals and race on the output."""
    fh = open(journal, "a", encoding="utf-8")
    try:
        import fcntl  # POSIX only: imported where it is used, so ingest runs without it elsewhere
    except ImportError:  # not POSIX: no lock
        return fh
    try:
        fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        fh.close()
        out = str(journal).removesuffix(".journal")
        raise IngestError(f"another ingest is writing {out}; wait for it to finish") from None
    return fh


def _completeness(rows: list[dict]) -> tuple[int, int]:
    """How whole a copy of a letter is: items first, then the length of its text."""
    return len(rows), sum(len(r.get("rationale") or "") + len(r.get("summary") or "") for r in rows)


def _keep_best(files: list[str], done: dict[str, dict], skipped: list[dict]) -> list[dict]:
    """Rows of every letter once: of copies (same case number, or same text), the most
    complete; the others, and every unread file, go to `skipped` saying which copy was kept."""
    best: dict[str, str] = {}
    for f in files:
        rec = done[f]
        key = rec["dup"]
        if rec["rows"] and (key not in best or _completeness(rec["rows"]) > _completeness(done[best[key]]["rows"])):
            best[key] = f
    kept = set(best.values())
    rows_out: list[dict] = []
    ids: dict[str, str] = {}
    for f in files:
        rec = done[f]
        winner = best.get(rec["dup"]) if rec["dup"] else None
        if f in kept:
            rows_out += _unique_id(rec["rows"], rec["dup"], ids)
        elif rec["reason"]:
            also = f"; a complete copy was kept: {winner}" if winner else ""
            skipped.append({"source": f, "reason": rec["reason"] + also})
        else:
            lid = rec["rows"][0]["letter_id"]
            skipped.append({"source": f, "reason": f"duplicate of letter {lid}; kept the more complete copy {winner}"})
    return rows_out


def _unique_id(rows: list[dict], dup: str, ids: dict[str, str]) -> list[dict]:
    """A letter without a case number is named after its file; two different letters in
    files of one name get the second name suffixed with its text hash."""
    lid = rows[0]["letter_id"]
    if ids.setdefault(lid, dup) != dup:
        rows = [r | {"letter_id": f"{lid}-{dup[-8:]}"} for r in rows]
    return rows


def skipped_path(out: str | Path) -> Path:
    """Where a run writing `out` lists the files it skipped and why."""
    return Path(str(out) + ".skipped.jsonl")


def write_corpus(rows: list[dict], out: str | Path) -> None:
    """Write rows atomically, as Parquet for a `.parquet` name, else as JSONL."""
    if str(out).endswith(".parquet"):
        atomic_write_parquet(rows, out)
    else:
        atomic_write_jsonl(rows, out)


def read_corpus(path: str | Path) -> list[dict]:
    """Rows of a corpus written by `ingest` (JSONL or Parquet); a row that is not one raises
    CorpusError naming the file and line."""
    path = Path(path)
    if path.suffix == ".parquet":
        import pandas as pd  # 0.3 s to import: only Parquet corpora need it, `imr-ml ingest` starts without

        df = pd.read_parquet(path)
        rows = [{k: (None if is_missing(v) else v) for k, v in r.items()} for r in df.to_dict("records")]
        return [check_row(r, f"{path} row {i}") for i, r in enumerate(rows, 1)]
    rows = []
    with open(path, encoding="utf-8") as fh:
        for n, line in enumerate(fh, 1):
            if line.strip():
                try:
                    row = json.loads(line)
                except json.JSONDecodeError as exc:
                    raise CorpusError(f"{path} line {n}: not JSON ({exc.msg} at column {exc.colno})") from None
                except RecursionError:  # json's decoder recurses once per bracket
                    raise CorpusError(f"{path} line {n}: nested too deeply to be a row") from None
                rows.append(check_row(row, f"{path} line {n}"))
    return rows


class CorpusError(ValueError):
    """A corpus row that is not one; the message names file and line."""


DATE_FIELDS = ("date_of_injury", "ur_denial_date", "decision_date")


def check_row(row, where: str) -> dict:
    """`row` if it has the shape of a corpus row: an object, an integer `item_index`, text
    that is text (no lone surrogate, which no file can hold), and dates that are real days
    in any form `imr_ml.dates.read_date` reads, stored as YYYY-MM-DD (2019-13-45 is refused,
    not read as missing); raises CorpusError naming `where`."""
    if not isinstance(row, dict):
        raise CorpusError(f"{where}: a row must be a JSON object, not {type(row).__name__}")
    index = row.get("item_index")
    if index is not None and (isinstance(index, bool) or not isinstance(index, int)):
        raise CorpusError(f"{where}: item_index must be a whole number, not {index!r}")
    for k, v in row.items():
        bad = None if not isinstance(v, str) or v.isascii() else _SURROGATE.search(v)
        if bad:
            raise CorpusError(f"{where}: {k} holds a lone surrogate (\\u{ord(bad[0]):04x} at character "
                              f"{bad.start()}), which is not text: fix the program that wrote it")
    try:
        dates = {f: read_date(row[f], f) for f in DATE_FIELDS if f in row}
    except DateError as exc:
        raise CorpusError(f"{where}: {exc}") from None
    return row | dates if any(dates[f] != row[f] for f in dates) else row


_SURROGATE = re.compile("[\ud800-\udfff]")


CORPUS_SUFFIXES = (".jsonl", ".parquet")


def no_letters(skipped: list[dict]) -> str:
    """One line for a run that read no letter: how many paths failed and the first reasons."""
    if not skipped:
        return "no letter could be read (no .pdf/.txt files found)"
    reasons = "; ".join(f"{s['source']}: {s['reason']}" for s in skipped[:3])
    more = f"; and {len(skipped) - 3} more" if len(skipped) > 3 else ""
    return f"no letter could be read ({reasons}{more})"


class NoRows(Exception):
    """Nothing usable in the inputs; the message says why."""


def load_rows(inputs: Iterable[str | Path], jobs: int = 0, progress: Callable[[int, int], None] | None = None,
              on_skip: Callable[[dict], None] | None = None,
              on_warning: Callable[[str], None] | None = None) -> list[dict]:
    """Rows from any mix of corpus files (`.jsonl`/`.parquet` from `ingest`) and letter
    files or folders (ingested on the fly), each item once (`duplicates.unique_items`:
    `on_warning` hears how many copies were dropped). The one way every command reads its
    input; raises NoRows with the reason."""
    rows: list[dict] = []
    origins: list[tuple[str, int]] = []  # (file, row number) of every row, for messages
    letters: list[str] = []
    for p in map(str, inputs):
        if not Path(p).exists():
            raise NoRows(f"{p}: no such file or folder")
        if p.endswith(CORPUS_SUFFIXES):
            try:
                got = read_corpus(p)
            except CorpusError as exc:
                raise NoRows(str(exc)) from None
            except (OSError, ValueError) as exc:
                raise NoRows(f"cannot read corpus {p}: {exc}") from None
            rows += got
            origins += [(p, k) for k in range(1, len(got) + 1)]
        else:
            letters.append(p)
    if letters:
        got, skipped = ingest_paths(letters, jobs=jobs or os.cpu_count() or 1, progress=progress)
        for s in skipped:
            if on_skip:
                on_skip(s)
        rows += got
        origins += [(r.get("source") or "a letter", 0) for r in got]
        if not got:
            raise NoRows(no_letters(skipped))
    if not rows:
        raise NoRows("the input holds no items")
    try:
        return unique_items(rows, lambda i: f"{origins[i][0]} row {origins[i][1]}" if origins[i][1]
                            else origins[i][0], on_warning)
    except ConflictingRows as exc:
        raise NoRows(str(exc)) from None
