"""Byte-for-byte reference of what the tool produces from synthetic letters, to keep a
restructure honest: `--write` records it; `--check` (also the default) reproduces it, lists every
difference and exits 1 when there is any.

Everything goes through the command line (the interface a restructure must keep) except the
feature matrix, which has no command and is read through the library's public pipeline.
Volatile values (timings, the temporary folder, package versions) are normalised away; the
rest must match exactly. Run: python experiments/reference_dump.py --check
"""

from __future__ import annotations

import argparse
import difflib
import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
REFERENCE = HERE / "reference"
VOLATILE_KEYS = {"seconds", "elapsed", "elapsed_seconds", "fit_seconds", "created", "created_at", "trained_at",
                 "timestamp", "versions", "environment", "python", "platform", "duration", "letters_per_second",
                 "created_unix", "model_sha256", "manifest_sha256", "train_seconds"}
# skops archives carry zip timestamps: their hashes change from run to run, their contents do not
SKOPS_HASH = re.compile(r"(skops[^\n]{0,40}?|\"kind\": \"imr-ml model\",[^}]*?\"sha256\": \")\b[0-9a-f]{64}\b", re.S)
REQUEST = ["--summary-file", "{d}/request.txt", "--item", "Acupuncture 2 times a week for 6 weeks",
           "--guideline", "MTUS Acupuncture Medical Treatment Guidelines", "--date-of-injury", "2009-03-14",
           "--ur-denial-date", "2016-11-02"]
REQUEST_TEXT = ("The injured worker is a 61-year-old clerk with chronic low back pain. She has completed twelve "
                "acupuncture sessions without documented functional improvement and remains off work. She takes "
                "Norco 10/325 three times a day.\n")


def _cli(d: Path, *args: str, out: str | None = None) -> None:
    """Run one `imr-ml` command; its stdout goes to `out` (a file in the dump) when given."""
    argv = [sys.executable, "-m", "imr_ml", *[a.format(d=d) for a in args]]
    res = subprocess.run(argv, capture_output=True, text=True, cwd=d, env={**os.environ, "COLUMNS": "100", "PYTHONHASHSEED": os.environ.get("REF_HASHSEED", "0")})
    if res.returncode not in (0, 1):
        raise SystemExit(f"{' '.join(args)} failed ({res.returncode}): {res.stderr.strip()[-400:]}")
    if out:
        (d / "dump" / out).write_text(res.stdout, encoding="utf-8")


def _features(d: Path) -> None:
    """The feature matrix of the corpus from the default pipeline, one line per item, exact floats."""
    import numpy as np

    from imr_ml.featurize import to_frame
    from imr_ml.modeling.estimator.pipeline import build_pipeline
    rows = [json.loads(line) for line in (d / "corpus.jsonl").read_text(encoding="utf-8").splitlines()]
    feats = build_pipeline()[:-1]
    Z = feats.fit_transform(to_frame(rows), np.array([int(r["label"]) for r in rows]))
    Z = Z.toarray() if hasattr(Z, "toarray") else np.asarray(Z)
    lines = ["\t".join(feats.get_feature_names_out())]
    lines += ["\t".join(repr(float(v)) for v in row) for row in Z]
    (d / "dump" / "features.tsv").write_text("\n".join(lines) + "\n", encoding="utf-8")


