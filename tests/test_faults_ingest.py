"""Fault injection for reading letters (issue #12): nothing lost, nothing half-read, no
traceback. Every case asserts the exit status, the one `error:` line and that what the user
already had is still there. `pytest -m faults` runs these alone."""

import json
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import letters
import pytest
from typer.testing import CliRunner

from imr_ml.cli import app
from imr_ml.letters.ingest import (
    CorpusError,
    IngestError,
    NoRows,
    SkipLetter,
    ingest_paths,
    load_rows,
    parse_file,
    parse_text,
    read_corpus,
    read_record,
)
from imr_ml.pool import WorkerCrashed, ordered_map
from imr_ml.textio import atomic_write_text

pytestmark = pytest.mark.faults
ROOT = os.geteuid() == 0 if hasattr(os, "geteuid") else False


def cli(*args):
    """Run imr-ml in-process; returns the result after checking errors are one clean line."""
    res = CliRunner().invoke(app, [str(a) for a in args])
    if res.exit_code:
        lines = res.stderr.strip().splitlines()
        assert len(lines) == 1 and lines[0].startswith("error: "), res.stderr
        assert "Traceback" not in res.output + res.stderr
    return res


@pytest.fixture
def corpus(tmp_path):
    """A finished corpus the user already has, with its skip report."""
    (tmp_path / "in").mkdir()
    (tmp_path / "in" / "a.txt").write_text(letters.LETTER_2016)
    out = tmp_path / "corpus.jsonl"
    assert cli("ingest", tmp_path / "in", "--out", out).exit_code == 0
    return out, out.read_bytes(), Path(str(out) + ".skipped.jsonl").read_bytes()


def _untouched(corpus):
    out, data, skipped = corpus
    assert out.read_bytes() == data and Path(str(out) + ".skipped.jsonl").read_bytes() == skipped


# ---------------------------------------------------------------- 1. nothing read, nothing written
@pytest.mark.parametrize("inputs", ["missing", "bad", "self"])
def test_a_run_that_reads_no_letter_leaves_the_corpus_as_it_was(corpus, tmp_path, inputs):
    out = corpus[0]
    (tmp_path / "bad.txt").write_text(letters.NOT_A_LETTER)
    arg = {"missing": tmp_path / "lettres", "bad": tmp_path / "bad.txt", "self": out}[inputs]
    res = cli("ingest", arg, "--out", out)
    assert res.exit_code == 2
    assert ("overwrite the input" if inputs == "self" else "no letter could be read") in res.stderr
    _untouched(corpus)


def test_the_corpus_as_input_to_another_out_reads_nothing(corpus, tmp_path):
    res = cli("ingest", corpus[0], "--out", tmp_path / "other.jsonl")
    assert res.exit_code == 2 and not (tmp_path / "other.jsonl").exists()
    _untouched(corpus)


# ---------------------------------------------------------------- 2. cut letters
def _cut_reason(text):
    with pytest.raises(SkipLetter) as err:
        parse_text(text)
    return str(err.value)


def test_a_letter_cut_mid_rationale_is_skipped_not_kept_short():
    text = letters.LETTER_2016[: letters.LETTER_2016.index("A kit adds nothing") + 10]
    assert _cut_reason(text) == ("cut off after item 2 of at least 3: "
                                 "item 3's decision rationale stops mid-sentence")


def test_a_rationale_that_swallowed_the_next_heading_is_a_cut():
    end = letters.LETTER_2016.index("Overturned", letters.LETTER_2016.index("Retrospective x-rays")) + 10
    assert "runs into another item's heading" in _cut_reason(letters.LETTER_2016[:end])


def test_a_letter_that_states_its_items_says_how_many_are_missing():
    text = letters.LETTER_NOTICE_2013[: letters.LETTER_NOTICE_2013.index("2) Regarding")]
    assert _cut_reason(text) == "cut off after item 1 of 2: item 2 is missing"
    paged = letters.LETTER_2014.replace("IMR DECISION(S)", "Page 1 of 2\nIMR DECISION(S)")
    assert _cut_reason(paged) == "cut off at page 1 of 2"


def test_a_last_sentence_that_concludes_is_whole_without_its_full_stop():
    text = letters.LETTER_2016.rstrip().removesuffix(".") + "\n"  # "... The request was medically necessary"
    rows = parse_text(text)
    assert len(rows) == 4 and rows[-1]["rationale"].endswith("was medically necessary")
    assert not any("ingest_warning" in r for r in rows)


