"""The fixed split of the real letters into two halves, for honest pattern work.

The 111 real letters are all the project has; more are held back to judge it. To measure how
a pattern or rule carries to letters its author did not read, the letters are split once, by
letter, with a hash nobody chooses: half **A** = letters whose SHA-256 of the case number
(hex) starts with 0-7, half **B** = 8-f. Write or change patterns looking at half A only;
half B's figure is the honest one.

    from experiments.halves import half, letter_key
    half("CM16-0000001")        # "A" or "B", from the case number
    half_of_key(letter_key(cn)) # the same, from the key annotations name letters by

The letter key (the first 16 hex digits of the case number's SHA-256) starts with the same
digit, so annotations named by key can be split without the case number.
"""

from __future__ import annotations

import hashlib

HALVES = ("A", "B")


def letter_key(case_number: str) -> str:
    """How experiments name a letter: the first 16 hex digits of its case number's SHA-256.

    Parameters
    ----------
    case_number : str
        The letter's case number ("CM16-0213037").

    Returns
    -------
    str
        16 lower-case hex digits.
    """
    return hashlib.sha256(case_number.strip().encode()).hexdigest()[:16]


def half_of_key(key: str) -> str:
    """The half of a letter named by its key (or by any hex digest of its case number).

    Parameters
    ----------
    key : str
        `letter_key(case_number)` or the full SHA-256 hex digest.

    Returns
    -------
    str
        "A" when the first hex digit is 0-7, "B" when it is 8-f.
    """
    return "A" if int(key[0], 16) < 8 else "B"


def half(case_number: str) -> str:
    """The half of a letter: "A" (SHA-256 of the case number starts 0-7) or "B" (8-f).

    Parameters
    ----------
    case_number : str
        The letter's case number.

    Returns
    -------
    str
        "A" or "B".
    """
    return half_of_key(letter_key(case_number))
