"""A letter as lines on pages: what a layout renderer writes into (`Draft`), how a layout is
declared (`SynthLayout`) and how lines are cut into pages with footers (`paginate`).

Footers ("Final Determination Letter for IMR Case Number CM16-0123456 4") are spliced in at
page ends, sometimes in the middle of a sentence, as PDF text extraction gives them.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from enum import Enum

from imr_ml.synth.phrasing import Placeholders, wrap
from imr_ml.synth.randomness import LetterRandom
from imr_ml.synth.records import LatentLetter, ShownItem

FOOTER = "Final Determination Letter for IMR Case Number {cn} {page}"


class Kind(Enum):
    """What a line is, which decides where a page may break and how."""

    PROSE = "prose"  # running text: a footer may be spliced into it
    HEADING = "heading"  # an item heading
    FIXED = "fixed"  # a form line
    BLANK = "blank"


@dataclass(frozen=True)
class Pagination:
    """How a layout breaks pages."""

    page_lines: tuple[int, int]  # lines per page, drawn once per letter
    breaks_in_headings: bool = False  # a page may break inside a wrapped item heading
    bare_break_chance: float = 0.0  # a page break without a footer
    ensure_footer: bool = False  # the case number must appear in at least one footer
    final_footer_chance: float = 0.0  # a footer after the last line


@dataclass(frozen=True)
class SynthLayout:
    """A letter layout the generator writes: its era, how it pages, and its renderer.

    `write` gets a `Draft` whose header facts, shown items and case summary are drawn, adds
    the layout's lines and returns the letter's text.
    """

    name: str  # as in --layouts and the truth's `layout` column
    first_decision: date  # decision dates fall in [first_decision, + decision_days)
    decision_days: int
    case_year: int | None  # the case number's year when fixed; None: the year it was assigned
    pagination: Pagination
    write: Callable[[Draft], str]
    partial_headings: bool = False  # UR modifications may show as partial-authorisation headings
    necessity_closing: bool = False  # a rationale closes "The <item> is (not) medically necessary ..."


@dataclass
class Draft:
    """One letter being written: the drawn facts, the parts every layout prints, the lines."""

    letter: LatentLetter
    layout: SynthLayout
    rng: LetterRandom
    words: Placeholders  # the letter's placeholder values; each sentence may overwrite some
    shown: list[ShownItem]
    summary: list[str]  # sentences of the case summary
    width: int  # wrap width
    sep: str  # between sentences
    specialty: str
    licensure: str
    lines: list[tuple[Kind, str]] = field(default_factory=list)

    def add(self, kind: Kind, *lines: str) -> None:
        """Lines as they are."""
        self.lines += [(kind, ln) for ln in lines]

    def wrapped(self, text: str, kind: Kind = Kind.PROSE) -> None:
        """`text` wrapped at the letter's width."""
        self.lines += [(kind, ln) for ln in wrap(text, self.width)]

    def pages(self) -> list[str]:
        """The lines cut into pages, footers spliced in."""
        return paginate(self.lines, self.rng, self.letter.case_number, self.layout.pagination)


def paginate(lines: list[tuple[Kind, str]], rng: LetterRandom, case_number: str, how: Pagination) -> list[str]:
    """The lines with a page break, mostly a footer, every `how.page_lines` lines; a break
    falls on prose or a blank line (or inside a heading where `how` allows)."""
    page_len = rng.randint(*how.page_lines)
    page = rng.choice((1, 1, 2))
    out: list[str] = []
    count = n_footers = 0
    prev_kind = None
    prose, heading, blank = Kind.PROSE, Kind.HEADING, Kind.BLANK  # locals: this loop runs for every line
    for kind, line in lines:
        count += 1
        if count >= page_len and (kind is prose or kind is blank
                                  or (kind is heading and prev_kind is heading and how.breaks_in_headings)):
            foot = FOOTER.format(cn=case_number, page=page)
            r = rng.random()
            if kind is heading or r < how.bare_break_chance:
                out.append("")  # a page break inside a wrapped heading, or without a footer
            elif kind is prose and r < 0.75 and " " in line[30:-1]:
                line = _splice(line, foot)
                n_footers += 1
            else:
                out.append(foot + " ")
                n_footers += 1
            page += 1
            count = 0
        out.append(line)
        prev_kind = kind
    final = FOOTER.format(cn=case_number, page=page)
    if how.ensure_footer and n_footers == 0:
        _splice_last(out, final)
    elif how.final_footer_chance and rng.random() < how.final_footer_chance:
        out.append(final + " ")
    return out


def _splice(line: str, footer: str) -> str:
    """`footer` inside `line`, at the first space after column 30."""
    k = line.index(" ", 30)
    return f"{line[:k]} {footer} {line[k + 1:]}"


def _splice_last(out: list[str], footer: str) -> None:
    """Make the case number recoverable: `footer` into the last long prose line (not a
    guideline line or a heading), or after the last line."""
    for j in range(len(out) - 1, -1, -1):
        ln = out[j]
        if (len(ln) > 40 and " " in ln[30:-1] and not ln.startswith(("Claims", "MAXIMUS"))
                and not ln.rstrip().endswith(("Upheld", "Overturned", ":"))):
            out[j] = _splice(ln, footer)
            return
    out.append(footer + " ")
