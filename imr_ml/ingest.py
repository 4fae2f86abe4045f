"""Letters in, one row per disputed item out (`imr-ml ingest`).

Bad files never stop a run: each is skipped with a one-line reason. Output is written
atomically; a run journals every finished file so a rerun after a kill resumes and ends
with the same corpus as one clean run.
"""

from __future__ import annotations

import json
import os
from concurrent.futures import ProcessPoolExecutor
from dataclasses import asdict
from pathlib import Path
from typing import Callable, Iterable, Iterator

from imr_ml.layouts import LayoutError, NotALetter, parse_letter_text
from imr_ml.schema import COLUMNS, ITEM_SEPARATOR
from imr_ml.textio import atomic_write_jsonl, atomic_write_parquet
from imr_ml.textract import LETTER_SUFFIXES, Unreadable, read_text


class SkipLetter(Exception):
    """This file yields no rows; the message is the one-line reason."""


def parse_text(text: str, source: str = "") -> list[dict]:
    """Rows (one per disputed item) of one letter's text."""
    try:
        letter = parse_letter_text(text)
    except (NotALetter, LayoutError) as exc:
        raise SkipLetter(str(exc)) from None
    letter_id = letter.letter_id or (Path(source).stem if source else None)
    rows = []
    names = [it.item for it in letter.items]
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
        rows.append({k: row.get(k) for k in COLUMNS} | {"item_full": it.item_full})
    return rows


def parse_file(path: str | Path) -> list[dict]:
    """Rows of one letter file (PDF or text); raises SkipLetter with the reason."""
    try:
        text = read_text(path)
    except Unreadable as exc:
        raise SkipLetter(str(exc)) from None
    except OSError as exc:
        raise SkipLetter(f"cannot read file ({exc.strerror or exc})") from None
    return parse_text(text, str(path))


def _parse_one(path: str) -> tuple[str, list[dict] | None, str | None]:
    """Worker: never raises, so one bad file cannot take down a pool."""
    try:
        return path, parse_file(path), None
    except SkipLetter as exc:
        return path, None, str(exc)
    except Exception as exc:  # a parser bug on one odd file must not lose the others
        return path, None, f"unexpected error: {type(exc).__name__}: {exc}"


def find_letters(paths: Iterable[str | Path]) -> tuple[list[str], list[dict]]:
    """Files to read (folders searched recursively for letter files) and paths that do
    not exist, as skip records."""
    files, missing = [], []
    for p in map(Path, paths):
        if p.is_dir():
            files += [str(f) for f in sorted(p.rglob("*")) if f.is_file()
                      and f.suffix.lower() in LETTER_SUFFIXES and not f.name.startswith(".")]
        elif p.is_file():
            files.append(str(p))
        else:
            missing.append({"source": str(p), "reason": "no such file or folder"})
    seen: set[str] = set()
    unique = [f for f in files if not (f in seen or seen.add(f))]
    return unique, missing


def _file_key(path: str) -> list:
    st = os.stat(path)
    return [path, st.st_size, st.st_mtime_ns]


def _read_journal(journal: Path) -> dict[str, dict]:
    done: dict[str, dict] = {}
    if journal.exists():
        for line in journal.read_text(encoding="utf-8").splitlines():
            try:
                rec = json.loads(line)
            except json.JSONDecodeError:  # the line being written when the run was killed
                continue
            done[rec["key"][0]] = rec
    return done


