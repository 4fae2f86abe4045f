"""Fault injection for `imr-ml serve` (issue #21): a hostile or careless client gets a clean
4xx or 503 (JSON, or the page with its error), or its connection closed; never a stalled
server, a traceback, or what it sent in the log. Real sockets and processes where the
behaviour lives there (timeouts, the connection cap, kill -9, bind failures, the log);
FastAPI's TestClient for the rest. `pytest -m faults` runs these alone."""

from __future__ import annotations

import json
import logging
import os
import random
import signal
import socket
import threading
import time
import urllib.parse
import urllib.request
import warnings
from pathlib import Path

import pytest
import servers
from typer.testing import CliRunner

pytest.importorskip("httpx")
with warnings.catch_warnings():  # Starlette asks for httpx2, which FastAPI's TestClient does not need yet
    warnings.simplefilter("ignore", DeprecationWarning)
    from fastapi.testclient import TestClient  # noqa: E402

from imr_ml.cli import app as cli  # noqa: E402
from imr_ml.modeling.modelfiles.modelio import load_model_dir  # noqa: E402
from imr_ml.scoring.examples import EXAMPLES  # noqa: E402
from imr_ml.web.app import create_app  # noqa: E402

pytestmark = pytest.mark.faults

FORM = "form-token-for-fault-tests"
URL = "http://127.0.0.1:8000"
REQUEST = {k: EXAMPLES[0][k] for k in ("summary", "item", "claims_admin_guideline")}
WORDS = " ".join(ex["summary"] for ex in EXAMPLES).split()
MARK = "ZQX-PATIENT-7731"  # what a client sends that must never reach the log


@pytest.fixture(scope="module")
def loaded():
    return load_model_dir("builtin")


@pytest.fixture(scope="module")
def client(loaded):
    return TestClient(create_app(loaded, form_secret=FORM), base_url=URL, raise_server_exceptions=False)


def distinct(n: int, seed: int) -> list[dict]:
    """`n` requests with different summaries (a repeated one is answered from a cache)."""
    rnd = random.Random(seed)
    return [{"summary": " ".join(rnd.choice(WORDS) for _ in range(100)), "item": "Physical therapy x12"}
            for _ in range(n)]


def upload(client, data: bytes, **fields):
    return client.post("/batch", files={"file": ("claims.csv", data, "text/csv")}, data={"csrf_token": FORM} | fields)


CSV = "summary,item\n" + "".join(f'"{r["summary"]}",Café au lait therapy {i}\n' for i, r in enumerate(distinct(2, 0)))


# -- uploads: encodings from an allow-list --------------------------------------------------

@pytest.mark.parametrize("encoding", ["punycode", "rot13", "utf-7", "idna", "zlib_codec", "hex", "no-such-codec",
                                      "encodings.punycode", "x" * 300])
def test_batch_refuses_an_encoding_off_the_allow_list(client, encoding):
    punycode_bomb = b"a" * 200_000 + b"-" + b"a" * 200_000  # seconds of quadratic work if it were decoded
    r = upload(client, punycode_bomb, encoding=encoding)
    assert r.status_code == 422 and r.headers["content-type"].startswith("text/html")
    assert "unsupported encoding" in r.text and "choose UTF-8, cp1252" in r.text and "Traceback" not in r.text
    assert "x" * 41 not in r.text  # a long name is cut, not echoed whole


@pytest.mark.parametrize("encoding, codec", [("UTF-8", "utf-8-sig"), ("utf-8-sig", "utf-8-sig"),
                                             ("windows-1252", "cp1252"), ("latin-1", "latin-1"),
                                             ("utf-16", "utf-16")])
def test_batch_reads_the_encodings_it_offers(client, encoding, codec):
    r = upload(client, CSV.encode(codec), encoding=encoding)
    assert r.status_code == 200 and "Café au lait therapy 1" in r.text and r.text.count("<tr>") == 3


def test_a_utf16_file_read_as_utf8_says_to_choose_utf16(client):
    r = upload(client, CSV.encode("utf-16"))
    assert r.status_code == 422 and "choose UTF-16" in r.text


# -- CPU work off the event loop, within a time budget -------------------------------------

