"""Claims work from the command line and from Python: output formats, ids, thresholds,
batch summaries, out-of-range warnings, --json and help examples."""

import csv
import json

import pandas as pd
import pytest
from typer.testing import CliRunner

from imr_ml.cli import app

SUMMARY = ("58F, fell at work 3/2015. R shoulder pain and weakness, drop arm test positive. XR negative. "
           "Failed 6 weeks of PT and NSAIDs.")


def _run(*args):
    return CliRunner().invoke(app, [str(a) for a in args])


@pytest.fixture(scope="module")
def claims_csv(tmp_path_factory, synth_rows):
    """60 requests with a claim number column; the first dated far outside the training years."""
    path = tmp_path_factory.mktemp("claims") / "claims.csv"
    with open(path, "w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["ClaimNo", "summary", "item", "date_of_injury"])
        for i, r in enumerate(synth_rows[:60]):
            w.writerow([f"C{i:03d}", r["summary"], r["item"], "1950-05-01" if i == 0 else r["date_of_injury"]])
    return path


@pytest.mark.parametrize("suffix", [".csv", ".parquet", ".jsonl"])
def test_out_by_suffix_with_ids(tmp_path, claims_csv, suffix):
    out = tmp_path / f"scores{suffix}"
    res = _run("score", "builtin", claims_csv, "--id-col", "ClaimNo", "--out", out)
    assert res.exit_code == 0, res.output
    if suffix == ".jsonl":
        got = [json.loads(line) for line in out.read_text().splitlines()]
        ids = [r["ClaimNo"] for r in got]  # the id keeps its column's name in every output
        assert all("id" not in r and list(r)[0] == "ClaimNo" for r in got)
    else:
        got = pd.read_csv(out) if suffix == ".csv" else pd.read_parquet(out)
        assert list(got.columns)[0] == "ClaimNo" and "id" not in got.columns
        assert {"p_overturned", "interval_low", "interval_high", "relative_risk", "verdict", "flagged",
                "flag_threshold", "reason_1", "reason_3", "hints", "category", "record_id"} <= set(got.columns)
        assert "decision" not in got.columns and set(got["verdict"].dropna()) <= {"likely upheld", "uncertain"}
        ids = list(got["ClaimNo"])
    assert ids == [f"C{i:03d}" for i in range(60)]


def test_missing_id_col_is_one_line(claims_csv):
    res = _run("score", "builtin", claims_csv, "--id-col", "Nope")
    assert res.exit_code == 2 and "no column 'Nope'" in res.output


def test_batch_prints_summary_and_how_many_were_not_printed(tmp_path, claims_csv):
    out = tmp_path / "s.csv"
    res = _run("score", "builtin", claims_csv, "--out", out)
    assert res.exit_code == 0
    assert f"10 more items not printed; all 60 are in {out}" in res.output
    assert "60 items:" in res.output and "P(overturned): <5%" in res.output and "categories:" in res.output
    assert "abstained" in res.output and "the model's operating point" in res.output
    assert "flagged \u201cbetter chance than most\u201d (P 16.8% or more" in res.output and "verdicts:" in res.output
    assert "has not been measured for this model" in res.output  # the built-in model's flag


def test_threshold_moves_the_flag_not_the_verdict(claims_csv):
    low = json.loads(_run("score", "builtin", claims_csv, "--json", "--threshold", "0").stdout)
    high = json.loads(_run("score", "builtin", claims_csv, "--json", "--threshold", "0.99").stdout)
    scored = [r for r in low if not r["abstained"]]
    assert all(r["flagged"] and r["flag"]["threshold"] == 0 for r in scored)
    assert all(not r["flagged"] for r in high if not r["abstained"])
    assert [r["verdict"] for r in low] == [r["verdict"] for r in high]
    assert all(r["verdict"] != "likely overturned" for r in scored if r["p_overturned"] < 0.5)
    assert _run("score", "builtin", claims_csv, "--threshold", "1.5").exit_code == 2


def test_threshold_of_a_trained_model_is_measured_on_its_cv_predictions(cv_model):
    """--threshold on a model with cross-validated predictions states that cut-off's precision."""
    res = _run("score", cv_model, "--item", "MRI right shoulder", "--threshold", "0.3", "--json")
    flag = json.loads(res.stdout)["flag"]
    assert flag["threshold"] == 0.3 and flag["measured"]["threshold"] == 0.3
    cv = json.loads((cv_model / "cv_predictions.json").read_text())
    flagged = [y for y, p in zip(cv["y"], cv["p"]) if p >= 0.3]
    assert flag["measured"]["flagged"] == len(flagged) and flag["measured"]["flagged_overturned"] == sum(flagged)
    assert f"Of the {len(flagged)} held-out requests it flagged" in flag["meaning"]


def test_out_of_range_warnings(demo_model, claims_csv):
    model_dir, _ = demo_model
    ranges = json.loads((model_dir / "manifest.json").read_text())["data"]["ranges"]
    assert ranges["years"]["date_of_injury"][0] > 1950 and ranges["summary_words"][0] > 0
    res = CliRunner().invoke(app, ["score", str(model_dir), str(claims_csv), "--json"])
    assert res.exit_code == 0, res.stderr
    results = json.loads(res.stdout)
    assert [w["kind"] for w in results[0]["warnings"]] == ["date_of_injury_year"]
    assert "warning: 1 of 60 items have a date of injury outside" in res.stderr
    short = CliRunner().invoke(app, ["score", str(model_dir), "--item", "Acupuncture x6", "--json"],
                                               input="Low back pain after lifting at work, six sessions done, "
                                                     "no change in function.")
    kinds = [w["kind"] for w in json.loads(short.stdout)["warnings"]]
    assert "summary_length" in kinds


def test_python_api(demo_model):
    import imr_ml

    model = imr_ml.load_model("builtin")
    assert 0 < model.threshold < 0.5 and model.manifest
    one = model.score({"summary": SUMMARY, "item": "MRI right shoulder"})
    assert len(one) == 1 and 0 < one[0]["p_overturned"] < 1 and one[0]["warnings"] == []
    frame = model.score(pd.DataFrame([{"summary": SUMMARY, "item": "MRI right shoulder", "id": "A1"}] * 2))
    assert list(frame["id"]) == ["A1", "A1"] and "p_overturned" in frame
    explained = model.explain([{"summary": SUMMARY, "item": "MRI right shoulder"}])
    assert explained[0]["explanation"]["groups"]
    trained = imr_ml.load_model(str(demo_model[0]))
    scored = trained.score([{"summary": SUMMARY, "item": "MRI right shoulder"}])
    assert scored[0]["flag"]["threshold"] == trained.threshold


def test_import_stays_lazy():
    import subprocess
    import sys

    code = "import imr_ml, imr_ml.cli, sys; print('sklearn' in sys.modules or 'pandas' in sys.modules)"
    assert subprocess.run([sys.executable, "-c", code], capture_output=True, text=True).stdout.strip() == "False"


@pytest.mark.parametrize("command", ["score", "reasons", "synth", "signals", "demo", "ingest", "evaluate", "train",
                                     "explain", "index", "similar", "search"])
def test_every_command_takes_json_and_shows_examples(command):
    res = _run(command, "--help")
    assert res.exit_code == 0
    assert "--json" in res.output and "Examples" in res.output


TYPE_NAMES = ("<list[", "<str>", "<int>", "<float>", "<bool>", "<path>", "{")


def _commands() -> list[str]:
    import typer

    return sorted(typer.main.get_command(app).commands)


def test_every_command_is_listed():
    assert _commands() == ["demo", "evaluate", "explain", "index", "ingest", "reasons", "report", "score", "search",
                           "serve", "signals", "similar", "synth", "train"]


@pytest.mark.parametrize("command", [[], *[[c] for c in _commands()]])
def test_help_names_values_as_people_do_and_ends_with_examples(command):
    """`MODEL_DIR INPUT...`, `--top N`, flags with no value: never typer's type names."""
    res = CliRunner().invoke(app, [*command, "--help"], env={"COLUMNS": "200"})
    assert res.exit_code == 0
    assert not [t for t in TYPE_NAMES if t in res.output], res.output
    assert "Examples:" in res.output


def test_train_help_states_the_prior_weights_training_tries():
    from imr_ml.cli.train import PRIOR_WEIGHTS
    from imr_ml.modeling.training.fitting import DEFAULT_GRID

    assert [float(w) for w in PRIOR_WEIGHTS.split(",")] == [g["prior_weight"] for g in DEFAULT_GRID]
    assert PRIOR_WEIGHTS in CliRunner().invoke(app, ["train", "--help"], env={"COLUMNS": "400"}).output
