"""The "similar past decisions" of a result as HTML, for both pages that show a result: the
web app's result page (`imr_ml.web`) and `imr-ml explain --html`. Both render the macro of
`templates/precedents.html` (every text escaped; highlighted words are pieces marked by the
template, never markup from the letters) with `static/precedents.css`."""

from __future__ import annotations

from functools import cache
from pathlib import Path

from jinja2 import Environment, FileSystemLoader, select_autoescape

HERE = Path(__file__).parent
TEMPLATES = HERE / "templates"
STYLESHEET = HERE / "static" / "precedents.css"


@cache
def _environment() -> Environment:
    return Environment(loader=FileSystemLoader(TEMPLATES), autoescape=select_autoescape(default=True))


def precedents_html(section: dict, p: float | None = None, links: bool = False) -> str:
    """A result's precedents section as HTML.

    Parameters
    ----------
    section : dict
        The result's ``precedents`` (`imr_ml.scoring.precedents`).
    p : float or None
        The model's P, shown beside the share overturned.
    links : bool
        Link each precedent to its letter's page (the web app's ``/letters/N``).

    Returns
    -------
    str
        The escaped HTML section.
    """
    macro = _environment().get_template("precedents.html").module.precedents_section  # type: ignore[attr-defined]
    return str(macro(section, p, links))
