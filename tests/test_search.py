"""Search over past decisions: the ranking and paging equal a plain bm25 query over every
match, the cap on hits ranked and its wording (library, CLI, web page), and the JSON routes
/v1/search and /v1/similar."""

import logging

import pytest
from typer.testing import CliRunner

from imr_ml.cli import app
from imr_ml.modeling.modelfiles.modelio import load_model_dir
from imr_ml.modeling.modelfiles.precedent_files import write_index_folder
from imr_ml.precedents import search as search_module
from imr_ml.precedents.search import MAX_RANKED, Filters, headline, search
from imr_ml.precedents.store import Index, PrecedentsError, build_index

NOTE = ("52M, low back pain since a lifting injury 2014 radiating to the left leg, numbness in the L5 "
        "distribution. MRI shows an L5-S1 disc protrusion with nerve root compression. Failed PT and NSAIDs.")
ESI = {"summary": NOTE, "item": "Lumbar epidural steroid injection L5-S1"}
QUERIES = [("acupuncture functional improvement", Filters()), ("acupuncture", Filters(outcome="overturned")),
           ("physical therapy", Filters(category="physical_therapy", since="2015-01-01")),
           ("lumbar injection", Filters(region="lumbar", until="2017-12-31")), ("norco zzzqqq", Filters()),
           ('"functional improvement" acupuncture', Filters())]


@pytest.fixture(scope="module")
def index(synth_rows, tmp_path_factory):
    path = tmp_path_factory.mktemp("search") / "p.sqlite"
    build_index(synth_rows[:400], path)
    return Index(path)


def _every_match(index: Index, found: dict, f: Filters) -> list[int]:
    """The ids a plain query ranks: every match joined and filtered, ordered by bm25 (ties by id)."""
    f = f.checked()
    joins, where, params = f.sql("w.rowid")
    every = found["mode"] == "all"
    query = "{item summary claims_admin_guideline} : (" + (" AND " if every else " OR ").join(
        f'"{t}"' for t in found["terms"]) + ")"
    return [r for (r,) in index.connection().execute(
        f"SELECT w.rowid FROM words w JOIN items i ON i.id = w.rowid JOIN outcomes o ON o.id = w.rowid "
        f"WHERE {' AND '.join(['words MATCH ?', *where])} ORDER BY w.rank, w.rowid", [query, *params])]


@pytest.mark.parametrize("text,filters", QUERIES)
def test_ranking_and_pages_equal_a_query_over_every_match(index, text, filters):
    first = search(index, text, filters, per_page=7)
    expected = _every_match(index, first, filters)
    assert 0 < len(expected) <= MAX_RANKED and first["total"] == len(expected) and not first["more"]
    got = [h["id"] for p in range(1, first["pages"] + 1) for h in search(index, text, filters, p, 7)["hits"]]
    assert got == expected


def test_filters_alone_list_newest_decisions_first(index):
    found = search(index, "", Filters(outcome="upheld"), per_page=100)
    rows = index.connection().execute("SELECT id, decision_date FROM outcomes WHERE decision = 'upheld'").fetchall()
    expected = [i for i, _ in sorted(rows, key=lambda r: (r[1] or "", r[0]), reverse=True)]
    assert found["mode"] == "filters" and found["total"] == len(expected)
    assert [h["id"] for h in found["hits"]] == expected[:100]


def test_a_capped_search_ranks_the_matches_added_last_and_says_so(index, monkeypatch):
    first = search(index, "acupuncture", per_page=100)
    every = [h["id"] for p in range(1, first["pages"] + 1) for h in search(index, "acupuncture", page=p,
                                                                          per_page=100)["hits"]]
    assert len(every) == first["total"] > 12
    monkeypatch.setattr(search_module, "MAX_RANKED", 12)
    capped = search(index, "acupuncture", per_page=5)
    newest = sorted(every, reverse=True)[:12]
    ranked = [i for i in every if i in newest]  # the full ranking, kept to those 12
    assert capped["total"] == 12 and capped["more"] and capped["pages"] == 3
    assert [h["id"] for p in (1, 2, 3) for h in search(index, "acupuncture", page=p, per_page=5)["hits"]] == ranked
    assert headline(capped) == ("more than 12 items with every word: the 12 added to the index last are ranked; "
                                "narrow the search with more words or filters.")
    with pytest.raises(PrecedentsError, match="page 4 is past the first 12 hits"):
        search(index, "acupuncture", page=4, per_page=4)
    newest = search(index, "", per_page=5)
    assert headline(newest).startswith("more than 12 items kept by the filters: the 12 most recent decisions are")


