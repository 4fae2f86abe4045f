"""Clinical signals read from the PRE-DECISION fields of one disputed item.

`extract_signals(row)` returns `{name: Signal(value, evidence)}`. `evidence` lists the
`(field, start, end)` character spans of the row's text that made the signal fire, so a
report can highlight them.

The text signals follow a NegEx-like scheme whose every word lives in
`features/signals.toml` (patterns, negation / hypothetical / history / current-use cues with
their scope windows, clause terminators): see the comments at the top of that file. Only the
fields in `imr_ml.schema.PRE_DECISION` are ever read; the row is reduced to them first.
"""

from __future__ import annotations

import gc
import math
import re
from bisect import bisect_left, bisect_right
from collections import OrderedDict
from collections.abc import Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from dataclasses import field as dc_field
from functools import lru_cache
from itertools import accumulate, compress
from operator import itemgetter
from pathlib import Path
from typing import Any

from imr_ml.knowledge.taxonomy import AnyCase, categorize, load_taxonomy, load_toml, lower_pattern
from imr_ml.schema import PRE_DECISION
from imr_ml.signals.fields import read_fields
from imr_ml.signals.readers import NUMBER_WORDS, parse_quantity, to_int

# The eight signals the project promises (names are part of the API).
REQUIRED_SIGNALS = (
    "prior_trial_without_benefit",
    "functional_improvement",
    "no_functional_improvement",
    "permanent_and_stationary",
    "opioid_use",
    "prior_surgery",
    "ur_modified",
    "working",
)

# Item-level readings of three response signals (same modality / drug as the item).
SAME_MODALITY_SIGNALS = (
    "prior_trial_without_benefit_same_modality",
    "functional_improvement_same_modality",
    "no_functional_improvement_same_modality",
)

MEDICATION_CATEGORIES = frozenset(
    {"opioid", "topical", "medical_food", "muscle_relaxant", "nsaid", "gi_protectant", "other_medication"}
)

_NUM = r"(?:\d+|" + "|".join(sorted(NUMBER_WORDS, key=len, reverse=True)) + r")"


@dataclass
class Signal:
    """A signal's value and the `(field, start, end)` spans that support it."""

    value: Any
    evidence: list[tuple[str, int, int]] = dc_field(default_factory=list)

    def __bool__(self) -> bool:  # a Signal is truthy when its value is
        return bool(self.value)


# --------------------------------------------------------------------------------------
# Compiled rules
# --------------------------------------------------------------------------------------


def _is_word(c: str) -> bool:
    return c.isalnum() or c == "_"


def _prefix_literals(items, limit: int = 60):
    """(strings one of which starts every match of a parsed sequence, whole?) or (None, False).

    `whole` says the strings are the entire match of the sequence, so that what follows the
    sequence may extend them.
    """
    from re import _constants as C  # noqa: PLC0415

    cur = {""}
    for op, av in items:
        if op is C.LITERAL:
            cur = {c + chr(av) for c in cur}
            continue
        if op in (C.AT, C.ASSERT, C.ASSERT_NOT):  # zero-width (\b, lookarounds): no text
            continue
        sub, whole = None, False
        if op is C.SUBPATTERN:
            sub, whole = _prefix_literals(av[-1], limit)
        elif op is C.BRANCH:
            sub, whole = set(), True
            for br in av[1]:
                b, w = _prefix_literals(br, limit)
                if not b:
                    sub = None
                    break
                sub |= b
                whole = whole and w
        elif op is C.IN:
            sub, whole = _char_set(av), True
        elif op in (C.MAX_REPEAT, C.MIN_REPEAT) and av[0] >= 1:
            sub, _ = _prefix_literals(av[2], limit)
            whole = False
        if not sub or len(cur) * len(sub) > limit:
            return ({c for c in cur if c} or None) if all(cur) else (None, False)[0], False
        cur = {c + x for c in cur for x in sub}
        if not whole:
            return cur, False
    return (cur if all(cur) else None), True


def _char_set(items, limit: int = 12) -> set[str] | None:
    """The characters a parsed `[...]` class (literals, small ranges, \\d) matches, or None."""
    from re import _constants as C  # noqa: PLC0415

    out: set[str] = set()
    for op, av in items:
        if op is C.LITERAL:
            out.add(chr(av))
        elif op is C.RANGE and av[1] - av[0] < limit:
            out.update(chr(c) for c in range(av[0], av[1] + 1))
        elif op is C.CATEGORY and av is C.CATEGORY_DIGIT:
            out.update("0123456789")
        else:
            return None
    return out if len(out) <= limit else None


@lru_cache(maxsize=2048)
def _required_literals(pattern: str) -> tuple[str, ...] | None:
    """Strings one of which must occur in the text for `pattern` to match, or None."""
    try:
        from re import _parser  # noqa: PLC0415

        parsed = _parser.parse(pattern)
    except Exception:  # pragma: no cover - unusual regex syntax: no prefilter
        return None
    lits, _ = _prefix_literals(list(parsed))
    if not lits or min(len(x) for x in lits) < 2:
        return None
    return tuple(sorted(lits))


_SPANS_KEY = "\0spans"
_START, _END = itemgetter(0), itemgetter(1)
_WORD_SPLIT = re.compile(r"(\w+)")


def _positions(low: str, lit: str, seen: dict, word: str | None) -> list[int]:
    """Starts of `lit` in `low` (cached per text in `seen`); with `word`, only word starts."""
    key = lit if word is None else "\0" + lit
    pos = seen.get(key)
    if pos is not None:
        return pos
    pos = []
    i = low.find(lit)
    while i != -1:
        if word is None or i == 0 or not _is_word(low[i - 1]):
            pos.append(i)
        i = low.find(lit, i + 1)
    seen[key] = pos
    return pos


