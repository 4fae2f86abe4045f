import json

from typer.testing import CliRunner

from imr_ml.cli import app


def test_demo_runs_end_to_end(tmp_path):
    res = CliRunner().invoke(app, ["demo", "--out", str(tmp_path / "d"), "--letters", "300", "--json"])
    assert res.exit_code == 0, res.output
    result = json.loads(res.stdout)
    for path in result["where"].values():
        assert (tmp_path / "d").as_posix() in path
    ev = json.loads((tmp_path / "d" / "evaluation.json").read_text())  # beside the model, not in it
    assert ev["letters_seen_in_training"] == 0  # held-out letters really are held out
    assert 0.5 < ev["bayes_optimal_roc_auc"] <= 1
    upheld, overturned = result["examples"]
    assert upheld["p_overturned"] < overturned["p_overturned"]
    assert (tmp_path / "d" / "report" / "report.html").read_text().count("<img") >= 4
    # the demo's model carries its cross-validated predictions: its report needs no --corpus
    res = CliRunner().invoke(app, ["report", str(tmp_path / "d" / "model"), "--out", str(tmp_path / "r"), "--json"])
    assert res.exit_code == 0, res.output
    report = json.loads((tmp_path / "r" / "report.json").read_text())
    assert report["performance"]["source"].startswith("out-of-fold predictions of the training cross-validation")
    n_train = len((tmp_path / "d" / "train.jsonl").read_text().splitlines())
    assert report["performance"]["n_items"] == n_train  # every training item, each scored out of fold


def test_the_committed_builtin_model_card_is_current():
    """models/builtin/MODEL_CARD.md is what `python -m imr_ml.modeling.modelfiles.builtin` writes from the
    knowledge files."""
    from pathlib import Path

    from imr_ml.modeling.modelfiles.builtin import builtin_card

    card = Path(__file__).resolve().parent.parent / "models" / "builtin" / "MODEL_CARD.md"
    assert card.read_text() == builtin_card(), "regenerate it: python -m imr_ml.modeling.modelfiles.builtin"
