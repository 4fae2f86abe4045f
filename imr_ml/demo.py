"""`imr-ml demo`: the whole job on a synthetic corpus, end to end, on a fresh machine.

synthesise letters -> ingest -> split by letter -> train -> evaluate on held-out letters ->
score two example requests -> write the report.
"""

from __future__ import annotations

import hashlib
import json
import shutil
from pathlib import Path

from sklearn.metrics import roc_auc_score

from imr_ml.letters.ingest import ingest_paths
from imr_ml.modeling.modelfiles.modelio import load_model_dir
from imr_ml.modeling.training.fitting import TrainOptions
from imr_ml.modeling.training.train import evaluate, save, train
from imr_ml.reporting.evaluation_text import format_evaluation
from imr_ml.reporting.report import build_report, write_report
from imr_ml.scoring.examples import EXAMPLES
from imr_ml.scoring.score import request_row, score_rows
from imr_ml.scoring.wording import level_text, pct
from imr_ml.synth.generate import generate_corpus
from imr_ml.textio import atomic_write_json, atomic_write_jsonl

# The guidelines' stated strength, not searched: without the search the cross-validation
# that gives the model out-of-fold predictions (`imr-ml report` without --corpus) stays cheap,
# and it measures exactly the procedure that made the model.
DEMO_GRID = ({"prior_weight": 1.0},)
# What the demo writes in its folder: a rerun replaces these, and a folder holding anything
# else is refused (the demo never writes among a user's own files).
DEMO_ENTRIES = frozenset({"letters", "corpus.jsonl", "corpus.jsonl.skipped.jsonl", "corpus.jsonl.journal",
                          "train.jsonl", "test.jsonl", "model", "evaluation.json", "examples.json", "report"})


class DemoError(ValueError):
    """A folder the demo must not write into; the message is one line saying why."""


def check_demo_out(out: Path) -> None:
    """Refuse a file, or a folder holding anything the demo did not write (its own temp files
    from a killed run aside): a rerun replaces its own outputs and nothing else."""
    if out.exists() and not out.is_dir():
        raise DemoError(f"--out {out} exists and is not a folder")
    if not out.is_dir():
        return
    foreign = sorted(p.name for p in out.iterdir()
                     if p.name not in DEMO_ENTRIES and not (p.name.startswith(".") and p.name.endswith(".tmp")))
    if foreign:
        more = f" and {len(foreign) - 1} more" if len(foreign) > 1 else ""
        raise DemoError(f"--out {out} holds {foreign[0]}{more}, which the demo did not write: "
                        "name a new folder (or a previous demo's)")


def split_by_letter(rows: list[dict], test_share: float = 0.2) -> tuple[list[dict], list[dict]]:
    """Deterministic split by a hash of the letter id: items of a letter stay together."""
    def held_out(lid: str) -> bool:
        return int(hashlib.sha256(lid.encode()).hexdigest()[:8], 16) / 0xFFFFFFFF < test_share

    train = [r for r in rows if not held_out(str(r["letter_id"]))]
    test = [r for r in rows if held_out(str(r["letter_id"]))]
    return train, test


def bayes_auc(truth_path: Path, rows: list[dict]) -> float:
    """ROC AUC of the synthetic truth's own probabilities on `rows`."""
    with open(truth_path, encoding="utf-8") as fh:
        truth = {(t["letter_id"], t["item_index"]): t["p_overturned"] for t in map(json.loads, fh)}
    return float(roc_auc_score([r["label"] for r in rows], [truth[(r["letter_id"], r["item_index"])] for r in rows]))


