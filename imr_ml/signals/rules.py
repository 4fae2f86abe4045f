"""The compiled signal rules of one `signals.toml`: the engine's cue sets and text rules
plus the domain tables (item words, quantities, trials, modalities, regions, guidelines,
prior use), with the memos of the analyses made with them."""

from __future__ import annotations

import re
from collections import OrderedDict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from imr_ml.knowledge.medication import read_medication
from imr_ml.knowledge.taxonomy import categorize, load_toml
from imr_ml.knowledge.validate import compiling, source_name
from imr_ml.knowledge.vocabulary import load_vocabulary
from imr_ml.signals.readers import cited_guidelines, surgery_days
from imr_ml.signals.surgeries import Surgery, clear_surgery_memo, compile_surgeries
from imr_ml.text.anycase import AnyCase, lower_pattern
from imr_ml.text.engine import Engine, compile_engine
from imr_ml.text.literals import required_literals
from imr_ml.text.matcher import Matcher
from imr_ml.text.negex import CueSet, TextRule
from imr_ml.text.numbers import number_groups


class Memo:
    """A bounded memo: the oldest entry leaves first when it is full. It counts its hits and
    misses, so that its size can be judged on real input (`experiments/memo_hit_rates.py`).

    Parameters
    ----------
    size : int
        How many entries it keeps.
    """

    def __init__(self, size: int):
        self.size = size
        self._entries: OrderedDict = OrderedDict()  # a plain dict's first key gets slow to find as its front is popped
        self.hits = 0
        self.misses = 0

    def __len__(self) -> int:
        return len(self._entries)

    def get(self, key: Any) -> Any:
        """The value remembered for the hashable `key`, or None."""
        value = self._entries.get(key)
        if value is None:
            self.misses += 1
        else:
            self.hits += 1
        return value

    def put(self, key: Any, value: Any) -> Any:
        """Remember `value` for `key`.

        Parameters
        ----------
        key : hashable
            The key.
        value : object
            The value.

        Returns
        -------
        object
            `value`.
        """
        if len(self._entries) >= self.size:
            self._entries.popitem(last=False)
        self._entries[key] = value
        return value

    def clear(self) -> None:
        """Forget every entry and the counts."""
        self._entries.clear()
        self.hits = self.misses = 0


@dataclass(frozen=True)
class Memos:
    """What the analyses remember: summaries, items and rows repeat across letters.

    Parameters
    ----------
    summaries, items, rows : Memo
        Analyses of a summary, of an item's text, of a whole row.
    terms : Memo
        Compiled modality and drug patterns.
    counts : Memo
        Compiled prior-count patterns of a modality.
    vectors : Memo
        Feature vectors of whole rows, kept by `imr_ml.featurize.SignalFeatures`: every
        pipeline built on these rules shares them (cross-validation, calibration, baselines
        and refits analyse the same rows again and again).
    """

    summaries: Memo = field(default_factory=lambda: Memo(256))
    items: Memo = field(default_factory=lambda: Memo(8192))
    rows: Memo = field(default_factory=lambda: Memo(4096))
    terms: Memo = field(default_factory=lambda: Memo(512))
    counts: Memo = field(default_factory=lambda: Memo(64))
    vectors: Memo = field(default_factory=lambda: Memo(100_000))

    def clear(self) -> None:
        """Forget everything."""
        for memo in self.named().values():
            memo.clear()

    def named(self) -> dict[str, Memo]:
        """Every memo by name.

        Returns
        -------
        dict of str to Memo
            summaries, items, rows, terms, counts, vectors.
        """
        return {"summaries": self.summaries, "items": self.items, "rows": self.rows, "terms": self.terms,
                "counts": self.counts, "vectors": self.vectors}


@dataclass(frozen=True)
class PriorUse:
    """How prior use of the item's own treatment is read (`[prior]` of the rules).

    Parameters
    ----------
    medication_categories : frozenset of str
        Item categories that are medications: their drug name is looked for.
    skip_words : frozenset of str
        Words opening an item that name no drug ("compound", "retro").
    generic_words : frozenset of str
        Words of an item that name no drug, for its mention in the summary.
    history, exclude, count_exclude : tuple of str
        Cue sets that mark a mention as past or current use, that cancel such a mention,
        and that cancel a count of prior sessions.
    """

    medication_categories: frozenset[str] = frozenset()
    skip_words: frozenset[str] = frozenset()
    generic_words: frozenset[str] = frozenset()
    history: tuple[str, ...] = ()
    exclude: tuple[str, ...] = ()
    count_exclude: tuple[str, ...] = ()


