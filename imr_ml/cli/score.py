"""`imr-ml score`: P(overturned) for letters' items (backtest), a corpus or CSV (batch), or
one new request before it is submitted.

Library imports sit inside the functions: `imr-ml --help` must not load pandas or
scikit-learn."""

from __future__ import annotations

import json
import sys
from contextlib import closing, contextmanager
from pathlib import Path

import typer

from imr_ml.cli._app import check_out, command, fail, fewer_gc_pauses, jobs_option, load_model, writing
from imr_ml.cli.display import progress_bar
from imr_ml.cli.request_options import ModelDir, RequestRows, Requests, takes_requests
from imr_ml.cli.similar import precedent_lines

SCORE_EXAMPLES = """Examples:

  imr-ml score builtin --item "Acupuncture 2x6 lumbar" --summary-file notes.txt

  imr-ml score models/mine claims.csv --id-col ClaimNo --out scores.csv

  imr-ml score models/mine held_out.jsonl --threshold 0.15 --out scores.parquet
"""
PRINTED = 50  # items a batch prints; the rest go to --out
SIMILAR = typer.Option(5, "--similar", metavar="K", min=0, max=50, help=(
    "Similar past decisions shown (and in --json) per request, from the model's index (0: none; not in --out)."))


@command(SCORE_EXAMPLES)
@takes_requests
def score(
    model_dir: ModelDir,
    requests: Requests = Requests(),
    top: int = typer.Option(5, "--top", metavar="N", help="Reasons to show per item."),
    jobs: int = typer.Option(0, "--jobs", "-j", min=0, metavar="N",
                             help="Processes for a large batch (0 = one per core)."),
    out: Path | None = typer.Option(None, "--out", "-o", metavar="FILE", help=(
        "Write every result here: .csv or .parquet (flat columns), else JSON lines (everything).")),
    as_json: bool = typer.Option(False, "--json", help="Print results as JSON."),
    cut: float | None = typer.Option(None, "--threshold", metavar="P", min=0.0, max=1.0, help=(
        "Flag items \"better chance than most\" from this P on (default: the model's trained operating "
        "point). Verdicts do not move: \"likely overturned\" always needs P >= 0.5.")),
    similar: int = SIMILAR,
):
    """Score requests: probability of overturn, top reasons with evidence, missing documentation."""
    from imr_ml.scoring.operating import with_threshold
    from imr_ml.scoring.results_io import BatchSummary, named_id
    from imr_ml.scoring.score import BATCH

    if out:
        check_out(out)
    rows = requests.rows()
    loaded = load_model(model_dir)
    if cut is not None:
        loaded = with_threshold(loaded, cut)
    total = len(rows)
    n_jobs = jobs_option(jobs)
    n_jobs = n_jobs if total >= 4 * BATCH else 1  # worker processes pay for themselves from a few batches on
    summary = BatchSummary()
    one = total == 1 and requests.item is not None  # a single request's JSON is the result, not a list of one
    results = _score_all(loaded, rows, top, n_jobs, (out, requests.id_col, as_json and not one, similar), summary)
    _warn(summary)
    if as_json:
        if one:
            typer.echo(json.dumps(named_id(results[0], requests.id_col), indent=2))
        return
    for r in results:
        typer.echo(format_result(r, with_meaning=total == 1))
        if (r.get("precedents") or {}).get("available"):
            typer.echo("\n".join(precedent_lines(r["precedents"], brief=total > 1)))
    if results and not (results[0].get("precedents") or {"available": True})["available"]:
        typer.echo(precedent_lines(results[0]["precedents"])[0].strip())  # said once, not per item
    if total > 1:
        for line in batch_lines(summary, len(results), out, threshold_text(loaded, cut)):
            typer.echo(line)
        if results:
            typer.echo(f"  {results[0]['flag']['meaning']}")


def shown_precedents(loaded, rows: list[dict], results: list[dict], top: int) -> list[dict]:
    """The results shown with their requests' `top` precedents (none when `top` is 0)."""
    from imr_ml.scoring.precedents import with_precedents

    return list(with_precedents(loaded, rows, results, top)) if top else results


def _score_all(loaded, rows: RequestRows, top: int, n_jobs: int, sinks: tuple, summary) -> list[dict]:
    """Score every row into --out (atomically), the JSON list on stdout and `summary`, as
    the results come (sinks: the --out path, --id-col, whether to print the list, how many
    precedents a shown result gets); returns the first `PRINTED` results, for the terminal.
    Precedents go with what is shown (the terminal, the JSON), not into --out: a search per
    row would cost a claims batch more than its scoring. A failed write (a full disk) ends
    the command with one line: the results' generator is closed first, which stops its
    worker processes, so nothing waits on a pool the failure left behind and no partial
    --out remains."""
    from imr_ml.pool import WorkerCrashed
    from imr_ml.scoring.precedents import precedent_finder
    from imr_ml.scoring.requests_io import UnreadableInput
    from imr_ml.scoring.score import score_rows

    out, id_col, print_json, similar = sinks
    find = precedent_finder(loaded, similar) if similar else None
    results: list[dict] = []
    try:
        # a batch command: the CLI, not the library, tunes the GC for itself
        with progress_bar(len(rows) > 2000 and sys.stderr.isatty(), "Scoring items", len(rows)) as update, \
                closing(score_rows(loaded, rows, top=top, progress=update, n_jobs=n_jobs)) as scored, \
                _sink(out, id_col) as write, _json_list(print_json, id_col) as show, fewer_gc_pauses():
            for row, r in zip(rows, scored):
                summary.add(r)
                write(r)
                if find is not None and (print_json or len(results) < PRINTED):
                    r = r | {"precedents": find(row)}
                show(r)
                if len(results) < PRINTED:
                    results.append(r)
    except WorkerCrashed:
        fail("a scoring worker process died (out of memory?); nothing was written: try again with --jobs 1", 1)
    except UnreadableInput as exc:
        fail(f"{exc}; nothing was written")
    return results