def test_a_request_over_its_time_budget_is_a_503_that_scores_nothing(loaded):
    c = TestClient(create_app(loaded, request_timeout=0.2, form_secret=FORM), base_url=URL)
    r = c.post("/v1/score", json={"requests": distinct(200, 1)})  # seconds of scoring
    assert r.status_code == 503 and list(r.json()) == ["error"]
    assert "longer than the server's 0.2 s budget" in r.json()["error"]
    rows = distinct(200, 2)
    page = upload(c, ("summary,item\n" + "".join(f'"{x["summary"]}",MRI\n' for x in rows)).encode())
    assert page.status_code == 503 and "0.2 s budget" in page.text and "<table" not in page.text
    assert c.post("/v1/score", json=REQUEST).status_code == 200  # a small one still fits


def test_a_small_request_is_answered_while_a_big_one_is_being_scored(loaded):
    started, big_done = threading.Event(), threading.Event()

    class Started(logging.Handler):  # the inputs are logged (log_inputs) as scoring begins
        def emit(self, record):
            if "inputs" in record.getMessage() and "Acupuncture" not in record.getMessage():
                started.set()

    handler, logger = Started(), logging.getLogger("imr_ml.web")
    level = logger.level
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    try:
        with TestClient(create_app(loaded, log_inputs=True), base_url=URL) as c:  # one event loop for both
            def big():
                c.post("/v1/score", json={"requests": distinct(300, 3)})
                big_done.set()

            threading.Thread(target=big, daemon=True).start()
            assert started.wait(60)
            r = c.post("/v1/score", json=REQUEST)
            assert r.status_code == 200 and r.json()["p_overturned"] is not None
            assert not big_done.is_set()  # answered while the big one was still being scored
            assert big_done.wait(120)
    finally:
        logger.removeHandler(handler)
        logger.setLevel(level)


def test_the_analyses_memos_do_not_grow_without_bound(loaded):
    from imr_ml.signals import load_rules

    vectors = load_rules().memos.vectors  # row vectors keyed by the rows' text
    c = TestClient(create_app(loaded, cache_rows=30), base_url=URL)
    assert c.post("/v1/score", json={"requests": distinct(20, 4)}).status_code == 200
    assert len(vectors) >= 20
    assert c.post("/v1/score", json={"requests": distinct(20, 5)}).status_code == 200  # 40 rows seen: forgotten
    assert len(vectors) == 0


def test_api_bodies_are_parsed_off_the_loop_with_one_line_errors(client):
    for body, ctype, status, message in [
        (b"[" * 100_000 + b"]" * 100_000, "application/json", 400, "nested too deeply"),
        (b"[[]]", "application/json", 422, "valid dictionary"),
        (b"{" * 100_000, "application/json", 400, "not valid JSON"),
        (b"\xff\xfe{}", "application/json", 400, "not valid JSON"),
        (json.dumps(REQUEST).encode(), "text/plain", 400, "must be JSON"),  # what a cross-site form can send
        (json.dumps(REQUEST).encode(), "", 400, "must be JSON"),
    ]:
        r = client.post("/v1/score", content=body, headers={"content-type": ctype} if ctype else {})
        assert r.status_code == status and list(r.json()) == ["error"], (body[:20], r.text[:200])
        assert message in r.json()["error"] and "\n" not in r.json()["error"]


def test_form_posts_are_decoded_off_the_loop_with_their_errors_on_the_page(client):
    r = client.post("/", data=REQUEST | {"summary": "word " * 60_000, "csrf_token": FORM})  # 300 KB url-encoded
    assert r.status_code == 422 and "at most 50000 characters" in r.text and '<p class="error"' in r.text
    fields = "&".join(f"f{i}=1" for i in range(200)).encode()
    r = client.post("/", content=fields, headers={"content-type": "application/x-www-form-urlencoded"})
    assert r.status_code == 413 and "too many form fields" in r.text


# -- Host allow-list and CSRF --------------------------------------------------------------

@pytest.mark.parametrize("host, status", [("127.0.0.1:8000", 200), ("localhost", 200), ("LocalHost.:80", 200),
                                          ("[::1]:8000", 200), ("attacker.example", 400),
                                          ("127.0.0.1.attacker.example", 400), ("[::2]", 400)])
def test_only_requests_naming_this_server_are_answered(client, host, status):
    r = client.get("/v1/model", headers={"host": host})
    assert r.status_code == status
    if status == 400:
        assert "--allowed-host" in r.json()["error"] and r.headers["x-frame-options"] == "DENY"
    assert client.get("/v1/health", headers={"host": host}).status_code == 200  # monitors use any name


def test_allowed_hosts_can_be_named_or_opened(loaded):
    named = TestClient(create_app(loaded, allowed_hosts=["imr.example.org"]), base_url="http://imr.example.org")
    assert named.get("/v1/model").status_code == 200
    assert named.get("/v1/model", headers={"host": "localhost"}).status_code == 400
    anyone = TestClient(create_app(loaded, allowed_hosts=["*"]), base_url="http://whatever.example")
    assert anyone.get("/v1/model").status_code == 200


