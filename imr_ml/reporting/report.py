"""The model report (`imr-ml report`): one self-contained HTML page a claims manager can read
without the code (what the model learnt from, how good it is with 95% intervals, what moves
outcomes, calibration, precision-recall, categories, the data), and the same content as JSON.

Three steps, one module each: the content (`report_data`), its plots (`plots`), the page
(`report_html`). A new section is a function in each that needs it (see ARCHITECTURE.md).
"""

from __future__ import annotations

from pathlib import Path

from imr_ml.reporting.plots import plots
from imr_ml.reporting.report_data import report_content
from imr_ml.reporting.report_html import report_page
from imr_ml.textio import atomic_paths, to_json


def build_report(loaded, rows: list[dict] | None = None, seed: int = 0, corpus_name: str | None = None,
                 corpus_synthetic: bool = False) -> dict:
    """Everything the report shows, plots included (PNG data URIs under `plots`);
    `corpus_synthetic`: the corpus given is synthetic letters."""
    data, evaluated = report_content(loaded, rows, seed, corpus_name, corpus_synthetic)
    data["plots"] = plots(data, evaluated)
    return data


def report_json(d: dict) -> dict:
    """The report as data: every section, the plots named rather than embedded."""
    return {k: v for k, v in d.items() if k != "plots"} | {"plots": sorted(d["plots"])}


def write_report(d: dict, html_path: Path, json_path: Path | None = None) -> None:
    """Write the page (and the JSON) all or nothing: a run that fails leaves both as they
    were, never a new JSON beside the old page."""
    texts = {html_path: report_page(d)} | ({json_path: to_json(report_json(d))} if json_path else {})
    with atomic_paths(*texts) as tmps:
        for tmp, text in zip(tmps, texts.values()):
            tmp.write_text(text, encoding="utf-8")