class Matcher:
    """Several regexes searched as one, fast.

    Patterns are matched against the *lower-cased* text (so they are written in any case).
    Most patterns start with one of a few literal strings (`norco`, `hydrocodone`, ...):
    those are found with `str.find` and the regex is only tried (`match`) where they occur,
    far cheaper than a regex scan of a long alternation. A leading `\\b` is checked in
    Python.
    """

    __slots__ = ("parts", "patterns", "words", "by_word", "gates", "long_words", "whole")

    def __init__(self, patterns):
        self.patterns = tuple(patterns)
        parts = []
        by_word: dict[str, list] = {}
        gates: dict[str, list] = {}
        for p in self.patterns:
            lp = lower_pattern(p)
            need_b = lp.startswith("\\b")
            if need_b:
                lp = lp[2:]
            lits = _required_literals(lp)
            rx = re.compile(lp)
            if lits is None:
                parts.append(("scan", None, rx, need_b))
            elif need_b and all(re.match(r"\w\w", x) for x in lits):
                # Matches start a word: index the pattern under each distinct first word;
                # a text's words then pick the few patterns worth trying, and where.
                for w in {re.match(r"\w+", x).group() for x in lits}:
                    by_word.setdefault(w, []).append(rx)
                    gates.setdefault(w, []).append(_next_word_gate(w, lits))
            else:
                parts.append(("find", tuple(lits), rx, need_b))
        self.parts = tuple(parts)
        self.by_word = {w: tuple(v) for w, v in by_word.items()}
        self.gates = {w: tuple(v) for w, v in gates.items()}
        self.words = frozenset(w for w in by_word if len(w) <= 16)
        self.long_words = tuple(w for w in by_word if len(w) > 16)
        # One pattern searched in a short text on its own (an item): a plain regex search
        # finds the same first match without indexing the text.
        self.whole = re.compile(lower_pattern(self.patterns[0])) if len(self.patterns) == 1 else None

    @staticmethod
    def _ok(s: int, e: int, low: str, need_b: bool) -> bool:
        if s == e:
            return False
        return not need_b or s == 0 or _is_word(low[s - 1]) != _is_word(low[s])

    def spans(self, low: str, seen: dict | None = None) -> list[tuple[int, int]]:
        """Match spans in `low`. `seen` caches literal positions across matchers of one text;
        a `_Doc`'s already holds the spans of every matcher of its rules (`_all_spans`)."""
        if seen is None:
            seen = {}
        done = seen.get(_SPANS_KEY)
        if done is not None and self in done:
            return done[self]
        out: list[tuple[int, int]] = []
        for w in self.words:
            _match_at(low, self.by_word[w], _positions(low, w, seen, w), out)
        return self._finish(low, seen, out)

    def _finish(self, low: str, seen: dict, out: list) -> list[tuple[int, int]]:
        """`out` (the word-indexed matches) plus every other part's, merged."""
        for kind, lits, rx, need_b in self.parts:
            if kind == "scan":
                for m in rx.finditer(low):
                    s, e = m.span()
                    if self._ok(s, e, low, need_b):
                        out.append((s, e))
                continue
            for lit in lits:  # every match starts with one of these: try the regex only there
                for i in _positions(low, lit, seen, None):
                    m = rx.match(low, i)
                    if m is not None and self._ok(i, m.end(), low, need_b):
                        out.append((i, m.end()))
        for w in self.long_words:
            _match_at(low, self.by_word[w], _positions(low, w, seen, w), out)
        return _merged(out)

    def search(self, low: str, seen: dict | None = None):
        """The first match span, or None."""
        if seen is None and self.whole is not None:
            m = self.whole.search(low)
            if m is None or m.end() > m.start():  # an empty match: let the full search judge
                return m.span() if m else None
        sp = self.spans(low, seen)
        return sp[0] if sp else None


def _next_word_gate(word: str, lits) -> tuple[str, ...] | None:
    """What the word after `word` must start with for a pattern to match there (from the
    pattern's literal openings that begin with `word`), or None when they do not say.

    "(is|was) (required|needed)" is tried after "was" only where "required" or "needed"
    follows: most tries of such cue patterns fail on their second word.
    """
    out = set()
    for lit in lits:
        if re.match(r"\w+", lit).group() != word:
            continue
        m = re.match(r"\w+\W+(\w+)", lit)
        if m is None:
            return None
        out.add(m.group(1))
    return tuple(sorted(out)) or None


def _match_at(low: str, patterns, starts, out: list) -> None:
    """Append the non-empty matches of `patterns` at word starts `starts` (a leading \\b
    holds at a word start, so only an empty match fails it)."""
    for rx in patterns:
        for i in starts:
            m = rx.match(low, i)
            if m is not None and m.end() > i:
                out.append((i, m.end()))


def _merged(out: list) -> list[tuple[int, int]]:
    """Spans as one alternation gives them: leftmost, non-overlapping, longest first."""
    if len(out) < 2:
        return out
    out.sort(key=lambda t: (t[0], -t[1]))
    merged, last = [], -1
    for s, e in out:
        if s >= last:
            merged.append((s, e))
            last = e
    return merged


def _all_spans(low: str, found: dict, seen: dict, rules) -> dict:
    """{matcher: spans} of every matcher of `rules`, from `found` (the spans of its
    word-indexed patterns, `_word_matches`); only the matchers with other parts have more
    to search."""
    out = {}
    for m in rules.matchers:
        spans = found.get(m, [])
        out[m] = m._finish(low, seen, spans) if m.parts or m.long_words else _merged(spans)
    return out


