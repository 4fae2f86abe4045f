"""Faults a careless user makes in requests and rows (issue #21): a date typo, a file whose
columns are named otherwise, a row that repeats or contradicts another, text that is not
text, an input that never ends, a disk that fills up. Each ends in one `error:` line with
exit status 2 (a 4xx answer on the server), or in a warning when the input is odd but
usable, and nothing the user had is lost or left behind. `pytest -m faults` runs these."""

from __future__ import annotations

import base64
import json
import multiprocessing
import re
import resource
import signal
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

import imr_ml
from imr_ml import pool
from imr_ml.cli import app
from imr_ml.dates import DateError, date_warnings, read_date
from imr_ml.letters.ingest import read_corpus
from imr_ml.scoring.score import request_row
from imr_ml.web.app import create_app

pytestmark = pytest.mark.faults

SUMMARY = ("58-year-old woman who fell at work. Right shoulder pain and weakness, drop arm test positive, "
           "x-rays negative. Failed six weeks of physical therapy and NSAIDs; pain limits overhead reaching.")
ITEM = "MRI right shoulder"
BAD_DATES = ["13/45/2019", "02/30/2019", "99/99/9999", "2019-02-30", "garbage"]


def invoke(*args, input=None):
    return CliRunner().invoke(app, [str(a) for a in args], input=input)


def assert_refused(res, *words):
    """Exit 2, stderr exactly one `error:` line holding every word, no traceback."""
    lines = res.stderr.strip().splitlines()
    assert res.exit_code == 2, (res.exit_code, res.output, res.exception)
    assert len(lines) == 1 and lines[0].startswith("error: "), res.stderr
    assert "Traceback" not in res.output + res.stderr
    for w in words:
        assert w in lines[0], lines[0]
    return lines[0]


def leftovers(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir())


@pytest.fixture()
def notes(tmp_path) -> Path:
    path = tmp_path / "notes.txt"
    path.write_text(SUMMARY, encoding="utf-8")
    return path


FORM = "form-token-for-tests"  # the pages' CSRF token, given to create_app


@pytest.fixture(scope="module")
def client():
    return TestClient(create_app("builtin", form_secret=FORM), base_url="http://127.0.0.1:8000")


def write_csv(path: Path, rows: list[dict]) -> Path:
    pd.DataFrame(rows).to_csv(path, index=False)
    return path


# ---------------------------------------------------------------- 1. one date reader
@pytest.mark.parametrize("typed", ["03/04/2019", "3/4/2019", "03-04-2019", "3/4/19", "2019-03-04",
                                   " 2019-03-04 00:00:00 ", "2019-03-04T00:00:00Z"])
def test_every_form_of_a_date_reads_as_the_same_day(typed):
    assert read_date(typed, "date_of_injury") == "2019-03-04"
    assert request_row(SUMMARY, ITEM, date_of_injury=typed)["date_of_injury"] == "2019-03-04"


def test_two_digit_years_are_the_latest_such_year_not_in_the_future():
    assert read_date("3/4/85") == "1985-03-04" and read_date("3/4/05") == "2005-03-04"


@pytest.mark.parametrize("bad", BAD_DATES)
def test_a_date_that_is_no_day_is_refused_naming_field_and_value(bad):
    with pytest.raises(DateError) as err:
        request_row(SUMMARY, ITEM, ur_denial_date=bad)
    assert str(err.value).startswith(f"ur_denial_date {bad!r} is not a date")


@pytest.mark.parametrize("command", ["score", "explain"])
@pytest.mark.parametrize("option", ["--date-of-injury", "--ur-denial-date"])
@pytest.mark.parametrize("bad", BAD_DATES)
def test_a_date_typo_on_the_command_line_is_one_line(command, option, bad, notes, tmp_path):
    out = ["--out", tmp_path / "s.csv"] if command == "score" else ["--html", tmp_path / "e.html"]
    res = invoke(command, "builtin", "--item", ITEM, "--summary-file", notes, option, bad, *out)
    assert_refused(res, option, repr(bad))
    assert leftovers(tmp_path) == ["notes.txt"]