def run_demo(out: str | Path, letters: int = 1500, seed: int = 0, say=print, reporter=None) -> dict:
    """Every stage on `letters` synthetic letters in `out`, each step announced by `say`;
    returns where everything is, the held-out evaluation and the two scored examples."""
    out = Path(out)
    check_demo_out(out)
    say(f"1/6 synthesising {letters} letters with a known truth -> {out / 'letters'}")
    if (out / "letters").is_dir():  # a previous demo's: its letters and truth are made again whole
        shutil.rmtree(out / "letters")
    generate_corpus(letters, out / "letters", seed=seed)
    say("2/6 ingesting them (the same reader as for real letters)")
    rows, skipped = ingest_paths([out / "letters"], out=out / "corpus.jsonl", jobs=2)
    train_rows, test_rows = split_by_letter(rows)
    atomic_write_jsonl(train_rows, out / "train.jsonl")
    atomic_write_jsonl(test_rows, out / "test.jsonl")
    say(f"    {len(rows)} items from {len({r['letter_id'] for r in rows})} letters; "
        f"{len(train_rows)} items to train on, {len(test_rows)} held out (split by letter)")
    say("3/6 training (calibrated; letter-grouped CV keeps each item's out-of-fold prediction for the report)")
    kwargs = {"reporter": reporter} if reporter else {}
    result = train(train_rows, TrainOptions(seed=seed, grid=DEMO_GRID), inputs=[str(out / "train.jsonl")],
                   synthetic=True, **kwargs)
    model_dir = save(result, out / "model")
    say("4/6 evaluating on the held-out letters")
    ev = evaluate(model_dir, test_rows)
    say(format_evaluation(ev, per_category=False))
    bayes = bayes_auc(out / "letters" / "truth.jsonl", test_rows)
    ev["bayes_optimal_roc_auc"] = bayes
    atomic_write_json(ev, out / "evaluation.json")  # beside the model: `train` replaces the model whole
    say(f"    the true probabilities the letters were drawn from reach ROC AUC {bayes:.3f} on these items "
        f"(the best any model can do); the model gets {ev['roc_auc'] / bayes:.0%} of it")
    say("5/6 scoring two example requests: the built-in guideline model beside the one trained on synthetic letters")
    loaded = load_model_dir(model_dir)
    examples = score_examples(loaded, say)
    atomic_write_json(examples, out / "examples.json")
    say("6/6 writing the feature-importance report")
    (out / "report").mkdir(exist_ok=True)
    write_report(build_report(loaded, test_rows, corpus_name=str(out / "test.jsonl"), corpus_synthetic=True),
                 out / "report" / "report.html", out / "report" / "report.json")
    where = {"letters": str(out / "letters"), "corpus": str(out / "corpus.jsonl"), "model": str(model_dir),
             "model_card": str(model_dir / "MODEL_CARD.md"), "evaluation": str(out / "evaluation.json"),
             "examples": str(out / "examples.json"), "report": str(out / "report" / "report.html")}
    say("done. Everything is in " + str(out) + ":\n" + "\n".join(f"    {k:<11} {v}" for k, v in where.items()))
    return {"where": where, "evaluation": ev, "examples": examples, "skipped": len(skipped)}


def score_examples(loaded, say=print) -> list[dict]:
    """The two EXAMPLES scored by `loaded` and by the built-in model, beside each other."""
    requests = [request_row(ex["summary"], ex["item"], ex["claims_admin_guideline"], ex["date_of_injury"],
                            ex["ur_denial_date"]) for ex in EXAMPLES]
    examples = []
    # whole lists: a generator left half-read would keep its GC settings until collected
    builtin = list(score_rows(load_model_dir("builtin"), requests))
    for ex, scored, known in zip(EXAMPLES, list(score_rows(loaded, requests)), builtin):
        examples.append({"example": ex["name"], **scored, "builtin": known})
        lo, hi = known["interval"]
        say(f"    {ex['name']}: {ex['item']}\n      P(overturned) = {pct(scored['p_overturned'])} trained "
            f"({scored['verdict']}{', flagged' if scored['flagged'] else ''}), {pct(known['p_overturned'])} built-in "
            f"({level_text()} interval {pct(lo)}-{pct(hi)})")
        for c in known["reasons"][:2]:
            say(f"      {c['contribution']:+.2f} {c['label']}")
        for h in scored["hints"][:2]:
            say(f"      missing: {h}")
    return examples
