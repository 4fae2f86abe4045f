"""Every example a command's --help shows runs as shown, in a folder holding the files the
examples name (letters, a corpus, a model trained by the train example, a notes file, a CSV).
Left out, each for its reason: `serve` (it runs until stopped; tests/test_serve.py serves the
same app), `demo` (tests/test_demo.py runs it), and streaming training (tests/test_streaming.py)."""

from __future__ import annotations

import csv
import json
import shlex
import shutil

import pytest
import typer
from typer.testing import CliRunner

from imr_ml.cli import app

COMMANDS = ["ingest", "synth", "train", "index", "similar", "search", "evaluate", "score", "explain", "report",
            "reasons", "signals", "serve", "demo"]
LEFT_OUT = {"serve": "runs until stopped", "demo": "tests/test_demo.py", "--streaming": "tests/test_streaming.py"}


def examples() -> list[list[str]]:
    """Every example line of every command's help (the root's too), in the order above (the
    ingest and train examples make the corpus and model the others read)."""
    group = typer.main.get_command(app)
    assert sorted(group.commands) == sorted(COMMANDS)  # a new command's examples join this test
    texts = [group.commands[c].epilog or "" for c in COMMANDS] + [group.epilog or ""]
    lines = [shlex.split(line.strip())[1:] for text in texts for line in text.splitlines()
             if line.strip().startswith("imr-ml ")]
    return [["score", "--help"] if args == ["COMMAND", "--help"] else args for args in lines]


@pytest.fixture(scope="module")
def folder(tmp_path_factory):
    """The files the examples name."""
    from imr_ml.synth.generate import iter_letters, write_pdf

    d = tmp_path_factory.mktemp("examples")
    (d / "letters").mkdir()
    texts = [text for _, text, _ in iter_letters(60, seed=2)]
    for i, text in enumerate(texts):
        (d / "letters" / f"L{i}.txt").write_text(text, encoding="utf-8")
    for name, text in zip(("a.pdf", "b.pdf", "letter.pdf"), texts):
        write_pdf(text, d / name)
    summary = ("58F, fell at work 3/2015. R shoulder pain + weakness, drop arm test +. XR neg. "
               "Failed 6 wks PT and NSAIDs.")
    (d / "notes.txt").write_text(summary + "\n")
    with open(d / "claims.csv", "w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["ClaimNo", "summary", "item"])
        w.writerows([["C-1", summary, "MRI right shoulder"], ["C-2", summary, "Acupuncture 2x6 lumbar"]])
    with open(d / "office.csv", "w", newline="") as fh:  # an office's own column names
        w = csv.writer(fh)
        w.writerow(["ClaimNo", "Notes", "Treatment"])
        w.writerow(["C-3", summary, "Norco 10/325 #60"])
    (d / "token.txt").write_text("a-long-enough-secret-token-for-the-example\n")
    return d


def test_every_help_example_runs_as_shown(folder, monkeypatch):
    monkeypatch.chdir(folder)
    ran, left_out = [], []
    for args in examples():
        reason = next((why for word, why in LEFT_OUT.items() if word in args), None)
        if reason:
            left_out.append(args)
            continue
        if args[0] == "evaluate" and not (folder / "held_out.jsonl").exists():
            (folder / "held_out.jsonl").write_text((folder / "corpus.jsonl").read_text())
        if args[0] == "synth":  # each example as a user would run it: into a new folder
            shutil.rmtree(folder / "synth", ignore_errors=True)
        res = CliRunner().invoke(app, args)
        assert res.exit_code == 0, (args, res.output[-2000:])
        ran.append(args)
        if "--json" in args and args[0] not in ("report", "reasons"):
            json.loads(res.stdout)  # machine-readable as promised
    assert len(ran) >= 20 and {a[0] for a in left_out} == {"serve", "demo", "train"}
    assert (folder / "models" / "mine" / "MODEL_CARD.md").is_file() and (folder / "why.html").is_file()