_PLANS_SIZE = 200_000


def _plan(rules, word: str, following: str) -> tuple:
    """((matcher, pattern), ...) worth trying at `word` when the word `following` comes next:
    its candidates whose next-word gate lets it through (remembered per pair)."""
    plan = tuple((m, rx) for m, rx, gate in _candidates(rules, word) if gate is None or following.startswith(gate))
    if len(rules.plans) < _PLANS_SIZE:
        rules.plans[word, following] = plan
    return plan


def _alt(patterns) -> Matcher | None:
    patterns = [p for p in (patterns or []) if p]
    return Matcher(patterns) if patterns else None


def _lower(text: str) -> str:
    """Lower-cased text with the same length (offsets into it are offsets into `text`).

    U+FFFE, which text extraction leaves where a word was hyphenated across a line
    ("non\ufffecertified"), is read as a hyphen.
    """
    low = text.lower()
    if len(low) != len(text):  # a few characters lower-case to two code points
        low = "".join(c.lower() if len(c.lower()) == 1 else c for c in text)
    if "\ufffe" in low:
        low = low.replace("\ufffe", "-")
    return low


@dataclass(frozen=True)
class CueSet:
    name: str
    window: int
    pre: Matcher | None
    post: Matcher | None
    pseudo: Matcher | None
    clause_pre: Matcher | None = None


@dataclass(frozen=True)
class TextRule:
    name: str
    description: str
    field: str
    patterns: Matcher | None
    standalone: Matcher | None
    negated: Matcher | None
    exclude: tuple[str, ...]
    require: tuple[str, ...]
    unless: Matcher | None


@dataclass(frozen=True, eq=False)
class Rules:
    cues: dict
    terminators: Matcher | None
    abbreviations: frozenset
    text_rules: tuple[TextRule, ...]
    item: dict
    quantity: tuple[re.Pattern, ...]
    trial_max: dict
    modality: dict
    region: dict  # name -> Matcher
    guideline: dict
    source: str
    word_keys: frozenset = frozenset()  # every Matcher.words of these rules
    key_lengths: tuple = ()
    candidates: dict = dc_field(default_factory=dict)  # word seen -> patterns indexed under its keys
    plain_words: set = dc_field(default_factory=set)  # words seen that begin none
    matchers: tuple = ()  # every Matcher of these rules
    by_key: dict = dc_field(default_factory=dict)  # word key -> ((matcher, its patterns, their gates), ...)
    plans: dict = dc_field(default_factory=dict)  # (word, next word) -> ((matcher, pattern), ...) to try


def _num_groups(pattern: str) -> str:
    """Let `(?P<n>\\d+)` groups also match written-out numbers ("Twelve", "six")."""
    return re.sub(r"\(\?P<(\w+)>\\d\+\)", lambda m: f"(?P<{m.group(1)}>{_NUM})", pattern)


@lru_cache(maxsize=8)
def _load_rules(path: str | None) -> Rules:
    data = load_toml("signals.toml", path)
    settings = data.get("settings", {})
    default_window = int(settings.get("default_window", 6))
    cues = {}
    for name, c in data.get("cues", {}).items():
        cues[name] = CueSet(
            name=name,
            window=int(c.get("window", default_window)),
            pre=_alt(c.get("pre")),
            post=_alt(c.get("post")),
            pseudo=_alt(c.get("pseudo")),
            clause_pre=_alt(c.get("clause_pre")),
        )
    text_rules = []
    for s in data.get("signal", []):
        for ref in list(s.get("exclude", [])) + list(s.get("require", [])):
            if ref not in cues:
                raise ValueError(f"signal {s['name']!r} refers to unknown cue set {ref!r}")
        text_rules.append(
            TextRule(
                name=s["name"],
                description=s.get("description", ""),
                field=s.get("field", "summary"),
                patterns=_alt(s.get("patterns")),
                standalone=_alt(s.get("standalone")),
                negated=_alt(s.get("negated")),
                exclude=tuple(s.get("exclude", ())),
                require=tuple(s.get("require", ())),
                unless=_alt(s.get("unless")),
            )
        )
    item = {k: AnyCase(v) for k, v in data.get("item", {}).items() if isinstance(v, str)}
    quantity = tuple(AnyCase(_num_groups(p)) for p in data.get("item", {}).get("quantity", ()))
    terminators = _alt(settings.get("terminators"))
    region = {k: Matcher([v]) for k, v in data.get("region", {}).items()}
    matchers = [terminators, *region.values()]
    matchers += [m for c in cues.values() for m in (c.pre, c.post, c.pseudo, c.clause_pre)]
    matchers += [m for t in text_rules for m in (t.patterns, t.standalone, t.negated, t.unless)]
    matchers = tuple(dict.fromkeys(m for m in matchers if m is not None))
    keys = frozenset(w for m in matchers for w in m.words)
    by_key: dict = {}
    for m in matchers:
        for w in m.words:
            by_key.setdefault(w, []).append((m, m.by_word[w], m.gates[w]))
    return Rules(
        cues=cues,
        terminators=terminators,
        abbreviations=frozenset(a.replace("\\", "") for a in settings.get("abbreviations", ())),
        text_rules=tuple(text_rules),
        item=item,
        quantity=quantity,
        trial_max={k: int(v) for k, v in data.get("trial_max", {}).items()},
        modality={k: re.compile(lower_pattern(v)) for k, v in data.get("modality", {}).items()},
        region=region,
        guideline={k: AnyCase(v) for k, v in data.get("guideline", {}).items()},
        source=str(path) if path else "features/signals.toml",
        word_keys=keys,
        key_lengths=tuple(sorted({len(w) for w in keys})),
        matchers=matchers,
        by_key={w: tuple(v) for w, v in by_key.items()},
    )


