"""Stage 6, for people: the HTML report, the explain page, reviewers' reasons, clinical-sense suites."""