def produce(d: Path) -> Path:
    """Run every stage on 60 synthetic letters in `d`; returns the folder of normalised outputs."""
    (d / "dump").mkdir(parents=True)
    (d / "request.txt").write_text(REQUEST_TEXT, encoding="utf-8")
    _cli(d, "synth", "-n", "60", "--out", "letters", "--seed", "0", "--json", out="synth.json")
    _cli(d, "ingest", "letters", "--out", "corpus.jsonl", "--json", out="ingest.json")
    _cli(d, "signals", "corpus.jsonl", "--json", out="signals.json")
    _features(d)
    _cli(d, "train", "corpus.jsonl", "--out", "model", "--folds", "3", "--json", out="train.json")
    _cli(d, "evaluate", "model", "corpus.jsonl", "--json", out="evaluate.json")
    _cli(d, "score", "model", "corpus.jsonl", "--json", out="score_corpus.json")
    _cli(d, "score", "model", "corpus.jsonl", "--out", "scores.csv", "--id-col", "letter_id")
    _cli(d, "score", "builtin", *REQUEST, "--json", out="score_builtin_request.json")
    _cli(d, "score", "builtin", *REQUEST, out="score_builtin_request.txt")
    _cli(d, "explain", "model", *REQUEST, "--json", out="explain_request.json")
    _cli(d, "explain", "builtin", *REQUEST, "--html", "explain.html", out="explain_request.txt")
    _cli(d, "explain", "model", "letters/CM15-2151898.txt", "--html", "explain_batch.html", out="explain_letter.txt")
    _cli(d, "report", "model", "--out", "report", "--json")
    _cli(d, "report", "model", "--corpus", "corpus.jsonl", "--out", "report_corpus", "--json")
    _cli(d, "reasons", "corpus.jsonl", "--out", "reasons", "--json", out="reasons.json")
    for src, dst in [("corpus.jsonl", "corpus.jsonl"), ("scores.csv", "scores.csv"), ("explain.html", "explain.html"),
                     ("explain_batch.html", "explain_batch.html"), ("model/MODEL_CARD.md", "MODEL_CARD.md"),
                     ("model/manifest.json", "manifest.json"), ("model/cv_predictions.json", "cv_predictions.json"),
                     ("report/report.html", "report.html"), ("report/report.json", "report.json"),
                     ("report_corpus/report.html", "report_corpus.html"),
                     ("report_corpus/report.json", "report_corpus.json"), ("reasons/reasons.md", "reasons.md")]:
        shutil.copyfile(d / src, d / "dump" / dst)
    letters = sorted(p for p in (d / "letters").iterdir() if p.is_file())
    (d / "dump" / "letters.sha256").write_text(
        "".join(f"{hashlib.sha256(p.read_bytes()).hexdigest()}  {p.name}\n" for p in letters), encoding="utf-8")
    for p in (d / "dump").iterdir():
        _normalise(p, d)
    return d / "dump"


def _scrub(obj):
    if isinstance(obj, dict):
        return {k: ("<volatile>" if k in VOLATILE_KEYS else _scrub(v)) for k, v in obj.items()}
    if isinstance(obj, list):
        return [_scrub(v) for v in obj]
    return obj


def _normalise(p: Path, d: Path) -> None:
    """Replace the temporary folder by <D>, volatile JSON values by <volatile>, timings in text."""
    text = p.read_text(encoding="utf-8").replace(str(d), "<D>")
    if p.suffix == ".json":
        try:
            text = json.dumps(_scrub(json.loads(text)), indent=1, sort_keys=True) + "\n"
        except json.JSONDecodeError:
            pass
    text = re.sub(r"\b\d+(\.\d+)? ?(s|seconds|ms|min)\b(?! ?[a-z])", "<time>", text)
    # when a result page was made, and the day a model was trained (in its name)
    text = re.sub(r"(<tr><th>Scored</th><td>)[^<]*", r"\1<when>", text)
    text = re.sub(r"(trained on \d+ letters), \d{4}-\d{2}-\d{2}", r"\1, <day>", text)
    text = SKOPS_HASH.sub(r"\1<sha256>", text)
    p.write_text(text, encoding="utf-8")


def compare(got: Path, want: Path) -> list[str]:
    """One line per differing file, with the first lines of its diff."""
    problems = []
    names = sorted({p.name for p in got.iterdir()} | {p.name for p in want.iterdir()})
    for name in names:
        a, b = want / name, got / name
        if not a.exists() or not b.exists():
            problems.append(f"{name}: only in {'reference' if a.exists() else 'this run'}")
        elif a.read_bytes() != b.read_bytes():
            diff = difflib.unified_diff(a.read_text().splitlines(), b.read_text().splitlines(), "reference", "now",
                                        n=0, lineterm="")
            problems.append(f"{name} differs:\n  " + "\n  ".join(line[:300] for line in list(diff)[:12]))
    return problems


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    mode = ap.add_mutually_exclusive_group()
    mode.add_argument("--check", action="store_true",
                      help="reproduce the reference and exit 1 on any difference (the default)")
    mode.add_argument("--write", action="store_true", help="record the reference instead of checking it")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory(prefix="imr-ref-") as tmp:
        got = produce(Path(tmp))
        if args.write:
            shutil.rmtree(REFERENCE, ignore_errors=True)
            shutil.copytree(got, REFERENCE)
            print(f"reference written to {REFERENCE}")
            return 0
        problems = compare(got, REFERENCE)
    print("\n".join(problems) if problems else f"identical: {len(list(REFERENCE.iterdir()))} files")
    return 1 if problems else 0


if __name__ == "__main__":
    raise SystemExit(main())