def test_a_date_typo_in_a_csv_names_file_row_and_its_own_column(tmp_path):
    path = write_csv(tmp_path / "claims.csv", [{"Notes": SUMMARY, "Treatment": ITEM, "DOI": "03/04/2019"},
                                               {"Notes": SUMMARY, "Treatment": ITEM, "DOI": "02/30/2019"}])
    res = invoke("score", "builtin", path, "--columns", "summary=Notes,item=Treatment,date_of_injury=DOI",
                 "--out", tmp_path / "s.csv")
    assert_refused(res, f"{path} row 2: DOI '02/30/2019' is not a date: February 2019 has no day 30")
    assert leftovers(tmp_path) == ["claims.csv"]


def _corpus_row(**dates) -> dict:
    return {"letter_id": "L1", "item_index": 0, "summary": SUMMARY, "item": ITEM} | dates


@pytest.mark.parametrize("bad", ["2019-02-30", "13/45/2019", "garbage"])
def test_a_date_typo_in_a_corpus_names_file_and_line(bad, tmp_path):
    path = tmp_path / "c.jsonl"
    path.write_text(json.dumps(_corpus_row()) + "\n" + json.dumps(_corpus_row(date_of_injury=bad)) + "\n")
    assert_refused(invoke("score", "builtin", path), f"{path} line 2: date_of_injury {bad!r} is not a date")


def test_corpus_and_parquet_rows_take_us_dates_and_date_columns(tmp_path):
    jsonl = tmp_path / "c.jsonl"
    jsonl.write_text(json.dumps(_corpus_row(date_of_injury="3/4/2019", ur_denial_date="05-06-2020")) + "\n")
    parquet = tmp_path / "c.parquet"
    pd.DataFrame([_corpus_row(date_of_injury=pd.Timestamp("2019-03-04"), ur_denial_date="2020-05-06")]).to_parquet(
        parquet)
    for path in (jsonl, parquet):
        (row,) = read_corpus(path)
        assert row["date_of_injury"] == "2019-03-04" and row["ur_denial_date"] == ("2020-05-06")
        res = invoke("score", "builtin", path, "--json")
        assert res.exit_code == 0, res.output
        assert json.loads(res.stdout)[0]["warnings"] == []


@pytest.mark.parametrize("bad", BAD_DATES)
def test_the_json_api_answers_a_date_typo_with_a_4xx(client, bad):
    res = client.post("/v1/score", json={"summary": SUMMARY, "item": ITEM, "date_of_injury": bad})
    assert res.status_code == 422
    assert res.json()["error"].startswith(f"date_of_injury {bad!r} is not a date")


def test_the_form_and_the_batch_page_answer_a_date_typo_with_a_page(client):
    res = client.post("/", data={"summary": SUMMARY, "item": ITEM, "date_of_injury": "13/45/2019", "csrf_token": FORM})
    assert res.status_code == 422 and res.headers["content-type"].startswith("text/html")
    assert "there is no month 13" in res.text and SUMMARY in res.text  # the form stays filled
    upload = f'summary,item,ur_denial_date\n"{SUMMARY}",{ITEM},2019-02-30\n'
    res = client.post("/batch", files={"file": ("claims.csv", upload.encode())}, data={"csrf_token": FORM})
    assert res.status_code == 422 and res.headers["content-type"].startswith("text/html")
    assert "claims.csv row 1: ur_denial_date &#39;2019-02-30&#39; is not a date" in res.text


def test_dates_in_an_unlikely_order_are_scored_with_a_warning(notes, client):
    res = invoke("score", "builtin", "--item", ITEM, "--summary-file", notes, "--date-of-injury", "06/01/2020",
                 "--ur-denial-date", "1/2/2020", "--json")
    assert res.exit_code == 0 and "1 of 1 items have a date of injury after the UR denial date" in res.stderr
    result = json.loads(res.stdout)
    assert result["p_overturned"] is not None
    assert [w["kind"] for w in result["warnings"]] == ["injury_after_denial"]
    answer = client.post("/v1/score", json={"summary": SUMMARY, "item": ITEM, "ur_denial_date": "2999-01-01"}).json()
    assert answer["p_overturned"] is not None and [w["kind"] for w in answer["warnings"]] == ["future_date"]
    page = client.post("/", data={"summary": SUMMARY, "item": ITEM, "ur_denial_date": "2999-01-01", "csrf_token": FORM})
    assert page.status_code == 200 and "the UR denial date 2999-01-01 is in the future" in page.text


