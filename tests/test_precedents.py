"""Precedents: the index kept with a model and built by `imr-ml index`, `similar` (ranked by
service, region and findings, with why), `search` (filters, paging), the seal, and that nothing
written after a decision moves a match."""

import json
import re
import shutil
import sqlite3

import pytest
from typer.testing import CliRunner

from imr_ml.cli import app
from imr_ml.modeling.modelfiles.modelio import load_model_dir
from imr_ml.modeling.modelfiles.precedent_files import (
    PRECEDENTS_FILE,
    IndexRefused,
    NoPrecedents,
    open_precedents,
    write_index_folder,
)
from imr_ml.precedents.profile import profile
from imr_ml.precedents.search import Filters, search
from imr_ml.precedents.similar import WEIGHTS, ranked, similar
from imr_ml.precedents.store import Index, PrecedentsError, build_index
from imr_ml.schema import POST_DECISION, PRE_DECISION

NOTE = ("52M, low back pain since a lifting injury 2014 radiating to the left leg, numbness in the L5 "
        "distribution. MRI shows an L5-S1 disc protrusion with nerve root compression. Failed PT and NSAIDs.")
ESI = {"summary": NOTE, "item": "Lumbar epidural steroid injection L5-S1"}


def _run(*args):
    return CliRunner().invoke(app, [str(a) for a in args])


@pytest.fixture(scope="module")
def index_rows(synth_rows):
    return synth_rows[:400]


@pytest.fixture(scope="module")
def index_path(index_rows, tmp_path_factory):
    path = tmp_path_factory.mktemp("precedents") / "p.sqlite"
    build_index(index_rows, path)
    return path


def _leaky(rows: list[dict]) -> list[dict]:
    """The rows with every post-decision field rewritten: outcomes flipped, the rationale and
    the reviewer's guideline replaced by decisive words of another request, dates moved."""
    out = []
    for r in rows:
        flipped = 1 - int(r["label"])
        out.append(r | {"label": flipped, "decision": "overturned" if flipped else "upheld",
                        "rationale": "Lumbar epidural steroid injection radiculopathy overturned medically necessary "
                                     + NOTE, "reviewer_guideline": "MTUS epidural steroid injections " + NOTE,
                        "reviewer_specialty": "Anesthesiology", "decision_date": "2030-01-01"})
    return out


def test_model_directory_keeps_a_sealed_index_of_its_training_items(demo_model):
    model_dir, _ = demo_model
    manifest = json.loads((model_dir / "manifest.json").read_text())
    assert PRECEDENTS_FILE in manifest["files"] and manifest["precedents"]["file"] == PRECEDENTS_FILE
    index = open_precedents(load_model_dir(model_dir))
    assert index.n_items == manifest["data"]["n_items"] == manifest["precedents"]["n_items"]
    assert index.n_letters == manifest["data"]["n_letters"]


def test_builtin_has_no_letters_and_says_so():
    with pytest.raises(NoPrecedents, match="built-in model holds no letters"):
        open_precedents(load_model_dir("builtin"))
    res = _run("similar", "builtin", "--item", "MRI right shoulder", "--summary-file", "/dev/null")
    assert res.exit_code == 2 and "built-in model holds no letters" in res.output
    assert len(res.output.strip().splitlines()) == 1


def test_tampered_index_is_refused_in_one_line(demo_model, tmp_path):
    model_dir, _ = demo_model
    copy = tmp_path / "model"
    shutil.copytree(model_dir, copy, symlinks=True)  # the links to the current version kept
    with sqlite3.connect(copy / PRECEDENTS_FILE) as conn:  # a rationale edited after training
        conn.execute("UPDATE outcomes SET rationale = 'edited' WHERE id = 1")
    load_model_dir(copy)  # the model itself is intact
    with pytest.raises(IndexRefused, match="does not match the sha256"):
        open_precedents(load_model_dir(copy))
    res = _run("search", copy, "acupuncture")
    assert res.exit_code == 2 and "does not match the sha256" in res.output
    assert len(res.output.strip().splitlines()) == 1


def test_similar_favours_service_region_and_findings(index_path):
    index = Index(index_path)
    found = similar(index, ESI, top=5)
    request = profile(ESI)
    assert request.category == "injection" and "lumbar" in request.regions
    assert found["n"] == 5 and found["overturned"] == sum(p["label"] for p in found["precedents"])
    scores = [p["score"] for p in found["precedents"]]
    assert scores == sorted(scores, reverse=True)
    assert all(p["category"] == "injection" and p["why"]["same_category"] for p in found["precedents"])
    assert "lumbar" in found["precedents"][0]["why"]["regions"]
    for p in found["precedents"]:  # the parts add up to the score, each within its weight
        assert sum(p["parts"].values()) / sum(WEIGHTS.values()) == pytest.approx(p["score"], abs=1e-3)
        assert all(0 <= p["parts"][k] <= WEIGHTS[k] + 1e-9 for k in WEIGHTS)
        hits = [x["text"].lower() for x in p["item_pieces"] + p["summary_pieces"] if x["hit"]]
        assert set(hits) <= set(p["why"]["words"])
    assert len({p["letter"] for p in found["precedents"]}) == 5  # one item per letter


