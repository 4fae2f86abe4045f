"""`imr-ml serve`: the JSON API, the HTML pages and their safety (escaping, headers, limits,
token, logging), through FastAPI's TestClient; the model is loaded once for the module."""

from __future__ import annotations

import base64
import dataclasses
import json
import logging
import re
import warnings

import pytest
from typer.testing import CliRunner

pytest.importorskip("httpx")
with warnings.catch_warnings():  # Starlette asks for httpx2, which FastAPI's TestClient does not need yet
    warnings.simplefilter("ignore", DeprecationWarning)
    from fastapi.testclient import TestClient  # noqa: E402

from imr_ml.cli import app as cli  # noqa: E402
from imr_ml.modeling.modelfiles.modelio import load_model_dir  # noqa: E402
from imr_ml.scoring.examples import EXAMPLES  # noqa: E402
from imr_ml.web.app import create_app  # noqa: E402

FIELDS = ("summary", "item", "claims_admin_guideline", "date_of_injury", "ur_denial_date")
REQUEST = {k: EXAMPLES[0][k] for k in FIELDS}
XSS = ["<script>alert(1)</script>", "<img src=x onerror=alert(1)>"]
TOKEN = "s3cret-token-0123456789"
FORM = "form-token-for-tests"  # the pages' CSRF token, given to create_app
URL = "http://127.0.0.1:8000"  # the Host the clients send (the server answers loopback names only)


@pytest.fixture(scope="module")
def loaded():
    return load_model_dir("builtin")


@pytest.fixture(scope="module")
def client(loaded):
    return TestClient(create_app(loaded, max_batch=5, max_body=200_000, form_secret=FORM), base_url=URL,
                      raise_server_exceptions=False)


def test_score_one_request_has_the_fields_of_score_json(client):
    r = client.post("/v1/score", json=REQUEST)
    assert r.status_code == 200
    out = r.json()
    assert out["abstained"] is False and 0 <= out["interval"][0] <= out["p_overturned"] <= out["interval"][1] <= 1
    assert {"relative_risk", "category_rate", "verdict", "flagged", "flag", "logit", "baseline", "contributions",
            "reasons", "hints", "checklist", "warnings"} <= out.keys()
    total = out["baseline"]["logit"] + sum(c["contribution"] for c in out["contributions"])
    assert total == pytest.approx(out["logit"])
    assert out["verdict"] == "likely upheld" and not out["flagged"] and out["hints"]


def test_explain_batch_and_abstention(client):
    r = client.post("/v1/explain", json={"requests": [REQUEST, {"summary": "knee pain", "item": "MRI knee"}]})
    assert r.status_code == 200
    scored, thin = r.json()["results"]
    assert scored["explanation"]["groups"] and scored["inputs"]["summary"].startswith("The injured worker")
    assert scored["waterfall"][-1]["p"] == scored["p_overturned"] and thin["waterfall"] == []
    assert thin["abstained"] is True and "too little clinical content" in thin["reason"]
    assert "p_overturned" not in thin or thin["p_overturned"] is None


def test_health_and_model_say_no_file_paths(client):
    assert client.get("/v1/health").json() == {"status": "ok"}
    info = client.get("/v1/model").json()
    assert info["kind"] == "imr-ml built-in model" and info["n_features"] > 100 and info["threshold"] > 0
    assert info["flag"]["name"] == "better chance than most" and info["flag"]["measured"] is None
    assert info["data"]["n_letters"] == 0 and "scikit-learn" in info["versions"]
    assert not re.search(r"/(home|tmp|work|usr)/", json.dumps(info)) and "letter_hashes" not in json.dumps(info)


