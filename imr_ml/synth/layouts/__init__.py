"""The letter layouts the generator writes, one renderer module each, registered here.

A new layout is a module defining `LAYOUT = SynthLayout(...)` (its era, how it pages and a
`write(draft) -> str`) and one entry in `LAYOUTS`; `--layouts` and the layout mix accept it
from then on.
"""

from __future__ import annotations

from imr_ml.synth.layouts import maximus2013, maximus2014, maximus2016
from imr_ml.synth.pages import SynthLayout

LAYOUTS: dict[str, SynthLayout] = {
    layout.name: layout for layout in (maximus2016.LAYOUT, maximus2013.LAYOUT, maximus2014.LAYOUT)
}
