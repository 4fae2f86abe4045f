"""Faults in the model half of the CLI (train, score, explain, report, model directories,
CSV requests): each ends with exit status 2 and one `error:` line, and nothing the user
had is lost or half-written. One tiny model is trained per module."""

import base64
import hashlib
import io
import json
import os
import re
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
from confined import full_folder, read_only_folder
from typer.testing import CliRunner

from imr_ml.cli import app
from imr_ml.modeling.modelfiles import modelio
from imr_ml.modeling.modelfiles.manifest import seal
from imr_ml.modeling.modelfiles.modelio import ModelLoadError, load_model_dir, write_model_dir

pytestmark = pytest.mark.faults

runner = CliRunner()
SUMMARY = ("The injured worker has chronic low back pain radiating to the left leg. An MRI showed a "
           "disc herniation at L5-S1. Physical therapy and medications failed to help. She remains off work.")
ITEM = "Lumbar epidural steroid injection"
TRAIN = ["--no-estimate", "--prior-weight", "0.3", "--folds", "2"]


def invoke(*args, input=None):
    return runner.invoke(app, [str(a) for a in args], input=input)


def assert_refused(res, *words):
    """Exit 2, and stderr is exactly one `error:` line (containing `words`), no traceback; `res`
    from the test runner or from a process of its own (`confined`)."""
    lines = res.stderr.strip().splitlines()
    code = res.exit_code if hasattr(res, "exit_code") else res.returncode
    assert code == 2, (code, res.stdout, res.stderr)
    assert len(lines) == 1 and lines[0].startswith("error: "), res.stderr
    assert "Traceback" not in res.stdout + res.stderr
    for w in words:  # a tuple: any one of its words
        assert any(a in lines[0] for a in (w if isinstance(w, tuple) else (w,))), lines[0]


def snapshot(folder: Path) -> dict[str, bytes]:
    """Every file under `folder` with its bytes (and the folder's entries), to compare after."""
    return {str(p.relative_to(folder)): (b"<dir>" if p.is_dir() else p.read_bytes())
            for p in sorted(folder.rglob("*"))}


@pytest.fixture(scope="module")
def corpus(tmp_path_factory) -> Path:
    from imr_ml.letters.ingest import parse_text
    from imr_ml.synth.generate import iter_letters

    rows = []
    for lid, text, _ in iter_letters(50, seed=5):
        rows += parse_text(text, f"{lid}.txt")
    path = tmp_path_factory.mktemp("corpus") / "corpus.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def model(corpus, tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("model") / "m"
    res = invoke("train", corpus, "--out", out, *TRAIN)
    assert res.exit_code == 0, res.output
    return out


@pytest.fixture()
def model_copy(model, tmp_path) -> Path:
    """A copy of the module's model to tamper with (its links kept as links, as `cp -a` does)."""
    return Path(shutil.copytree(model, tmp_path / "m", symlinks=True))


def rows_of(corpus: Path) -> list[dict]:
    return [json.loads(line) for line in corpus.read_text().splitlines()]


def write_rows(path: Path, rows: list) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    return path


def rewrite_manifest(model_dir: Path, change, reseal: bool = True) -> None:
    """Edit the current manifest and (as a careful forger would) seal it again."""
    m = json.loads((model_dir / "manifest.json").read_text())
    (model_dir / "manifest.json").write_text(json.dumps(change(m)))
    if reseal:
        (model_dir / "manifest.sha256").write_text(seal((model_dir / "manifest.json").read_bytes()))


def replace_model_file(model_dir: Path, data: bytes) -> None:
    """Put `data` in model.skops with a matching sha256, as a careful forger would."""
    (model_dir / "model.skops").write_bytes(data)
    digest = hashlib.sha256(data).hexdigest()
    rewrite_manifest(model_dir, lambda m: m | {"files": m["files"] | {"model.skops": digest}, "model_sha256": digest})


# ----------------------------------------------------------------------------- train --out


def test_train_onto_a_folder_holding_its_corpus_refuses_and_keeps_it(corpus, tmp_path):
    d = tmp_path / "d"
    d.mkdir()
    shutil.copy(corpus, d / "corpus.jsonl")
    (d / "notes.txt").write_text("x\n")
    before = snapshot(d)
    assert_refused(invoke("train", d / "corpus.jsonl", "--out", d, *TRAIN), "input")
    assert snapshot(d) == before


def test_train_onto_a_folder_that_is_not_a_model_refuses(corpus, tmp_path):
    d = tmp_path / "d"
    d.mkdir()
    (d / "notes.txt").write_text("x\n")
    before = snapshot(d)
    assert_refused(invoke("train", corpus, "--out", d, *TRAIN), "not an imr-ml model directory")
    assert snapshot(d) == before


def test_train_onto_a_model_holding_other_files_refuses(corpus, model_copy):
    (model_copy / "notes.txt").write_text("mine\n")
    before = snapshot(model_copy)
    assert_refused(invoke("train", corpus, "--out", model_copy, *TRAIN), "notes.txt")
    assert snapshot(model_copy) == before