def test_headline_counts_exactly_below_the_cap(index):
    assert headline(search(index, "norco zzzqqq")).endswith("items with every word (in no item, left out: zzzqqq)")
    assert headline({"mode": "any", "total": 3, "more": False}) == "3 items with any of the words (none has them all)"
    one = {"mode": "all", "total": 1, "more": False}
    assert headline(one) == "1 item with every word"


def test_a_word_no_item_holds_is_left_out_not_turned_into_any_word(index):
    plain, typo = search(index, "acupuncture", per_page=50), search(index, "acupuncture Zzzqqq", per_page=50)
    assert typo["terms"] == plain["terms"] and typo["mode"] == "all" and typo["absent"] == ["Zzzqqq"]
    assert [h["id"] for h in typo["hits"]] == [h["id"] for h in plain["hits"]]
    nothing = search(index, "zzzqqq qqqzzz", Filters(outcome="upheld"))
    assert nothing["total"] == 0 and nothing["mode"] == "all" and nothing["absent"] == ["zzzqqq", "qqqzzz"]
    assert headline(nothing) == "0 items with every word (in no item, left out: zzzqqq, qqqzzz)"


def test_a_quoted_phrase_is_looked_for_as_typed_however_common(index):
    common = search(index, "the acupuncture", per_page=100)
    kept = search(index, '"the" acupuncture', per_page=100)
    assert common["ignored"] == ["the"] and kept["ignored"] == [] and kept["terms"] == ["the", "acupunctur"]
    assert {h["id"] for h in kept["hits"]} <= {h["id"] for h in common["hits"]}
    phrase, reversed_ = (search(index, f'"{p}"', per_page=100) for p in ("functional improvement",
                                                                         "improvement functional"))
    both = search(index, "functional improvement", per_page=100)
    assert phrase["terms"] == ["functional improvement"] and 0 < phrase["total"] <= both["total"]
    assert reversed_["total"] < phrase["total"]
    assert any(p["hit"] and p["text"].lower() == "functional improvement" for h in phrase["hits"]
               for p in h["summary_pieces"])


def test_cli_says_more_than_and_refuses_a_page_past_the_cap(synth_rows, tmp_path, monkeypatch):
    folder = tmp_path / "archive"
    write_index_folder(synth_rows[:200], folder)
    monkeypatch.setattr(search_module, "MAX_RANKED", 6)
    res = CliRunner().invoke(app, ["search", str(folder), "acupuncture"])
    assert res.exit_code == 0 and res.output.startswith("more than 6 items with every word")
    res = CliRunner().invoke(app, ["search", str(folder), "acupuncture", "--page", "3", "--per-page", "3"])
    assert res.exit_code == 2 and "page 3 is past the first 6 hits" in res.output and "Traceback" not in res.output
    assert f"{MAX_RANKED:,} hits at most" in CliRunner().invoke(app, ["search", "--help"]).output


def _client(model, **kw):
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        from fastapi.testclient import TestClient

    from imr_ml.web.app import create_app

    return TestClient(create_app(model, **kw), base_url="http://127.0.0.1:8000")


def test_search_page_says_more_than_and_refuses_a_page_past_the_cap(demo_model, monkeypatch):
    client = _client(load_model_dir(demo_model[0]))
    monkeypatch.setattr(search_module, "MAX_RANKED", 6)
    r = client.get("/search", params={"q": "acupuncture"})
    assert r.status_code == 200 and "more than 6 items with every word</h2>" in r.text
    assert "The 6 added to the index last are ranked" in r.text
    r = client.get("/search", params={"q": "acupuncture", "page": "9"})
    assert r.status_code == 422 and "page 9 is past the first 6 hits" in r.text