def load_rules(rules: str | Path | Rules | None = None) -> Rules:
    """The compiled rules: the shipped `features/signals.toml`, or the user's TOML path."""
    if isinstance(rules, Rules):
        return rules
    return _load_rules(str(rules) if rules is not None else None)


def signal_names(rules=None) -> tuple[str, ...]:
    """Names of the text signals, in rules order."""
    return tuple(r.name for r in load_rules(rules).text_rules)


# --------------------------------------------------------------------------------------
# One text, cut into clauses, with its cues found once
# --------------------------------------------------------------------------------------

_SENT_END = re.compile(r"[.!?][\"')\]]*(?:\s+|(?=[A-Z][a-z]))")
_LETTERS_DOT = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz."


def _word_before(text: str, end: int) -> str:
    """The run of ASCII letters and dots ending at `end` (within 12 characters; a newline
    just before `end` is passed over): what `([A-Za-z.]+)$` finds in text[end-12:end]."""
    tail = text[max(0, end - 12):end]
    if tail.endswith("\n"):
        tail = tail[:-1]
    return tail[len(tail.rstrip(_LETTERS_DOT)):]


_WORD_MEMO_SIZE = 200_000


def _candidates(rules: Rules, word: str) -> tuple:
    """((matcher, pattern, next-word gate), ...) indexed under the word keys `word` begins
    with (remembered for the words that have some)."""
    found = rules.candidates.get(word)
    if found is None:
        keys = [p for p in (word[:n] for n in rules.key_lengths if n <= len(word)) if p in rules.word_keys]
        found = tuple((m, rx, gate) for key in keys for m, patterns, gates in rules.by_key[key]
                      for rx, gate in zip(patterns, gates))
        if found and len(rules.candidates) < _WORD_MEMO_SIZE:
            rules.candidates[word] = found
    return found


def _key_words(rules: Rules, words) -> set[str]:
    """Which of `words` begin one of the rules' word keys. Words seen before are sorted by
    set operations; which group a new word joins is remembered (clinical vocabulary repeats
    from letter to letter)."""
    wset = set(words)
    known = rules.candidates.keys()
    keyed = wset & known
    for w in wset - known - rules.plain_words:
        if _candidates(rules, w):
            keyed.add(w)
        elif len(rules.plain_words) < _WORD_MEMO_SIZE:
            rules.plain_words.add(w)
    return keyed


def _word_matches(low: str, rules: Rules) -> tuple[list[int], dict]:
    """(start of every word, {matcher: spans of its word-indexed patterns}) of a text.

    The keys are the first words of the rules' patterns (`Matcher.words`): one pass over the
    text's words tries, at each word that begins a key, the patterns a plan (`_plan`) picks
    for it and the word after it. Words and their starts come from one `split` (its pieces'
    lengths, summed); only the words that begin a key are visited in Python.
    """
    pieces = _WORD_SPLIT.split(low)  # [gap, word, gap, word, ..., gap]
    ends = list(accumulate(map(len, pieces)))
    words = pieces[1::2]
    starts = ends[0:-1:2]
    keyed = _key_words(rules, words)
    following = words[1:]
    following.append("")
    plans = rules.plans
    found: dict = {}
    for w, s, nxt in compress(zip(words, starts, following), map(keyed.__contains__, words)):
        plan = plans.get((w, nxt))
        if plan is None:
            plan = _plan(rules, w, nxt)
        for m, rx in plan:
            hit = rx.match(low, s)
            if hit is not None and hit.end() > s:
                spans = found.get(m)
                if spans is None:
                    found[m] = [(s, hit.end())]
                else:
                    spans.append((s, hit.end()))
    return starts, found


