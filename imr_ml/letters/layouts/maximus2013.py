"""2013 MAXIMUS letters: the reviewer's credentials are a sentence in the how-made
paragraph ("The expert reviewer is Board Certified in ..."), the case number often only in
page footers, blank lines between all lines; items as in 2016."""

import re

from imr_ml.letters.layouts._common import MAXIMUS_SECTION, Letter, maximus_letter

NAME = "maximus-2013"
ORDER = 20
SPECIALTY = re.compile(
    r"reviewer is\s+(?:Board\s+Certified\s+(?:in\s+)?)?(.*?),?\s+and\s+is\s+licensed", re.S | re.I
)


def detect(text: str) -> bool:
    return bool(MAXIMUS_SECTION.search(text)) and "CLINICAL CASE SUMMARY" in text


def parse(text: str) -> Letter:
    return maximus_letter(text, NAME, SPECIALTY)