def test_search_api(demo_model, caplog):
    client = _client(load_model_dir(demo_model[0]))
    with caplog.at_level(logging.INFO):
        r = client.get("/v1/search", params={"q": "acupuncture secretword", "outcome": "upheld", "per_page": "3"})
    assert r.status_code == 200, r.text
    got = r.json()
    page = search(_index(demo_model), "acupuncture secretword",
                  Filters(outcome="upheld"), 1, 3)
    assert [h["id"] for h in got["hits"]] == [h["id"] for h in page["hits"]] and got["headline"] == headline(page)
    assert all(h["decision"] == "upheld" for h in got["hits"]) and len(got["hits"]) <= 3
    served = [r.getMessage() for r in caplog.records if r.name.startswith("imr_ml")]
    assert served and not any("secretword" in m for m in served)  # nothing the user sent reaches the server's log
    for params, words in (({"since": "13/45/2016"}, "--since"), ({"outcome": "maybe"}, "--outcome"),
                          ({"page": "x"}, "page: must be a whole number"), ({"per_page": "101"}, "per_page"),
                          ({"page": "999999"}, "past the first"), ({"sort": "id"}, "unknown parameter"),
                          ({"q": "x" * 2001}, "q: at most 2,000 characters")):
        r = client.get("/v1/search", params=params)
        assert r.status_code == 422 and words in r.json()["error"] and "\n" not in r.json()["error"], params
    assert _client(load_model_dir(demo_model[0])).get(
        "/v1/search", headers={"host": "evil.example"}).status_code == 400
    builtin = _client("builtin").get("/v1/search", params={"q": "acupuncture"})
    assert builtin.status_code == 404 and "no letters" in builtin.json()["error"]


def _index(demo_model):
    from imr_ml.modeling.modelfiles.precedent_files import open_precedents

    return open_precedents(load_model_dir(demo_model[0]))


def test_similar_api(demo_model):
    client = _client(load_model_dir(demo_model[0]))
    r = client.post("/v1/similar?top=3", json=ESI)
    assert r.status_code == 200, r.text
    one = r.json()
    assert one["n"] == 3 and one["precedents"][0]["why"] and one["overturned_share"]["n"] == 3
    batch = client.post("/v1/similar", json={"requests": [ESI, ESI | {"item": "Acupuncture 2x6 lumbar"}]}).json()
    assert len(batch["results"]) == 2 and batch["results"][0]["n"] == 5
    assert [p["id"] for p in batch["results"][0]["precedents"][:3]] == [p["id"] for p in one["precedents"]]
    for url, body, status, words in (("/v1/similar?top=0", ESI, 422, "top"), ("/v1/similar", {"item": "x"}, 422,
                                     "summary"), ("/v1/similar", ESI | {"extra": 1}, 422, "extra")):
        r = client.post(url, json=body)
        assert r.status_code == status and words in r.json()["error"], (url, r.text)
    assert client.post("/v1/similar", content=b"{", headers={"content-type": "application/json"}).status_code == 400
    assert _client("builtin").post("/v1/similar", json=ESI).status_code == 404


def test_words_in_half_the_items_are_not_looked_for_unless_all_are(index):
    plain, with_the = search(index, "acupuncture", per_page=50), search(index, "The acupuncture, for", per_page=50)
    assert with_the["terms"] == plain["terms"] == ["acupunctur"]
    assert [h["id"] for h in with_the["hits"]] == [h["id"] for h in plain["hits"]]
    assert with_the["ignored"] == ["The", "for"] and headline(with_the).endswith(
        "(not looked for, in half the items or more (quote them to keep them): The, for)")
    alone = search(index, "the")
    assert alone["terms"] == ["the"] and alone["ignored"] == [] and alone["total"] > index.n_items / 2
