"""Writing scored results where claims work needs them (CSV for a spreadsheet, JSON lines,
Parquet), and the summary a batch prints instead of every item."""

from __future__ import annotations

import csv
import io
import json
import typing
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO

import pandas as pd

from imr_ml.scoring.result import ExplainResult, result_id
from imr_ml.scoring.wording import VERDICT_WORDS
from imr_ml.textio import atomic_path

BANDS = ((0.05, "<5%"), (0.10, "5-10%"), (0.20, "10-20%"), (float("inf"), ">=20%"))


def _same(name: str) -> tuple[tuple[str, ...], Callable[[dict], tuple]]:
    return (name,), lambda r: (r.get(name),)


def _reasons(r: dict) -> tuple:
    labels = [x["label"] for x in r.get("reasons") or []][:3]
    return tuple(labels[i] if i < len(labels) else "" for i in range(3))


def _measured(r: dict, what: str):
    return ((r.get("flag") or {}).get("measured") or {}).get(what)


# How each field of a result (`imr_ml.scoring.result.ScoreResult`) becomes spreadsheet columns,
# in the spreadsheet's order: (columns, their values). A field left out of a spreadsheet says
# why instead; tests/test_result_schema.py fails when a field of the result is in neither.
FLAT: dict[str, tuple[tuple[str, ...], Callable[[dict], tuple]]] = {
    "id": (("id",), lambda r: (result_id(r),)), "item": _same("item"), "category": _same("category"),
    "p_overturned": _same("p_overturned"), "chance": _same("chance"),
    "interval": (("interval_low", "interval_high"), lambda r: tuple(r.get("interval") or (None, None))),
    "interval_level": _same("interval_level"), "verdict": _same("verdict"), "flagged": _same("flagged"),
    "flag": (("flag_threshold", "flag_precision", "flag_recall"),
             lambda r: ((r.get("flag") or {}).get("threshold"), _measured(r, "precision"), _measured(r, "recall"))),
    "category_rate": _same("category_rate"), "relative_risk": _same("relative_risk"), "compared": _same("compared"),
    "reasons": (("reason_1", "reason_2", "reason_3"), _reasons),
    "hints": (("hints",), lambda r: ("; ".join(r.get("hints") or []),)),
    "checklist": (("checklist_found", "checklist_missing"),
                  lambda r: tuple("; ".join(c["line"] for c in r.get("checklist") or [] if c["found"] is found)
                                  for found in (True, False))),
    "warnings": (("warnings",), lambda r: ("; ".join(w["message"] for w in r.get("warnings") or []),)),
    "abstained": _same("abstained"),
    "reason": (("abstained_reason",), lambda r: (r.get("reason") or "",)),
    "actual": _same("actual"),
    "category_label": _same("category_label"), "letter_id": _same("letter_id"), "item_index": _same("item_index"),
    "logit": _same("logit"), "baseline": (("baseline_p",), lambda r: ((r.get("baseline") or {}).get("p"),)),
    "record_id": _same("record_id"), "model": _same("model"),
}
NOT_FLAT = {"contributions": "every feature's contribution with its evidence: JSON lines only (reason_1-3 are the "
                             "largest)"}
FLAT_COLUMNS = tuple(c for columns, _ in FLAT.values() for c in columns)
# Names a result already uses: an id column of the same name would shadow one (letter_id may
# be the id: a result's letter_id is the input's).
RESULT_NAMES = (frozenset(FLAT_COLUMNS) | frozenset(typing.get_type_hints(ExplainResult))) - {"id", "letter_id"}


# What a spreadsheet may read as the start of a formula (OWASP, "CSV Injection"): = + - @,
# and tab, carriage return and line feed, which Excel and LibreOffice skip before one; plus
# the full-width forms of the four, which some spreadsheets (Japanese and Chinese input)
# fold to ASCII before deciding.
FORMULA_STARTS = frozenset("=+-@\t\r\n\uff1d\uff0b\uff0d\uff20")


def spreadsheet_safe(v):
    """A cell value a spreadsheet will not run: text starting with one of `FORMULA_STARTS`
    gets a leading quote, which makes it text.

    Parameters
    ----------
    v : object
        A cell's value.

    Returns
    -------
    object
        `v`, quoted when it is formula-like text.
    """
    if isinstance(v, str) and v[:1] in FORMULA_STARTS:
        return "'" + v
    return v


def check_id_name(name: str | None, option: str = "--id-col") -> None:
    """Refuse an id column named like a field of the results, which it would shadow.

    Parameters
    ----------
    name : str or None
        The input's id column.
    option : str
        How the user gave it, for the message.

    Raises
    ------
    ValueError
        One line naming the clash.
    """
    if name in RESULT_NAMES:
        raise ValueError(f"{option} {name!r} is also the name of a result field; rename that column in the input")


def named_id(r: dict, id_name: str | None) -> dict:
    """A result with its id under the input's own column name (first), as JSON outputs
    give it back.

    Parameters
    ----------
    r : dict
        A scored result.
    id_name : str or None
        The input's id column (None: the result as it is).

    Returns
    -------
    dict
        ``{id_name: id, ...the rest}``.
    """
    if not id_name or "id" not in r:
        return r
    return {id_name: r["id"], **{k: v for k, v in r.items() if k != "id"}}


