"""2013 MAXIMUS letters: the reviewer's credentials are a sentence in the how-made
paragraph ("The expert reviewer is Board Certified in ..."), the case number often only in
page footers, blank lines between all lines; items as in 2016. Tried after 2016, whose
letters also hold a case summary."""

from imr_ml.letters.layouts._common import SPECIALTY_SENTENCE
from imr_ml.letters.layouts._maximus import MaximusLayout

LAYOUT = MaximusLayout(
    "maximus-2013",
    marker="CLINICAL CASE SUMMARY",
    specialty=SPECIALTY_SENTENCE,
)