def test_a_conclusion_that_runs_on_without_a_full_stop_is_kept_with_a_warning(tmp_path):
    text = letters.LETTER_2016.rstrip().removesuffix(".") + " given the fall and the\nnight pain\n"
    (tmp_path / "in").mkdir()
    (tmp_path / "in" / "a.txt").write_text(text)
    out = tmp_path / "c.jsonl"
    res = cli("ingest", tmp_path / "in", "--out", out)
    assert res.exit_code == 0 and "1 letters, 4 items (2 overturned, 1 kept with a warning)" in res.stdout
    assert "item 4's decision rationale ends without a full stop and may be cut short; kept" in res.stderr
    rows = read_corpus(out)
    assert len(rows) == 4 and all("may be cut short" in r["ingest_warning"] for r in rows)


def test_every_complete_layout_still_reads():
    for name in ("LETTER_2016", "LETTER_2013", "LETTER_2014", "LETTER_NOTICE_2013", "LETTER_PROFESSIONAL",
                 "LETTER_PROFESSIONAL_LABELLED"):
        assert parse_text(getattr(letters, name)), name


def test_the_most_complete_copy_wins_and_the_report_names_it(tmp_path):
    last = letters.LETTER_2016.index("Retrospective x-rays")
    (tmp_path / "a_short.txt").write_text(letters.LETTER_2016[:last])  # whole-looking, one item fewer
    (tmp_path / "b_cut.txt").write_text(letters.LETTER_2016[: last - 20])
    (tmp_path / "c_full.txt").write_text(letters.LETTER_2016)
    rows, skipped = ingest_paths([tmp_path])
    assert len(rows) == 4 and {r["source"] for r in rows} == {str(tmp_path / "c_full.txt")}
    reasons = {Path(s["source"]).name: s["reason"] for s in skipped}
    assert reasons["a_short.txt"].endswith(f"kept the more complete copy {tmp_path / 'c_full.txt'}")
    assert reasons["b_cut.txt"].startswith("cut off after item 2")
    assert reasons["b_cut.txt"].endswith(f"a complete copy was kept: {tmp_path / 'c_full.txt'}")


def test_an_invalid_date_in_a_letter_is_a_skip_reason():
    text = letters.LETTER_2016.replace("Date of Injury:  03/03/2014", "Date of Injury:  13/45/2014")
    assert _cut_reason(text) == "invalid date 13/45/2014 as Date of Injury"


# ---------------------------------------------------------------- 3. duplicates by content
def test_letters_without_case_number_are_told_apart_by_content(tmp_path):
    one = letters.LETTER_2016.replace("CM16-0000001", "")
    two = letters.LETTER_2014.replace("CM14-0000077", "")
    for folder, text in (("x", one), ("y", two), ("z", one)):
        (tmp_path / folder).mkdir()
        (tmp_path / folder / "letter.txt").write_text(text)
    rows, skipped = ingest_paths([tmp_path])
    assert len(rows) == 6 and len({r["letter_id"] for r in rows}) == 2
    assert [Path(s["source"]).parent.name for s in skipped] == ["z"]


# ---------------------------------------------------------------- 4. crashes and kills
def _dies_on_three(x):
    if x == 3:
        os._exit(9)
    return x * 10


def test_a_crashed_worker_costs_only_its_task():
    got = list(ordered_map(_dies_on_three, range(12), 2, in_flight=2, on_crash=lambda t: ("crashed", t)))
    assert got == [0, 10, 20, ("crashed", 3)] + [x * 10 for x in range(4, 12)]
    with pytest.raises(WorkerCrashed):
        list(ordered_map(_dies_on_three, range(6), 2))


def _crashing_reader(path, max_mb=20):
    if path.endswith("crash.txt"):
        os._exit(9)
    return read_record(path, max_mb)


def test_ingest_skips_a_file_whose_reader_crashes(tmp_path):
    samples = (letters.LETTER_2016, letters.LETTER_2013, letters.LETTER_2014, letters.LETTER_NOTICE_2013)
    for i, text in enumerate(samples):
        (tmp_path / f"l{i}.txt").write_text(text)
    (tmp_path / "crash.txt").write_text("anything")
    rows, skipped = ingest_paths([tmp_path], jobs=2, reader=_crashing_reader)
    assert len({r["letter_id"] for r in rows}) == 4
    assert skipped == [{"source": str(tmp_path / "crash.txt"), "reason": "reader crashed"}]


