"""The built-in guideline model against models trained on the 111 real letters, on the real
letters and on the clinical-sense suites (writes knowledge_vs_data.md).

    .venv/bin/python experiments/knowledge_vs_data.py [--corpus /tmp/real_corpus.jsonl]

1. The built-in model (knowledge only: it has seen none of the letters) scored on all 111
   real letters, with 95% letter-bootstrap intervals.
2. Three models trained on all 111 letters (in memory; nothing is saved): the blend
   (`imr-ml train`'s default: guideline priors updated by the letters), the data-only model
   (TF-IDF + signals + fields, shrunk toward zero) and the knowledge-only one, each scored
   on the two clinical-sense suites. The letters are read from ../shared and never written
   into the project; only numbers are.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

HERE = Path(__file__).parent
LETTERS = Path("/work/shared/data/dwc-imr-letters/pdf")
SUITES = {"development suite": HERE / "sense_pairs.toml", "held-out suite": HERE / "sense_pairs_holdout.toml"}


def _rows(corpus: str) -> list[dict]:
    from imr_ml.letters.ingest import ingest_paths, read_corpus, write_corpus

    if Path(corpus).exists():
        return read_corpus(corpus)
    rows, _ = ingest_paths([LETTERS], jobs=2)
    write_corpus(rows, corpus)
    return rows


def _fmt_ci(value, ci) -> str:
    return "—" if value is None else f"{value:.3f} [{ci[0]:.3f}, {ci[1]:.3f}]"


def builtin_on_letters(rows: list[dict]) -> list[str]:
    from imr_ml.featurize import to_frame
    from imr_ml.modeling.evaluation.bootstrap import bootstrap_ci
    from imr_ml.modeling.evaluation.metrics import metrics_of
    from imr_ml.modeling.modelfiles.modelio import load_model_dir
    from imr_ml.modeling.training.baselines import categories
    from imr_ml.modeling.training.data import canonical_rows, labels, letter_groups
    from imr_ml.scoring.contributions import category_rate

    rows = canonical_rows(rows)
    X, y, g = to_frame(rows), labels(rows), letter_groups(rows)
    p_builtin = load_model_dir("builtin").model.predict_proba(X)[:, 1]
    # the taxonomy's category rates alone (published or assumed), also nothing learnt
    p_cat = np.array([category_rate(c) for c in categories(X)])
    out = [f"## 1. The built-in model on the {len(set(g))} real letters ({len(y)} items, {int(y.sum())} overturned)", "",
           "Nothing was fitted on these letters. 95% intervals: 1,000 letter-grouped bootstrap resamples.", "",
           "| predictor | ROC AUC | average precision | Brier | ECE |", "|---|---|---|---|---|"]
    for name, p in (("built-in (guideline rules + published category rates)", p_builtin),
                    ("published/assumed category rates alone", p_cat),
                    (f"base rate of these letters ({y.mean():.3f}, known only afterwards)", np.full(len(y), y.mean()))):
        s, ci = metrics_of(y, p), bootstrap_ci(y, p, g)
        out.append(f"| {name} | " + " | ".join(_fmt_ci(s[m], ci[f"{m}_ci"])
                                               for m in ("roc_auc", "average_precision", "brier", "ece")) + " |")
    return out + ["", "The signal patterns and the rules were written by people who had read these letters, so this "
                  "is not a test on unseen letters; it shows the knowledge alone ranks and calibrates them.", ""]


def sense_of_trained(rows: list[dict]) -> list[str]:
    from imr_ml.featurize import to_frame
    from imr_ml.modeling.modelfiles.modelio import LoadedModel, load_model_dir
    from imr_ml.modeling.training.baselines import data_only
    from imr_ml.modeling.training.data import canonical_rows, labels
    from imr_ml.modeling.training.fitting import TrainOptions
    from imr_ml.modeling.training.train import train
    from imr_ml.reporting.sense import evaluate_suite, load_suite
    from imr_ml.scoring.score import score_rows

    rows = canonical_rows(rows)
    X, y = to_frame(rows), labels(rows)
    blend = train(rows, TrainOptions(estimate=False, baselines=False))
    models = {
        "knowledge only (built-in)": load_model_dir("builtin"),
        "blend, trained on the 111 letters (default)": LoadedModel(blend.model, blend.manifest, Path("-")),
        "data only, trained on the 111 letters": LoadedModel(data_only().fit(X, y), {"data": {"base_rate": float(y.mean())}},
                                                             Path("-")),
    }
    out = ["## 2. Clinical sense: knowledge only, data only and the blend", "",
           "Directional: pairs differing in one decisive fact ordered right (ties and abstentions are wrong). "
           "Invariance: pairs differing in nothing that matters within 0.05. Denials: mean P of the textbook "
           "denials (base rate of the real letters 0.104). The development suite was used while writing the "
           "signals and rules; the held-out suite was written apart from them (by a separate author who did "
           "not read the rules) and not used to change anything.", "",
           "| model | suite | directional | invariance (max gap) | denials mean P |", "|---|---|---|---|---|"]
    for name, loaded in models.items():
        def score_fn(batch, loaded=loaded):
            if name.startswith("data only"):
                return loaded.model.predict_proba(to_frame(batch))[:, 1].tolist()
            return [r["p_overturned"] for r in score_rows(loaded, batch)]

        for suite_name, path in SUITES.items():
            r = evaluate_suite(load_suite(path), score_fn)
            d, i, den = r["directional"], r["invariance"], r["denials"]
            out.append(f"| {name} | {suite_name} | {d['ok']}/{d['n']} ({d['share']:.0%}) | {i['ok']}/{i['n']} "
                       f"({i['max_gap']:.3f}) | {den['mean_p']:.3f} |")
    return out + [""]


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--corpus", default="/tmp/real_corpus.jsonl")
    ap.add_argument("--out", default=str(HERE / "knowledge_vs_data.md"))
    args = ap.parse_args()
    if not LETTERS.exists() and not Path(args.corpus).exists():
        print(f"skipped: {LETTERS} is absent (the real letters are not part of the project)", file=sys.stderr)
        return
    import subprocess

    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True, cwd=HERE).stdout.strip()
    rows = _rows(args.corpus)
    lines = ["# Knowledge, data and the blend", "", f"Generated by `experiments/knowledge_vs_data.py` at commit {commit}.", ""]
    lines += builtin_on_letters(rows)
    lines += sense_of_trained(rows)
    Path(args.out).write_text("\n".join(lines), encoding="utf-8")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
