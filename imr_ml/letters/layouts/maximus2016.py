"""2016-17 MAXIMUS letters: `Case Number:` header block, reviewer credentials as
`Certification(s)/Specialty:`, then `IMR ISSUES, DECISIONS AND RATIONALES`."""

import re

from imr_ml.letters.layouts._common import MAXIMUS_SECTION, Letter, maximus_letter

NAME = "maximus-2016"
ORDER = 10
SPECIALTY = re.compile(r"Certification\(s\)/Specialty\s*:(.*?)(?:\n\s*\n|CLINICAL CASE SUMMARY)", re.S)


def detect(text: str) -> bool:
    return bool(MAXIMUS_SECTION.search(text)) and "Certification(s)/Specialty" in text


def parse(text: str) -> Letter:
    return maximus_letter(text, NAME, SPECIALTY)
