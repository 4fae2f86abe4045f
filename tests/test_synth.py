"""The synthetic corpus: deterministic, plausible, varied, parseable, and written by us."""

import json
import re
from pathlib import Path

import pytest

from imr_ml.knowledge.taxonomy import categorize
from imr_ml.synth.dgp import category_logits
from imr_ml.synth.generate import (
    EFFECTS,
    INTERCEPT,
    generate_corpus,
    generate_letter,
    iter_letters,
    parse_layout_mix,
    write_pdf,
)
from imr_ml.synth.layouts import LAYOUTS
from imr_ml.synth.phrasing import phrases
from imr_ml.synth.randomness import LetterRandom

REAL_TEXT_DIRS = [Path("/tmp/txt"), Path(__file__).resolve().parents[1].parent / "shared" / "data" / "seed-letter"]
# boilerplate a real letter shares with ours on purpose (headings and form lines)
ALLOWED = (
    "The expert reviewer developed the following clinical case summary based on a review of the "
    "case file, including all medical records:",
    "The Final Determination was based on decisions for the disputed items/services set forth below:",
    "The Claims Administrator did not cite any medical evidence for its decision.",
    "The Expert Reviewer has the following credentials:",
)


# citations and form lines are shared vocabulary, not sentences
FORM_LINE = re.compile(r"Decision based on|Section\(s\)|State\(s\) of|Certification\(s\)|Final Determination Letter")


def _norm(s: str) -> str:
    return " ".join(s.split())


@pytest.fixture(scope="module")
def corpus():
    """2,000 letters in memory (~1 s)."""
    return list(iter_letters(2000, seed=11))


def _categorize(item: str) -> str:
    """The category ingest gives the item (drug names are read through features/drugs.toml)."""
    return categorize(item)


def test_deterministic_and_independent_of_range():
    a = list(iter_letters(30, seed=4))
    b = list(iter_letters(30, seed=4))
    assert a == b
    c = list(iter_letters(30, seed=5))
    assert [t for _, t, _ in a] != [t for _, t, _ in c]
    # letter i does not depend on which range it was generated in
    assert list(iter_letters(3, seed=4, start=20)) == a[20:23]
    assert generate_letter(7, seed=4) == a[7]


def test_case_numbers_unique(corpus):
    ids = [lid for lid, _, _ in corpus]
    assert len(set(ids)) == len(ids)
    assert all(re.fullmatch(r"CM1[3-7]-\d{7}", i) for i in ids)


def test_overturn_rate_and_mix_plausible(corpus):
    rows = [r for _, _, rr in corpus for r in rr]
    rate = sum(r["label"] for r in rows) / len(rows)
    assert 0.06 <= rate <= 0.14, rate
    multi = sum(1 for _, _, rr in corpus if len(rr) > 1) / len(corpus)
    assert 0.3 <= multi <= 0.5, multi
    assert max(len(rr) for _, _, rr in corpus) <= 8
    layouts = {}
    for _, _, rr in corpus:
        layouts[rr[0]["layout"]] = layouts.get(rr[0]["layout"], 0) + 1
    assert set(layouts) == {"2013", "2014", "2016"}
    assert 0.7 <= layouts["2016"] / len(corpus) <= 0.9
    assert sum(r["partial_authorisation"] for r in rows) > 20
    assert sum(r["retrospective"] for r in rows) > 100


def test_truth_rows_follow_the_dgp(corpus):
    cat_logit = category_logits()
    for _, _, rows in corpus[:300]:
        for r in rows:
            lo = INTERCEPT + cat_logit[r["category"]] + r["noise"] + sum(c * r[k] for k, c in EFFECTS.items())
            assert lo == pytest.approx(r["logit"], abs=1e-3)
            assert r["p_overturned"] == pytest.approx(1 / (1 + pow(2.718281828459045, -lo)), abs=1e-4)
            assert r["label"] in (0, 1) and r["decision"] == ("overturned" if r["label"] else "upheld")