class _Doc:
    """One text, lower-cased, cut into clauses, with word positions and cues found once."""

    __slots__ = ("text", "low", "rules", "words", "bounds", "sentences", "_cues", "seen")

    def __init__(self, text: str, rules: Rules):
        self.text = text
        self.low = low = _lower(text)
        self.rules = rules
        self.words, found = _word_matches(low, rules)
        self.seen: dict = {}
        self.seen[_SPANS_KEY] = _all_spans(low, found, self.seen, rules)
        bounds = []
        abbreviations = rules.abbreviations
        for m in _SENT_END.finditer(text):
            if _word_before(text, m.start()).lower().rstrip(".") in abbreviations:
                continue
            bounds.append(m.start())
        self.sentences = list(bounds)
        if rules.terminators is not None:
            bounds.extend(sp[0] for sp in rules.terminators.spans(low, self.seen))
        bounds.sort()
        self.bounds = bounds
        self._cues: dict = {}

    def sentence_span(self, pos: int) -> tuple[int, int]:
        """(start, end) of the sentence holding `pos`."""
        i = bisect_right(self.sentences, pos)
        start = self.sentences[i - 1] + 1 if i > 0 else 0
        end = self.sentences[i] + 1 if i < len(self.sentences) else len(self.text)
        return start, end

    def reading_span(self, pos: int) -> tuple[int, int]:
        """(start, end) of the sentence holding `pos` and the one before it: a finding is
        read with what was just said ("Finished 6 acupuncture visits. Now back at work.")."""
        start, end = self.sentence_span(pos)
        return (self.sentence_span(start - 2)[0] if start > 1 else 0), end

    def _cue_tables(self, cue: CueSet) -> tuple:
        """(pre, clause_pre, post) spans of a cue set, found once (Matcher spans never
        overlap, so they are in order of both start and end)."""
        tables = self._cues.get(cue.name)
        if tables is None:
            tables = self._cues[cue.name] = (self._cue_spans(cue, cue.pre), self._cue_spans(cue, cue.clause_pre),
                                             self._cue_spans(cue, cue.post))
        return tables

    def _cue_spans(self, cue: CueSet, pat: Matcher | None) -> list[tuple[int, int]]:
        spans = pat.spans(self.low, self.seen) if pat is not None else []
        if spans and cue.pseudo is not None:
            pseudo = cue.pseudo.spans(self.low, self.seen)
            if pseudo:
                spans = [s for s in spans if not _overlaps(*s, pseudo)]
        return spans

    def _cue_before(self, spans: list, start: int) -> tuple[int, tuple[int, int]] | None:
        """(word distance, span) of the last of `spans` ending before `start`, if in its clause."""
        i = bisect_right(spans, start, key=_END) - 1
        if i < 0:
            return None
        cs, ce = spans[i]
        if bisect_right(self.bounds, ce - 1) != bisect_right(self.bounds, start):
            return None
        return bisect_left(self.words, start) - bisect_left(self.words, ce), (cs, ce)

    def nearest(self, cue: CueSet, start: int, end: int) -> tuple[int, tuple[int, int]] | None:
        """(word distance, cue span) of the closest cue of `cue` reaching text[start:end]."""
        pre, clause_pre, post = self._cue_tables(cue)
        best = None
        hit = self._cue_before(pre, start)
        if hit is not None and hit[0] <= cue.window:
            best = hit
        if cue.clause_pre is not None:
            # Cues that reach to the end of their clause ("the request for ...").
            hit = self._cue_before(clause_pre, start)
            if hit is not None and (best is None or hit[0] < best[0]):
                best = hit
        i = bisect_left(post, end, key=_START)
        if i < len(post):
            cs, ce = post[i]
            d = bisect_left(self.words, cs) - bisect_left(self.words, end)
            if d <= cue.window and bisect_right(self.bounds, cs) == bisect_right(self.bounds, max(start, end - 1)) \
                    and (best is None or d < best[0]):
                best = (d, (cs, ce))
        return best


def _nearest_of(doc: _Doc, names, start: int, end: int):
    best = None
    for n in names:
        r = doc.nearest(doc.rules.cues[n], start, end)
        if r is not None and (best is None or r[0] < best[0]):
            best = r
    return best


@lru_cache(maxsize=256)
def _negations_first(exclude: tuple[str, ...]) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """A rule's excluding cue sets split into (negations, the others)."""
    negs = tuple(n for n in exclude if n.endswith("negation"))
    return negs, tuple(n for n in exclude if n not in negs)


def _keep(doc: _Doc, rule: TextRule, start: int, end: int, use_require: bool = True) -> bool:
    """NegEx decision for an affirmative trigger.

    A negation cue in reach always drops it; another excluding cue (hypothetical, ...)
    drops it unless a required cue is closer ("plan ... ongoing therapy including X").
    """
    req = None
    if rule.require and use_require:
        req = _nearest_of(doc, rule.require, start, end)
        if req is None:
            return False
    negs, others = _negations_first(rule.exclude)
    if negs and _nearest_of(doc, negs, start, end) is not None:
        return False
    ex = _nearest_of(doc, others, start, end)
    if ex is None:
        return True
    return req is not None and req[0] < ex[0]


def _keep_negated(doc: _Doc, rule: TextRule, start: int, end: int) -> bool:
    neg = doc.nearest(doc.rules.cues["negation"], start, end)
    if neg is None:
        return False
    other = [n for n in rule.exclude if n != "negation"]
    ex = _nearest_of(doc, other, start, end)
    return ex is None or ex[0] > neg[0]


def _overlaps(s: int, e: int, spans) -> bool:
    """Whether [s, e) overlaps one of `spans` ((start, end) pairs)."""
    return any(s < pe and ps < e for ps, pe in spans)


def _text_rule(doc: _Doc, rule: TextRule, field: str) -> Signal:
    low = doc.low
    spans = []
    unless = rule.unless.spans(low, doc.seen) if rule.unless is not None else []
    if rule.patterns is not None:
        for s, e in rule.patterns.spans(low, doc.seen):
            if unless and _overlaps(s, e, unless):
                continue
            if _keep(doc, rule, s, e):
                spans.append((field, s, e))
    if rule.standalone is not None:
        for s, e in rule.standalone.spans(low, doc.seen):
            if _overlaps(s, e, unless) or _overlaps(s, e, [sp[1:] for sp in spans]):
                continue
            if _keep(doc, rule, s, e, use_require=False):
                spans.append((field, s, e))
    if rule.negated is not None:
        for s, e in rule.negated.spans(low, doc.seen):
            if _overlaps(s, e, unless) or _overlaps(s, e, [sp[1:] for sp in spans]):
                continue
            if _keep_negated(doc, rule, s, e):
                spans.append((field, s, e))
    if len(spans) > 1:
        spans.sort(key=lambda t: t[1])
    return Signal(bool(spans), spans)


# --------------------------------------------------------------------------------------
# Structured signals
# --------------------------------------------------------------------------------------


# An age, not a duration ("for 20 years"): "52-year-old", "52 years of age", "52 y/o",
# "52yo", and a typed note's "52F" / "52 M" at the start of a sentence.
_AGE = AnyCase(r"\b(\d{1,3})[- ]?(?:years?|yrs?)[- ]?old\b|\b(\d{1,3}) (?:years?|yrs?) of age\b|\b(\d{1,3})[- ]?y/?o\b"
               r"|(?:^|[.;]\s*)(\d{2}) ?(?:[fm]|yo ?[fm]|male|female)\b")
