"""The "similar past decisions" of a request as results carry them: the precedents
(`imr_ml.precedents.similar`) with the share of them that were overturned, its 95% Wilson
interval and n, and the words a reader sees beside the model's P.

The share is what happened to the most similar past requests, not a second model: its
interval at n = 5 is wide, and `experiments/precedents.md` measures how well it ranks.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Literal, NotRequired

# typing_extensions' TypedDict, not typing's: pydantic (the web API's schema) needs it before Python 3.12
from typing_extensions import TypedDict

from imr_ml.modeling.evaluation.metrics import wilson_interval
from imr_ml.modeling.modelfiles.modelio import MANIFEST_FILE, ModelLoadError, load_model_dir
from imr_ml.modeling.modelfiles.precedent_files import INDEX_MANIFEST, IndexRefused, NoPrecedents, open_precedents
from imr_ml.precedents.similar import similar
from imr_ml.precedents.store import Index

DEFAULT_TOP = 5


class Piece(TypedDict):
    """A piece of a precedent's text; ``hit``: one of the request's words (shown marked)."""

    text: str
    hit: bool


class Named(TypedDict):
    """A guideline rule or clinical finding by its name and its label."""

    name: str
    label: str


class Why(TypedDict):
    """What a precedent has in common with the request."""

    same_category: bool
    regions: list[str]
    rules: list[Named]
    findings: list[Named]
    words: list[str]


class Precedent(TypedDict):
    """One past decision: its item, outcome and rationale (shown, never read to match),
    the match's ``score`` in [0, 1], its ``parts`` and why."""

    id: int
    letter: int
    letter_id: str
    item_index: int
    item: str
    category: str
    regions: list[str]
    decision: Literal["overturned", "upheld"]
    label: int
    decision_date: str | None
    reviewer_guideline: str | None
    rationale_excerpt: str | None
    score: float
    parts: dict[str, float]
    why: Why
    item_pieces: list[Piece]
    summary_pieces: list[Piece]


class Share(TypedDict):
    """How many of the precedents were overturned, with a 95% Wilson interval."""

    overturned: int
    n: int
    share: float | None
    interval95: list[float] | None


class IndexSize(TypedDict):
    """The index's items and letters."""

    n_items: int
    n_letters: int


class RequestProfile(TypedDict):
    """The request as the index matched it."""

    category: str
    regions: list[str]


class PrecedentsSection(TypedDict):
    """The "similar past decisions" of a result; ``available`` False (the built-in model
    holds no letters) has only ``reason``."""

    available: bool
    reason: NotRequired[str]
    index: NotRequired[IndexSize]
    precedents: NotRequired[list[Precedent]]
    n: NotRequired[int]
    overturned: NotRequired[int]
    request: NotRequired[RequestProfile]
    overturned_share: NotRequired[Share]


def precedents_section(index: Index, row: dict, top: int = DEFAULT_TOP) -> PrecedentsSection:
    """A request's precedents with the share overturned.

    Parameters
    ----------
    index : Index
        The index of past decisions.
    row : dict
        The request.
    top : int
        How many precedents.

    Returns
    -------
    dict
        What `imr_ml.precedents.similar.similar` returns, with ``available`` (True),
        ``index`` (its items and letters) and ``overturned_share``: ``overturned``, ``n``,
        ``share`` and its ``interval95`` (None when there is no precedent).
    """
    found = similar(index, row, top)
    k, n = found["overturned"], found["n"]
    share: Share = {"overturned": k, "n": n, "share": k / n if n else None,
             "interval95": [round(v, 4) for v in wilson_interval(k, n)] if n else None}
    return {"available": True, "index": {"n_items": index.n_items, "n_letters": index.n_letters},
            **found, "overturned_share": share}


def unavailable(reason: str) -> PrecedentsSection:
    """The section of a model without precedents (the built-in model), saying why in one line,
    `reason`: ``available`` False and the ``reason``.
    """
    return {"available": False, "reason": reason}


