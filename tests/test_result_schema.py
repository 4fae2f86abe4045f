"""One typed result (imr_ml.scoring.result) behind every output: the library's results are
exactly that type, and the CSV writer, the web API (and its OpenAPI schema) and the Python API
carry every field of it."""

from __future__ import annotations

import json
import typing
import warnings

import pytest
from pydantic import TypeAdapter
from typing_extensions import is_typeddict

from imr_ml.modeling.modelfiles.modelio import load_model_dir
from imr_ml.reporting.explain import explain_rows
from imr_ml.schema import PRE_DECISION
from imr_ml.scoring.examples import EXAMPLES
from imr_ml.scoring.result import ExplainResult, Inputs, ScoreResult
from imr_ml.scoring.results_io import FLAT, FLAT_COLUMNS, NOT_FLAT, flat_result
from imr_ml.scoring.score import request_row, score_rows

REQUESTS = [{k: ex[k] for k in ("summary", "item", "claims_admin_guideline", "date_of_injury")} for ex in EXAMPLES]
THIN = {"summary": "knee pain", "item": "MRI knee"}


def undeclared(value, tp, where="result") -> list[str]:
    """Keys of `value` that its TypedDict `tp` (recursively) does not declare, and declared
    required keys it lacks."""
    origin, args = typing.get_origin(tp), typing.get_args(tp)
    if is_typeddict(tp):
        hints = typing.get_type_hints(tp)
        out = [f"{where}.{k}: not declared" for k in value if k not in hints]
        out += [f"{where}.{k}: missing" for k in tp.__required_keys__ if k not in value]
        for k, v in value.items():
            if k in hints:
                out += undeclared(v, hints[k], f"{where}.{k}")
        return out
    if origin in (typing.Union, getattr(__import__("types"), "UnionType", None)):
        typed = [a for a in args if is_typeddict(a) or typing.get_origin(a) in (list, dict)]
        return undeclared(value, typed[0], where) if typed and value is not None else []
    if origin is list and value:
        return [e for i, x in enumerate(value) for e in undeclared(x, args[0], f"{where}[{i}]")]
    if origin is dict and value:
        return [e for k, x in value.items() for e in undeclared(x, args[1], f"{where}[{k}]")]
    return []


@pytest.fixture(scope="module")
def loaded():
    return load_model_dir("builtin")


@pytest.fixture(scope="module")
def rows():
    labelled = request_row(EXAMPLES[0]["summary"], EXAMPLES[0]["item"]) | {"label": 0, "letter_id": "L1"}
    return [request_row(r["summary"], r["item"], r.get("claims_admin_guideline"), r.get("date_of_injury"))
            for r in REQUESTS + [THIN]] + [labelled]


def test_scored_abstained_and_labelled_results_are_exactly_the_type(loaded, rows):
    results = list(score_rows(loaded, rows))
    assert [r["abstained"] for r in results] == [False, False, True, False] and "actual" in results[3]
    for r in results:
        assert undeclared(r, ScoreResult) == []
        TypeAdapter(ScoreResult).validate_python(r)


def test_explained_results_are_exactly_the_type(loaded, rows):
    for r in explain_rows(loaded, rows):
        assert undeclared(r, ExplainResult) == []
        TypeAdapter(ExplainResult).validate_python(r)
    assert set(typing.get_type_hints(Inputs)) == set(PRE_DECISION)


def test_every_field_has_spreadsheet_columns_or_says_why_not(loaded, rows):
    fields = set(typing.get_type_hints(ScoreResult))
    assert set(FLAT) | set(NOT_FLAT) == fields and not set(FLAT) & set(NOT_FLAT)
    for r in score_rows(loaded, rows):
        flat = flat_result(r)
        assert list(flat) == list(FLAT_COLUMNS)
        assert all(v is None or isinstance(v, str | int | float | bool) for v in flat.values())


@pytest.fixture(scope="module")
def client(loaded):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        from fastapi.testclient import TestClient
    from imr_ml.web.app import create_app

    return TestClient(create_app(loaded, form_secret="t"), base_url="http://127.0.0.1:8000")


@pytest.mark.parametrize("path, library", [("/v1/score", "score"), ("/v1/explain", "explain")])
def test_the_web_api_returns_every_field_the_library_produces(client, loaded, path, library):
    """The issue's case: /v1/score dropped `warnings`. Now the answer is the library's result."""
    rows = [request_row(r["summary"], r["item"], r.get("claims_admin_guideline"), r.get("date_of_injury"))
            for r in REQUESTS + [THIN]]
    made = list(score_rows(loaded, rows)) if library == "score" else explain_rows(loaded, rows)
    got = client.post(path, json={"requests": REQUESTS + [THIN]}).json()["results"]
    assert got == json.loads(json.dumps(made))
    assert all("warnings" in r and "checklist" in r and "flag" in r for r in got)
    one = client.post(path, json=REQUESTS[0]).json()
    assert one == json.loads(json.dumps(made[0]))


def test_the_openapi_schema_declares_every_field(client):
    schemas = client.get("/openapi.json").json()["components"]["schemas"]
    assert set(schemas["ScoreResult"]["properties"]) == set(typing.get_type_hints(ScoreResult))
    assert set(schemas["ExplainResult"]["properties"]) == set(typing.get_type_hints(ExplainResult))
    assert "warnings" in schemas["ScoreResult"]["required"]


def test_the_python_api_returns_the_same_results(loaded, rows):
    import pandas as pd

    import imr_ml

    def same(a, b):  # the API names its requests row1, row2, ... as a CSV's
        return {k: v for k, v in a.items() if k != "letter_id"} == {k: v for k, v in b.items() if k != "letter_id"}

    model = imr_ml.load_model("builtin")
    made = list(score_rows(loaded, rows[:3]))
    got = model.score(REQUESTS + [THIN])
    assert len(got) == 3 and all(same(a, b) for a, b in zip(got, made))
    frame = model.score(pd.DataFrame(REQUESTS + [THIN]))
    assert list(frame.columns) == list(made[0]) and len(frame) == 3
    assert same(model.explain(REQUESTS[:1])[0], explain_rows(loaded, rows[:1])[0])
