"""Faults a careless user makes in requests and rows (issue #21): a date typo, a file whose
columns are named otherwise, a row that repeats or contradicts another, text that is not
text, an input that never ends, a disk that fills up. Each ends in one `error:` line with
exit status 2 (a 4xx answer on the server), or in a warning when the input is odd but
usable, and nothing the user had is lost or left behind. `pytest -m faults` runs these."""

from __future__ import annotations

import base64
import json
import re
from pathlib import Path

import pandas as pd
import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

import imr_ml
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


@pytest.fixture(scope="module")
def client():
    return TestClient(create_app("builtin"))


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
    res = client.post("/", data={"summary": SUMMARY, "item": ITEM, "date_of_injury": "13/45/2019"})
    assert res.status_code == 422 and res.headers["content-type"].startswith("text/html")
    assert "there is no month 13" in res.text and SUMMARY in res.text  # the form stays filled
    upload = f'summary,item,ur_denial_date\n"{SUMMARY}",{ITEM},2019-02-30\n'
    res = client.post("/batch", files={"file": ("claims.csv", upload.encode())})
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
    page = client.post("/", data={"summary": SUMMARY, "item": ITEM, "ur_denial_date": "2999-01-01"})
    assert page.status_code == 200 and "ur_denial_date 2999-01-01 is in the future" in page.text


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
    path = write_csv(tmp_path / "claims.csv", [r | {"decision": "x"} for r in CLAIMS])
    assert_refused(invoke("score", "builtin", path, "--columns", "summary=Notes,item=Treatment", "--id-col",
                          "decision"), "--id-col 'decision' is also the name of a result field")
    with pytest.raises(ValueError, match="id_col 'decision'"):
        imr_ml.load_model("builtin").score(pd.DataFrame(CLAIMS), columns=MAPPING, id_col="decision")


def test_the_id_keeps_its_name_in_json_and_the_web_download(tmp_path, client):
    path = write_csv(tmp_path / "claims.csv", CLAIMS)
    res = invoke("score", "builtin", path, "--columns", "summary=Notes,item=Treatment", "--id-col", "ClaimNo",
                 "--json")
    assert res.exit_code == 0, res.output
    assert [(list(r)[0], r["ClaimNo"]) for r in json.loads(res.stdout)] == [("ClaimNo", "C-1"), ("ClaimNo", "C-2")]
    upload = path.read_bytes()
    page = client.post("/batch", files={"file": ("claims.csv", upload)},
                       data={"summary_column": "Notes", "item_column": "Treatment", "id_column": "ClaimNo"}).text
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