def test_date_warnings_name_each_unlikely_date():
    row = {"date_of_injury": "0019-03-04", "ur_denial_date": "2030-01-01"}
    kinds = [w["kind"] for w in date_warnings(row, today=pd.Timestamp("2025-01-01").date())]
    assert kinds == ["early_date", "future_date"]
    assert date_warnings({"date_of_injury": "2019-01-01", "ur_denial_date": "2019-01-01"}) == []


def test_the_python_api_raises_the_date_error():
    model = imr_ml.load_model("builtin")
    with pytest.raises(ValueError, match="^requests row 1: date_of_injury '13/45/2019' is not a date"):
        model.score({"summary": SUMMARY, "item": ITEM, "date_of_injury": "13/45/2019"})


# ---------------------------------------------------------------- 2. the Python API and ids
CLAIMS = [{"Notes": SUMMARY, "Treatment": ITEM, "ClaimNo": "C-1"},
          {"Notes": SUMMARY, "Treatment": "Acupuncture 2x6 lumbar", "ClaimNo": "C-2"}]
MAPPING = {"summary": "Notes", "item": "Treatment"}


def test_the_python_api_refuses_unusable_columns_as_the_cli_does(tmp_path):
    model = imr_ml.load_model("builtin")
    with pytest.raises(ValueError) as err:
        model.score(pd.DataFrame(CLAIMS))
    assert str(err.value) == ("the DataFrame needs columns summary, item (missing summary, item; it has Notes, "
                              "Treatment, ClaimNo; map yours with columns={'summary': COL, 'item': COL})")
    with pytest.raises(ValueError, match="^requests needs columns summary, item"):
        model.explain(CLAIMS)
    path = write_csv(tmp_path / "claims.csv", CLAIMS)
    line = assert_refused(invoke("score", "builtin", path))
    assert line == (f"error: {path} needs columns summary, item (missing summary, item; it has Notes, Treatment, "
                    "ClaimNo; map yours with --columns summary=COL,item=COL)")


def test_the_python_api_maps_columns_and_keeps_the_id_under_its_name():
    model = imr_ml.load_model("builtin")
    frame = model.score(pd.DataFrame(CLAIMS), columns=MAPPING, id_col="ClaimNo")
    assert list(frame.columns)[0] == "ClaimNo" and "id" not in frame.columns
    assert list(frame["ClaimNo"]) == ["C-1", "C-2"] and frame["p_overturned"].notna().all()
    (one,) = model.explain([CLAIMS[0]], columns=MAPPING, id_col="ClaimNo")
    assert one["ClaimNo"] == "C-1" and one["explanation"]["groups"]
    with pytest.raises(ValueError, match="has no column 'Claim' for id_col"):
        model.score(CLAIMS, columns=MAPPING, id_col="Claim")


def test_an_id_column_named_like_a_result_field_is_refused(tmp_path):
    path = write_csv(tmp_path / "claims.csv", [r | {"verdict": "x"} for r in CLAIMS])
    assert_refused(invoke("score", "builtin", path, "--columns", "summary=Notes,item=Treatment", "--id-col",
                          "verdict"), "--id-col 'verdict' is also the name of a result field")
    with pytest.raises(ValueError, match="id_col 'verdict'"):
        imr_ml.load_model("builtin").score(pd.DataFrame(CLAIMS), columns=MAPPING, id_col="verdict")


def test_the_id_keeps_its_name_in_json_and_the_web_download(tmp_path, client):
    path = write_csv(tmp_path / "claims.csv", CLAIMS)
    res = invoke("score", "builtin", path, "--columns", "summary=Notes,item=Treatment", "--id-col", "ClaimNo",
                 "--json")
    assert res.exit_code == 0, res.output
    assert [(list(r)[0], r["ClaimNo"]) for r in json.loads(res.stdout)] == [("ClaimNo", "C-1"), ("ClaimNo", "C-2")]
    upload = path.read_bytes()
    page = client.post("/batch", files={"file": ("claims.csv", upload)},
                       data={"summary_column": "Notes", "item_column": "Treatment", "id_column": "ClaimNo",
                             "csrf_token": FORM}).text
    csv_text = base64.b64decode(re.search(r"base64,([^\"]+)\"", page).group(1)).decode()
    assert csv_text.splitlines()[0].startswith("ClaimNo,item,") and "\nC-2,Acupuncture" in csv_text