_PRIOR_COUNT = (
    # "completed 4 of 8 acupuncture visits", "attended 2 out of 10 therapy sessions"
    r"\b(?:completed|attended|had|received|undergone|underwent|finished)\s+(?P<n>\d+)\s+(?:out\s+)?of\s+(?:the\s+)?(?:\d+\s+)?(?:\w+\s+){0,3}?(?:MOD)",
    # "at least 8 visits of chiropractic", "9 acupuncture sessions", "ten (10) PT visits"
    r"\b(?P<n>\d+)\s*(?:\(\d+\)\s*)?(?:prior\s+|previous\s+|completed\s+|authorized\s+|approved\s+|certified\s+)?(?:sessions?|visits?|treatments?)?\s*(?:of\s+)?(?:(?!for\b)\w+\s+){0,2}?(?:MOD)",
    # "physical therapy x 12", "chiropractic visits #8"
    r"(?:MOD)\s*(?:sessions?|visits?|treatments?)?\s*(?:x|×|#)\s*(?P<n>\d+)",
    # "physical therapy (number of sessions not found)" is not a count; "PT for 8 sessions" is
    r"(?:MOD)\s+(?:for\s+)?(?P<n>\d+)\s+(?:sessions?|visits?|treatments?)",
)


@lru_cache(maxsize=64)
def _prior_count_patterns(modality: str) -> tuple[re.Pattern, ...]:
    return tuple(re.compile(lower_pattern(_num_groups(p.replace("MOD", modality)))) for p in _PRIOR_COUNT)


_STOPS = re.compile(r"[.!?]")
_ANY_NUMBER = re.compile(r"\d|" + _NUM)  # what a count pattern's (?P<n>...) group can match, anywhere


def _segments_naming(low: str, mentions) -> list[tuple[int, int]]:
    """The stretches between `.`, `!` and `?` that hold one of `mentions`, in text order.

    Neither the modality words nor the prior-count patterns match those characters, so a
    count is found in one of these stretches or nowhere: searching them alone gives what a
    search of the whole text gives, several times faster.
    """
    out: list[tuple[int, int]] = []
    for ms, me in mentions:
        if out and ms < out[-1][1]:
            continue
        s = max(low.rfind(".", 0, ms), low.rfind("!", 0, ms), low.rfind("?", 0, ms)) + 1
        stop = _STOPS.search(low, me)
        out.append((s, stop.start() if stop else len(low)))
    return out


def _mentions(doc: _Doc, term: re.Pattern) -> list[tuple[int, int]]:
    """Spans of `term` in a document (remembered with it: items of a letter share them)."""
    key = ("\0term", term.pattern)
    spans = doc.seen.get(key)
    if spans is None:
        spans = doc.seen[key] = [m.span() for m in _finditer(term, doc)]
    return spans


def _finditer(rx: re.Pattern, doc: _Doc, start: int = 0, end: int | None = None):
    """The matches `rx.finditer(doc.low, start, end)` gives, with `rx` tried only where one
    of the literals that open all its matches occurs (found with `str.find` once per doc):
    a scan with a leading `\\b` or a wide alternation is slower."""
    low = doc.low
    end = len(low) if end is None else end
    lits = _required_literals(rx.pattern)
    if lits is None:
        yield from rx.finditer(low, start, end)
        return
    starts: set[int] = set()
    for lit in lits:
        pos = _positions(low, lit, doc.seen, None)
        starts.update(pos[bisect_left(pos, start):bisect_left(pos, end)])
    last = start
    for i in sorted(starts):
        if i >= last:
            m = rx.match(low, i, end)
            if m is not None:
                yield m
                last = m.end()


def _prior_modality(doc: _Doc, rules: Rules, category: str, item: str):
    """(count of prior sessions of the item's modality or None, mentioned-as-prior?, evidence).

    It depends on the summary and the item's modality (or drug) only: items of one letter
    that share a modality share the (read-only) answer.
    """
    mod = rules.modality.get(category)
    if mod is None:
        if category not in MEDICATION_CATEGORIES:
            return None, False, []
        word = re.match(r"\s*([A-Za-z][A-Za-z\-]{3,})", item or "")
        if not word or word.group(1).lower() in {"compound", "topical", "retro", "retrospective", "request"}:
            return None, False, []
    term = mod if mod is not None else _compiled_term(r"\b" + re.escape(word.group(1).lower()) + r"\b")
    key = ("\0prior", term.pattern, mod is not None)
    hit = doc.seen.get(key)
    if hit is None:
        hit = doc.seen[key] = _prior_mentions(doc, rules, term, mod is not None)
    return hit


def _negates_cue(ex, req) -> bool:
    """Whether a negation or hypothetical cue stands before the history cue itself ("has
    not had physical therapy", "never received acupuncture"): it then governs the history."""
    first = min(r[1][0] for r in req)
    return any(r[1][1] <= first for r in ex)


def _prior_mentions(doc: _Doc, rules: Rules, term: re.Pattern, count_sessions: bool):
    evidence = []
    hyp = rules.cues.get("hypothetical")
    neg = rules.cues.get("negation")
    count = None
    if count_sessions:
        # Every count pattern holds a number: stretches without one cannot match.
        segments = [seg for seg in _segments_naming(doc.low, _mentions(doc, term)) if _ANY_NUMBER.search(doc.low, *seg)]
        for pat, (ss, se) in ((p, seg) for p in _prior_count_patterns(term.pattern) for seg in segments):
            for m in pat.finditer(doc.low, ss, se):
                if hyp is not None and doc.nearest(hyp, m.start(), m.end()) is not None:
                    continue
                n = to_int(m.group("n"))
                if n is None or n > 100:
                    continue
                count = n if count is None else max(count, n)
                evidence.append(("summary", m.start(), m.end()))
    mentioned = bool(evidence)
    history = [rules.cues[n] for n in ("history", "current_use") if n in rules.cues]
    for s, e in _mentions(doc, term):
        req = [doc.nearest(c, s, e) for c in history]
        req = [r for r in req if r is not None]
        if not req:
            continue
        ex = [doc.nearest(c, s, e) for c in (hyp, neg) if c is not None]
        ex = [r for r in ex if r is not None]
        if ex and (min(r[0] for r in ex) <= min(r[0] for r in req) or _negates_cue(ex, req)):
            continue
        mentioned = True
        evidence.append(("summary", s, e))
        break
    return count, mentioned, evidence


