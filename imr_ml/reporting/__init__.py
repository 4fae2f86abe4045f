"""Stage 6, for people: what the model and its scores mean, in pages and words.

- `report` the model report (`imr-ml report`): `report_data` builds its content,
  `plots` draws it, `report_html` lays out the page;
- `explain` explained results, `explain_page` the `explain --html` page;
- `reasons` the reasons reviewers give; `sense` clinical-sense suites of paired requests.
"""