@dataclass(frozen=True, eq=False)
class SignalRules:
    """Compiled rules of one signals TOML (`load_rules` gives one per file).

    Parameters
    ----------
    engine : Engine
        Cue sets, terminators and text rules.
    item : dict of str to AnyCase
        Item wordings (additional, post_op, purchase, rental, retrospective).
    quantity : tuple of AnyCase
        Requested-quantity patterns, in order.
    trial_max : dict of str to int
        The usual initial trial of a category, in visits.
    modality : dict of str to re.Pattern
        Lower-case modality words of a category.
    region : dict of str to Matcher
        Body regions.
    guideline : dict of str to AnyCase
        Cited guidelines.
    prior : PriorUse
        How prior use is read.
    source : str
        Where the rules came from, as errors name it.
    path : str or None
        The file they were compiled from (None: the shipped one).
    surgeries : tuple of Surgery
        The `[surgery]` table: post-surgical courses, stay targets, complexity.
    memos : Memos
        What analyses with these rules remember.
    """

    engine: Engine
    item: dict[str, AnyCase]
    quantity: tuple[AnyCase, ...]
    trial_max: dict[str, int]
    modality: dict[str, re.Pattern]
    region: dict[str, Matcher]
    guideline: dict[str, AnyCase]
    prior: PriorUse
    source: str
    path: str | None = None
    surgeries: tuple[Surgery, ...] = ()
    memos: Memos = field(default_factory=Memos)

    @property
    def cues(self) -> dict[str, CueSet]:
        """The cue sets by name."""
        return self.engine.cues

    @property
    def text_rules(self) -> tuple[TextRule, ...]:
        """The text signals' rules, in order."""
        return self.engine.text_rules

    @property
    def matchers(self) -> tuple[Matcher, ...]:
        """Every matcher a document of these rules finds at once."""
        return self.engine.matchers

    def cue_sets(self, names: tuple[str, ...]) -> tuple[CueSet, ...]:
        """The cue sets of these names that the rules have.

        Parameters
        ----------
        names : tuple of str
            Cue set names.

        Returns
        -------
        tuple of CueSet
            Those defined, in order.
        """
        return tuple(self.engine.cues[n] for n in names if n in self.engine.cues)

    def clear(self) -> None:
        """Forget every remembered analysis and word."""
        self.memos.clear()
        self.engine.clear()


def _prior_use(table: dict) -> PriorUse:
    return PriorUse(medication_categories=frozenset(table.get("medication_categories", ())),
                    skip_words=frozenset(table.get("skip_words", ())),
                    generic_words=frozenset(table.get("generic_words", ())),
                    history=tuple(table.get("history_cues", ())), exclude=tuple(table.get("exclude_cues", ())),
                    count_exclude=tuple(table.get("count_exclude_cues", ())))


_PATTERN_LISTS = ("patterns", "standalone", "negated", "unless")
_CUE_LISTS = ("pre", "post", "pseudo", "clause_pre", "phrase_pre", "comma_bounds")


def with_vocabulary(data: dict) -> dict:
    """A parsed rules file with the vocabulary's placeholders (`{drugs:opioid}`,
    `{service:epidural}`, `{qualifier:bilateral}`) expanded and the region abbreviations of
    `abbreviations.toml` added to its `[region]` patterns (changed in place and returned).

    Parameters
    ----------
    data : dict
        The parsed TOML (see `features/signals.toml`).

    Returns
    -------
    dict
        The same dict.
    """
    vocab = load_vocabulary()
    for table in data.get("cues", {}).values():
        for key in _CUE_LISTS:
            if key in table:
                table[key] = vocab.expand_all(table[key])
    for spec in data.get("signal", []):
        for key in _PATTERN_LISTS:
            if key in spec:
                spec[key] = vocab.expand_all(spec[key])
    for key in ("modality", "guideline"):
        data[key] = {k: vocab.expand(v) for k, v in data.get(key, {}).items()}
    data["region"] = {k: [vocab.expand(v), *([vocab.regions[k].words] if k in vocab.regions else [])]
                      for k, v in data.get("region", {}).items()}
    return data


def _compile(path: str | None) -> SignalRules:
    data = load_toml("signals.toml", path)  # checked: keys, types, names, cue sets named
    with compiling("signals.toml", path):
        return _compiled(with_vocabulary(data), path)


def _compiled(data: dict, path: str | None) -> SignalRules:
    region = {k: Matcher(v) for k, v in data.get("region", {}).items()}
    surgeries = compile_surgeries(data.get("surgery", {}))
    return SignalRules(
        engine=compile_engine(data, extra_matchers=[*region.values(), *(s.matcher for s in surgeries)]),
        item={k: AnyCase(v) for k, v in data.get("item", {}).items() if isinstance(v, str)},
        quantity=tuple(AnyCase(number_groups(p)) for p in data.get("item", {}).get("quantity", ())),
        trial_max={k: int(v) for k, v in data.get("trial_max", {}).items()},
        modality={k: re.compile(lower_pattern(v)) for k, v in data.get("modality", {}).items()},
        region=region,
        guideline={k: AnyCase(v) for k, v in data.get("guideline", {}).items()},
        prior=_prior_use(data.get("prior", {})),
        source=source_name("signals.toml", path),
        path=path,
        surgeries=surgeries,
    )


_LOADED: dict[str | None, SignalRules] = {}  # one compiled rules object per file


def load_rules(rules: str | Path | SignalRules | None = None) -> SignalRules:
    """The compiled rules: the shipped `features/signals.toml`, or the user's TOML path.

    Parameters
    ----------
    rules : str, Path, SignalRules or None
        A TOML path, rules already compiled, or None for the shipped file.

    Returns
    -------
    SignalRules
        The rules, compiled once per path.
    """
    if isinstance(rules, SignalRules):
        return rules
    key = str(rules) if rules is not None else None
    found = _LOADED.get(key)
    if found is None:
        found = _LOADED[key] = _compile(key)
    return found


def signal_names(rules: str | Path | SignalRules | None = None) -> tuple[str, ...]:
    """Names of the text signals, in rules order.

    Parameters
    ----------
    rules : str, Path, SignalRules or None
        As for `load_rules`.

    Returns
    -------
    tuple of str
        The names.
    """
    return tuple(r.name for r in load_rules(rules).text_rules)


def clear_caches() -> None:
    """Forget every remembered analysis (summaries, items, rows, words), e.g. to time a cold run."""
    for rules in _LOADED.values():
        rules.clear()
    categorize.cache_clear()
    read_medication.cache_clear()
    required_literals.cache_clear()
    cited_guidelines.cache_clear()
    surgery_days.cache_clear()
    clear_surgery_memo()