def test_train_out_dot_refuses(corpus, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert_refused(invoke("train", corpus, "--out", ".", *TRAIN), "current folder")
    assert list(tmp_path.iterdir()) == []


def test_train_under_a_file_refuses(corpus, tmp_path):
    (tmp_path / "afile").write_text("x\n")
    assert_refused(invoke("train", corpus, "--out", tmp_path / "afile" / "m", *TRAIN), "not a folder")
    assert_refused(invoke("train", corpus, "--out", tmp_path / "afile", *TRAIN), "not a folder")
    assert (tmp_path / "afile").read_text() == "x\n"


def test_train_that_fails_leaves_the_old_model(corpus, model_copy, tmp_path):
    rows = rows_of(corpus)
    upheld = [r for r in rows if r["label"] == 0][:3]  # one class: nothing to learn from
    before = snapshot(model_copy)
    assert_refused(invoke("train", write_rows(tmp_path / "c3.jsonl", upheld), "--out", model_copy, *TRAIN))
    assert snapshot(model_copy) == before


def _writer(loaded, out: Path, note: str, times: int) -> int:
    """A forked process writing the model to `out` `times` times (a train's save, repeated)."""
    pid = os.fork()
    if pid == 0:  # the child: never returns into pytest
        code = 1
        try:
            for i in range(times):
                write_model_dir(out, model=loaded.model, manifest={"note": f"{note}-{i}"})
            code = 0
        finally:
            os._exit(code)
    return pid


def _versions(model_dir: Path) -> list[str]:
    return sorted(p.name for p in model_dir.iterdir() if not p.is_symlink())


def test_a_model_killed_at_any_moment_of_its_swap_leaves_a_whole_model(model_copy):
    """kill -9 at 20 moments while a model is being replaced: the folder always loads (the old
    model or a new one, never none and never a mix), and the next write removes what the
    killed ones left."""
    import random
    import signal
    import time

    loaded = load_model_dir(model_copy)
    rng = random.Random(7)
    for _ in range(20):
        pid = _writer(loaded, model_copy, "killed", times=50)
        time.sleep(rng.uniform(0.05, 0.6))
        os.kill(pid, signal.SIGKILL)
        os.waitpid(pid, 0)
        again = load_model_dir(model_copy)  # loading checks every file against the manifest
        assert again.manifest.get("note", "first").startswith(("killed", "first"))
    write_model_dir(model_copy, model=loaded.model, manifest={"note": "last"})
    assert load_model_dir(model_copy).manifest["note"] == "last"
    assert len(_versions(model_copy)) == 1 and _versions(model_copy)[0].startswith("v-")
    assert sorted(p.name for p in model_copy.parent.iterdir()) == ["m"]


def test_concurrent_trains_take_turns_and_the_last_one_wins(model_copy):
    loaded = load_model_dir(model_copy)
    pids = [_writer(loaded, model_copy, name, times=4) for name in ("a", "b", "c")]
    assert [os.waitstatus_to_exitcode(os.waitpid(pid, 0)[1]) for pid in pids] == [0, 0, 0]
    assert load_model_dir(model_copy).manifest["note"] in ("a-3", "b-3", "c-3")
    assert len(_versions(model_copy)) == 1


def test_what_killed_saves_left_is_removed_by_the_next(model, corpus, tmp_path):
    """A killed save's temp folder and link, a version that is no longer current, and the
    `NAME.tmp-*` folders imr-ml wrote beside a model before versions: the model still loads
    with them there, and the next train removes them."""
    m = Path(shutil.copytree(model, tmp_path / "m", symlinks=True))
    loaded = load_model_dir(m)
    (m / ".tmp-abcd1234").mkdir()
    (m / ".tmp-abcd1234" / "model.skops").write_bytes(b"half")
    os.symlink("v-0000000000000000", m / ".current.tmp-99999")
    shutil.copytree(m / "current", m / "v-0123456789abcdef")
    (tmp_path / "m.tmp-k2j4h5g6").mkdir()
    assert load_model_dir(m).manifest == loaded.manifest
    res = invoke("train", corpus, "--out", m, *TRAIN)
    assert res.exit_code == 0, res.output
    assert sorted(p.name for p in tmp_path.iterdir()) == ["m"]
    assert [p for p in _versions(m) if p != "current"] == [os.readlink(m / "current")]


# ----------------------------------------------------------------------------- loading


@pytest.mark.parametrize("rel", ["baselines/../../outside.skops", "/tmp/outside.skops", "baselines/./x.skops"])
def test_manifest_names_outside_the_model_are_refused(model_copy, rel):
    outside = model_copy.parent / "outside.skops"
    shutil.copy(model_copy / "model.skops", outside)
    digest = hashlib.sha256(outside.read_bytes()).hexdigest()
    rewrite_manifest(model_copy, lambda m: m | {"files": m["files"] | {rel: digest}})
    with pytest.raises(ModelLoadError, match="plain names"):
        load_model_dir(model_copy, with_baselines=True)
    assert_refused(invoke("score", model_copy, "--item", ITEM, input=SUMMARY), "plain names")


def test_symlink_out_of_the_model_is_refused(model_copy):
    outside = model_copy.parent / "elsewhere.skops"
    shutil.move(model_copy / "current" / "model.skops", outside)
    (model_copy / "current" / "model.skops").symlink_to(outside)
    assert_refused(invoke("score", model_copy, "--item", ITEM, input=SUMMARY), "outside the model directory")


def test_allow_list_judges_names_before_importing_them(model_copy):
    data = modelio.dumps(modelio.LoadedModel(model=None, manifest={}, path=Path(".")))
    with zipfile.ZipFile(io.BytesIO(data)) as z:
        schema = z.read("schema.json").decode().replace('"imr_ml.modeling.modelfiles.loaded"', '"imr_ml.__main__"')
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr("schema.json", schema)
    replace_model_file(model_copy, buf.getvalue())
    sys.modules.pop("imr_ml.__main__", None)
    with pytest.raises(ModelLoadError, match="allow-list: imr_ml.__main__"):
        load_model_dir(model_copy)
    assert "imr_ml.__main__" not in sys.modules


@pytest.mark.parametrize("manifest", [
    [], "model", {"files": []}, {"files": {"model.skops": 5}}, {"files": {}},
    {"files": {"model.skops": "0" * 64}, "versions": ["1.6"]}, {"versions": {}},
])
def test_malformed_manifests_are_refused(model_copy, manifest):
    (model_copy / "manifest.json").write_text(json.dumps(manifest))
    assert_refused(invoke("score", model_copy, "--item", ITEM, input=SUMMARY), "manifest")


def _unfitted():
    from sklearn.linear_model import LogisticRegression

    return modelio.dumps(LogisticRegression())


@pytest.mark.parametrize("data, words", [
    (lambda: modelio.dumps({"coef": [1, 2]}), "holds a dict"),
    (_unfitted, "unfitted LogisticRegression"),
    (lambda: b"\x00garbage" * 20, "not a readable skops file"),
])
def test_model_files_that_hold_no_fitted_model_are_refused(model_copy, data, words):
    replace_model_file(model_copy, data())
    for args in (["score", model_copy, "--item", ITEM], ["explain", model_copy, "--item", ITEM],
                 ["report", model_copy, "--out", model_copy.parent / "rep"]):
        assert_refused(invoke(*args, input=SUMMARY), words)
    assert not (model_copy.parent / "rep").exists()


@pytest.mark.parametrize("blocked", ["report.html", "report.json"])
def test_a_report_whose_page_or_json_cannot_be_written_leaves_both_as_they_were(model, tmp_path, blocked):
    rep = tmp_path / "rep"
    assert invoke("report", model, "--out", rep, "--json").exit_code == 0
    before = {p.name: p.read_bytes() for p in rep.iterdir()}
    shutil.rmtree(rep)
    rep.mkdir()
    for name, data in before.items():  # an older report, one of its files a folder no file can replace
        (rep / name).mkdir() if name == blocked else (rep / name).write_bytes(b"old " + data)
    assert_refused(invoke("report", model, "--out", rep, "--json"), "cannot write")
    assert sorted(p.name for p in rep.iterdir()) == sorted(before)  # no temp files left
    for name, data in before.items():
        assert (rep / name).is_dir() if name == blocked else (rep / name).read_bytes() == b"old " + data


# ----------------------------------------------------------------------------- labels and rows


def test_labels_that_contradict_decisions_are_refused_unless_taken_from_decisions(corpus, tmp_path):
    rows = rows_of(corpus)
    rows[3]["label"] = 1 - rows[3]["label"]
    path = write_rows(tmp_path / "c.jsonl", rows)
    assert_refused(invoke("train", path, "--out", tmp_path / "m", *TRAIN),
                   f"row 4 (letter {rows[3]['letter_id']}, item {rows[3]['item_index']})", "contradicts",
                   "--labels-from")
    assert not (tmp_path / "m").exists()
    res = invoke("train", path, "--out", tmp_path / "m", "--labels-from", "decision", *TRAIN)
    assert res.exit_code == 0, res.output
    assert json.loads((tmp_path / "m" / "manifest.json").read_text())["data"]["n_overturned"] == \
        sum(r["decision"] == "overturned" for r in rows)


@pytest.mark.parametrize("label", ["1", 2, 0.5, [1]])
def test_labels_that_are_not_0_or_1_are_refused(corpus, tmp_path, label):
    rows = rows_of(corpus)
    rows[0]["label"] = label
    assert_refused(invoke("train", write_rows(tmp_path / "c.jsonl", rows), "--out", tmp_path / "m", *TRAIN),
                   "row 1", "is not 0 or 1")


def test_three_rows_of_both_classes_get_the_true_reason(corpus, tmp_path):
    rows = rows_of(corpus)
    three = [r for r in rows if r["label"] == 1][:1] + [r for r in rows if r["label"] == 0][:2]
    res = invoke("train", write_rows(tmp_path / "c3.jsonl", three), "--out", tmp_path / "m")
    assert_refused(res, "too few letters per class", "1 letter(s) with an overturned item")
    assert "one class" not in res.stderr


ROW3 = ("row 3", "line 3")  # the corpus reader names the line, the row checks the row


@pytest.mark.parametrize("change", [
    {"item_index": "x"}, {"summary": 3}, {"letter_id": ["a"]}, {"retrospective": "no"},
])
def test_corpus_rows_with_bad_types_are_refused(corpus, model, tmp_path, change):
    rows = rows_of(corpus)[:5]
    rows[2] |= change
    path = write_rows(tmp_path / "c.jsonl", rows)
    assert_refused(invoke("train", path, "--out", tmp_path / "m", *TRAIN), ROW3)
    assert_refused(invoke("score", model, path), ROW3)
    assert_refused(invoke("report", model, "--corpus", path, "--out", tmp_path / "rep"), ROW3)


def test_corpus_line_that_is_not_an_object_is_refused(corpus, model, tmp_path):
    path = write_rows(tmp_path / "c.jsonl", [*rows_of(corpus)[:2], 7])
    assert_refused(invoke("train", path, "--out", tmp_path / "m", *TRAIN), ROW3,
                   ("not an object", "must be a JSON object"))
    assert_refused(invoke("score", model, path), ROW3)


# ----------------------------------------------------------------------------- outputs


@pytest.fixture()
def requests_csv(tmp_path) -> Path:
    path = tmp_path / "r.csv"
    path.write_text(f'summary,item\n"{SUMMARY}",{ITEM}\n', encoding="utf-8")
    return path


def _output_commands(model, csv, out):
    return [["score", model, csv, "--out", out], ["explain", model, csv, "--html", out],
            ["report", model, "--out", out]]


def test_outputs_under_a_regular_file_are_refused(model, requests_csv, tmp_path):
    (tmp_path / "afile").write_text("x\n")
    for args in _output_commands(model, requests_csv, tmp_path / "afile" / "out"):
        assert_refused(invoke(*args), "not a folder")
    assert (tmp_path / "afile").read_text() == "x\n"


def test_file_outputs_onto_a_folder_are_refused(model, requests_csv, tmp_path):
    (tmp_path / "d").mkdir()
    (tmp_path / "d" / "keep.txt").write_text("mine\n")
    for args in _output_commands(model, requests_csv, tmp_path / "d")[:2]:
        assert_refused(invoke(*args), "is a folder")
    assert snapshot(tmp_path / "d") == {"keep.txt": b"mine\n"}


def test_report_onto_a_file_is_refused(model, tmp_path):
    (tmp_path / "afile").write_text("x\n")
    assert_refused(invoke("report", model, "--out", tmp_path / "afile"), "not a folder")


def test_outputs_in_a_read_only_folder_are_refused(model, corpus, requests_csv):
    """Also as root (see `confined`): score, explain, report, train and evaluate each refuse
    before any work, in one line, and the folder stays empty."""
    with read_only_folder() as ro:
        m, csv, rows = ro.put(model), ro.put(requests_csv), ro.put(corpus)
        for args in [*_output_commands(m, csv, ro.folder / "out"), ["train", rows, "--out", ro.folder / "m", *TRAIN],
                     ["evaluate", m, rows, "--out", ro.folder / "e.json"]]:
            assert_refused(ro.run(*args), "not writable")
        assert list(ro.folder.iterdir()) == []


def test_failed_outputs_leave_existing_ones_untouched(model_copy, requests_csv, tmp_path, monkeypatch):
    folder = tmp_path / "outputs"
    folder.mkdir()
    out, html, rep = folder / "s.jsonl", folder / "e.html", folder / "rep"
    out.write_text("old scores\n")
    html.write_text("old page\n")
    rep.mkdir()
    (rep / "report.json").write_text("old report\n")
    (rep / "mine.txt").write_text("mine\n")
    before = snapshot(folder)
    (model_copy / "model.skops").write_bytes(b"corrupt")
    for args in _output_commands(model_copy, requests_csv, None):
        args[-1] = {"score": out, "explain": html, "report": rep}[args[0]]
        assert_refused(invoke(*args))
    assert snapshot(folder) == before


def test_report_that_fails_midway_writes_nothing(model, tmp_path):
    rep = tmp_path / "rep"
    rep.mkdir()
    (rep / "mine.txt").write_text("mine\n")
    (rep / "report.html").mkdir()  # the page cannot take its place: the write fails after all the work
    before = snapshot(tmp_path)
    assert invoke("report", model, "--out", rep).exit_code != 0
    assert snapshot(tmp_path) == before  # no temporary file left
    (rep / "report.html").rmdir()
    assert invoke("report", model, "--out", rep).exit_code == 0
    assert {"mine.txt", "report.html"} <= {p.name for p in rep.iterdir()}
    assert [p.name for p in tmp_path.iterdir()] == ["rep"]


def test_score_item_with_stdin_closed_says_how_to_give_the_summary(model):
    res = subprocess.run(["sh", "-c", '"$0" -m imr_ml score "$1" --item MRI <&-', sys.executable, str(model)],
                         capture_output=True, text=True, timeout=120)
    assert res.returncode == 2, res.stderr
    assert res.stderr.strip().splitlines() == [
        "error: no clinical summary for --item: pass --summary-file FILE or pipe the summary on stdin"]


# ----------------------------------------------------------------------------- CSV requests


def test_csv_saved_by_excel_with_a_bom_is_read(model, tmp_path):
    path = tmp_path / "excel.csv"
    path.write_bytes(f'\ufeffsummary,item\n"{SUMMARY}",{ITEM}\n'.encode())
    res = invoke("score", model, path, "--json")
    assert res.exit_code == 0, res.output
    assert json.loads(res.stdout)[0]["item"] == ITEM


def test_windows_1252_csv_names_the_file_and_the_encoding(model, tmp_path):
    path = tmp_path / "win.csv"
    path.write_bytes(f'summary,item\n"{SUMMARY} Caf\u00e9 \u2013 visit.",{ITEM}\n'.encode("cp1252"))
    assert_refused(invoke("score", model, path), str(path), "--encoding cp1252")
    res = invoke("score", model, path, "--encoding", "cp1252", "--json")
    assert res.exit_code == 0, res.output
    assert_refused(invoke("score", model, path, "--encoding", "nonsense"), str(path), "nonsense")


@pytest.mark.parametrize("text", ["", "summary,item\n", "\n"])
def test_empty_csv_is_refused(model, tmp_path, text):
    path = tmp_path / "empty.csv"
    path.write_text(text)
    assert_refused(invoke("score", model, path), str(path))


def test_csv_columns_can_be_mapped(model, tmp_path):
    path = tmp_path / "own.csv"
    path.write_text(f'Notes,Treatment\n"{SUMMARY}",{ITEM}\n')
    assert_refused(invoke("score", model, path), str(path), "--columns")
    res = invoke("score", model, path, "--columns", "summary=Notes,item=Treatment", "--json")
    assert res.exit_code == 0, res.output
    assert json.loads(res.stdout)[0]["item"] == ITEM
    assert_refused(invoke("score", model, path, "--columns", "summary=Nope,item=Treatment"), str(path), "Nope")
    assert_refused(invoke("score", model, path, "--columns", "colour=Notes"), "colour")


def test_unreadable_csv_names_the_file(model, tmp_path):
    path = tmp_path / "huge.csv"
    path.write_text('summary,item\n"' + "pain " * 40_000 + '",MRI\n')  # a field over csv's limit
    assert_refused(invoke("score", model, path), str(path))


FORMULAS = ["=1+1", "+1", "-1+1", "@SUM(A1)", "\t=1+1", "\r=1+1", "\n=1+1", "\uff1d1+1", "\uff0b1", "\uff0d1",
            "\uff20SUM(A1)"]


def test_csv_outputs_quote_every_formula_start(model, tmp_path):
    """OWASP's formula starts (and their full-width forms) in an id or an item come out as
    text, in `score --out x.csv` and in the web page's download (one writer serves both)."""
    import csv

    from imr_ml.scoring.results_io import results_csv

    path = tmp_path / "r.csv"
    with open(path, "w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(["ClaimNo", "summary", "item"])
        w.writerows([f, SUMMARY, f + " " + ITEM] for f in FORMULAS)
    res = invoke("score", model, path, "--id-col", "ClaimNo", "--out", tmp_path / "s.csv")
    assert res.exit_code == 0, res.output
    with open(tmp_path / "s.csv", newline="", encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    assert [r["ClaimNo" if "ClaimNo" in r else "id"] for r in rows] == ["'" + f for f in FORMULAS]
    assert not [c for r in rows for c in r.values() if c and c[0] in "=+-@\t\r\n\uff1d\uff0b\uff0d\uff20"]
    path.write_text(f'"=HYPERLINK(""x"")",summary,item\nC-1,"{SUMMARY}",{ITEM}\n', encoding="utf-8")
    res = invoke("score", model, path, "--id-col", '=HYPERLINK("x")', "--out", tmp_path / "h.csv")
    assert res.exit_code == 0, res.output
    assert (tmp_path / "h.csv").read_text().startswith('"\'=HYPERLINK(""x"")",item,')  # the header cell too
    web = list(csv.DictReader(io.StringIO(results_csv([{"id": f, "item": f} for f in FORMULAS]))))
    assert [(r["id"], r["item"]) for r in web] == [("'" + f, "'" + f) for f in FORMULAS]
    assert results_csv([{"id": "A-1", "item": "MRI = 2 views"}]).splitlines()[1].startswith("A-1,MRI = 2 views")


# ----------------------------------------------------------------------------- what pages render

PAYLOAD = "<script>alert(1)</script><img src=x onerror=alert(2)>' onmouseover='alert(3)\" onfocus=\"alert(4)"


class HostileFloat(float):
    """A number that prints as markup wherever it is formatted (a manifest is a file anyone can
    edit); arithmetic on it gives plain numbers, as a computed figure would be."""

    def __format__(self, spec):
        return PAYLOAD

    __str__ = __repr__ = lambda self: PAYLOAD


class HostileInt(int):
    def __format__(self, spec):
        return PAYLOAD

    __str__ = __repr__ = lambda self: PAYLOAD


def hostile(v, keyed: bool = False):
    """`v` with every text prefixed by markup and every number printing as markup; the keys of
    dicts that map data to data (layouts, categories) too."""
    if isinstance(v, bool) or v is None:
        return v
    if isinstance(v, int):
        return HostileInt(v)
    if isinstance(v, float):
        return HostileFloat(v)
    if isinstance(v, str):
        return PAYLOAD + v
    if isinstance(v, list | tuple):
        return [hostile(x) for x in v]
    return {(PAYLOAD + k if keyed else k): hostile(x, k in ("layouts", "categories") and isinstance(x, dict))
            for k, x in v.items()}


def assert_inert(page: str) -> None:
    """No markup of PAYLOAD survives unescaped, and it was rendered (escaped) somewhere."""
    for live in ("<script", "<img src=x", "' onmouseover=", '" onfocus='):
        assert live not in page, page[max(0, page.find(live) - 300): page.find(live) + 100]
    assert page.count("&lt;script&gt;alert(1)") >= 5
    csp = re.search(r"<meta http-equiv='Content-Security-Policy' content=\"([^\"]+)\">", page)
    assert csp and page.index(csp.group(0)) < page.index("<style>"), "the policy comes before what it governs"
    policy = dict(p.strip().split(" ", 1) for p in csp.group(1).split(";"))
    assert policy["default-src"] == "'none'" and "script-src" not in policy and policy["img-src"] == "data:"
    [css] = re.findall(r"<style>(.*?)</style>", page, re.S)
    assert policy["style-src"] == f"'sha256-{base64.b64encode(hashlib.sha256(css.encode()).digest()).decode()}'"
    assert " style=" not in page and "<script" not in page


def test_report_renders_every_value_escaped_under_a_policy(model, corpus):
    """Every text and number a report shows (from the manifest or measured) is escaped: each
    is replaced by markup, with and without measured performance, and for the built-in model."""
    from imr_ml.reporting.report import build_report
    from imr_ml.reporting.report_html import report_page

    for loaded, rows in ((load_model_dir(model), rows_of(corpus)), (load_model_dir("builtin"), None)):
        data = build_report(loaded, rows)
        assert_inert(report_page(hostile(data)))


def test_explain_page_renders_every_value_escaped_under_a_policy(model):
    from imr_ml.reporting.explain import explain_rows
    from imr_ml.reporting.explain_page import explanation_html
    from imr_ml.scoring.score import request_row

    results = explain_rows(load_model_dir(model), [request_row(SUMMARY, ITEM), request_row("knee", "MRI knee")])
    assert_inert(explanation_html(hostile(results)))


# ----------------------------------------------------------------------------- tampered models

def test_a_model_folder_with_its_files_at_the_top_loads_and_train_converts_it(model, corpus, tmp_path):
    """A copy of one version (files at the top, no `current`: a copy that followed the links, or
    a folder an older imr-ml wrote) loads as it is; `train --out` replaces it by a versioned
    folder, and refuses it while it holds a file that is not the model's."""
    flat = Path(shutil.copytree(model / "current", tmp_path / "flat"))
    before = load_model_dir(model).manifest
    assert load_model_dir(flat).manifest == before
    (flat / "notes.txt").write_text("mine\n")
    assert_refused(invoke("train", corpus, "--out", flat, *TRAIN), "notes.txt")
    (flat / "notes.txt").unlink()
    res = invoke("train", corpus, "--out", flat, *TRAIN)
    assert res.exit_code == 0, res.output
    assert (flat / "current").is_symlink() and (flat / "manifest.json").is_symlink()
    assert load_model_dir(flat).manifest["created_unix"] >= before["created_unix"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["flat"]


def _other_estimators():
    import numpy as np
    from sklearn.dummy import DummyClassifier
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler
    from sklearn.tree import DecisionTreeClassifier

    from imr_ml.featurize.frame import to_frame
    from imr_ml.featurize.union import build_features

    X, y = np.arange(20.0).reshape(10, 2), np.arange(10) % 2
    rows = to_frame([{"summary": "low back pain", "item": "MRI lumbar"}, {"summary": "knee pain", "item": "MRI knee"}])
    return [LogisticRegression().fit(X, y), make_pipeline(StandardScaler(), LogisticRegression()).fit(X, y),
            DecisionTreeClassifier().fit(X, y), make_pipeline(build_features(), DummyClassifier()).fit(rows, [0, 1])]


def _refused_everywhere(model_dir: Path, *words) -> None:
    """score, explain, report and serve (at start-up) each refuse `model_dir` in one line, and
    the web app is never built on it."""
    from imr_ml.web.app import create_app

    for args in (["score", model_dir, "--item", ITEM], ["explain", model_dir, "--item", ITEM],
                 ["report", model_dir, "--out", model_dir.parent / "rep"], ["serve", model_dir, "--port", "0"]):
        assert_refused(invoke(*args, input=SUMMARY), *words)
    with pytest.raises(ModelLoadError):
        create_app(model_dir)
    assert not (model_dir.parent / "rep").exists()


@pytest.mark.parametrize("which, words", [(0, "not an imr-ml model"), (1, "other features than this imr-ml"),
                                          (2, "outside the allow-list"), (3, "no scoring adapter for DummyClassifier")])
def test_a_model_file_of_another_estimator_type_is_refused(model_copy, which, words):
    """scikit-learn estimators pass skops's own trust list; with a matching hash and seal, a
    model file holding one that is not an imr-ml model is refused before anything scores."""
    replace_model_file(model_copy, modelio.dumps(_other_estimators()[which]))
    _refused_everywhere(model_copy, words)


@pytest.mark.parametrize("change, words", [
    (lambda m: m | {"threshold": {"value": "0.5"}}, "threshold.value"),
    (lambda m: m | {"threshold": {"value": 2.5}}, "threshold.value"),
    (lambda m: m | {"threshold": {"value": float("nan")}}, "threshold.value"),
    (lambda m: m | {"data": m["data"] | {"n_items": "<script>alert(1)</script>"}}, "data.n_items"),
    (lambda m: m | {"data": m["data"] | {"n_overturned": -1}}, "data.n_overturned"),
    (lambda m: m | {"data": m["data"] | {"n_letters": True}}, "data.n_letters"),
    (lambda m: m | {"data": m["data"] | {"base_rate": [0.1]}}, "data.base_rate"),
    (lambda m: m | {"features": {"n_features": 3.5}}, "features.n_features"),
    (lambda m: m | {"versions": m["versions"] | {"numpy": 2}}, "versions.numpy"),
    (lambda m: m | {"files": m["files"] | {"../x.json": "0" * 64}}, "plain names"),
    (lambda m: m | {"extra": json.loads("[" * 500 + "]" * 500)}, "nests deeper than 32"),
    (lambda m: m | {"extra": json.loads("[" * 40 + "]" * 40)}, "nests deeper than 32"),
])
def test_a_manifest_with_a_wrong_type_or_range_is_refused_even_when_sealed(model_copy, change, words):
    rewrite_manifest(model_copy, change)
    _refused_everywhere(model_copy, "manifest", words)


def test_a_manifest_nested_beyond_the_parser_is_refused_in_one_line(model_copy):
    text = (model_copy / "manifest.json").read_text()
    (model_copy / "manifest.json").write_text(text.rstrip()[:-1] + ', "x": ' + "[" * 200_000 + "]" * 200_000 + "}")
    (model_copy / "manifest.sha256").write_text(seal((model_copy / "manifest.json").read_bytes()))
    _refused_everywhere(model_copy, "nests deeper than 32")


def test_an_edited_manifest_is_refused_by_its_seal(model_copy):
    rewrite_manifest(model_copy, lambda m: m | {"threshold": {"value": 0.01}}, reseal=False)
    _refused_everywhere(model_copy, "does not match its seal")
    (model_copy / "current" / "manifest.sha256").unlink()
    _refused_everywhere(model_copy, "no seal")


def _add_cv_predictions(model_dir: Path, data) -> None:
    """cv_predictions.json added and listed with its hash, the manifest sealed again."""
    text = json.dumps(data).encode()
    (model_dir / "current" / "cv_predictions.json").write_bytes(text)
    rewrite_manifest(model_dir, lambda m: m | {"files": m["files"] | {
        "cv_predictions.json": hashlib.sha256(text).hexdigest()}})


CV_FAULTS = [({"y": "1"}, "y.0"), ({"y": True}, "y.0"), ({"y": 2}, "y.0"), ({"p": "0.3"}, "p.0"), ({"p": 1.5}, "p.0"),
             ({"category": 3}, "category.0"), ({"letter": None}, "letter.0")]


def test_cv_predictions_of_the_wrong_type_are_refused_by_report(model_copy, tmp_path):
    n = 40
    good = {"y": [int(i % 4 == 0) for i in range(n)], "p": [0.1 + 0.5 * (i % 4 == 0) for i in range(n)],
            "category": ["acupuncture"] * n, "letter": [f"L{i // 2}" for i in range(n)]}
    _add_cv_predictions(model_copy, good)
    res = invoke("report", model_copy, "--out", tmp_path / "ok")
    assert res.exit_code == 0 and "measured on 40 items" in res.output, res.output
    for bad, words in CV_FAULTS:
        k, v = next(iter(bad.items()))
        _add_cv_predictions(model_copy, good | {k: [v] + good[k][1:]})
        assert_refused(invoke("report", model_copy, "--out", tmp_path / "rep"), "cv_predictions.json", words)
    _add_cv_predictions(model_copy, good | {"p": good["p"][1:]})
    assert_refused(invoke("report", model_copy, "--out", tmp_path / "rep"), "equal length")
    assert not (tmp_path / "rep").exists()


def test_the_model_info_route_answers_for_every_manifest_that_loads(model_copy):
    """GET /v1/model reads only checked values: extra fields of any shape (within the depth
    bound) and absent optional ones answer 200."""
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        from fastapi.testclient import TestClient
    from imr_ml.web.app import create_app

    rewrite_manifest(model_copy, lambda m: {k: v for k, v in m.items() if k not in ("threshold", "kind", "data")}
                     | {"extra": {"a": [1, "<b>", None]}})
    info = TestClient(create_app(model_copy), base_url="http://127.0.0.1:8000").get("/v1/model")
    assert info.status_code == 200 and info.json()["kind"] == "imr-ml model"


def _with_array(model_file: bytes, shape: tuple[int, int], data_bytes: int | None = None) -> bytes:
    """The skops file with its largest array replaced by a float64 array of `shape` (zeros,
    streamed through the zip writer: 320 MB of zeros is a 0.3 MB file), or, with
    `data_bytes`, by a header announcing `shape` over that many bytes of data."""
    import numpy as np
    from numpy.lib import format as npy

    src = zipfile.ZipFile(io.BytesIO(model_file))
    arrays = [i for i in src.infolist() if src.read(i)[:6] == b"\x93NUMPY"]
    target = max(arrays, key=lambda i: i.file_size).filename
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as out:
        for info in src.infolist():
            if info.filename != target:
                out.writestr(info, src.read(info))
                continue
            with out.open(target, "w", force_zip64=True) as fh:
                npy.write_array_header_1_0(fh, {"descr": "<f8", "fortran_order": False, "shape": shape})
                left = 8 * shape[0] * shape[1] if data_bytes is None else data_bytes
                chunk = np.zeros(2**20, dtype=np.uint8).tobytes()
                while left > 0:
                    fh.write(chunk[:left])
                    left -= len(chunk)
    return buf.getvalue()


@pytest.mark.parametrize("shape, data_bytes, words", [
    ((4000, 10_000), None, "MB, more than the 256 MB"),  # the array's 305 MB and the model's own arrays
    ((40_000, 10_000), 1000, "announces 3,052 MB"),
])
def test_a_model_file_that_would_unpack_beyond_its_budget_is_refused_before_unpacking(model_copy, shape,
                                                                                      data_bytes, words):
    """Only allowed types, a valid hash and seal, and one array of zeros (the file stays small):
    refused from the archive's directory and the array's header, without unpacking anything."""
    replace_model_file(model_copy, _with_array((model_copy / "model.skops").read_bytes(), shape, data_bytes))
    assert (model_copy / "model.skops").stat().st_size < 3 * 2**20
    res = subprocess.run([sys.executable, "-m", "imr_ml", "score", str(model_copy), "--item", ITEM],
                         input=SUMMARY, capture_output=True, text=True, timeout=300)
    assert res.returncode == 2 and res.stderr.count("\n") == 1 and res.stderr.startswith("error: "), res.stderr
    assert words in res.stderr
    if data_bytes is None:  # what the archive would unpack to: the added array and the model's own
        assert int(re.search(r"would unpack to ([\d,]+) MB", res.stderr).group(1).replace(",", "")) >= 305
    _refused_everywhere(model_copy, words)


# ----------------------------------------------------------------------------- folder lifecycle

DEMO = ["--letters", "120"]


def test_demo_reruns_cleanly_and_train_replaces_a_model_whatever_evaluations_it_holds(tmp_path):
    d = tmp_path / "d"
    for _ in range(2):
        res = invoke("demo", "--out", d, *DEMO, "--json")
        assert res.exit_code == 0, res.output
    from imr_ml.demo import DEMO_ENTRIES

    assert {p.name for p in d.iterdir()} <= DEMO_ENTRIES
    assert (d / "evaluation.json").is_file() and not (d / "model" / "evaluation.json").exists()
    assert len(list((d / "letters").glob("*.txt"))) == 120
    res = invoke("evaluate", d / "model", d / "test.jsonl")
    assert res.exit_code == 0, res.output
    assert f"report -> {d / 'model.evaluation.json'}" in res.output and (d / "model.evaluation.json").is_file()
    (d / "model" / "evaluation.json").write_text("{}\n")  # where imr-ml evaluate once wrote by default
    res = invoke("train", d / "train.jsonl", "--out", d / "model", *TRAIN)
    assert res.exit_code == 0, res.output
    assert not (d / "model" / "evaluation.json").exists()
    versions = [p.name for p in (d / "model").iterdir() if p.name.startswith("v-")]
    assert versions == [os.readlink(d / "model" / "current")]
    assert not [p for p in tmp_path.rglob("*") if ".tmp" in p.name]


def test_demo_into_a_folder_of_other_files_is_refused_and_leaves_it(tmp_path):
    (tmp_path / "mine").mkdir()
    (tmp_path / "mine" / "notes.txt").write_text("mine\n")
    (tmp_path / "mine" / "letters").mkdir()
    before = snapshot(tmp_path / "mine")
    assert_refused(invoke("demo", "--out", tmp_path / "mine", *DEMO), "notes.txt", "the demo did not write")
    assert snapshot(tmp_path / "mine") == before
    (tmp_path / "afile").write_text("x\n")
    assert_refused(invoke("demo", "--out", tmp_path / "afile", *DEMO), "not a folder")


def test_demo_in_a_read_only_folder_is_one_line():
    with read_only_folder() as ro:
        assert_refused(ro.run("demo", "--out", ro.folder / "d", *DEMO), "not writable")
        assert list(ro.folder.iterdir()) == []


def test_demo_in_a_folder_that_fills_up_is_one_line():
    with full_folder(256) as full:
        res = full.run("demo", "--out", full.folder / "d", *DEMO)
        assert_refused(res, "cannot write")
        assert not [p for p in full.folder.rglob("*") if p.name.endswith(".tmp") or ".tmp-" in p.name]


def test_evaluate_beside_a_model_in_a_read_only_folder_is_one_line(model, corpus):
    with read_only_folder(model) as ro:
        m = ro.folder / model.name
        assert_refused(ro.run("evaluate", m, ro.put(corpus)), f"{m}.evaluation.json", "not writable")
        res = ro.run("evaluate", m, ro.base / corpus.name, "--out", ro.base / ".mpl" / "e.json")
        assert res.returncode == 0 and f"report -> {ro.base / '.mpl' / 'e.json'}" in res.stdout, res.stderr
