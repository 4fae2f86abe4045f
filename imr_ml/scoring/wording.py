"""Words from numbers, one function each, used by every output (terminal, pages, files, API).

"Likely" means P >= 0.5: a request is "likely overturned" only from there, "likely upheld"
only below 0.4, and "uncertain" between. The operating threshold is not a verdict: it is a
flag, named `FLAG_NAME`, stated with what it has meant on the model's held-out predictions.
A chance is said as people read it ("about 1 in 3") beside the percentage.
"""

from __future__ import annotations

from fractions import Fraction
from functools import lru_cache

from imr_ml.knowledge.taxonomy import load_taxonomy
from imr_ml.scoring.result import INTERVAL_LEVEL, Verdict

LIKELY = 0.5  # P from which an overturn is "likely"
UNCERTAIN_FROM = 0.4  # P from which an uphold is no longer "likely"
FLAG_NAME = "better chance than most"
VERDICT_WORDS = {"likely overturned": "likely overturned (the treatment approved)",
                 "uncertain": "uncertain (close to even)",
                 "likely upheld": "likely upheld (the denial stands)"}
_FRACTIONS = (2, 3, 4, 5, 6, 10)  # denominators a reader takes in at a glance


def pct(p: float | None) -> str:
    """A probability as a percentage, to a tenth of a percent without trailing zeros: the one
    percent formatter of every output, so a P and the cut-off it is compared with never round
    to the same text when they differ by a tenth of a percent or more.

    Parameters
    ----------
    p : float or None
        A probability.

    Returns
    -------
    str
        ``"33.5%"``, ``"20%"``, ``"5.7%"``, ``"<0.1%"``; empty for None.
    """
    if p is None:
        return ""
    if 0 < p < 0.0005:
        return "<0.1%"
    return f"{100 * p:.1f}".removesuffix(".0") + "%"


def level_text() -> str:
    """The interval level as every output writes it.

    Returns
    -------
    str
        ``"90%"``: `imr_ml.scoring.result.INTERVAL_LEVEL` as a percentage.
    """
    return pct(INTERVAL_LEVEL)


def in_words(p: float) -> str:
    """The probability or proportion `p` as "about k in n", the way people read a chance right:
    ``"about 1 in 3"``, ``"about 1 in 18"``, ``"fewer than 1 in 200"``, ``"none"``.
    """
    if p <= 0 or p >= 1:
        return "none" if p <= 0 else "all"
    if p < 0.005:
        return "fewer than 1 in 200"
    if p > 0.995:
        return "more than 199 in 200"
    if p < 0.1 or p > 0.9:
        if p > 0.5:  # "about 19 in 20": of a round number
            n = min((10, 20, 50, 100, 200), key=lambda d: abs(1 / d - (1 - p)))
            return f"about {n - 1} in {n}"
        n = round(1 / p)
        return f"about 1 in {n if n <= 20 else 5 * round(n / 5) if n <= 50 else 10 * round(n / 10)}"
    for n in _FRACTIONS:
        k = round(p * n)
        if 0 < k < n and abs(k / n - p) <= 0.03:
            f = Fraction(k, n)
            return f"about {f.numerator} in {f.denominator}"
    return f"about {int(p * 10 + 0.5)} in 10"


def verdict(p: float) -> Verdict:
    """The verdict P supports: likely overturned from 0.5, likely upheld below 0.4.

    Parameters
    ----------
    p : float
        Calibrated P(overturned).

    Returns
    -------
    str
        ``"likely overturned"``, ``"uncertain"`` or ``"likely upheld"``.
    """
    if p >= LIKELY:
        return "likely overturned"
    return "uncertain" if p >= UNCERTAIN_FROM else "likely upheld"


@lru_cache(maxsize=256)
def category_label(category: str, taxonomy: str | None = None) -> str:
    """The label of the treatment category named `category` in the taxonomy TOML `taxonomy` (the
    model's; None: the shipped one): "MRI", "Perioperative service (pre-op, ...)", or the name in
    words.
    """
    return next((c.label for c in load_taxonomy(taxonomy) if c.name == category), category.replace("_", " "))