def test_form_posts_need_the_pages_token(client):
    assert f'name="csrf_token" value="{FORM}"' in client.get("/").text
    assert f'name="csrf_token" value="{FORM}"' in client.get("/batch").text
    for forged in ({}, {"csrf_token": ""}, {"csrf_token": "guess"}, {"csrf_token": FORM + "x"}):
        r = client.post("/", data=REQUEST | forged)
        assert r.status_code == 403 and "out of date" in r.text and 'id="p-overturned"' not in r.text
        r = client.post("/batch", files={"file": ("c.csv", CSV.encode(), "text/csv")}, data=forged)
        assert r.status_code == 403 and "out of date" in r.text and "<table" not in r.text
    assert client.post("/", data=REQUEST | {"csrf_token": FORM}).status_code == 200


def test_each_server_run_has_its_own_form_token(loaded):
    a, b = (TestClient(create_app(loaded), base_url=URL) for _ in range(2))
    token = a.get("/").text.split('name="csrf_token" value="')[1].split('"')[0]
    assert len(token) >= 32
    assert a.post("/", data=REQUEST | {"csrf_token": token}).status_code == 200
    assert b.post("/", data=REQUEST | {"csrf_token": token}).status_code == 403


# -- logs: the error's type and a request id, never the input --------------------------------

def test_an_unexpected_error_is_logged_as_its_type_and_request_id_only(loaded, caplog):
    app = create_app(loaded)

    def boom():
        raise ValueError(f"day is out of range for month: '02/30/2019' {MARK}")

    app.add_api_route("/boom", boom)
    r = TestClient(app, base_url=URL, raise_server_exceptions=False).get("/boom")
    rid = r.headers["x-request-id"]
    assert r.status_code == 500 and r.json() == {"error": f"internal error (ValueError; request id {rid})"}
    assert r.headers["content-security-policy"]
    assert f"request {rid} failed: ValueError" in caplog.text
    assert MARK not in caplog.text and "Traceback" not in caplog.text and "02/30" not in caplog.text


@pytest.fixture(scope="module")
def guarded(tmp_path_factory):
    """A real server with small limits: headers within 1 s, 4 connections, 2 s a request."""
    log = tmp_path_factory.mktemp("serve") / "stderr.log"
    proc, url = servers.start("--header-timeout", "1", "--max-connections", "4", "--request-timeout", "2",
                              "--allowed-host", "imr.test", stderr=log)
    yield proc, url, log
    servers.stop(proc)


def raw(url: str, data: bytes = b"") -> socket.socket:
    host, port = urllib.parse.urlsplit(url).netloc.split(":")
    s = socket.create_connection((host, int(port)), timeout=10)
    if data:
        s.sendall(data)
    return s


def answer(s: socket.socket) -> bytes:
    """Everything the server sends until it closes the connection."""
    out = b""
    while chunk := s.recv(65536):
        out += chunk
    return out


def test_the_log_has_no_input_no_query_string_and_no_traceback(guarded):
    proc, url, log = guarded
    request = urllib.request.Request
    for req in (request(f"{url}/v1/model?token={MARK}"),
                request(f"{url}/v1/score", data=json.dumps(REQUEST | {"item": MARK, "colour": MARK}).encode(),
                        headers={"content-type": "application/json", "x-note": MARK}),
                request(f"{url}/v1/score?{MARK}=1", data=b'{"summary": "' + MARK.encode() + b'", ',
                        headers={"content-type": "application/json"}),
                request(f"{url}/v1/explain", data=json.dumps(REQUEST | {"date_of_injury": f"13/45/2019 {MARK}"})
                        .encode(), headers={"content-type": "application/json"}),
                request(f"{url}/batch", data=b"--b\r\nContent-Disposition: form-data; name=\"file\"; filename=\""
                        + MARK.encode() + b'"\r\n\r\n' + MARK.encode() + b"\r\n--b-\xff" + MARK.encode(),
                        headers={"content-type": "multipart/form-data; boundary=b"}),
                request(f"{url}/v1/model", headers={"host": f"{MARK}.attacker.example"})):
        try:
            urllib.request.urlopen(req, timeout=30)
        except urllib.error.HTTPError:
            pass  # refused, as it should be: what matters here is the log
    for bad in (f"GET /{MARK} HTTP/1.1\r\nHost: 127.0.0.1\r\nX: {MARK}\x00\r\n\r\n",
                f"{MARK} {MARK}\r\n\r\n"):
        answer(raw(url, bad.encode()))
    time.sleep(0.3)
    text = log.read_text(errors="replace")
    assert MARK not in text and "Traceback" not in text
    access = [line for line in text.splitlines() if ' - "' in line]
    assert len(access) >= 6 and not any("?" in line for line in access)
    assert '"GET /v1/model" 200' in text and '"POST /v1/score" 422' in text


