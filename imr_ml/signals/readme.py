"""The tables of `features/README.md` that describe the signals, generated from the files
that define them, so the documentation cannot drift from the knowledge.

Three blocks sit between markers in the README: the text signals (`signals.toml`: each
signal's `description`, the cue sets that drop it and those it needs), the structured
fields (`imr_ml.signals.fields.readme_table`) and the service criteria (`criteria.toml`).
`python -m imr_ml.signals.readme` rewrites them; `--check` only says whether they are current
(a test does the same).
"""

from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path

from imr_ml.signals.criteria import load_criteria
from imr_ml.signals.extract import SAME_MODALITY_SIGNALS
from imr_ml.signals.fields import readme_table
from imr_ml.signals.rules import SignalRules, load_rules
from imr_ml.textio import atomic_write_text

README = Path(__file__).resolve().parents[2] / "features" / "README.md"
COMMAND = "python -m imr_ml.signals.readme"


def signals_table(rules: str | SignalRules | None = None) -> str:
    """The Markdown table of the text signals, one row per `[[signal]]` of the rules.

    Parameters
    ----------
    rules : str, SignalRules or None
        The signals TOML (None: the shipped one).

    Returns
    -------
    str
        The table, ending in a newline.
    """
    lines = ["| signal | true when the summary says … | dropped by cue sets | needs a cue of |", "|---|---|---|---|"]
    for t in load_rules(rules).text_rules:
        dropped = ", ".join(f"`{c.name}`" for c in t.exclude) or "—"
        needs = ", ".join(f"`{c.name}`" for c in t.require) or "—"
        lines.append(f"| `{t.name}` | {_cell(t.description)} | {dropped} | {needs} |")
    for name in SAME_MODALITY_SIGNALS:
        base = name.removesuffix("_same_modality")
        lines.append(f"| `{name}` | `{base}`, about the requested treatment itself (its `[modality]` words or "
                     "drug name): the treatment named nearest the finding in its sentence, with those listed "
                     f"alongside (`imr_ml/signals/attribution.py`) | as `{base}` | as `{base}` |")
    return "\n".join(lines) + "\n"


def criteria_table(criteria: str | None = None) -> str:
    """The Markdown table of the service criteria, one row per `[[criterion]]`.

    Parameters
    ----------
    criteria : str or None
        The criteria TOML (None: the shipped one).

    Returns
    -------
    str
        The table, ending in a newline.
    """
    lines = ["| service | the request is the service's when … | its guideline asks to document | findings read |",
             "|---|---|---|---|"]
    for c in load_criteria(criteria).entries:
        scope = [f"item `{_cell(c.item.anycase.pattern)}`" if c.item is not None else "",
                 f"category {', '.join(sorted(c.categories))}" if c.categories else "",
                 f"drug class {', '.join(sorted(c.drug_classes))}" if c.drug_classes else ""]
        lines.append(f"| `{c.service}`: {_cell(c.label)} | {'; '.join(s for s in scope if s)} | {_cell(c.document)} "
                     f"| {'; '.join(_read(c))} |")
    return "\n".join(lines) + "\n"


def _read(c) -> list[str]:
    """What a criterion reads: its findings, then its other kinds (`criteria_kinds`)."""
    out = [f"{len(c.indication)} for, {len(c.against)} against"] if c.indication else []
    if c.first_line:
        out.append(f"first-line care ({len(c.first_line)} patterns)")
    if c.max_quantity is not None:
        more = f" ({c.max_quantity_with_response} with improvement)" if c.max_quantity_with_response else ""
        out.append(f"up to {c.max_quantity}{more}")
    if c.window is not None:
        since, low, high = c.window
        bounds = [f"from day {low}" if low is not None else "", f"to day {high}" if high is not None else ""]
        out.append(f"{' '.join(b for b in bounds if b)} after the {since}")
    return out


def _cell(text: str) -> str:
    return " ".join(text.split()).replace("|", "\\|")


def blocks() -> dict[str, str]:
    """{block name: generated Markdown} of every generated block of the README.

    Returns
    -------
    dict
        The text signals', the structured fields' and the service criteria's tables.
    """
    return {"signals": signals_table(), "fields": readme_table(), "criteria": criteria_table()}


def _marked(name: str) -> re.Pattern:
    return re.compile(rf"(<!-- generated: {name} \([^)]*\) -->\n)(.*?)(<!-- end generated: {name} -->)", re.S)


def regenerated(text: str) -> str:
    """The README's text `text` with every generated block replaced by what the files say now."""
    for name, table in blocks().items():
        m = _marked(name).search(text)
        if m is None:
            raise ValueError(f"the README has no block marked '<!-- generated: {name} ({COMMAND}) -->'")
        text = text[: m.start(2)] + table + text[m.end(2):]
    return text


def main(argv: list[str] | None = None) -> int:
    """Rewrite the generated tables of `features/README.md` (`--check`: exit 1 if stale).

    Parameters
    ----------
    argv : list of str or None
        Command-line arguments.

    Returns
    -------
    int
        The exit status.
    """
    parser = argparse.ArgumentParser(prog=COMMAND, description=main.__doc__)
    parser.add_argument("--check", action="store_true", help="only say whether the tables are current")
    parser.add_argument("--readme", type=Path, default=README)
    args = parser.parse_args(argv)
    text = args.readme.read_text(encoding="utf-8")
    new = regenerated(text)
    if args.check:
        print(f"{args.readme}: {'current' if new == text else f'stale: run {COMMAND}'}")
        return 0 if new == text else 1
    if new != text:
        atomic_write_text(new, args.readme)
    print(f"{args.readme}: {'rewritten' if new != text else 'already current'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