_GENERIC_ITEM_WORDS = frozenset({"compound", "topical", "retro", "retrospective", "request", "additional", "continued", "post", "repeat", "right", "left", "bilateral", "outpatient"})


def _item_term(rules: Rules, category: str, item: str, taxonomy=None) -> re.Pattern | None:
    """A pattern naming the item's modality in a summary (its drug name for medications)."""
    alts = []
    mod = rules.modality.get(category)
    if mod is not None:
        alts.append(mod.pattern)
    if category in MEDICATION_CATEGORIES or category in ("opioid",):
        for w in re.findall(r"[A-Za-z][A-Za-z\-]{3,}", item or "")[:2]:
            if w.lower() not in _GENERIC_ITEM_WORDS:
                alts.append(r"\b" + re.escape(w.lower()) + r"\b")
                break
    for cat in load_taxonomy(taxonomy):
        if cat.name == category and category not in ("other",) and category not in MEDICATION_CATEGORIES:
            alts.append(cat.pattern.lower.pattern)
    if not alts:
        return None
    return _compiled_term("|".join(f"(?:{a})" for a in alts))


@lru_cache(maxsize=512)
def _compiled_term(pattern: str) -> re.Pattern:
    return re.compile(pattern)


def _regions(low: str, rules: Rules, field: str, seen: dict | None = None):
    """(body regions named, evidence) of a lower-cased text (with a document's `seen`, read
    from the matches it found in one pass)."""
    found, ev = [], []
    for name, pat in rules.region.items():
        sp = pat.search(low, seen)
        if sp:
            found.append(name)
            ev.append((field, *sp))
    return found, ev


@lru_cache(maxsize=8192)
def _item_analysis(item: str, r: Rules, taxonomy: str | None):
    """(category, {name: Signal}, modality term) of an item's own text.

    Items repeat across letters ("Acupuncture 1x6"), so this is remembered per text; like the
    summary's, its Signals are shared by every row that names the item (read-only).
    """
    category = categorize(item, taxonomy)
    sig = {"category": Signal(category, [("item", 0, len(item))] if item else [])}
    qty, span = parse_quantity(item, r)
    sig["requested_quantity"] = Signal(qty, [("item", *span)] if span else [])
    trial = r.trial_max.get(category)
    exceeds = qty is not None and trial is not None and qty > trial
    sig["exceeds_trial"] = Signal(exceeds, [("item", *span)] if exceeds else [])
    for key in ("additional", "post_op", "purchase", "rental", "retrospective"):
        pat = r.item.get(key)
        m = pat.search(item) if pat is not None else None
        # "retrospective" here is the item's wording only; the row's flag is added later
        sig[key if key == "retrospective" else f"item_{key}"] = Signal(bool(m), [("item", *m.span())] if m else [])
    sig["item_regions"] = Signal(*_regions(_lower(item), r, "item"))
    return category, sig, _item_term(r, category, item, taxonomy)


def _text(row: Mapping, key: str) -> str:
    v = row.get(key)
    if v is None:
        return ""
    if isinstance(v, float) and math.isnan(v):
        return ""
    return str(v)


# --------------------------------------------------------------------------------------
# Public entry point
# --------------------------------------------------------------------------------------


def _remember(cache: OrderedDict, size: int, key, value) -> None:
    """Keep `value` in a bounded memo; the oldest entry leaves first. (An OrderedDict: a
    plain dict's first key takes ever longer to find as entries are popped from its front.)"""
    if len(cache) >= size:
        cache.popitem(last=False)
    cache[key] = value


_SUMMARY_CACHE: OrderedDict = OrderedDict()
_SUMMARY_CACHE_SIZE = 256


def _summary_analysis(summary: str, r: Rules):
    """(_Doc, {signal: Signal}) of a summary's text rules; the last few are remembered."""
    key = (id(r), summary)
    hit = _SUMMARY_CACHE.get(key)
    if hit is not None and hit[0].rules is r:
        return hit
    doc = _Doc(summary, r)
    res = {rule.name: _text_rule(doc, rule, "summary") for rule in r.text_rules if rule.field == "summary"}
    sregs, srev = _regions(doc.low, r, "summary", doc.seen)
    res["summary_regions"] = Signal(sregs, srev)
    m = _AGE.search(summary)
    age = None
    if m:
        age = int(next(g for g in m.groups() if g))
        if not 14 <= age <= 100:
            age = None
    res["age"] = Signal(age, [("summary", m.start(m.lastindex), m.end())] if age is not None else [])
    _remember(_SUMMARY_CACHE, _SUMMARY_CACHE_SIZE, key, (doc, res))
    return doc, res


_ROW_SIGNALS: OrderedDict = OrderedDict()
_ROW_SIGNALS_SIZE = 4096


_GC_DEPTH = [0]
_GC_YOUNG = 1_000_000  # young-generation threshold inside `fewer_gc_pauses`