@pytest.fixture(scope="module")
def many_letters(tmp_path_factory):
    """Enough synthetic letters that `ingest --jobs 2` runs for a second or two, and the
    corpus a clean run makes of them."""
    from imr_ml.synth.generate import generate_corpus

    d = tmp_path_factory.mktemp("many")
    generate_corpus(2500, d / "letters", seed=4)
    (d / "letters" / "truth.jsonl").unlink(missing_ok=True)
    clean = d / "clean.jsonl"
    ingest_paths([d / "letters"], out=clean, jobs=2)
    return d / "letters", clean.read_text()


def _children(pid):
    """Pids whose parent is `pid` (Linux /proc)."""
    kids = []
    for p in Path("/proc").iterdir():
        try:
            if p.name.isdigit() and int((p / "stat").read_text().rsplit(")", 1)[1].split()[1]) == pid:
                kids.append(int(p.name))
        except (OSError, IndexError, ValueError):
            pass
    return kids


def _alive(pid):
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="needs Linux /proc")
@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGKILL])
def test_killed_ingest_leaves_no_workers_no_temp_and_resumes_to_the_clean_corpus(many_letters, tmp_path, sig):
    folder, clean = many_letters
    out = tmp_path / "corpus.jsonl"
    journal = Path(str(out) + ".journal")
    cmd = [sys.executable, "-m", "imr_ml", "ingest", str(folder), "--out", str(out), "--jobs", "2"]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    deadline = time.time() + 30
    while time.time() < deadline and (not journal.exists() or len(journal.read_bytes().splitlines()) < 200):
        time.sleep(0.02)
    workers = _children(proc.pid)
    assert workers and proc.poll() is None, "the run ended before it could be killed"
    proc.send_signal(sig)
    _, err = proc.communicate(timeout=20)
    assert proc.returncode != 0 and b"Traceback" not in err
    deadline = time.time() + 5
    while time.time() < deadline and any(map(_alive, workers)):
        time.sleep(0.05)
    assert not any(map(_alive, workers)), "worker processes outlived their parent"
    assert not out.exists() and not list(tmp_path.glob(".*.tmp"))  # nothing that looks finished
    done_before = len(journal.read_text().splitlines())
    res = subprocess.run(cmd, capture_output=True, timeout=60)
    assert res.returncode == 0, res.stderr
    assert out.read_text() == clean and not journal.exists()
    assert done_before >= 200


# ---------------------------------------------------------------- 5. giants
def test_a_giant_file_is_skipped_without_being_read(tmp_path):
    import tracemalloc

    giant = tmp_path / "giant.txt"
    with open(giant, "wb") as fh:
        fh.truncate(200 * 2**20)  # sparse: costs no disk
    (tmp_path / "a.txt").write_text(letters.LETTER_2016)
    tracemalloc.start()
    rows, skipped = ingest_paths([tmp_path])
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert len(rows) == 4 and peak < 20 * 2**20
    assert skipped == [{"source": str(giant), "reason": "too large for a letter (200 MB; the limit is 20 MB, "
                                                         "see --max-letter-mb)"}]
    res = cli("ingest", tmp_path / "a.txt", "--out", tmp_path / "c.jsonl", "--max-letter-mb", "0.001")
    assert res.exit_code == 2 and "too large" in res.stderr and not (tmp_path / "c.jsonl").exists()