def section_for(loaded, row: dict, top: int = DEFAULT_TOP, index: Index | None = None) -> PrecedentsSection:
    """The precedents section of one result: from `index` when given, else from the
    model's own index, else why there is none.

    Parameters
    ----------
    loaded : LoadedModel
        The model.
    row : dict
        The request.
    top : int
        How many precedents.
    index : Index or None
        Another index of past decisions (`--precedents DIR`).

    Returns
    -------
    dict
        `precedents_section` or `unavailable`.
    """
    try:
        index = index or open_precedents(loaded)
    except NoPrecedents as exc:
        return unavailable(str(exc))
    return precedents_section(index, row, top)


def precedent_finder(loaded, top: int = DEFAULT_TOP, index: Index | None = None) -> Callable[[dict], PrecedentsSection]:
    """``find(row) -> precedents section`` for one request after another, the index opened
    once; a model without an index gives every request the same ``available: False`` and why.

    Parameters
    ----------
    loaded : LoadedModel
        The model (its own index unless `index` is given).
    top : int
        Precedents per request.
    index : Index or None
        Another index of past decisions (`--precedents DIR`).

    Returns
    -------
    callable
        ``find(row) -> dict``: `precedents_section` or `unavailable`.
    """
    try:
        index = index or open_precedents(loaded)
    except NoPrecedents as exc:
        none = unavailable(str(exc))
        return lambda row: none
    return lambda row: precedents_section(index, row, top)


def with_precedents(loaded, rows: Iterable[dict], results: Iterable[dict], top: int = DEFAULT_TOP,
                    index: Index | None = None) -> Iterator[dict]:
    """Each result with its request's ``precedents`` section (`precedent_finder`), in order.

    Parameters
    ----------
    loaded : LoadedModel
        The model (its own index unless `index` is given).
    rows : iterable of dict
        The requests, in the results' order.
    results : iterable of dict
        Their results (`imr_ml.scoring.score.score_rows`).
    top : int
        Precedents per result.
    index : Index or None
        Another index of past decisions (`--precedents DIR`).

    Yields
    ------
    dict
        The result with ``precedents``.
    """
    find = precedent_finder(loaded, top, index)
    for row, result in zip(rows, results):
        yield result | {"precedents": find(row)}


def open_source(spec: str | Path) -> Index:
    """The index of a model directory or of an index folder (`imr-ml index`). Raises
    `NoPrecedents` when there is none (the built-in model, a model trained without one, a
    folder that is neither) and `IndexRefused` for a model or index that must not be read
    (a file that fails its sha256), each with its one line.

    Parameters
    ----------
    spec : str or pathlib.Path
        A model directory, an index folder, or ``builtin``.

    Returns
    -------
    Index
        The index, checked and opened read-only.
    """
    folder = Path(spec)
    if folder.is_dir() and (folder / MANIFEST_FILE).is_file() and not (folder / INDEX_MANIFEST).is_file():
        try:
            return open_precedents(load_model_dir(folder))
        except ModelLoadError as exc:
            raise IndexRefused(str(exc)) from None
    return open_precedents(spec)


def share_text(section: dict) -> str:
    """The share in words: "2 of the 5 most similar past decisions were overturned (40%;
    95% interval 12-77%)".

    Parameters
    ----------
    section : dict
        A section of `precedents_section`.

    Returns
    -------
    str
        One sentence (without its full stop).
    """
    s = section["overturned_share"]
    if not s["n"]:
        return "no similar past decision was found"
    lo, hi = s["interval95"]
    were = "was" if s["overturned"] == 1 else "were"
    return (f"{s['overturned']} of the {s['n']} most similar past decisions {were} overturned "
            f"({100 * s['share']:.0f}%; 95% interval {100 * lo:.0f}-{100 * hi:.0f}%)")