def service_name(label: str) -> str:
    """The taxonomy's category label `label` as a service name in a sentence ("MRI", "perioperative
    service"): its part before any parenthesis, lower case unless it is an acronym.
    """
    head = label.split(" (")[0].strip()
    first = head.split(" ")[0]
    return head if first.isupper() else head[:1].lower() + head[1:]


def compared(p: float, rate: float, label: str) -> str:
    """P against the usual overturn rate of its service, as a reader takes it in.

    Parameters
    ----------
    p : float
        Calibrated P(overturned).
    rate : float
        The category's usual overturn rate.
    label : str
        The category's label.

    Returns
    -------
    str
        ``"1.7× the usual 20% for perioperative service requests"``, ``"about the usual ..."``
        or ``"about a fifth of the usual ..."``.
    """
    usual = f"the usual {pct(rate)} for {service_name(label)} requests"
    rr = p / rate
    if rr >= 1.15:
        return f"{rr:.1f}× {usual}"
    if rr > 0.87:
        return f"about {usual}"
    part = {2: "half", 3: "a third", 4: "a quarter", 5: "a fifth", 10: "a tenth"}
    n = min(part, key=lambda d: abs(1 / d - rr))
    if abs(1 / n - rr) <= 0.2 / n:
        return f"about {part[n]} of {usual}"
    return f"under a tenth of {usual}" if rr < 0.1 else f"{rr:.1f}× {usual}"


def flag_meaning(measured: dict | None, threshold: float) -> str:
    """What the flag has meant, in one or two sentences with counts and intervals.

    Parameters
    ----------
    measured : dict or None
        `imr_ml.modeling.evaluation.operating_point.operating_point` at the threshold (with
        ``measured_on``), or None when it was never measured.
    threshold : float
        The flag's cut-off.

    Returns
    -------
    str
        E.g. "A request is flagged from a 17% chance. Of requests flagged like this on held-out
        letters, about 1 in 4 were overturned (124 of 534, 95% interval 20%-27%); the flag caught
        about 6 in 10 of the overturns (124 of 225, 49%-62%)."
    """
    head = f"A request is flagged \u201c{FLAG_NAME}\u201d from a {pct(threshold)} chance."
    if not measured:
        return head + " How often flagged requests are overturned has not been measured for this model."
    m = measured
    if not m["flagged"]:
        return head + f" None of the {m['n_items']} held-out predictions it was measured on reached it."
    out = (f" Of the {m['flagged']} held-out requests it flagged, {m['flagged_overturned']} were overturned: "
           f"{in_words(m['precision'])} ({_ci(m['precision_interval'], m['level'])})")
    if m["recall"] is not None:
        out += (f"; it flagged {m['flagged_overturned']} of the {m['n_overturned']} overturns, "
                f"{in_words(m['recall'])} ({_ci(m['recall_interval'], m['level'])})")
    return head + out + f". Measured on {m['measured_on']}."


def _ci(interval: list[float] | None, level: float) -> str:
    if not interval:
        return "no interval"
    return f"{pct(level)} interval {pct(interval[0])}\u2013{pct(interval[1])}"


def interval_sentence(lo: float, hi: float) -> str:
    """The interval explained in one plain sentence for office staff.

    Parameters
    ----------
    lo : float
        Its lower end.
    hi : float
        Its upper end.

    Returns
    -------
    str
        One sentence.
    """
    return (f"The range {pct(lo)}\u2013{pct(hi)} is how sure the model is of its own number: it is "
            f"{level_text()} sure the true chance for a request like this lies in that range, and the range is "
            "wide when the guidelines and past letters say little about requests like this one.")


def flag_line(flagged: bool, threshold: float) -> str:
    """Whether a request is flagged, in words.

    Parameters
    ----------
    flagged : bool
        P reached the cut-off.
    threshold : float
        The cut-off.

    Returns
    -------
    str
        ``"Flagged: better chance than most (17% or more)"`` or ``"Not flagged (below 17%)"``.
    """
    return (f"Flagged: {FLAG_NAME} ({pct(threshold)} or more)" if flagged
            else f"Not flagged \u201c{FLAG_NAME}\u201d (below {pct(threshold)})")
