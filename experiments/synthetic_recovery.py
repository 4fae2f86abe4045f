"""Does the training procedure recover a known truth? (writes synthetic_recovery.md)

    .venv/bin/python experiments/synthetic_recovery.py [--letters 5000] [--seed 11]

Letters come from `imr_ml.synth.generate` (known P(overturned) per item, planted effects in
`imr_ml.synth.generate.EFFECTS`), are read back with `imr_ml.letters.ingest.parse_text` exactly as real
letters are, split 80/20 *by letter*, and the model is trained with `imr_ml.modeling.training.train.train`
on the 80%. On the held-out 20% we compare its ROC AUC with the Bayes-optimal AUC (the AUC
of the true probabilities), and for every planted effect the sign of the coefficient of the
matching feature (full model and signals-only model).
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np

from imr_ml.featurize import to_frame
from imr_ml.modeling.estimator.model import scoring_model
from imr_ml.modeling.evaluation.metrics import metrics_of
from imr_ml.modeling.training.data import canonical_rows, labels
from imr_ml.modeling.training.fitting import TrainOptions
from imr_ml.modeling.training.train import train

HERE = Path(__file__).parent

# planted effect -> (feature name, how direct the match is)
MATCH = {
    "prior_trial_without_benefit": ("signal__prior_trial_without_benefit_same_modality", "direct: the finding about the item's own modality, as planted"),
    "functional_improvement": ("signal__functional_improvement_same_modality", "direct: the finding about the item's own modality, as planted"),
    "no_functional_improvement": ("signal__no_functional_improvement_same_modality", "direct: the finding about the item's own modality, as planted"),
    "permanent_and_stationary": ("signal__permanent_and_stationary", "direct"),
    "opioid_use": ("signal__opioid_use", "direct"),
    "opioid_item_without_fi": ("item__category__opioid", "indirect: interaction, read off the opioid category"),
    "prior_surgery_surgical_item": ("signal__prior_surgery", "indirect: interaction, read off prior surgery"),
    "ur_modified": ("signal__ur_modified", "direct"),
    "working": ("signal__working", "direct"),
    "retrospective": ("field__retrospective", "direct"),
    "chronicity_years": ("field__chronicity_decades", "direct (per decade, centred on 3 years)"),
    "quantity_above_guideline": ("field__exceeds_trial+rule__therapy_exceeds_initial_trial",
                                 "direct: the field and the guideline rule that reads it, summed"),
    "ca_no_citation": ("field__ca_guideline__not_cited", "direct"),
    "age_decades": ("field__age_decades", "null control (true effect 0)"),
    "female": (None, "null control (true effect 0); no sex feature"),
}


def make(n_letters: int, seed: int) -> tuple[list[dict], dict]:
    from imr_ml.letters.ingest import parse_text
    from imr_ml.synth.generate import iter_letters

    rows, truth = [], {}
    for letter_id, text, trows in iter_letters(n_letters, seed=seed):
        parsed = parse_text(text, source=f"{letter_id}.txt")
        rows += parsed
        for t in trows:
            truth[(t["letter_id"], int(t["item_index"]))] = t
    return rows, truth


def extraction_table(rows: list[dict], truth: dict) -> list[str]:
    """How well each matching feature (unscaled) reproduces the planted variable."""
    from imr_ml.featurize import SignalFeatures

    X = to_frame(rows)
    sf = SignalFeatures(scale=False).fit(X)
    M = np.asarray(sf.transform(X).todense() if hasattr(sf.transform(X), "todense") else sf.transform(X))
    names = list(sf.get_feature_names_out())
    tr = [truth[(r["letter_id"], int(r.get("item_index") or 0))] for r in rows]
    out = ["## Does the feature see the planted variable? (held-out items)", "",
           "Binary variables: how often each is true, how often its feature fires, precision and recall of the "
           "feature for the variable. Continuous ones: Pearson correlation.", "",
           "| planted variable | feature | truth rate | feature rate | precision | recall / r |", "|---|---|---|---|---|---|"]
    for eff, (feat, _) in MATCH.items():
        feat = feat.split("+")[0] if feat else feat
        if feat not in names or eff not in tr[0]:
            continue
        x = np.array([float(t.get(eff) or 0) for t in tr])
        f = M[:, names.index(feat)].astype(float)
        if set(np.unique(x)) <= {0.0, 1.0}:
            fire, pos = f > 0, x > 0
            prec = (fire & pos).sum() / max(1, fire.sum())
            rec = (fire & pos).sum() / max(1, pos.sum())
            out.append(f"| {eff} | `{feat}` | {pos.mean():.3f} | {fire.mean():.3f} | {prec:.2f} | {rec:.2f} |")
        else:
            r = np.corrcoef(x, f)[0, 1] if x.std() and f.std() else float("nan")
            out.append(f"| {eff} | `{feat}` | — | — | — | r = {r:.2f} |")
    return out + [""]


def _coef(coefs: dict, feat: str | None) -> float | None:
    """A feature's coefficient, or the sum over "a+b" (an effect shared by a field and a rule)."""
    if not feat:
        return None
    parts = [coefs[f] for f in feat.split("+") if f in coefs]
    return sum(parts) if parts else None