def test_a_letter_is_not_its_own_precedent(index_path, index_rows):
    index = Index(index_path)
    row = index_rows[10]
    found = similar(index, row, top=5)
    assert row["letter_id"] not in {p["letter_id"] for p in found["precedents"]}
    typed = {k: row[k] for k in ("summary", "item", "claims_admin_guideline")}
    assert similar(index, typed, top=1)["precedents"][0]["letter_id"] == row["letter_id"]  # itself, typed in


def test_no_post_decision_field_moves_a_match(index_rows, index_path, tmp_path):
    """The index keeps outcomes for display only: rewriting every post-decision field (flipped
    outcomes, rationales full of another request's words) changes no score and no rank, and
    a word found only in rationales finds nothing."""
    leaky_path = tmp_path / "leaky.sqlite"
    build_index(_leaky(index_rows), leaky_path)
    clean, leaky = Index(index_path), Index(leaky_path)
    requests = [ESI] + [{k: r[k] for k in PRE_DECISION if k in r} for r in index_rows[::37]]
    for req in requests:
        a, b = ranked(clean, req, top=10), ranked(leaky, req, top=10)
        assert [(c.id, parts) for c, parts in a[2]] == [(c.id, parts) for c, parts in b[2]]
        assert a[1] == b[1]  # the same query terms
    shown = similar(leaky, ESI)["precedents"]
    assert all(p["decision_date"] == "2030-01-01" for p in shown)  # stored, and shown
    assert search(leaky, "Anesthesiology")["total"] == 0 and search(leaky, "necessary")["total"] == 0
    with sqlite3.connect(leaky_path) as conn:
        columns = {c for t in ("items", "letters", "words") for c in
                   [r[1] for r in conn.execute(f"PRAGMA table_info({t})")]}
    assert not columns & (set(POST_DECISION) - {"label"}) - {"decision"}


def test_pre_decision_text_does_move_a_match(index_rows, index_path, tmp_path):
    """The control of the test above: the same rewrite of a pre-decision field changes ranks."""
    moved = [r | {"summary": NOTE} if i % 2 else r for i, r in enumerate(index_rows)]
    path = tmp_path / "moved.sqlite"
    build_index(moved, path)
    a, b = ranked(Index(index_path), ESI, top=10), ranked(Index(path), ESI, top=10)
    assert [c.id for c, _ in a[2]] != [c.id for c, _ in b[2]]


def test_search_filters_pages_and_falls_back_to_any_word(index_path):
    index = Index(index_path)
    every = search(index, "acupuncture functional improvement", per_page=5)
    assert every["mode"] == "all" and every["total"] > 5 and len(every["hits"]) == 5
    page2 = search(index, "acupuncture functional improvement", page=2, per_page=5)
    assert not {h["id"] for h in every["hits"]} & {h["id"] for h in page2["hits"]}
    over = search(index, "acupuncture", Filters(outcome="overturned"), per_page=100)
    assert over["total"] > 0 and all(h["decision"] == "overturned" for h in over["hits"])
    since = search(index, "", Filters(category="surgery", since="2016-01-01"), per_page=100)
    assert since["mode"] == "filters" and all(h["category"] == "surgery" and h["decision_date"] >= "2016-01-01"
                                              for h in since["hits"])
    acupuncture = {h["id"] for h in search(index, '"acupuncture"', per_page=100)["hits"]}
    elsewhere = index.connection().execute(  # a word of another item that no acupuncture item holds
        "SELECT i.item FROM items i WHERE i.category = 'surgery' ORDER BY i.id").fetchall()
    word = next(w for (item,) in elsewhere for w in item.split() if w.isalpha() and len(w) > 5
                and not {h["id"] for h in search(index, f'"{w}"', per_page=100)["hits"]} & acupuncture)
    anyword = search(index, f"acupuncture {word}")
    assert anyword["mode"] == "any" and anyword["total"] > len(acupuncture) > 0
    with pytest.raises(PrecedentsError, match="--since"):
        search(index, "x", Filters(since="13/45/2016"))