@pytest.mark.parametrize("kwargs, status, message", [
    ({"content": b"{not json", "headers": {"content-type": "application/json"}}, 400, "not valid JSON"),
    ({"content": b"plain text"}, 400, "must be JSON"),
    ({"content": b"x" * 300_000, "headers": {"content-type": "application/json"}}, 413, "larger than"),
    ({"json": {"requests": [REQUEST] * 6}}, 413, "at most 5"),
    ({"json": REQUEST | {"colour": "red"}}, 422, "colour: Extra inputs"),
    ({"json": {"item": "MRI"}}, 422, "summary: Field required"),
    ({"json": REQUEST | {"summary": "word " * 10_001}}, 422, "at most 50000"),
    ({"json": {"requests": [REQUEST | {"item": 5}]}}, 422, "requests.0.item"),
    ({"json": REQUEST | {"ur_decision": "maybe"}}, 422, "say denied or modified"),
])
def test_errors_are_one_json_line_with_the_right_status(client, kwargs, status, message):
    r = client.post("/v1/score", **kwargs)
    assert r.status_code == status
    assert r.headers["content-type"] == "application/json" and list(r.json()) == ["error"]
    assert message in r.json()["error"] and "\n" not in r.json()["error"]


class _FailingModel:
    """A model whose first use inside scoring fails with a message holding an input's words."""

    @property
    def calibrated_classifiers_(self):
        raise RuntimeError("secret patient detail")


def test_a_failure_inside_scoring_is_a_500_without_a_stack_trace(loaded, caplog):
    failing = dataclasses.replace(loaded, model=_FailingModel())
    client = TestClient(create_app(failing, max_batch=5, max_body=200_000, form_secret=FORM), base_url=URL,
                        raise_server_exceptions=False)
    for path in ("/v1/score", "/v1/explain"):
        r = client.post(path, json=REQUEST)
        assert r.status_code == 500 and "RuntimeError" in r.json()["error"]
        assert r.headers["x-request-id"] in r.json()["error"]
        assert "Traceback" not in r.text and "secret" not in r.text
    r = client.post("/", data=REQUEST | {"csrf_token": FORM})
    assert r.status_code == 500 and "Traceback" not in r.text and "secret" not in r.text
    assert "secret" not in caplog.text and "Traceback" not in caplog.text
    assert f"request {r.headers['x-request-id']} failed: RuntimeError" in caplog.text


def test_form_page_scores_and_keeps_the_form_filled(client):
    assert 'href="/?example=1"' in client.get("/").text
    example = client.get("/?example=1").text
    assert "twelve acupuncture sessions" in example
    r = client.post("/", data=REQUEST | {"other_items": "Norco 10/325 #90\nTENS unit", "ur_decision": "denied",
                                         "ur_reason": "no documented functional improvement", "csrf_token": FORM})
    assert r.status_code == 200
    page = r.text
    assert 'id="p-overturned"' in page and "Starting point" in page and "The model&#39;s estimate" in page
    assert "Missing documentation" in page and 'type="checkbox"' in page
    assert "<mark class=" in page  # evidence highlighted in the summary
    assert 'value="Acupuncture 2 times a week for 6 weeks for the lumbar spine"' in page
    assert "TENS unit</textarea>" in page and '<option value="denied" selected>' in page


def test_thin_input_abstains_with_its_reason(client):
    page = client.post("/", data={"summary": "knee pain", "item": "MRI knee", "csrf_token": FORM}).text
    assert 'id="abstained"' in page and "too little clinical content" in page


@pytest.mark.parametrize("evil", XSS)
def test_user_text_is_escaped_in_the_result_page(client, evil):
    summary = REQUEST["summary"] + " " + evil
    for data in (REQUEST | {"summary": summary}, REQUEST | {"item": "Acupuncture x6 " + evil},
                 {"summary": evil, "item": evil}):
        page = client.post("/", data=data | {"csrf_token": FORM}).text
        assert evil not in page
        assert evil.replace("<", "&lt;").replace(">", "&gt;") in page