def flat_columns(id_name: str | None = None) -> list[str]:
    """The flat columns of results, the first named after the input's id column.

    Parameters
    ----------
    id_name : str or None
        The input's id column (None: ``id``).

    Returns
    -------
    list of str
        ``FLAT_COLUMNS`` with its first renamed.
    """
    return [id_name or "id", *FLAT_COLUMNS[1:]]


def flat_result(r: dict, id_name: str | None = None) -> dict:
    """One spreadsheet row of a result: the one set of flat columns every CSV or Parquet
    of results has (`imr-ml score --out`, the web page's download), from ``FLAT``.

    Parameters
    ----------
    r : dict
        A scored result.
    id_name : str or None
        The input's id column, the first column's name (None: ``id``).

    Returns
    -------
    dict
        {column: value} for each of ``flat_columns(id_name)``.
    """
    values = [v for columns, row_values in FLAT.values() for v in row_values(r)]
    return dict(zip(flat_columns(id_name), values, strict=True))


def results_csv(results: list[dict], id_name: str | None = None) -> str:
    """Results as CSV text, as `imr-ml score --out x.csv` writes them.

    Parameters
    ----------
    results : list of dict
        Scored results.
    id_name : str or None
        The input's id column, the first column's name (None: ``id``).

    Returns
    -------
    str
        A header of ``flat_columns(id_name)`` and one row per result.
    """
    out = io.StringIO()
    write = _csv_rows(out, id_name)
    for r in results:
        write(r)
    return out.getvalue()


def _csv_rows(fh: IO[str], id_name: str | None) -> Callable[[dict], object]:
    """Write the header to `fh`; returns `write(result)` for one flat, spreadsheet-safe row."""
    columns = flat_columns(id_name)
    writer = csv.DictWriter(fh, fieldnames=columns)
    writer.writerow({c: spreadsheet_safe(c) for c in columns})  # the id column is named by the input
    return lambda r: writer.writerow({k: spreadsheet_safe(v) for k, v in flat_result(r, id_name).items()})


@contextmanager
def result_writer(path, id_name: str | None = None) -> Iterator[Callable[[dict], object]]:
    """Write results to `path` as they come, atomically: a failed batch leaves no
    half-written output.

    Parameters
    ----------
    path : str or Path
        The output; .csv or .parquet get ``flat_columns(id_name)``, any other suffix JSON
        lines with every field.
    id_name : str or None
        The input's id column: the id keeps its name in every output (None: ``id``).

    Yields
    ------
    callable
        ``write(result)``.
    """
    suffix = Path(path).suffix.lower()
    with atomic_path(path) as tmp:
        if suffix == ".parquet":
            rows: list[dict] = []
            yield lambda r: rows.append(flat_result(r, id_name))
            pd.DataFrame(rows, columns=flat_columns(id_name)).to_parquet(tmp, index=False)
            return
        with open(tmp, "w", encoding="utf-8", newline="") as fh:
            yield _csv_rows(fh, id_name) if suffix == ".csv" else (
                lambda r: fh.write(json.dumps(named_id(r, id_name)) + "\n"))


def band(p: float) -> str:
    """The band of P a batch summary counts an item in.

    Parameters
    ----------
    p : float
        P(overturned).

    Returns
    -------
    str
        One of the names in ``BANDS``.
    """
    return next(name for upper, name in BANDS if p < upper)


class BatchSummary:
    """Counts a batch's results as they stream by: bands of P, categories, abstentions,
    out-of-range warnings by kind."""

    def __init__(self) -> None:
        self.n = 0
        self.bands: Counter = Counter()
        self.verdicts: Counter = Counter()
        self.flagged = 0
        self.categories: Counter = Counter()
        self.warnings: Counter = Counter()
        self.warned_items = 0
        self.abstained = 0

    def add(self, r: dict) -> None:
        """Count one result.

        Parameters
        ----------
        r : dict
            A scored result.
        """
        self.n += 1
        self.categories[r.get("category")] += 1
        kinds = {w["kind"] for w in r.get("warnings") or []}
        self.warnings.update(kinds)
        self.warned_items += bool(kinds)
        if r.get("abstained"):
            self.abstained += 1
            return
        self.bands[band(r["p_overturned"])] += 1
        self.verdicts[r["verdict"]] += 1
        self.flagged += bool(r["flagged"])

    def as_dict(self) -> dict:
        """The counts as data.

        Returns
        -------
        dict
            Items, abstentions, bands, verdicts, items flagged, categories and warnings.
        """
        return {"n_items": self.n, "abstained": self.abstained,
                "bands": {name: self.bands[name] for _, name in BANDS},
                "verdicts": {v: self.verdicts[v] for v in VERDICT_WORDS}, "flagged": self.flagged,
                "categories": dict(self.categories.most_common()), "warnings": dict(self.warnings),
                "items_with_warnings": self.warned_items}

    def lines(self, flag_text: str) -> list[str]:
        """What a batch prints after its items.

        Parameters
        ----------
        flag_text : str
            The flag's name, cut-off and where the cut-off comes from.

        Returns
        -------
        list of str
            The totals, verdicts, the bands of P and the categories, one line each.
        """
        d = self.as_dict()
        return [f"{self.n} items: {self.n - self.abstained} scored, {self.abstained} abstained; "
                f"{self.flagged} flagged {flag_text}",
                "  verdicts: " + ", ".join(f"{k} {v}" for k, v in d["verdicts"].items()),
                "  P(overturned): " + ", ".join(f"{k} {v}" for k, v in d["bands"].items()),
                "  categories: " + ", ".join(f"{k} {v}" for k, v in d["categories"].items())]