def test_index_command_similar_and_search_on_an_index_folder(synth_rows, tmp_path):
    corpus = tmp_path / "corpus.jsonl"
    corpus.write_text("".join(json.dumps(r) + "\n" for r in synth_rows[:300]))
    out = tmp_path / "archive"
    res = _run("index", corpus, "--out", out, "--jobs", "1", "--json")
    assert res.exit_code == 0, res.output
    assert json.loads(res.stdout)["n_items"] == 300 and (out / "index.json").is_file()
    assert _run("index", corpus, "--out", out).exit_code == 2  # never written into a folder of files
    notes = tmp_path / "notes.txt"
    notes.write_text(NOTE)
    res = _run("similar", out, "--item", ESI["item"], "--summary-file", notes, "--top", "3", "--json")
    assert res.exit_code == 0, res.output
    got = json.loads(res.stdout)
    assert got["n"] == 3 and got["overturned_share"]["n"] == 3 and got["precedents"][0]["why"]
    text = _run("similar", out, "--item", ESI["item"], "--summary-file", notes).output
    assert "most similar past decisions" in text and "why: same service" in text
    res = _run("search", out, "acupuncture", "--outcome", "upheld", "--json")
    assert res.exit_code == 0 and json.loads(res.stdout)["hits"]
    assert _run("search", out, "x", "--since", "13/45/2016").exit_code == 2
    assert _run("search", out, "x", "--outcome", "maybe").exit_code == 2


def test_python_api_similar_and_search(demo_model, index_rows, tmp_path):
    import imr_ml

    model = imr_ml.load_model(str(demo_model[0]))
    found = model.similar(ESI, top=3)
    assert len(found) == 1 and found[0]["n"] == 3 and found[0]["available"]
    assert model.search("acupuncture", outcome="upheld")["total"] > 0
    with pytest.raises(NoPrecedents):
        imr_ml.load_model("builtin").similar(ESI)
    folder = tmp_path / "archive"
    write_index_folder(index_rows, folder)
    with_archive = imr_ml.load_model("builtin", precedents=str(folder))
    assert with_archive.similar([ESI, ESI], top=2)[1]["n"] == 2


def test_rows_without_decisions_are_left_out(index_rows, tmp_path):
    rows = [r | {"decision": None, "label": None} if i % 3 == 0 else r for i, r in enumerate(index_rows[:30])]
    counts = build_index(rows, tmp_path / "p.sqlite")
    assert counts["n_items"] == 20 and counts["n_without_decision"] == 10
    with pytest.raises(PrecedentsError, match="no row has a decision"):
        build_index([r | {"decision": None, "label": None} for r in index_rows[:3]], tmp_path / "q.sqlite")
    assert not (tmp_path / "q.sqlite").exists()


def test_real_letters_find_precedents_of_the_same_service(real_rows, tmp_path):
    rows, _ = real_rows
    build_index(rows, tmp_path / "real.sqlite")
    index = Index(tmp_path / "real.sqlite")
    found = similar(index, {"summary": "Chronic low back pain, on Norco for years with no documented functional "
                                       "improvement and no urine drug screen.", "item": "Norco 10/325 #120"})
    assert found["n"] == 5 and all(p["category"] == "opioid" for p in found["precedents"])
    assert search(index, "epidural", Filters(outcome="upheld"))["total"] > 0


def _client(model, form_secret: str | None = None):
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        from fastapi.testclient import TestClient

    from imr_ml.web.app import create_app

    return TestClient(create_app(model, form_secret=form_secret), base_url="http://127.0.0.1:8000")


def test_search_page_and_letter_pages(demo_model):
    client = _client(load_model_dir(demo_model[0]))
    r = client.get("/search", params={"q": "acupuncture <script>", "outcome": "upheld"})
    assert r.status_code == 200 and 'id="hits"' in r.text and "<script>" not in r.text
    assert '<mark class="word">' in r.text and "&lt;script&gt;" in r.text  # the query comes back as text
    first = re.search(r'href="/letters/(\d+)"', r.text)
    assert first and "upheld" in r.text
    page = client.get(f"/letters/{first.group(1)}")
    assert page.status_code == 200 and "Items and decisions" in page.text
    assert client.get("/letters/999999").status_code == 404
    assert client.get("/search", params={"q": "x", "since": "13/45/2016"}).status_code == 422
    assert client.get("/search", params={"page": "2", "category": "acupuncture"}).status_code == 200
    builtin = _client("builtin").get("/search")
    assert builtin.status_code == 404 and "built-in model holds no letters" in builtin.text