def interval_coverage(model, X, p_true: np.ndarray) -> tuple[float, float]:
    """(share of items whose true probability lies in the model's 90% interval, median width)."""
    from imr_ml.scoring.score import Z_INTERVAL

    scorer = scoring_model(model)
    Z = scorer.features(X)
    logit, sd = scorer.logits(Z), scorer.logit_sd(Z)
    lo, hi = scorer.calibrate(logit - Z_INTERVAL * sd), scorer.calibrate(logit + Z_INTERVAL * sd)
    return float(np.mean((p_true >= lo) & (p_true <= hi))), float(np.median(hi - lo))


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--letters", type=int, default=5000)
    ap.add_argument("--seed", type=int, default=11)
    ap.add_argument("--out", default=str(HERE / "synthetic_recovery.md"))
    args = ap.parse_args()
    from imr_ml.synth.generate import EFFECTS

    t0 = time.perf_counter()
    rows, truth = make(args.letters, args.seed)
    t_gen = time.perf_counter() - t0
    rows = canonical_rows(rows)
    keyed = [(r["letter_id"], int(r.get("item_index") or 0)) for r in rows]
    matched = sum(k in truth for k in keyed)
    letters = sorted({r["letter_id"] for r in rows})
    rng = np.random.default_rng(args.seed)
    test_letters = set(rng.choice(letters, size=len(letters) // 5, replace=False).tolist())
    train_rows = [r for r in rows if r["letter_id"] not in test_letters]
    test_rows = [r for r in rows if r["letter_id"] in test_letters]
    p_true = np.array([truth[(r["letter_id"], int(r.get("item_index") or 0))]["p_overturned"] for r in test_rows])
    y_test = labels(test_rows)
    label_agree = np.mean([truth[k]["label"] == r["label"] for k, r in zip(keyed, rows) if k in truth])

    t1 = time.perf_counter()
    opts = TrainOptions(seed=args.seed, estimate=False, n_splits=5)  # default prior-weight grid
    res = train(train_rows, opts)
    t_train = time.perf_counter() - t1
    Xte = to_frame(test_rows)
    p_model = res.model.predict_proba(Xte)[:, 1]
    from imr_ml.modeling.training.baselines import predict_baselines

    base = predict_baselines(res.baselines, res.tables, Xte)
    s_model, s_bayes = metrics_of(y_test, p_model), metrics_of(y_test, p_true)
    sig = train(train_rows, TrainOptions(seed=args.seed, estimate=False, baselines=False, grid=opts.grid,
                                             pipeline={"use_rules": False}))
    s_sig = metrics_of(y_test, sig.model.predict_proba(Xte)[:, 1])
    covered, width = interval_coverage(res.model, Xte, p_true)
    coef_full, coef_sig = scoring_model(res.model).weights(), scoring_model(sig.model).weights()

    ratio = s_model["roc_auc"] / s_bayes["roc_auc"]
    lines = [
        "# Synthetic recovery",
        "",
        f"{args.letters} synthetic letters (seed {args.seed}) from `imr_ml.synth.generate`, parsed back with "
        f"`imr_ml.letters.ingest.parse_text`: {len(rows)} items ({int(labels(rows).sum())} overturned); "
        f"{matched}/{len(rows)} parsed items matched to the truth file, parsed labels agree with the truth "
        f"for {label_agree:.1%}. Split by letter: {len(train_rows)} training items, {len(test_rows)} held-out "
        f"items ({len(test_letters)} letters). Generation + parsing {t_gen:.0f} s; training (prior weight chosen "
        f"over {[g['prior_weight'] for g in opts.grid]} by 5-fold grouped CV, sigmoid calibration, baselines) "
        f"{t_train:.0f} s; chose prior_weight={res.manifest['hyperparameters'].get('prior_weight')}.",
        "",
        "## Held-out letters",
        "",
        "| predictor | roc_auc | average_precision | brier | log_loss | ece |",
        "|---|---|---|---|---|---|",
    ]

    def row(name, s):
        return f"| {name} | " + " | ".join("—" if s[m] is None else f"{s[m]:.3f}"
                                           for m in ("roc_auc", "average_precision", "brier", "log_loss", "ece")) + " |"

    lines.append(row("Bayes-optimal (true p_overturned)", s_bayes))
    lines.append(row("**imr-ml model**", s_model))
    lines.append(row("without the guideline rules (use_rules=False), same procedure", s_sig))
    for n, p in base.items():
        lines.append(row(f"baseline: {n}", metrics_of(y_test, p)))
    lines += [
        "",
        f"Model AUC / Bayes AUC = **{ratio:.3f}** (goal ≥ 0.95).",
        "",
        "## The 90% interval against the true probabilities",
        "",
        f"The model's 90% interval for P(overturned) (Laplace posterior of the fitted coefficients, through the "
        f"calibration map) holds the item's true probability for **{covered:.1%}** of the {len(test_rows)} "
        f"held-out items (median width {width:.3f}). It measures the uncertainty of the fitted coefficients only: "
        "the generating process adds item-level noise (ε ~ N(0, 0.5²) on the log-odds) and interactions no "
        "linear model of these features can follow, so coverage of the true probability falls short of 90% by "
        "what the model cannot know.",
        "",
        "## Planted effects: sign of the matching coefficient",
        "",
        "Coefficients of the final logistic regression (binary features, numbers per decade: comparable "
        "to the planted log-odds; the guideline rules share some effects with the signals they read, so "
        "signs are what is checked; the second column is the model without the rules).",
        "",
        "| planted effect | true coef | feature | full model | signals-only | sign recovered | match |",
        "|---|---|---|---|---|---|---|",
    ]
    n_ok = n_checked = 0
    for eff, true in EFFECTS.items():
        feat, how = MATCH.get(eff, (None, "no matching feature"))
        cf, cs = _coef(coef_full, feat), _coef(coef_sig, feat)
        if true == 0 or cf is None:
            ok = "n/a"
        else:
            good = np.sign(cf) == np.sign(true) and (cs is None or np.sign(cs) == np.sign(true))
            ok = "yes" if good else "**no**"
            n_checked += 1
            n_ok += bool(good)
        f = lambda v: "—" if v is None else f"{v:+.3f}"  # noqa: E731
        lines.append(f"| {eff} | {true:+.2f} | `{feat or '—'}` | {f(cf)} | {f(cs)} | {ok} | {how} |")
    lines += ["", f"Signs recovered (both models): **{n_ok}/{n_checked}** non-null planted effects with a matching feature.", ""]
    lines += extraction_table(test_rows, truth)
    Path(args.out).write_text("\n".join(lines), encoding="utf-8")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
