"""`imr-ml signals`: every clinical signal of each disputed item or typed request (read as
`imr-ml score` reads them), with the text behind it.

Library imports sit inside the functions: `imr-ml --help` must not load pandas or
scikit-learn."""

from __future__ import annotations

import json
from collections.abc import Iterable
from pathlib import Path

import typer

from imr_ml.cli._app import command, fail
from imr_ml.cli.request_options import Requests, takes_requests


def signals_for_rows(rows: Iterable[dict], rules: str | None = None) -> list[dict]:
    """One record per row: identity, item, and {signal: {value, evidence[field,start,end,text]}}.

    Only the row's PRE_DECISION fields are read (`imr_ml.signals.extract_signals`).
    """
    from imr_ml.schema import PRE_DECISION
    from imr_ml.signals import extract_signals, signals_as_dict
    from imr_ml.signals.check import check_signals

    check_signals(rules)
    out = []
    for row in rows:
        texts = {k: ("" if row.get(k) is None else str(row.get(k))) for k in PRE_DECISION}
        sig = extract_signals(row, rules)
        rec = {"letter_id": row.get("letter_id"), "item_index": row.get("item_index"), "source": row.get("source"),
               "item": row.get("item"), "signals": signals_as_dict(sig, texts)}
        out.append(rec | {"id": row["id"]} if "id" in row else rec)
    return out


def _show(value) -> str:
    if isinstance(value, bool):
        return "yes" if value else "-"
    if value is None:
        return "?"
    if isinstance(value, (list, tuple)):
        return ",".join(map(str, value)) or "-"
    return str(value)


def format_table(records: list[dict], all_signals: bool = False) -> str:
    """Human-readable: per item, each signal's value and the quoted evidence."""
    lines = []
    for rec in records:
        name = rec.get("id") if rec.get("id") not in (None, "") else rec.get("letter_id") or rec.get("source") or "?"
        head = f"{name} #{rec.get('item_index')}: {rec.get('item') or ''}"
        lines.append(head)
        lines.append("-" * min(len(head), 100))
        width = max(len(n) for n in rec["signals"]) if rec["signals"] else 10
        for name, s in rec["signals"].items():
            v = s["value"]
            if not all_signals and (v is False or v is None or v == []):
                continue
            ev = "; ".join(f'{e["field"]}[{e["start"]}:{e["end"]}] "{_clip(e.get("text", ""))}"'
                           for e in s["evidence"][:3])
            more = f" (+{len(s['evidence']) - 3} more)" if len(s["evidence"]) > 3 else ""
            lines.append(f"  {name:<{width}}  {_show(v):<12} {ev}{more}".rstrip())
        lines.append("")
    return "\n".join(lines)


def _clip(text: str, n: int = 70) -> str:
    text = " ".join(text.split())
    return text if len(text) <= n else text[: n - 1] + "…"


EXAMPLES = """Examples:

  imr-ml signals letter.pdf

  imr-ml signals corpus.jsonl --json

  imr-ml signals --item "Acupuncture 2x6 lumbar" --summary-file notes.txt

  imr-ml signals office.csv --columns summary=Notes,item=Treatment --id-col ClaimNo
"""


@command(EXAMPLES)
@takes_requests
def signals(
    requests: Requests = Requests(),
    as_json: bool = typer.Option(False, "--json", help="Print JSON (one record per item) instead of a table."),
    rules: Path | None = typer.Option(None, "--rules", metavar="FILE",
                                      help="Your own signals TOML instead of features/signals.toml."),
    all_signals: bool = typer.Option(False, "--all", help="Table: also list signals that did not fire."),
):
    """Show every clinical signal of each disputed item or typed request, with the text that made it fire."""
    from imr_ml.scoring.results_io import named_id

    if rules is not None and not rules.is_file():
        fail(f"no such rules file: {rules}")
    rows = requests.rows()
    records = signals_for_rows(rows, str(rules) if rules else None)  # a bad rules file: one line, file:line
    if as_json:
        typer.echo(json.dumps([named_id(r, requests.id_col) for r in records], indent=2, default=str))
    else:
        typer.echo(format_table(records, all_signals))