def test_score_and_explain_show_precedents(demo_model, tmp_path):
    from typing_extensions import get_type_hints

    from imr_ml.scoring.precedents import Precedent, PrecedentsSection, Why

    model_dir = demo_model[0]
    note = tmp_path / "note.txt"
    note.write_text(NOTE)
    res = _run("score", model_dir, "--item", ESI["item"], "--summary-file", note, "--json", "--similar", "3")
    assert res.exit_code == 0, res.output
    section = json.loads(res.stdout)["precedents"]
    assert section["available"] and section["n"] == 3 and len(section["precedents"]) == 3
    assert set(section) == set(get_type_hints(PrecedentsSection)) - {"reason"}  # the typed shape is the real one
    assert all(set(p) == set(get_type_hints(Precedent)) and set(p["why"]) == set(get_type_hints(Why))
               for p in section["precedents"])
    share = section["overturned_share"]
    assert share["overturned"] == sum(p["label"] for p in section["precedents"]) and share["n"] == 3
    text = _run("score", model_dir, "--item", ESI["item"], "--summary-file", note, "--similar", "2").output
    assert "most similar past decisions" in text and "  2. " in text and "  3. " not in text
    assert "precedents" not in json.loads(_run("score", model_dir, "--item", ESI["item"], "--summary-file", note,
                                               "--json", "--similar", "0").stdout)
    page = tmp_path / "why.html"
    assert _run("explain", model_dir, "--item", ESI["item"], "--summary-file", note, "--html", page).exit_code == 0
    html = page.read_text()
    assert html.count('class="precedent"') == 5 and 'id="precedent-share"' in html and "/letters/" not in html
    explained = _run("explain", model_dir, "--item", ESI["item"], "--summary-file", note)
    assert explained.exit_code == 0 and "most similar past decisions" in explained.output
    assert "why: " in explained.output
    builtin = _run("score", "builtin", "--item", ESI["item"], "--summary-file", note)
    assert builtin.exit_code == 0 and builtin.output.count("built-in model holds no letters") == 1
    none = json.loads(_run("score", "builtin", "--item", ESI["item"], "--summary-file", note, "--json").stdout)
    assert none["precedents"] == {"available": False, "reason": none["precedents"]["reason"]}


def test_python_api_score_with_precedents(demo_model):
    import imr_ml

    model = imr_ml.load_model(str(demo_model[0]))
    scored = model.score([ESI, ESI | {"item": "Acupuncture x6"}], similar=2)
    assert [r["precedents"]["n"] for r in scored] == [2, 2]
    assert scored[1]["precedents"]["request"]["category"] != scored[0]["precedents"]["request"]["category"]
    assert "precedents" not in model.score(ESI)[0]
    assert model.explain(ESI, similar=1)[0]["precedents"]["n"] == 1


def test_result_page_shows_precedents_escaped(demo_model, index_rows, tmp_path):
    form = {"summary": NOTE + " <script>alert(1)</script>", "item": ESI["item"], "csrf_token": "t"}
    page = _client(load_model_dir(demo_model[0]), "t").post("/", data=form).text
    section = page[page.index('id="precedents"'):]
    assert "most similar past" in section and section.count('class="precedent"') == 5
    assert re.search(r'<a href="/letters/\d+#item-\d+" class="hit-item">', section)
    assert '<mark class="word">' in section and "<script>" not in page  # every text escaped
    shown = re.search(r'beside the model.s <strong>([\d.]+)%</strong>', section)
    assert shown and re.search(rf'id="p-overturned">{shown.group(1)}%<', page)  # the share beside the same P
    builtin = _client("builtin", "t").post("/", data=form).text
    assert 'id="no-precedents"' in builtin and "built-in model holds no letters" in builtin
    folder = tmp_path / "archive"  # serve --precedents DIR: an archive's decisions beside the built-in model
    write_index_folder(index_rows, folder)
    loaded = load_model_dir("builtin")
    loaded.precedents = open_precedents(folder)
    with_archive = _client(loaded, "t").post("/", data=form).text
    assert with_archive.count('class="precedent"') == 5


def test_a_word_only_in_the_cited_guideline_is_shown_there(index_rows, tmp_path):
    rows = [dict(r) for r in index_rows[:30]]
    rows[3]["claims_admin_guideline"] = "Zebrafish Treatment Guidelines, chapter 2"
    build_index(rows, tmp_path / "g.sqlite")
    hit = search(Index(tmp_path / "g.sqlite"), "zebrafish")["hits"][0]
    assert [p["text"] for p in hit["guideline_pieces"] if p["hit"]] == ["Zebrafish"]
    assert not any(p["hit"] for p in hit["item_pieces"] + hit["summary_pieces"]) and hit["words"] == ["zebrafish"]