def test_security_headers_on_every_response(client):
    for r in (client.get("/"), client.get("/v1/health"), client.get("/static/style.css"), client.get("/nope"),
              client.post("/v1/score", content=b"x" * 300_000)):
        assert r.headers["x-content-type-options"] == "nosniff"
        assert r.headers["x-frame-options"] == "DENY" and r.headers["referrer-policy"] == "no-referrer"
        csp = r.headers["content-security-policy"]
        assert "default-src 'self'" in csp and "unsafe-inline" not in csp
    assert "<script>" not in client.get("/").text  # no inline script: the CSP would refuse it


def test_bearer_token(loaded):
    c = TestClient(create_app(loaded, token=TOKEN), base_url=URL)
    assert c.get("/v1/health").status_code == 200
    for path in ("/", "/batch", "/v1/model", "/openapi.json", "/static/style.css"):
        assert c.get(path).status_code == 401
    assert c.post("/v1/score", json=REQUEST, headers={"Authorization": "Bearer wrong"}).status_code == 401
    r = c.post("/v1/score", json=REQUEST, headers={"Authorization": f"Bearer {TOKEN}"})
    assert r.status_code == 200 and r.json()["p_overturned"] is not None
    assert c.get("/v1/model").headers["www-authenticate"] == "Bearer"


def test_batch_upload_with_column_mapping_gives_a_table_and_a_csv(client):
    csv_text = "Case,Notes,Treatment\n" + "".join(
        f'C{i},"{ex["summary"]}",{ex["item"]}\n' for i, ex in enumerate(EXAMPLES)) + "C9,too short,MRI\n"
    r = client.post("/batch", files={"file": ("mine.csv", csv_text.encode(), "text/csv")},
                    data={"summary_column": "Notes", "item_column": "Treatment", "id_column": "Case",
                          "csrf_token": FORM})
    assert r.status_code == 200
    page = r.text
    assert page.count("<tr>") == 3 + 1 and "not scored" in page and 'class="sortable"' in page
    assert '<script src="/static/sort.js" defer></script>' in page
    href = re.search(r'href="data:text/csv;charset=utf-8;base64,([^"]+)"', page).group(1)
    lines = base64.b64decode(href).decode().splitlines()
    assert lines[0].startswith("Case,item,category,p_overturned") and len(lines) == 4  # `score --out` columns
    assert lines[1].startswith("C0,Acupuncture")


def test_batch_upload_errors_are_shown_on_the_page(client):
    r = client.post("/batch", files={"file": ("mine.csv", b"a,b\n1,2\n", "text/csv")}, data={"csrf_token": FORM})
    assert r.status_code == 422 and "needs columns summary, item" in r.text
    r = client.post("/batch", files={"file": ("mine.csv", "summary,item\ncaf\xe9,x\n".encode("cp1252"), "text/csv")},
                    data={"csrf_token": FORM})
    assert r.status_code == 422 and "cp1252" in r.text


def test_inputs_are_logged_only_when_asked(loaded, caplog):
    caplog.set_level(logging.DEBUG)
    TestClient(create_app(loaded), base_url=URL).post("/v1/score", json=REQUEST)
    assert "warehouse clerk" not in caplog.text
    TestClient(create_app(loaded, log_inputs=True), base_url=URL).post("/v1/score", json=REQUEST)
    assert "warehouse clerk" in caplog.text


def test_openapi_documents_the_api(client):
    spec = client.get("/openapi.json").json()
    assert {"/v1/score", "/v1/explain", "/v1/health", "/v1/model"} <= spec["paths"].keys()
    assert "ScoreRequest" in spec["components"]["schemas"] and "/" not in spec["paths"]


def test_cli_refuses_an_unsafe_model_dir_as_score_does(tmp_path):
    (tmp_path / "manifest.json").write_text(json.dumps({"files": {"/etc/passwd": "0" * 64}}))
    runner = CliRunner()
    served = runner.invoke(cli, ["serve", str(tmp_path), "--port", "0"])
    scored = runner.invoke(cli, ["score", str(tmp_path), "--item", "MRI"], input="text")
    assert served.exit_code == 2 and served.output.count("\n") == 1 and served.output.startswith("error: ")
    assert served.output == scored.output