def test_items_fall_in_their_category(corpus):
    wrong = [(r["category"], r["item"]) for _, _, rr in corpus for r in rr if _categorize(r["item"]) != r["category"]]
    assert not wrong[:10]


def test_planted_effects_visible_in_labels(corpus):
    """Crude check that a strong planted effect shows up in the labels."""
    rows = [r for _, _, rr in corpus for r in rr]
    fi = [r["label"] for r in rows if r["functional_improvement"]]
    tr = [r["label"] for r in rows if r["prior_trial_without_benefit"]]
    assert sum(fi) / len(fi) > 2 * sum(tr) / len(tr)


def _fragments(templates):
    """The longest literal piece of each template (placeholders removed)."""
    out = []
    for t in templates:
        if not t:
            continue
        pieces = [p.strip(" .,") for p in re.split(r"\{[^}]*\}", t)]
        out.append(max(pieces, key=len))
    return out


@pytest.mark.parametrize("key", ["trial_no_benefit", "functional_improvement", "no_functional_improvement",
                                 "work_yes", "work_no", "ps_yes", "surgery_yes", "surgery_plan", "opioid_none",
                                 "ur_denied", "opening"])
def test_phrasing_varies(corpus, key):
    text = _norm(" ".join(t for _, t, _ in corpus[:600]))
    frags = _fragments(phrases()[key])
    used = [f for f in frags if f and f in text]
    assert len(used) >= min(4, len(frags) - 1), (key, used)


def test_negated_and_distractor_forms_present(corpus):
    text = _norm(" ".join(t for _, t, _ in corpus[:600]))
    assert "denied any benefit from prior" in text
    assert "was not documented" in text
    assert "not yet been declared permanent and stationary" in text or "MMI had not been reached" in text
    assert "will consider" in text  # a plan, not a prior surgery


def test_layout_features(corpus):
    for lid, text, rows in corpus[:400]:
        lay = rows[0]["layout"]
        if lay == "2013":
            assert "Case Number:" not in text
            assert f"Final Determination Letter for IMR Case Number {lid}" in text
            assert "\n\n" in text
        elif lay == "2014":
            assert text.startswith(f"Case Number: {lid}")
            assert "IMR DECISION(S) AND RATIONALE(S)" in text and "DOCUMENTS REVIEWED" in text
        else:
            assert f"Case Number: {lid}" in text and "IMR ISSUES, DECISIONS AND RATIONALES" in text
            assert "State(s) of Licensure:" in text
        for line in text.split("\n"):
            if "Final Determination Letter" not in line:
                assert len(line) <= 100, line


def test_generate_corpus_writes_files(tmp_path):
    s = generate_corpus(25, tmp_path / "c", seed=2)
    out = tmp_path / "c"
    assert s["n_letters"] == 25 and len(list(out.glob("*.txt"))) == 25
    rows = [json.loads(x) for x in (out / "truth.jsonl").read_text().splitlines()]
    assert len(rows) == s["n_items"] and {r["letter_id"] for r in rows} == {p.stem for p in out.glob("*.txt")}
    dgp = json.loads((out / "dgp.json").read_text())
    assert dgp["effects"] == EFFECTS and all(k in rows[0] for k in dgp["effects"])
    # same seed -> same files
    generate_corpus(25, tmp_path / "d", seed=2)
    assert (out / "truth.jsonl").read_text() == (tmp_path / "d" / "truth.jsonl").read_text()
    with pytest.raises(ValueError):
        generate_corpus(0, tmp_path / "e")