def test_half_open_connections_are_closed_after_the_header_timeout(guarded):
    proc, url, log = guarded
    silent, partial = raw(url), raw(url, b"POST /v1/score HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Le")
    assert answer(silent) == b""  # closed after --header-timeout 1, nothing said to a silent client
    assert answer(partial).startswith(b"HTTP/1.1 408 ")


def test_idle_connections_cannot_exhaust_descriptors_or_lock_out_a_client(guarded):
    proc, url, log = guarded
    time.sleep(1.5)  # earlier tests' connections are gone
    before = len(os.listdir(f"/proc/{proc.pid}/fd"))
    idle = [raw(url) for _ in range(300)]
    time.sleep(0.5)
    assert len(os.listdir(f"/proc/{proc.pid}/fd")) <= before + 4  # --max-connections 4
    with urllib.request.urlopen(url + "/v1/model", timeout=10) as r:  # an idle connection makes room
        assert r.status == 200
    for s in idle:
        s.close()
    assert "Traceback" not in log.read_text(errors="replace")


def test_when_every_connection_is_busy_a_new_one_is_told_so(guarded):
    proc, url, log = guarded
    time.sleep(1.5)
    head = (b"POST /v1/score HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
            b"Content-Length: 99\r\n\r\n{")
    busy = [raw(url, head) for _ in range(4)]  # requests whose bodies never finish
    time.sleep(0.5)
    refused = answer(raw(url))
    assert refused.startswith(b"HTTP/1.1 503 ") and b"too many connections" in refused
    slow_body = answer(busy[0])  # the body did not arrive within --request-timeout 2
    assert slow_body.startswith(b"HTTP/1.1 408 ") and b"request body not received within 2 s" in slow_body
    for s in busy:
        s.close()


def test_the_cli_allow_list_takes_allowed_host(guarded):
    proc, url, log = guarded
    for host, status in (("imr.test:8000", 200), ("other.test", 400)):
        try:
            code = urllib.request.urlopen(urllib.request.Request(url + "/v1/model", headers={"host": host})).status
        except urllib.error.HTTPError as exc:
            code = exc.code
        assert code == status


# -- workers die with the parent; bind failures are one line -------------------------------

def children(pid: int) -> list[int]:
    out = []
    for d in filter(str.isdigit, os.listdir("/proc")):
        try:
            stat = Path(f"/proc/{d}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(stat[1]) == pid and stat[0] != "Z":
            out.append(int(d))
    return out


def alive(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


def test_workers_die_with_the_parent_and_the_port_is_free_again():
    port = servers.free_port()
    proc, url = servers.start("--workers", "2", port=port)
    try:
        workers = children(proc.pid)
        assert len(workers) >= 2
        page = urllib.request.urlopen(url + "/").read().decode()
        token = page.split('name="csrf_token" value="')[1].split('"')[0]
        form = urllib.parse.urlencode(REQUEST | {"csrf_token": token}).encode()
        for _ in range(6):  # new connections, spread over both workers: one token for all
            assert urllib.request.urlopen(url + "/", data=form, timeout=30).status == 200
    finally:
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait()
    deadline = time.time() + 20
    while any(alive(p) for p in workers) and time.time() < deadline:
        time.sleep(0.1)
    assert not any(alive(p) for p in workers)
    with socket.socket() as s:  # nobody holds the port: a restart can listen on it
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        s.bind(("127.0.0.1", port))
        s.listen()


@pytest.mark.parametrize("host, reason", [("127.0.0.1", "address in use"),
                                          ("203.0.113.9", "not an address of this machine"),
                                          ("no-such-host.invalid", "unknown host name")])
def test_a_port_that_cannot_be_bound_is_one_line_and_exit_2(host, reason):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        r = CliRunner().invoke(cli, ["serve", "--host", host, "--port", str(port)])
    lines = [line for line in r.output.splitlines() if not line.startswith("warning:")]
    assert r.exit_code == 2 and lines == [f"error: cannot listen on {host}:{port} ({reason})"]