def test_corpus_requests_take_columns_and_ids(tmp_path):
    path = tmp_path / "claims.jsonl"
    path.write_text("".join(json.dumps(r | {"DOI": "3/4/2019"}) + "\n" for r in CLAIMS))
    assert_refused(invoke("score", "builtin", path), f"{path} needs fields summary, item (no row has summary, item")
    res = invoke("score", "builtin", path, "--columns", "summary=Notes,item=Treatment,date_of_injury=DOI",
                 "--id-col", "ClaimNo", "--json")
    assert res.exit_code == 0, res.output
    assert [r["ClaimNo"] for r in json.loads(res.stdout)] == ["C-1", "C-2"]


def test_explain_takes_id_col_and_says_when_it_shows_fewer_than_given(tmp_path):
    path = write_csv(tmp_path / "claims.csv", [{"Notes": SUMMARY, "Treatment": ITEM, "ClaimNo": f"C-{i}"}
                                               for i in range(60)])
    html = tmp_path / "why.html"
    res = invoke("explain", "builtin", path, "--columns", "summary=Notes,item=Treatment", "--id-col", "ClaimNo",
                 "--html", html, "--json")
    assert res.exit_code == 0, res.output
    got = json.loads(res.stdout)
    assert [r["ClaimNo"] for r in got] == [f"C-{i}" for i in range(50)]
    assert res.stderr.strip() == ("warning: explaining the first 50 of 60 items; "
                                  "`imr-ml score --out FILE` scores them all")
    page = html.read_text()
    assert "The first 50 of the 60 requests given are explained here" in page and "C-49: MRI right shoulder" in page


def test_signals_takes_typed_requests_like_score(tmp_path, notes):
    path = write_csv(tmp_path / "claims.csv", CLAIMS)
    res = invoke("signals", path, "--columns", "summary=Notes,item=Treatment", "--id-col", "ClaimNo", "--json")
    assert res.exit_code == 0, res.output
    records = json.loads(res.stdout)
    assert [r["ClaimNo"] for r in records] == ["C-1", "C-2"] and records[0]["signals"]["category"]["value"] == \
        "imaging_mri"
    one = invoke("signals", "--item", ITEM, "--summary-file", notes, "--json")
    assert one.exit_code == 0 and json.loads(one.stdout)[0]["signals"] == records[0]["signals"]
    piped = invoke("signals", "--item", ITEM, input=SUMMARY)
    assert piped.exit_code == 0 and "imaging_mri" in piped.stdout
    assert_refused(invoke("signals", path), "needs columns summary, item")
    assert_refused(invoke("signals", "--item", ITEM, "--summary-file", notes, "--date-of-injury", "2019-02-30"),
                   "--date-of-injury '2019-02-30'")


# ---------------------------------------------------------------- 4. synth never rewrites truth
def snapshot(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir())}


def test_synth_refuses_another_range_into_a_folder_and_keeps_its_truth(tmp_path):
    out = tmp_path / "synth"
    assert invoke("synth", "-n", "20", "--out", out).exit_code == 0
    before = snapshot(out)
    assert_refused(invoke("synth", "-n", "20", "--start", "100", "--out", out),
                   "already holds letters 0-19 of seed 0", "write letters 100-119 to a new folder")
    assert_refused(invoke("synth", "-n", "20", "--seed", "4", "--out", out), "already holds letters 0-19")
    assert snapshot(out) == before and leftovers(tmp_path) == ["synth"]
    again = invoke("synth", "-n", "20", "--out", out)  # the same run: the same letters, already there
    assert again.exit_code == 0 and "already there: nothing written" in again.stdout and snapshot(out) == before