def test_cli(tmp_path):
    try:
        from typer.testing import CliRunner

        from imr_ml.cli import app
    except Exception as exc:  # another command module may be mid-edit
        pytest.skip(f"CLI not importable: {exc}")
    r = CliRunner().invoke(app, ["synth", "--letters", "4", "--out", str(tmp_path / "o"), "--seed", "1", "--json"])
    assert r.exit_code == 0, r.output
    assert json.loads(r.output)["n_letters"] == 4
    r = CliRunner().invoke(app, ["synth", "--letters", "0", "--out", str(tmp_path / "o")])
    assert r.exit_code == 2
    r = CliRunner().invoke(app, ["synth", "--letters", "2", "--out", str(tmp_path / "p"), "--layouts", "1999"])
    assert r.exit_code == 2


def test_pdf_text_reads_back(tmp_path):
    pypdf = pytest.importorskip("pypdf")
    lid, text, rows = generate_letter(3, seed=9)
    write_pdf(text, tmp_path / "a.pdf")
    got = _norm(" ".join(p.extract_text() for p in pypdf.PdfReader(str(tmp_path / "a.pdf")).pages))
    assert lid in got and _norm(rows[0]["item"])[:20] in got


def test_parser_reads_every_generated_letter():
    ingest = pytest.importorskip("imr_ml.letters.ingest")
    problems = []
    for lid, text, truth in iter_letters(200, seed=21):
        try:
            got = ingest.parse_text(text, "")
        except Exception as exc:  # noqa: BLE001 - report every failure
            problems.append((lid, repr(exc)))
            continue
        if len(got) != len(truth):
            problems.append((lid, "count", len(got), len(truth)))
            continue
        for g, t in zip(got, truth):
            if g["letter_id"] != t["letter_id"] or g["decision"] != t["decision"] or g["label"] != t["label"] \
                    or _norm(g["item"]).lower() != _norm(t["item"]).lower():
                problems.append((lid, g["item"], g["decision"], t["item"], t["decision"]))
    assert not problems[:5]


def test_no_real_letter_sentences(corpus):
    real = [p for d in REAL_TEXT_DIRS if d.is_dir() for p in d.glob("*.txt")]
    if not real:
        pytest.skip("no real letter text available")
    real_text = _norm(" ".join(p.read_text(errors="replace") for p in real))
    allowed = {_norm(a) for a in ALLOWED}
    copied = set()
    for _, text, _ in corpus[:150]:
        text = _norm(text)
        for a in allowed:
            text = text.replace(a, " . ")
        for sent in re.split(r"(?<=[.:])\s+", text):
            if len(sent) >= 50 and sent not in allowed and not FORM_LINE.search(sent) and sent in real_text:
                copied.add(sent)
    assert not copied, sorted(copied)[:5]


@pytest.mark.parametrize("layout", sorted(LAYOUTS))
def test_every_registered_layout_is_generated_and_read_back(layout):
    """A registered layout is accepted by --layouts, drawn in its era, and parsed back with
    the drawn decisions."""
    from imr_ml.letters.ingest import parse_text

    for _, text, truth in iter_letters(40, seed=3, layout_mix=parse_layout_mix(layout)):
        assert {r["layout"] for r in truth} == {layout}
        spec = LAYOUTS[layout]
        assert all(spec.first_decision.isoformat() <= r["decision_date"] for r in truth)
        assert [r["label"] for r in parse_text(text)] == [r["label"] for r in truth]


def test_letter_random_draws_stay_in_range_and_are_permutations():
    rng = LetterRandom(7)
    population = list(range(10))
    firsts = [0] * 10
    for _ in range(5000):
        picked = rng.sample(population, 4)
        assert len(set(picked)) == 4 and set(picked) <= set(population)
        shuffled = population[:]
        rng.shuffle(shuffled)
        assert sorted(shuffled) == population
        firsts[shuffled[0]] += 1
        assert 3 <= rng.randint(3, 5) <= 5 and rng.randrange(2, 10, 2) in (2, 4, 6, 8) and rng.randrange(3) in (0, 1, 2)
        assert rng.choice("abc") in "abc"
    assert min(firsts) > 400  # about 500 each: every position reachable, none favoured
