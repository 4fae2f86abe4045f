"""The `explain --html` page: for each request, the result as the web app shows it (the
shared macro of `templates/result.html`, `imr_ml.reporting.result_view`): P and its words, the
waterfall from the baseline to that P, the evidence highlighted, the checklist of missing
documentation and the record. Several requests: sorted by P with an index. One self-contained
file, every piece of user text escaped by Jinja's autoescaping; its one style block (the page's
own and the shared stylesheet, our files, never user text) is allowed by its hash in the page's
Content-Security-Policy, which allows no script.
"""

from __future__ import annotations

from markupsafe import Markup

from imr_ml.reporting.report_html import page_csp
from imr_ml.reporting.result_view import STYLESHEET, environment, scored_at

PAGE_CSS = STYLESHEET.with_name("explain.css")


def ordered(results: list[dict]) -> list[dict]:
    """Highest P first; requests that could not be scored last.

    Parameters
    ----------
    results : list of dict
        Explained results.

    Returns
    -------
    list of dict
        The same, sorted.
    """
    return sorted(results, key=lambda r: (r.get("abstained", False), -(r.get("p_overturned") or 0)))


def explanation_html(results: list[dict], given: int | None = None, when: str | None = None) -> str:
    """The whole page for one or several explained (or abstained) requests.

    Parameters
    ----------
    results : list of dict
        `imr_ml.reporting.explain.explain_rows` results.
    given : int or None
        How many requests were asked for, when more than the results: the page says which
        it shows.
    when : str or None
        When they were scored, as the record states it (default: now).

    Returns
    -------
    str
        HTML.
    """
    css = PAGE_CSS.read_text(encoding="utf-8") + STYLESHEET.read_text(encoding="utf-8")
    page = environment().get_template("explain.html")
    return page.render(results=[(f"item-{i + 1}", r) for i, r in enumerate(ordered(results))],
                       given=given if given and given > len(results) else None,
                       when=when or scored_at(), css=Markup(css), csp=Markup(page_csp(css)))