def test_synth_refuses_a_folder_that_holds_anything_else(tmp_path):
    (tmp_path / "mine").mkdir()
    (tmp_path / "mine" / "notes.txt").write_text("keep me")
    assert_refused(invoke("synth", "-n", "5", "--out", tmp_path / "mine"), "is not empty")
    assert snapshot(tmp_path / "mine") == {"notes.txt": b"keep me"}
    (tmp_path / "empty").mkdir()
    assert invoke("synth", "-n", "5", "--out", tmp_path / "empty").exit_code == 0  # an empty folder is new enough
    assert len(list((tmp_path / "empty").glob("*.txt"))) == 5


def _truth_matches_letters(out: Path) -> None:
    ids = {json.loads(line)["letter_id"] for line in (out / "truth.jsonl").read_text().splitlines()}
    assert ids == {p.stem for p in out.glob("*.txt")} and all(p.stat().st_size for p in out.glob("*.txt"))
    assert json.loads((out / "dgp.json").read_text())["n_letters"] == len(ids)


def test_an_interrupted_synth_leaves_no_folder(tmp_path):
    from imr_ml.synth.generate import generate_corpus

    def stop(n):
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        generate_corpus(300, tmp_path / "synth", progress=stop)
    assert leftovers(tmp_path) == []


@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="needs Linux /proc")
def test_a_killed_synth_leaves_nothing_that_looks_finished(tmp_path):
    out = tmp_path / "synth"
    code = "import sys; from imr_ml.cli import app; sys.argv = ['imr-ml', *sys.argv[1:]]; app()"
    proc = subprocess.Popen([sys.executable, "-c", code, "synth", "-n", "20000", "--out", str(out)])
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and not any(p.name.endswith(".tmp") and any(p.iterdir())
                                                  for p in tmp_path.iterdir()):
        time.sleep(0.05)
    proc.send_signal(signal.SIGKILL)
    proc.wait(30)
    assert not out.exists() and [p.name for p in tmp_path.iterdir() if p.name.endswith(".tmp")]
    assert invoke("synth", "-n", "30", "--out", out).exit_code == 0  # the next run cleans up after the killed one
    assert leftovers(tmp_path) == ["synth"]
    _truth_matches_letters(out)


# ---------------------------------------------------------------- 5. a full disk
def _file_size_limit(limit: int):
    """preexec_fn: files of the child (and its workers) stop growing at `limit` bytes, as on
    a full disk (EFBIG instead of ENOSPC: a tmpfs needs root); SIGXFSZ is ignored so that
    the write fails instead of killing the process."""
    def apply():
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))
    return apply


def _processes_with(token: str) -> list[int]:
    """Pids of live processes whose command line holds `token` (forked workers share it)."""
    pids = []
    for d in Path("/proc").iterdir():
        try:
            if d.name.isdigit() and token in (d / "cmdline").read_bytes().decode(errors="replace"):
                pids.append(int(d.name))
        except OSError:
            continue
    return pids


def _run_cli(*args, limit: int, cwd: Path, timeout: float = 300):
    code = "import sys; from imr_ml.cli import app; sys.argv = ['imr-ml', *sys.argv[1:]]; app()"
    return subprocess.run([sys.executable, "-c", code, *map(str, args)], cwd=cwd, capture_output=True, text=True,
                          timeout=timeout, preexec_fn=_file_size_limit(limit))


@pytest.mark.skipif(not Path("/proc/self/stat").exists() or pool.usable_cores() < 2,
                    reason="needs Linux /proc and two cores (score's workers)")
def test_score_on_a_full_disk_ends_with_one_line_and_no_workers(tmp_path):
    rows = [{"summary": f"{SUMMARY} Visit {i}.", "item": ITEM, "ClaimNo": f"C{i}"} for i in range(2600)]
    write_csv(tmp_path / "big.csv", rows)
    out = f"scores-{tmp_path.name}.csv"  # a token that names this run's processes
    # (it hung in about one run in five: exit races the pool the failed write left behind)
    res = _run_cli("score", "builtin", "big.csv", "--out", out, "--jobs", "2", limit=64_000, cwd=tmp_path)
    assert res.returncode == 2, res.stderr
    assert res.stderr.strip() == f"error: cannot write {out}: File too large", res.stderr
    assert leftovers(tmp_path) == ["big.csv"]
    assert _processes_with(out) == []


