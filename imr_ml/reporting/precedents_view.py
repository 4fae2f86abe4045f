"""Where the "similar past decisions" section of a result lives, for both pages that show a
result (the web app's result page and `imr-ml explain --html`): the macro of
`templates/precedents.html`, which `templates/result.html` calls (every text escaped;
highlighted words are pieces marked by the template, never markup from the letters), and its
stylesheet, which the web app serves beside the result's and the explain page inlines."""

from __future__ import annotations

from pathlib import Path

STYLESHEET = Path(__file__).parent / "static" / "precedents.css"
