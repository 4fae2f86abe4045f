"""2016-17 MAXIMUS letters: `Case Number:` header block, reviewer credentials as
`Certification(s)/Specialty:`, then `IMR ISSUES, DECISIONS AND RATIONALES`."""

import re

from imr_ml.letters.layouts._maximus import MaximusLayout

LAYOUT = MaximusLayout(
    "maximus-2016",
    marker="Certification(s)/Specialty",
    specialty=re.compile(r"Certification\(s\)/Specialty\s*:(.*?)(?:\n\s*\n|CLINICAL CASE SUMMARY)", re.S),
)