@contextmanager
def _json_list(enabled: bool, id_col: str | None):
    """`show(result)` printing results as one JSON list on stdout, each as it comes (its id
    under --id-col's name): the text `json.dumps(results, indent=2)` gives, without holding
    every result."""
    from imr_ml.scoring.results_io import named_id

    if not enabled:
        yield lambda r: None
        return
    stdout = sys.stdout
    first = True

    def show(r: dict) -> None:
        nonlocal first
        text = json.dumps(named_id(r, id_col), indent=2).replace("\n", "\n  ")
        stdout.write(("[\n  " if first else ",\n  ") + text)
        first = False

    yield show
    stdout.write("[]\n" if first else "\n]\n")


@contextmanager
def _sink(out: Path | None, id_col: str | None):
    """`write(result)` into --out (by its suffix; the id under --id-col's name), or nowhere
    without one."""
    from imr_ml.scoring.results_io import result_writer

    if not out:
        yield lambda r: None
        return
    with writing(out), result_writer(out, id_col) as write:
        yield write


def threshold_text(loaded, cut: float | None) -> str:
    """The flag in force and where its cut-off comes from, for the batch summary."""
    from imr_ml.scoring.operating import threshold
    from imr_ml.scoring.wording import FLAG_NAME, pct

    source = "--threshold" if cut is not None else "the model's operating point"
    return f"\u201c{FLAG_NAME}\u201d (P {pct(threshold(loaded))} or more, {source})"


def batch_lines(summary, printed: int, out: Path | None, flag_note: str) -> list[str]:
    """What a batch prints after its first items: how many were not printed and where
    they are, then counts: flagged, by verdict, band and category."""
    lines = []
    if summary.n > printed:
        where = f"all {summary.n} are in {out}" if out else "pass --out scores.csv (or .jsonl, .parquet) for all"
        lines.append(f"... {summary.n - printed} more items not printed; {where}")
    elif out:
        lines.append(f"{summary.n} items scored -> {out}")
    return lines + summary.lines(flag_note)


def _warn(summary) -> None:
    """One stderr line per kind of out-of-range request, with its count."""
    from imr_ml.modeling.modelfiles.ranges import WARNING_TEXT

    for kind, n in summary.warnings.items():
        typer.echo(f"warning: {n} of {summary.n} items {WARNING_TEXT.get(kind, kind)} "
                   "(see each result's warnings)", err=True)


def format_result(r: dict, with_meaning: bool = True) -> str:
    """One result as the terminal shows it: P in numbers and words, the verdict, the flag,
    reasons with evidence, the checklist and what to add.

    `with_meaning` adds what the flag has meant on held-out predictions (a batch says it once)."""
    from imr_ml.scoring.result import result_id
    from imr_ml.scoring.wording import VERDICT_WORDS, flag_line, level_text, pct

    lines = [f"{result_id(r)} {r.get('item')}  [record {r['record_id']}]"]
    if r["abstained"]:
        lines.append(f"  abstained: {r['reason']}")
    else:
        lo, hi = r["interval"]
        lines += [f"  P(overturned) = {pct(r['p_overturned'])}, {r['chance']} ({level_text()} interval "
                  f"{pct(lo)}-{pct(hi)}): {VERDICT_WORDS[r['verdict']]}"
                  + (f" (actual: {r['actual']})" if "actual" in r else ""),
                  f"  {r['compared']}",
                  f"  {flag_line(r['flagged'], r['flag']['threshold'])}"
                  + (f". {r['flag']['meaning']}" if with_meaning else ""),
                  f"  from P = {pct(r['baseline']['p'])} for {r['baseline']['what']}:"]
        for x in r["reasons"]:
            ev = f'  "{x["evidence"][0]["text"][:70]}"' if x["evidence"] else ""
            lines.append(f"  {x['contribution']:+.2f} {x['label']}{ev}")
    lines += checklist_lines(r)
    lines += [f"  warning: {w['message']}" for w in r.get("warnings") or []]
    return "\n".join(lines)


def checklist_lines(r: dict) -> list[str]:
    """The service's checklist (found or not) and what to add, or that nothing missing was found."""
    from imr_ml.scoring.wording import service_name

    lines = [f"  [{'x' if c['found'] else ' '}] {c['line']}" + (f'  "{c["evidence"][:60]}"' if c["evidence"] else "")
             for c in r["checklist"]]
    if r["hints"]:
        return lines + [f"  to add: {h}" for h in r["hints"]]
    what = "the checklist is documented" if r["checklist"] else \
        f"there is no checklist for {service_name(r['category_label'])} requests yet"
    return lines + [f"  nothing missing found ({what})"]