@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="needs Linux /proc")
def test_ingest_on_a_full_disk_removes_its_journal_so_a_rerun_works(tmp_path):
    from imr_ml.synth.generate import generate_corpus

    generate_corpus(120, tmp_path / "letters", seed=2)
    res = _run_cli("ingest", "letters", "--out", "c.jsonl", "--jobs", "2", limit=100_000, cwd=tmp_path)
    assert res.returncode == 2
    assert res.stderr.strip() == ("error: cannot write c.jsonl: File too large; its journal was removed to free the "
                                  "space it took, so a rerun reads every letter again")
    assert leftovers(tmp_path) == ["letters"]
    again = _run_cli("ingest", "letters", "--out", "c.jsonl", limit=2**30, cwd=tmp_path)
    assert again.returncode == 0, again.stderr
    assert len(read_corpus(tmp_path / "c.jsonl")) > 120 and not (tmp_path / "c.jsonl.journal").exists()


def _sleep_forever(task):
    if task:
        time.sleep(3600)
    return task


def test_a_pool_stopped_early_ends_its_workers_even_when_a_task_never_ends(monkeypatch):
    monkeypatch.setattr(pool, "STOP_GRACE_SECONDS", 0.5)
    t0 = time.monotonic()
    results = pool.ordered_map(_sleep_forever, [0, 1, 1, 1], 2)
    with pytest.raises(OSError):
        for _ in results:
            raise OSError(28, "No space left on device")  # the consumer fails: a full disk
    results.close()
    assert time.monotonic() - t0 < 30
    assert not [p for p in multiprocessing.active_children() if p.is_alive()]


# ---------------------------------------------------------------- 6. rows that are no rows
@pytest.fixture(scope="module")
def corpus_rows() -> list[dict]:
    from imr_ml.letters.ingest import parse_text
    from imr_ml.synth.generate import iter_letters

    return [r for lid, text, _ in iter_letters(40, seed=5) for r in parse_text(text, f"{lid}.txt")]


def write_rows(path: Path, rows: list) -> Path:
    path.write_text("".join((r if isinstance(r, str) else json.dumps(r)) + "\n" for r in rows), encoding="utf-8")
    return path


TRAIN = ["--no-estimate", "--prior-weight", "0.3", "--folds", "2"]


def test_a_lone_surrogate_in_a_row_is_one_line(corpus_rows, tmp_path):
    rows = [dict(r) for r in corpus_rows]
    rows[3]["summary"] = rows[3]["summary"][:10] + "\ud800" + rows[3]["summary"][10:]
    path = write_rows(tmp_path / "c.jsonl", rows)  # json.dumps writes it as the escape \ud800, as such files hold it
    for args in (["train", path, "--out", tmp_path / "m", *TRAIN],
                 ["score", "builtin", path, "--out", tmp_path / "s.csv"]):
        assert_refused(invoke(*args), f"{path} line 4: summary holds a lone surrogate (\\ud800 at character 10)")
    assert leftovers(tmp_path) == ["c.jsonl"]


def test_rows_without_any_summary_are_one_line(corpus_rows, tmp_path):
    path = write_rows(tmp_path / "c.jsonl", [{k: v for k, v in r.items() if k != "summary"} for r in corpus_rows])
    assert_refused(invoke("train", path, "--out", tmp_path / "m", *TRAIN),
                   f"no row of the {len(corpus_rows)} has a clinical summary")
    assert_refused(invoke("score", "builtin", path), "needs fields summary, item (no row has summary")
    assert leftovers(tmp_path) == ["c.jsonl"]


def test_a_row_nested_a_hundred_thousand_deep_is_one_line(corpus_rows, tmp_path):
    path = write_rows(tmp_path / "c.jsonl", [corpus_rows[0], "[" * 100_000 + "]" * 100_000])
    assert_refused(invoke("score", "builtin", path), f"{path} line 2: nested too deeply to be a row")
    assert_refused(invoke("train", path, "--out", tmp_path / "m", *TRAIN), "nested too deeply")


