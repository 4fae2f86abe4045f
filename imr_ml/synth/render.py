"""A synthetic letter's text from its latent facts, in the layout drawn for it.

What every layout shares is drawn here, in one order (wrap width, the items as shown, the
case summary, the sentence separator, the reviewer's specialty and licensure); the layout's
renderer (`imr_ml/synth/layouts/`) then writes the letter. Lines are wrapped at ~95
characters with a trailing space, as PDF text extraction gives them.
"""

from __future__ import annotations

from imr_ml.synth.layouts import LAYOUTS
from imr_ml.synth.pages import Draft
from imr_ml.synth.phrasing import Placeholders, phrases
from imr_ml.synth.randomness import LetterRandom
from imr_ml.synth.records import LatentLetter, ShownItem
from imr_ml.synth.sections import shown_items
from imr_ml.synth.summary import build_summary


def render_letter(letter: LatentLetter, rng: LetterRandom) -> tuple[str, list[ShownItem]]:
    """The letter's text and its items as shown, drawing from `rng` where the draw of the
    latent facts left off."""
    layout = LAYOUTS[letter.layout]
    ph = phrases()
    width = rng.randint(91, 97)
    shown = shown_items(letter, rng, layout.partial_headings)
    words = Placeholders(letter.words)  # the sentences of this letter add to the patient's words
    summary = build_summary(letter, words, rng, shown)
    sep = "  " if rng.random() < 0.3 else " "
    specialty = rng.choice(ph["specialties"])
    licensure = rng.choice(ph["licensure"])
    draft = Draft(letter=letter, layout=layout, rng=rng, words=words, shown=shown, summary=summary, width=width,
                  sep=sep, specialty=specialty, licensure=licensure)
    return layout.write(draft), shown
