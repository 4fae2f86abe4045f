"""Does an explanation count the same evidence both ways? (writes contradictions.md)

    .venv/bin/python experiments/contradictions.py [--corpus /tmp/real_corpus.jsonl]

Two models are trained on all 111 real letters (in memory; nothing is saved): the model as it
was before the signals and fields that a guideline rule reads shared its direction
(`build_pipeline(share_directions=False)`), and as it is now. Each scores every request of the
two clinical-sense suites (`sense_pairs.toml`, `sense_pairs_holdout.toml`: typed notes and
letter-style summaries written for this project, none from a real letter). A result counts
the same evidence both ways when two of its contributions quote overlapping text (same
field, overlapping characters) with opposite signs, each at least 0.2 in log-odds. Measured
on the per-feature contributions (``parts``) and on the findings an explanation shows (one
line per evidence: by construction these cannot overlap, so what is measured there is that
the grouping holds). The same models are scored on the sense suites (directional pairs,
invariance pairs, textbook denials), and the additivity identity is checked on every result.
The letters are read from ../shared and never written into the project; only numbers are.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
from collections import Counter
from pathlib import Path

from knowledge_vs_data import LETTERS, SUITES
from knowledge_vs_data import _rows as real_rows

HERE = Path(__file__).parent


def _requests(suite: dict) -> list[dict]:
    reqs = [r for p in suite["pairs"] for r in (p["a"], p["b"])]
    return reqs + suite["denials"]


def _parts(result: dict, row: dict) -> list[dict]:
    """Every per-feature contribution of a result, with its own evidence (all spans)."""
    from imr_ml.scoring.evidence import evidence_spans, quoted
    from imr_ml.signals import extract_signals

    signals = extract_signals(row)
    return [p | {"evidence": quoted(row, evidence_spans(p["feature"], row, signals), limit=99)}
            for f in result["contributions"] for p in f["parts"]]


def measure(loaded, suites: dict) -> dict:
    from imr_ml.reporting.sense import build_row, evaluate_suite
    from imr_ml.scoring.findings import counted_both_ways
    from imr_ml.scoring.score import score_rows

    out: dict = {"pairs": Counter(), "sense": {}, "suites": {}}
    for name, suite in suites.items():
        rows = [build_row(r) for r in _requests(suite)]
        results = list(score_rows(loaded, rows, top=99))
        m = out["suites"][name] = {"n": 0, "parts": 0, "findings": 0, "additive": 0}
        for row, r in zip(rows, results):
            if r["abstained"]:
                continue
            m["n"] += 1
            pairs = counted_both_ways(_parts(r, row))
            m["parts"] += bool(pairs)
            out["pairs"].update(pairs)
            m["findings"] += bool(counted_both_ways(r["contributions"]))
            base = r["baseline"]["logit"]
            total = base + sum(c["contribution"] for c in r["contributions"])
            parts = base + sum(p["contribution"] for c in r["contributions"] for p in c["parts"])
            m["additive"] += abs(total - r["logit"]) <= 1e-6 and abs(parts - r["logit"]) <= 1e-6
        probs = [None if r["abstained"] else r["p_overturned"] for r in results]
        out["sense"][name] = evaluate_suite(suite, lambda batch, probs=probs: probs)
    counts = ("n", "parts", "findings", "additive")
    out["suites"]["both"] = {k: sum(v[k] for v in out["suites"].values()) for k in counts}
    return out


def _train(rows: list[dict], share: bool):
    from imr_ml.modeling.modelfiles.loaded import LoadedModel
    from imr_ml.modeling.training.fitting import TrainOptions
    from imr_ml.modeling.training.train import train

    fit = train(rows, TrainOptions(estimate=False, baselines=False, pipeline={"share_directions": share}))
    return LoadedModel(fit.model, fit.manifest, Path("-"))


def _share(k: int, n: int) -> str:
    from imr_ml.modeling.evaluation.metrics import wilson_interval

    lo, hi = wilson_interval(k, n)
    return f"{k}/{n} ({k / n:.1%}; 95% {lo:.1%}-{hi:.1%})"


def report(results: dict) -> list[str]:
    lines = ["| model | requests of | scored | counting the same evidence both ways: per-feature contributions "
             "| the same, in the findings shown | additivity holds (1e-6) |", "|---|---|---|---|---|---|"]
    for name, r in results.items():
        for suite, m in r["suites"].items():
            lines.append(f"| {name} | {suite} | {m['n']} | {_share(m['parts'], m['n'])} "
                         f"| {_share(m['findings'], m['n'])} | {m['additive']}/{m['n']} |")
    lines += ["", "Contribution pairs counted both ways (results they occur in):", ""]
    for name, m in results.items():
        top = ", ".join(f"{a} / {b} ({k})" for (a, b), k in m["pairs"].most_common(8)) or "none"
        lines.append(f"- {name}: {top}")
    lines += ["", "## Clinical sense of the same models", "",
              "| model | suite | directional ordered right | invariance within 0.05 (max gap) | denials mean P |",
              "|---|---|---|---|---|"]
    for name, m in results.items():
        for suite, r in m["sense"].items():
            d, i, den = r["directional"], r["invariance"], r["denials"]
            lines.append(f"| {name} | {suite} | {d['ok']}/{d['n']} ({d['share']:.0%}) | {i['ok']}/{i['n']} "
                         f"({i['max_gap']:.3f}) | {den['mean_p']:.3f} |")
    return lines


def cost(rows: list[dict]) -> list[str]:
    """What sharing the directions costs on the letters: the whole training procedure in a
    letter-grouped 5-fold CV, both ways on the same folds, and the paired differences of the
    pooled out-of-fold predictions with 95% letter-bootstrap intervals."""
    from imr_ml.modeling.evaluation.bootstrap import bootstrap_diff_ci
    from imr_ml.modeling.evaluation.metrics import metrics_of
    from imr_ml.modeling.training.data import labels, letter_groups
    from imr_ml.modeling.training.estimate import estimate
    from imr_ml.modeling.training.fitting import TrainOptions

    y, g = labels(rows), letter_groups(rows)
    p = {share: estimate(rows, TrainOptions(baselines=False, pipeline={"share_directions": share}))
         ["_pooled_predictions"]["model"] for share in (False, True)}
    out = ["## What it costs on these letters", "",
           "The whole training procedure in a letter-grouped 5-fold CV, both ways on the same folds; pooled "
           "out-of-fold predictions; the difference now minus before, paired on 1,000 letter resamples.", "",
           "| metric | before | now | now minus before [95%] |", "|---|---|---|---|"]
    before, now = metrics_of(y, p[False]), metrics_of(y, p[True])
    for m in ("roc_auc", "average_precision", "brier"):
        d = bootstrap_diff_ci(y, p[True], p[False], g, m)
        lo, hi = d[f"{m}_diff_ci"]
        out.append(f"| {m} | {before[m]:.3f} | {now[m]:.3f} | {d[f'{m}_diff']:+.3f} [{lo:+.3f}, {hi:+.3f}] |")
    return out + [""]


def directions_table(models: dict, shared: dict[str, int], rows: list[dict]) -> list[str]:
    """Each shared feature: its direction, the training items it fired on and how many of them
    were overturned, and its weight learnt free and now (at 0 where the letters pull against
    the guideline)."""
    from imr_ml.modeling.estimator.model import scoring_model

    free, now = (scoring_model(models[s].model).weights() for s in (False, True))
    counts = models[True].manifest["training_counts"]
    fired = _overturned_when_fired(models[True], list(shared), rows)
    out = ["| feature | guideline's direction | training items it fired on (overturned) | weight learnt free "
           "| weight now |", "|---|---|---|---|---|"]
    for n, d in sorted(shared.items(), key=lambda kv: -counts.get(kv[0], 0)):
        way = {1: "toward an overturn", -1: "against an overturn", 0: "both ways, by service: held at 0"}[d]
        out.append(f"| {n} | {way} | {counts.get(n, 0)} "
                   f"({fired.get(n, 0)}) | {free[n]:+.3f} | {now[n]:+.3f} |")
    return out + [""]


def _overturned_when_fired(loaded, names: list[str], rows: list[dict]) -> dict[str, int]:
    """{feature: overturned training items among those it fired on}."""
    import numpy as np

    from imr_ml.featurize import to_frame
    from imr_ml.modeling.estimator.model import scoring_model
    from imr_ml.modeling.training.data import labels

    scorer = scoring_model(loaded.model)
    Z = scorer.features(to_frame(rows))
    y = labels(rows)
    col = {n: j for j, n in enumerate(scorer.feature_names)}
    return {n: int((np.asarray(Z[:, col[n]].todense() if hasattr(Z, "todense") else Z[:, col[n]]).ravel() != 0)
                   @ y) for n in names}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--corpus", default="/tmp/real_corpus.jsonl")
    ap.add_argument("--out", default=str(HERE / "contradictions.md"))
    args = ap.parse_args()
    if not LETTERS.exists() and not Path(args.corpus).exists():
        print(f"skipped: {LETTERS} is absent (the real letters are not part of the project)", file=sys.stderr)
        return
    from imr_ml.featurize import build_features, feature_blocks
    from imr_ml.modeling.estimator.directions import direction_conflicts, rule_directions
    from imr_ml.modeling.training.data import canonical_rows
    from imr_ml.reporting.sense import load_suite

    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True,
                            cwd=HERE).stdout.strip()
    rows = canonical_rows(real_rows(args.corpus))
    suites = {name.split()[0]: load_suite(path) for name, path in SUITES.items()}
    models = {share: _train(rows, share) for share in (False, True)}
    results = {"before: signals and fields free": measure(models[False], suites),
               "now: they share the direction of the rules that read them": measure(models[True], suites)}
    names = feature_blocks(build_features())["structured"].layout()
    shared = rule_directions(names)
    lines = ["# Evidence counted both ways", "", f"Generated by `experiments/contradictions.py` at commit {commit}. "
             f"Models trained on the {len({r['letter_id'] for r in rows})} real letters ({len(rows)} items); "
             "requests: every pair side and textbook denial of the development and held-out sense suites "
             "(abstentions left out). Intervals: 95% Wilson. Before this change an explanation listed the "
             "per-feature contributions, so the first column of the first rows is what a user saw; now it "
             "shows findings (contributions quoting overlapping text, summed), and the per-feature column "
             "says whether the model itself still counts evidence both ways.", ""]
    lines += report(results) + [""] + cost(rows)
    lines += ["", f"## The directions shared ({len(shared)} features; read both ways by the rules, so merged with "
              f"them and held at 0: {', '.join(direction_conflicts(names)) or 'none'})", ""]
    lines += directions_table(models, shared, rows)
    Path(args.out).write_text("\n".join(lines) + "\n", encoding="utf-8")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