@pytest.mark.skipif(not Path("/dev/zero").exists(), reason="needs /dev/zero")
def test_a_summary_file_that_never_ends_is_one_line(tmp_path):
    assert_refused(invoke("score", "builtin", "--item", ITEM, "--summary-file", "/dev/zero"),
                   "--summary-file /dev/zero is longer than 1,000,000 characters")
    (tmp_path / "nul.txt").write_bytes(b"\0" * 100)
    assert_refused(invoke("score", "builtin", "--item", ITEM, "--summary-file", tmp_path / "nul.txt"),
                   "is not text (it holds NUL bytes)")
    assert_refused(invoke("score", "builtin", "--item", ITEM, input="x" * 1_000_001),
                   "the summary on stdin is longer than 1,000,000 characters")


def test_duplicate_rows_are_read_once_and_said(corpus_rows, tmp_path):
    path = write_rows(tmp_path / "c.jsonl", corpus_rows + corpus_rows[:5])
    res = invoke("score", "builtin", path, "--json")
    assert res.exit_code == 0 and len(json.loads(res.stdout)) == len(corpus_rows)
    assert "warning: 5 duplicate rows (the same letter, item and content as an earlier row) read once" in res.stderr
    model = tmp_path / "m"
    res = invoke("train", path, "--out", model, *TRAIN)
    assert res.exit_code == 0 and "warning: 5 duplicate rows" in res.stderr
    assert json.loads((model / "manifest.json").read_text())["data"]["n_items"] == len(corpus_rows)
    twice = invoke("score", "builtin", path, path, "--json")  # the same corpus given twice
    assert twice.exit_code == 0 and len(json.loads(twice.stdout)) == len(corpus_rows)


def test_conflicting_rows_of_one_item_are_refused(corpus_rows, tmp_path):
    changed = dict(corpus_rows[0], item="Something else entirely")
    path = write_rows(tmp_path / "c.jsonl", [*corpus_rows, changed])
    where = f"{path} row 1 and {path} row {len(corpus_rows) + 1} are both letter {changed['letter_id']} item 0"
    for args in (["train", path, "--out", tmp_path / "m", *TRAIN], ["score", "builtin", path],
                 ["reasons", path, "--out", tmp_path / "r"]):
        assert_refused(invoke(*args), where, "with different content")
    assert leftovers(tmp_path) == ["c.jsonl"]


def test_a_threshold_outside_0_1_is_refused():
    from imr_ml.modeling.modelfiles.modelio import load_model_dir
    from imr_ml.scoring.operating import with_threshold

    loaded = load_model_dir("builtin")
    for bad in (2.5, -0.1, float("nan"), "0.3"):
        with pytest.raises(ValueError, match="is not a probability between 0 and 1"):
            with_threshold(loaded, bad)
    res = invoke("score", "builtin", "--item", ITEM, "--threshold", "2.5", input=SUMMARY)
    assert res.exit_code == 2 and "2.5" not in res.stdout


def test_too_many_jobs_are_capped_to_the_cores_and_said(tmp_path, corpus_rows):
    cores = pool.usable_cores()
    path = write_rows(tmp_path / "c.jsonl", corpus_rows)
    res = invoke("score", "builtin", path, "--jobs", "300", "--out", tmp_path / "s.csv")
    assert res.exit_code == 0
    assert res.stderr.strip() == f"warning: --jobs 300 capped to {cores}, the cores this command may use"
    assert pool.worker_count(300) == cores and pool.worker_count(0) == cores and pool.worker_count(1) == 1
    assert_refused(invoke("ingest", tmp_path, "--out", tmp_path / "x.jsonl", "--jobs", "-3"), "--jobs must be 0")


def test_a_csv_that_repeats_a_request_is_scored_row_by_row_and_said(tmp_path):
    rows = [{"summary": SUMMARY, "item": ITEM}] * 3 + [{"summary": SUMMARY, "item": "Acupuncture 2x6 lumbar"}]
    path = write_csv(tmp_path / "claims.csv", rows)
    res = invoke("score", "builtin", path, "--json")
    assert res.exit_code == 0 and len(json.loads(res.stdout)) == 4
    assert res.stderr.strip() == (f"warning: 2 rows of {path} repeat an earlier request exactly "
                                  "(each is scored, and counted, again)")
    ids = write_csv(tmp_path / "ids.csv", [r | {"ClaimNo": f"C-{i}"} for i, r in enumerate(rows)])
    assert invoke("score", "builtin", ids, "--id-col", "ClaimNo").stderr == ""  # own ids: different requests