@contextmanager
def fewer_gc_pauses():
    """Collect garbage less often while analysing many texts.

    Text analysis allocates millions of short-lived, acyclic objects; with CPython's default
    thresholds much of the time goes to young-generation collections. Inside, the young
    generation waits for a million more tracked objects than were freed (they die by
    reference counting; only cycles need the collector, and analysis makes few); on exit the
    previous thresholds come back and the next collection frees the block's cycles
    (re-entrant: only the outermost use acts). Nothing is frozen: freezing the heap at every
    call, as this once did, kept cyclic garbage out of reach of the collector in a
    long-running server (about 13 KB lost per request).
    """
    _GC_DEPTH[0] += 1
    old = gc.get_threshold()
    if _GC_DEPTH[0] == 1:
        gc.set_threshold(_GC_YOUNG, old[1], old[2])
    try:
        yield
    finally:
        _GC_DEPTH[0] -= 1
        if _GC_DEPTH[0] == 0:
            gc.set_threshold(*old)


def clear_caches() -> None:
    """Forget every remembered analysis (summaries, items, rows, words), e.g. to time a cold run."""
    _SUMMARY_CACHE.clear()
    _ROW_SIGNALS.clear()
    _item_analysis.cache_clear()
    categorize.cache_clear()
    shipped = _load_rules(None)
    for memo in (shipped.candidates, shipped.plain_words, shipped.plans):
        memo.clear()  # the shipped rules' word memos


def extract_signals(row: Mapping, rules=None, taxonomy: str | None = None) -> dict[str, Signal]:
    """Every signal of one row (a dict / pandas row with the PRE_DECISION keys).

    Only PRE_DECISION fields are read. `rules` is a path to a signals TOML (default: the
    shipped one); `taxonomy` a path to a taxonomy TOML. The result is shared with later
    calls for the same row (scoring reads it again for evidence and hints): do not modify.
    """
    row = {k: (row.get(k) if hasattr(row, "get") else None) for k in PRE_DECISION}
    key = (id(load_rules(rules)), taxonomy, str(bool(row["retrospective"])),
           *[_text(row, k) for k in PRE_DECISION if k != "retrospective"])
    hit = _ROW_SIGNALS.get(key)
    if hit is None:
        hit = _extract(row, rules, taxonomy)
        _remember(_ROW_SIGNALS, _ROW_SIGNALS_SIZE, key, hit)
    return hit


def _extract(row: dict, rules, taxonomy) -> dict[str, Signal]:
    r = load_rules(rules)
    summary = _text(row, "summary")
    item = _text(row, "item")
    out: dict[str, Signal] = {}

    # Items of one letter share its summary: its analysis is cached.
    sdoc, summary_signals = _summary_analysis(summary, r)
    out.update(summary_signals)  # shared, not copied: results are read-only
    docs = {"summary": sdoc}
    for rule in r.text_rules:
        if rule.field == "summary":
            continue
        if rule.field not in docs:
            docs[rule.field] = _Doc(_text(row, rule.field), r)
        out[rule.name] = _text_rule(docs[rule.field], rule, rule.field)

    # The disputed item (its own analysis is shared by every row naming the same item).
    category, item_signals, term = _item_analysis(item, r, taxonomy)
    out.update(item_signals)  # shared, not copied: results are read-only

    # The item-level reading of the response signals: did the prior trial / improvement
    # concern the disputed item's own modality (or drug)? True when a supporting span's
    # sentence names it, or, for a request of one item (a typed note, a one-item letter) and a
    # finding whose sentence names no treatment at all, the sentence before it does; with
    # several items, or a sentence about another treatment, the sentence before is not its.
    one_item = not _text(row, "other_items").strip()

    def span(pos: int) -> tuple[int, int]:
        own = sdoc.sentence_span(pos)
        if not one_item or any(next(_finditer(m, sdoc, *own), None) is not None for m in r.modality.values()):
            return own
        return sdoc.reading_span(pos)
    for base in ("prior_trial_without_benefit", "functional_improvement", "no_functional_improvement"):
        if base not in out:
            continue
        ev = []
        if term is not None:
            for f, a, b in out[base].evidence:
                if next(_finditer(term, sdoc, *span(a)), None) is not None:
                    ev.append((f, a, b))
        out[f"{base}_same_modality"] = Signal(bool(ev), ev)

    count, mentioned, ev = _prior_modality(sdoc, r, category, item)
    out["prior_sessions"] = Signal(count, [e for e in ev if count is not None][:3])
    out["prior_same_modality"] = Signal(bool(mentioned), ev[:3] if mentioned else [])

    # Structured fields (the registry of `imr_ml.signals.fields`).
    out.update({name: Signal(value, ev) for name, (value, ev) in read_fields(row, out, r, taxonomy).items()})
    return out

class SignalValues(Mapping):
    """A row's signal values, read through its Signals (for hints and guideline rules,
    without copying)."""

    __slots__ = ("_signals",)

    def __init__(self, signals: dict):
        self._signals = signals

    def __getitem__(self, name):
        return self._signals[name].value

    def get(self, name, default=None):
        sig = self._signals.get(name)
        return default if sig is None else sig.value

    def __iter__(self):
        return iter(self._signals)

    def __len__(self) -> int:
        return len(self._signals)


def signals_as_dict(signals: Mapping[str, Signal], texts: Mapping[str, str] | None = None) -> dict:
    """JSON-ready form: {name: {"value": ..., "evidence": [{"field","start","end","text"}]}}."""
    out = {}
    for name, sig in signals.items():
        ev = []
        for f, s, e in sig.evidence:
            d = {"field": f, "start": s, "end": e}
            if texts is not None:
                d["text"] = (texts.get(f) or "")[s:e]
            ev.append(d)
        out[name] = {"value": sig.value, "evidence": ev}
    return out
