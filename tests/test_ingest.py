import json
import re

import letters
import pytest

from imr_ml.letters.ingest import SkipLetter, ingest_paths, parse_file, parse_text, read_corpus
from imr_ml.schema import COLUMNS


def test_2016_layout_items_decisions_and_header():
    rows = parse_text(letters.LETTER_2016, "a.txt")
    assert [r["decision"] for r in rows] == ["upheld", "overturned", "upheld", "overturned"]
    assert [r["label"] for r in rows] == [0, 1, 0, 1]
    assert [r["item_index"] for r in rows] == [0, 1, 2, 3]
    r0 = rows[0]
    assert r0["letter_id"] == "CM16-0000001"
    assert r0["item"] == "Additional acupuncture for the right shoulder, two times a week for four weeks (8 sessions)"
    dates = (r0["date_of_injury"], r0["ur_denial_date"], r0["decision_date"])
    assert dates == ("2014-03-03", "2016-10-02", "2016-11-28")
    assert r0["reviewer_specialty"] == "Orthopedic Surgery"
    assert r0["summary"].startswith("The injured worker is a 51-year-old woman")
    assert r0["claims_admin_guideline"] == "Decision based on MTUS Acupuncture Medical Treatment Guidelines."
    assert r0["rationale"].endswith("The request is not medically necessary.")
    assert set(COLUMNS) <= set(r0)


def test_partial_authorisations_name_the_remaining_portion():
    rows = parse_text(letters.LETTER_2016)
    pt, kit = rows[1], rows[2]
    assert (pt["item"], pt["original_request"], pt["authorized_portion"]) == (
        "Physical therapy 6 sessions", "Physical therapy 12 sessions", "Physical therapy 6 sessions")
    assert (kit["item"], kit["original_request"], kit["authorized_portion"]) == (
        "Home exercise kit", "Home exercise kit", "an instruction visit only")
    assert rows[0]["original_request"] is None


def test_heading_right_after_rationale_and_retrospective():
    rows = parse_text(letters.LETTER_2016)
    assert rows[3]["item"] == "Retrospective x-rays of the right shoulder (DOS 09/30/16)"
    assert rows[3]["retrospective"] is True and rows[0]["retrospective"] is False
    assert rows[2]["rationale"].endswith("The request is not medically necessary.")


def test_2013_layout_double_spaced_with_footer():
    rows = parse_text(letters.LETTER_2013, "/x/letter.txt")
    assert len(rows) == 1 and rows[0]["layout"] == "maximus-2013"
    assert rows[0]["letter_id"] == "CM13-0000042"  # recovered from the page footer
    assert rows[0]["item"] == "CHIROPRACTIC CARE TWO TIMES A WEEK FOR SIX WEEKS FOR THE NECK"
    assert rows[0]["reviewer_specialty"] == "Family Practice"
    assert "non-certified on 8/1/13 and the provider appealed." in rows[0]["summary"]
    assert "Final Determination Letter" not in rows[0]["summary"]


def test_2014_and_professional_review_layouts():
    rows = parse_text(letters.LETTER_2014)
    assert [(r["item"], r["decision"]) for r in rows] == [
        ("Omeprazole 20mg #60", "overturned"), ("Wrist MRI without contrast", "upheld")]
    assert rows[0]["claims_admin_guideline"] == "the MTUS Chronic Pain Medical Treatment Guidelines."
    assert rows[1]["rationale"] == "No red flags are described."
    assert rows[0]["reviewer_specialty"] == "Internal Medicine"
    rows = parse_text(letters.LETTER_PROFESSIONAL)
    assert [(r["item"], r["decision"], r["layout"]) for r in rows] == [
        ("Repeat lumbar epidural steroid injection L5-S1", "overturned", "professional-review")]
    assert rows[0]["date_of_injury"] == "2017-07-01" and rows[0]["reviewer_specialty"] == "Anesthesiology"
    assert "full duty" in rows[0]["summary"] and "RATIONALE" not in rows[0]["summary"]


@pytest.mark.parametrize("text", [letters.LETTER_2016, letters.LETTER_2013, letters.LETTER_2014])
def test_pre_decision_fields_hold_nothing_written_after_the_decision(text):
    for r in parse_text(text):
        pre = " ".join(str(r[k]) for k in ("summary", "item", "claims_admin_guideline"))
        assert not re.search(r"upheld|overturned|decision rationale|MAXIMUS guideline|Final Determination Letter",
                             pre, re.I)
        assert r["rationale"] not in pre and (r["reviewer_guideline"] or "@@") not in r["summary"]