def _results(files: list[str], jobs: int) -> Iterator[tuple[str, list[dict] | None, str | None]]:
    if jobs <= 1 or len(files) < 4:
        yield from map(_parse_one, files)
        return
    with ProcessPoolExecutor(max_workers=jobs) as pool:
        yield from pool.map(_parse_one, files, chunksize=max(1, min(64, len(files) // (jobs * 8))))


def ingest_paths(
    paths: Iterable[str | Path],
    out: str | Path | None = None,
    jobs: int = 1,
    progress: Callable[[int, int], None] | None = None,
) -> tuple[list[dict], list[dict]]:
    """Read letters into rows. With `out`, write the corpus (JSONL, or Parquet for
    `.parquet`) and `<out>.skipped.jsonl` atomically, journaling progress in
    `<out>.journal` so that an interrupted run resumes. Returns (rows, skipped)."""
    files, skipped = find_letters(paths)
    journal = Path(str(out) + ".journal") if out else None
    done = _read_journal(journal) if journal else {}
    keys = {f: _file_key(f) for f in files}
    todo = [f for f in files if f not in done or done[f]["key"] != keys[f]]
    if progress:
        progress(len(files) - len(todo), len(files))
    fh = open(journal, "a", encoding="utf-8") if journal else None
    try:
        for i, (path, rows, reason) in enumerate(_results(todo, jobs), len(files) - len(todo) + 1):
            rec = {"key": keys[path], "rows": rows, "reason": reason}
            done[path] = rec
            if fh:
                fh.write(json.dumps(rec) + "\n")
                fh.flush()
            if progress:
                progress(i, len(files))
    finally:
        if fh:
            fh.close()
    rows_out: list[dict] = []
    first_source: dict[str, str] = {}
    for f in files:
        rec = done[f]
        if rec["reason"]:
            skipped.append({"source": f, "reason": rec["reason"]})
            continue
        lid = rec["rows"][0]["letter_id"]
        if lid in first_source:
            skipped.append({"source": f, "reason": f"duplicate of letter {lid} in {first_source[lid]}"})
            continue
        first_source[lid] = f
        rows_out += rec["rows"]
    if out:
        write_corpus(rows_out, out)
        atomic_write_jsonl(skipped, skipped_path(out))
        journal.unlink(missing_ok=True)
    return rows_out, skipped


def skipped_path(out: str | Path) -> Path:
    return Path(str(out) + ".skipped.jsonl")


def write_corpus(rows: list[dict], out: str | Path) -> None:
    if str(out).endswith(".parquet"):
        atomic_write_parquet(rows, out)
    else:
        atomic_write_jsonl(rows, out)


def read_corpus(path: str | Path) -> list[dict]:
    """Rows of a corpus written by `ingest` (JSONL or Parquet)."""
    path = Path(path)
    if path.suffix == ".parquet":
        import pandas as pd

        df = pd.read_parquet(path)
        return [{k: (None if _isna(v) else v) for k, v in r.items()} for r in df.to_dict("records")]
    with open(path, encoding="utf-8") as fh:
        return [json.loads(line) for line in fh if line.strip()]


def _isna(v) -> bool:
    return v is None or (isinstance(v, float) and v != v)


CORPUS_SUFFIXES = (".jsonl", ".parquet")


class NoRows(Exception):
    """Nothing usable in the inputs; the message says why."""


def load_rows(inputs: Iterable[str | Path], jobs: int = 0, progress: Callable[[int, int], None] | None = None,
              on_skip: Callable[[dict], None] | None = None) -> list[dict]:
    """Rows from any mix of corpus files (`.jsonl`/`.parquet` from `ingest`) and letter
    files or folders (ingested on the fly). The one way every command reads its input."""
    rows: list[dict] = []
    letters: list[str] = []
    for p in map(str, inputs):
        if not Path(p).exists():
            raise NoRows(f"{p}: no such file or folder")
        if p.endswith(CORPUS_SUFFIXES):
            try:
                rows += read_corpus(p)
            except (OSError, ValueError) as exc:
                raise NoRows(f"cannot read corpus {p}: {exc}") from None
        else:
            letters.append(p)
    if letters:
        got, skipped = ingest_paths(letters, jobs=jobs or os.cpu_count() or 1, progress=progress)
        for s in skipped:
            if on_skip:
                on_skip(s)
        rows += got
        if not got:
            reasons = "; ".join(f"{s['source']}: {s['reason']}" for s in skipped[:3])
            raise NoRows(f"no letter could be read ({reasons})")
    if not rows:
        raise NoRows("the input holds no items")
    return rows