def _flate_bomb(path: Path, mb: int, pages: int = 1) -> Path:
    """A PDF whose content stream (drawing operators) unpacks to `mb` MB, drawn on each of its
    `pages` (one stream, shared): about 1 MB of file for 500 MB. Compressed a megabyte at a
    time, so the test never holds it."""
    import zlib

    co = zlib.compressobj(9)
    unit = b"0 0 m 1 1 l S\n" * (2**20 // 14)
    stream = co.compress(b"BT /F1 12 Tf 72 700 Td (IMR letter) Tj ET\n")
    stream += b"".join(co.compress(unit) for _ in range(mb)) + co.flush()
    kids = b" ".join(b"%d 0 R" % (5 + k) for k in range(pages))
    objects = [b"<< /Type /Catalog /Pages 2 0 R >>", b"<< /Type /Pages /Kids [%s] /Count %d >>" % (kids, pages),
               b"<< /Length %d /Filter /FlateDecode >>\nstream\n" % len(stream) + stream + b"\nendstream",
               b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>"]
    objects += [b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 3 0 R "
                b"/Resources << /Font << /F1 4 0 R >> >> >>"] * pages
    pdf, offsets = bytearray(b"%PDF-1.4\n"), []
    for i, obj in enumerate(objects, 1):
        offsets.append(len(pdf))
        pdf += b"%d 0 obj\n" % i + obj + b"\nendobj\n"
    xref = len(pdf)
    pdf += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    pdf += b"".join(b"%010d 00000 n \n" % o for o in offsets)
    pdf += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref)
    path.write_bytes(bytes(pdf))
    return path


def test_a_pdf_that_unpacks_beyond_the_memory_budget_is_skipped_with_its_reason(tmp_path):
    """The issue's case: a small PDF whose Flate stream unpacks to 500 MB (50 s and 8.5 GB
    before). Its reader process hits the budget; the letter is skipped, the others kept."""
    from imr_ml.synth.generate import iter_letters, write_pdf

    d = tmp_path / "in"
    d.mkdir()
    bomb = _flate_bomb(d / "bomb.pdf", 500)
    assert bomb.stat().st_size < 2 * 2**20
    (d / "a.txt").write_text(letters.LETTER_2016)
    [(_, text, truth)] = list(iter_letters(1, seed=4))
    write_pdf(text, d / "good.pdf")
    res = cli("ingest", d, "--out", tmp_path / "c.jsonl")
    assert res.exit_code == 0, res.output
    rows = [json.loads(line) for line in (tmp_path / "c.jsonl").read_text().splitlines()]
    assert len(rows) == len(parse_text(letters.LETTER_2016)) + len(truth)
    skipped = [json.loads(line) for line in (tmp_path / "c.jsonl.skipped.jsonl").read_text().splitlines()]
    assert [(Path(s["source"]).name, s["reason"]) for s in skipped] == [
        ("bomb.pdf", "PDF needs more than 512 MB to read (the memory budget of a letter; a decompression bomb?)")]


def test_a_pdf_not_read_within_the_time_budget_is_skipped_and_the_next_is_read(tmp_path, monkeypatch):
    """1,000 pages that each draw the same 2 MB of operators: small in memory, minutes of work.
    With a budget of 1 s (30 s by default) it is skipped, and the next PDF reads."""
    from imr_ml.letters import pdfread
    from imr_ml.synth.generate import iter_letters, write_pdf

    [(_, text, _)] = list(iter_letters(1, seed=4))
    write_pdf(text, tmp_path / "good.pdf")
    slow = _flate_bomb(tmp_path / "slow.pdf", 2, pages=1000)
    monkeypatch.setattr(pdfread, "TIME_BUDGET", 1.0)
    with pytest.raises(SkipLetter, match=r"PDF not read within 1 s \(the time budget of a letter\)"):
        parse_file(slow)
    assert parse_file(tmp_path / "good.pdf")


# ---------------------------------------------------------------- 6. every odd path reported
def test_links_fifos_and_unreadable_folders_are_reported_not_hung_on(tmp_path):
    d = tmp_path / "in"
    d.mkdir()
    (d / "good.txt").write_text(letters.LETTER_2016)
    os.mkfifo(d / "pipe.txt")
    (d / "dangling.txt").symlink_to(d / "nowhere.txt")
    (d / "self.txt").symlink_to(d / "self.txt")
    (d / "loop").symlink_to(d)
    locked = d / "locked"
    locked.mkdir()
    locked.chmod(0)
    try:
        out = tmp_path / "c.jsonl"
        res = {}
        t = threading.Thread(target=lambda: res.update(r=ingest_paths([d], out=out)), daemon=True)
        t.start()
        t.join(20)
        assert not t.is_alive(), "ingest hung"
    finally:
        locked.chmod(0o755)
    records = map(json.loads, Path(str(out) + ".skipped.jsonl").read_text().splitlines())
    report = {Path(s["source"]).name: s["reason"] for s in records}
    assert report["pipe.txt"] == "not a regular file (FIFO)"
    assert report["dangling.txt"] == "dangling symbolic link"
    assert report["self.txt"] == "symbolic link loop"
    assert report["loop"].startswith("folder already searched")
    if not ROOT:  # root reads any folder
        assert report["locked"].startswith("cannot read folder")
    assert len(res["r"][0]) == 4


def test_an_unreadable_folder_is_reported_also_when_tests_run_as_root():
    """Root reads any folder: the command runs as an unprivileged user (see `confined`)."""
    from confined import unprivileged

    with unprivileged() as u:
        (u.folder / "good.txt").write_text(letters.LETTER_2016)
        (u.folder / "locked").mkdir(mode=0)
        (u.folder / "locked").chmod(0)
        res = u.run("ingest", u.folder, "--out", u.writable / "c.jsonl")
        assert res.returncode == 0, res.stderr
        skipped = [json.loads(line) for line in (u.writable / "c.jsonl.skipped.jsonl").read_text().splitlines()]
        assert [(Path(s["source"]).name, s["reason"]) for s in skipped] == [
            ("locked", "cannot read folder (Permission denied)")]


# ---------------------------------------------------------------- 7. bad --out, bad corpus lines
@pytest.mark.parametrize("where, message", [
    ("missing/c.jsonl", "folder of --out does not exist"),
    ("file.txt/c.jsonl", "folder of --out is not a folder"),
    ("folder.jsonl", "is a folder"),
])
def test_an_unusable_out_is_one_line(tmp_path, where, message):
    (tmp_path / "file.txt").write_text("x")
    (tmp_path / "folder.jsonl").mkdir()
    (tmp_path / "a.txt").write_text(letters.LETTER_2016)
    res = cli("ingest", tmp_path / "a.txt", "--out", tmp_path / where)
    assert res.exit_code == 2 and message in res.stderr


def test_a_read_only_out_folder_is_one_line(tmp_path):
    """Also as root (CI): the command runs as an unprivileged user or on a read-only mount."""
    from confined import read_only_folder

    (tmp_path / "a.txt").write_text(letters.LETTER_2016)
    with read_only_folder() as ro:
        res = ro.run("ingest", ro.put(tmp_path / "a.txt"), "--out", ro.folder / "c.jsonl")
        assert res.returncode == 2 and res.stderr.startswith("error: ") and "cannot write" in res.stderr
        assert res.stderr.count("\n") == 1 and list(ro.folder.iterdir()) == []


@pytest.mark.parametrize("line, message", [
    ('{"item": "x", ', "line 2: not JSON"),
    ('["a list"]', "line 2: a row must be a JSON object, not list"),
    ('{"item_index": "x"}', "line 2: item_index must be a whole number, not 'x'"),
    ('{"item_index": 0, "date_of_injury": "2019-13-45"}', "line 2: date_of_injury '2019-13-45' is not a date"),
])
def test_a_bad_corpus_line_is_named_by_file_and_line(corpus, tmp_path, line, message):
    bad = tmp_path / "bad.jsonl"
    bad.write_text(corpus[0].read_text().splitlines()[0] + "\n" + line + "\n")
    with pytest.raises(CorpusError, match=f"{bad} {message}"):
        read_corpus(bad)
    with pytest.raises(NoRows, match=message):
        load_rows([bad])
    res = cli("reasons", bad, "--out", tmp_path / "r")
    assert res.exit_code == 2 and message in res.stderr


# ---------------------------------------------------------------- 8. version, swapped arguments
def test_version_and_swapped_arguments(corpus, tmp_path):
    res = cli("--version")
    assert res.exit_code == 0 and res.stdout.strip() == "0.1.0"
    (tmp_path / "model").mkdir()
    res = cli("evaluate", corpus[0], tmp_path / "model")
    assert res.exit_code == 2 and "did you swap MODEL_DIR and CORPUS?" in res.stderr
    res = cli("evaluate", tmp_path / "model", corpus[0], "--out", corpus[0])
    assert res.exit_code == 2 and "overwrite the input" in res.stderr
    _untouched(corpus)


# ---------------------------------------------------------------- 9. concurrent writers
def test_a_second_ingest_to_the_same_out_is_refused_while_one_runs(corpus, tmp_path):
    import fcntl

    with open(str(corpus[0]) + ".journal", "a") as held:
        fcntl.flock(held, fcntl.LOCK_EX)
        with pytest.raises(IngestError, match="another ingest is writing"):
            ingest_paths([tmp_path / "in"], out=corpus[0])
    _untouched(corpus)


def test_concurrent_atomic_writes_never_interleave(tmp_path):
    target = tmp_path / "t.txt"
    texts = [str(i) * 200_000 for i in range(6)]
    threads = [threading.Thread(target=atomic_write_text, args=(t, target)) for t in texts]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert target.read_text() in texts and not list(tmp_path.glob(".*.tmp"))


def test_a_killed_writers_temp_file_is_removed_by_the_next(tmp_path):
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    orphan = tmp_path / f".t.txt.{dead.stdout.strip()}.abc.tmp"
    orphan.write_text("half")
    atomic_write_text("whole", tmp_path / "t.txt")
    assert not orphan.exists() and (tmp_path / "t.txt").read_text() == "whole"