def test_letter_id_falls_back_to_file_stem():
    text = letters.LETTER_2016.replace("CM16-0000001", "")
    assert parse_text(text, "/in/some-letter.txt")[0]["letter_id"] == "some-letter"


@pytest.mark.parametrize("text, reason", [
    (letters.NOT_A_LETTER, "not an IMR determination letter"),
    (letters.CUT_OFF, "cut off"),
])
def test_unparseable_letters_raise_with_reason(text, reason):
    with pytest.raises(SkipLetter, match=reason):
        parse_text(text)


def _pdf(path, text=None, password=None):
    from fpdf import FPDF

    pdf = FPDF()
    if password:
        pdf.set_encryption(owner_password="owner", user_password=password)
    pdf.add_page()
    if text is None:
        pdf.rect(10, 10, 50, 50)  # a page with no text layer
    else:
        pdf.set_font("Helvetica", size=9)
        for line in text.split("\n"):
            pdf.cell(0, 4, line.encode("latin-1", "replace").decode("latin-1"), new_x="LMARGIN", new_y="NEXT")
    pdf.output(str(path))


@pytest.fixture
def mixed_folder(tmp_path):
    d = tmp_path / "in"
    (d / "sub").mkdir(parents=True)
    (d / "good1.txt").write_text(letters.LETTER_2016)
    (d / "sub" / "good2.txt").write_text(letters.LETTER_2013)
    _pdf(d / "good3.pdf", letters.LETTER_2014)
    (d / "empty.txt").write_text("")
    (d / "junk.pdf").write_bytes(b"%PDF-1.4\n" + bytes(range(256)) * 4)
    good = (d / "good3.pdf").read_bytes()
    (d / "truncated.pdf").write_bytes(good[: len(good) // 3])
    _pdf(d / "locked.pdf", letters.LETTER_2016, password="s3cret")
    _pdf(d / "scan.pdf", None)
    (d / "latin1.txt").write_bytes("Résumé of the case\n".encode("latin-1"))
    (d / "binary.txt").write_bytes(b"\x00\x01\x02junk" * 10)
    (d / "minutes.txt").write_text(letters.NOT_A_LETTER)
    (d / "cutoff.txt").write_text(letters.CUT_OFF)
    (d / "notes.docx").write_text("ignored: not a letter file type")
    return d


def test_bad_files_are_skipped_with_reasons_and_good_ones_kept(mixed_folder, tmp_path):
    out = tmp_path / "corpus.jsonl"
    rows, skipped = ingest_paths([mixed_folder], out=out, jobs=2)
    assert {r["letter_id"] for r in rows} == {"CM16-0000001", "CM13-0000042", "CM14-0000077"}
    reasons = {s["source"].rsplit("/", 1)[-1]: s["reason"] for s in skipped}
    assert set(reasons) == {"empty.txt", "junk.pdf", "truncated.pdf", "locked.pdf", "scan.pdf",
                            "latin1.txt", "binary.txt", "minutes.txt", "cutoff.txt"}
    assert "password" in reasons["locked.pdf"]
    assert "no text layer" in reasons["scan.pdf"]
    assert "UTF-8" in reasons["latin1.txt"]
    assert reasons["empty.txt"] == "empty file"
    assert all("\n" not in r for r in reasons.values())
    assert read_corpus(out) == rows
    assert [json.loads(x)["source"] for x in (tmp_path / "corpus.jsonl.skipped.jsonl").read_text().splitlines()]
    assert not (tmp_path / "corpus.jsonl.journal").exists()


def test_pdf_round_trip_matches_text(tmp_path):
    _pdf(tmp_path / "l.pdf", letters.LETTER_2014)
    from_pdf = parse_file(tmp_path / "l.pdf")
    from_text = parse_text(letters.LETTER_2014)
    assert [(r["item"], r["decision"], r["summary"]) for r in from_pdf] == \
           [(r["item"], r["decision"], r["summary"]) for r in from_text]


def test_duplicate_letters_are_kept_once(tmp_path):
    for name in ("a.txt", "b.txt"):
        (tmp_path / name).write_text(letters.LETTER_2016)
    rows, skipped = ingest_paths([tmp_path])
    assert len(rows) == 4 and "duplicate of letter CM16-0000001" in skipped[0]["reason"]


def test_interrupted_run_resumes_to_the_same_corpus(mixed_folder, tmp_path):
    clean_out = tmp_path / "clean.jsonl"
    ingest_paths([mixed_folder], out=clean_out)
    out = tmp_path / "resumed.jsonl"

    def killer(done, total):
        if done >= 5:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        ingest_paths([mixed_folder], out=out, progress=killer)
    assert not out.exists()  # nothing half-written
    journal = tmp_path / "resumed.jsonl.journal"
    assert len(journal.read_text().splitlines()) == 5
    seen = []
    ingest_paths([mixed_folder], out=out, progress=lambda d, t: seen.append(d))
    assert seen[0] == 5  # the five journaled files were not read again
    assert out.read_text() == clean_out.read_text()
    assert not journal.exists()


def test_parquet_output(tmp_path):
    (tmp_path / "a.txt").write_text(letters.LETTER_2016)
    rows, _ = ingest_paths([tmp_path / "a.txt"], out=tmp_path / "c.parquet")
    back = read_corpus(tmp_path / "c.parquet")
    assert [r["item"] for r in back] == [r["item"] for r in rows]
    assert back[0]["original_request"] is None and back[1]["original_request"] == "Physical therapy 12 sessions"


def test_cli_exit_codes_and_json(mixed_folder, tmp_path):
    from typer.testing import CliRunner

    from imr_ml.cli import app

    runner = CliRunner()
    res = runner.invoke(app, ["ingest", str(mixed_folder), "--out", str(tmp_path / "c.jsonl"), "--json"])
    assert res.exit_code == 0, res.output
    summary = json.loads(res.stdout)
    assert (summary["letters"], summary["items"], summary["skipped"]) == (3, 7, 9)
    res = runner.invoke(app, ["ingest", str(mixed_folder / "empty.txt"), "--out", str(tmp_path / "d.jsonl")])
    assert res.exit_code == 2 and "Traceback" not in res.output
    res = runner.invoke(app, ["ingest", str(mixed_folder), "--out", str(tmp_path / "d.csv")])
    assert res.exit_code == 2 and "must end in .jsonl or .parquet" in res.output


def test_2013_notice_layout():
    rows = parse_text(letters.LETTER_NOTICE_2013)
    assert [(r["item"], r["decision"]) for r in rows] == [
        ("12 sessions of aquatic therapy", "upheld"), ("a lumbar support", "overturned")]
    r = rows[0]
    assert (r["letter_id"], r["layout"], r["ur_denial_date"], r["date_of_injury"], r["decision_date"]) == (
        "CM13-0000311", "notice-2013", "2013-09-01", "2012-04-14", "2013-10-02")
    assert r["summary"].startswith("The patient is a 47 year-old roofer") and "Disclaimer" not in r["summary"]
    assert r["claims_admin_guideline"] == "MTUS Chronic Pain Medical Treatment Guidelines, Aquatic therapy."
    assert rows[1]["rationale"].startswith("A support for heavy roofing work")


def test_professional_review_with_its_own_labels():
    (r,) = parse_text(letters.LETTER_PROFESSIONAL_LABELLED)
    assert (r["item"], r["decision"], r["letter_id"]) == (
        "Cervical epidural steroid injection C5-6", "upheld", "CM13-0000555")
    assert r["summary"].startswith("The employee is a 52-year-old nurse")
    assert r["summary"].endswith("two days of relief.")
    assert r["reviewer_guideline"].startswith("MTUS Chronic Pain") and r["reviewer_specialty"] == "Anesthesiology"


def test_2014_claims_administrator_citing_nothing():
    text = letters.LETTER_2014.replace(
        "The Claims Administrator based its decision on the MTUS Chronic Pain Medical Treatment Guidelines.",
        "The Claims Administrator did not cite any medical evidence for its decision.")
    rows = parse_text(text)
    no_citation = "The Claims Administrator did not cite any medical evidence for its decision."
    assert rows[0]["claims_admin_guideline"] == no_citation
    assert rows[1]["claims_admin_guideline"] == "the MTUS Forearm, Wrist, and Hand Complaints."


def test_every_registered_layout_reads_its_sample_letter():
    """One sample letter per registered layout, each read by that layout (the first whose
    `matches` accepts it), so the order of LAYOUTS is tested too."""
    from imr_ml.letters.layouts import LAYOUTS

    samples = {"maximus-2016": letters.LETTER_2016, "maximus-2013": letters.LETTER_2013,
               "maximus-2014": letters.LETTER_2014, "notice-2013": letters.LETTER_NOTICE_2013,
               "professional-review": letters.LETTER_PROFESSIONAL}
    assert sorted(layout.name for layout in LAYOUTS) == sorted(samples)
    for name, text in samples.items():
        assert {r["layout"] for r in parse_text(text)} == {name}
