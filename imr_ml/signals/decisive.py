"""Generic decisive facts of a medication request, read through the drug vocabulary's data.

Per-service rules do not scale: each new kind of request brings its own decisive fact. These
readers read KINDS of facts for every drug the vocabulary knows, from data in
`features/drugs.toml`, so one rule each covers every class:

* `class_contraindication`: a condition that argues against the requested drug's class or
  ingredient is documented (`contraindications` of a `[class.*]` or a `[[drug]]` name signals
  of `signals.toml`; their negation and history scope are the signals' own);
* `same_class_duplicate`: the summary's current medications hold another ingredient of the
  requested drug's class (`duplicate_signal` of a `[class.*]` names the signal of current use of
  a drug of the class; a span naming the requested ingredient itself, or no ingredient, is not a
  duplicate, nor is a drug on the skin beside one by mouth: a Flector patch with oral ibuprofen
  is a question for the topical rules).

Both are structured fields (`imr_ml.signals.fields`), computed once per row from signals
already found.
"""

from __future__ import annotations

from typing import Any

from imr_ml.knowledge.medication import read_medication
from imr_ml.knowledge.vocabulary import load_vocabulary
from imr_ml.schema import as_text

Evidence = list[tuple[str, int, int]]
_ON_SKIN = ("topical", "transdermal")


def _fired(signals: Any, name: str) -> Evidence:
    found = signals.get(name)
    return list(found.evidence) if found is not None and found.value else []


def read_class_contraindication(ctx: Any) -> tuple[bool, Evidence]:
    """Whether a documented condition argues against the requested drug's class or ingredient, read
    from `ctx` (a `imr_ml.signals.fields.FieldContext`: the row and its signals so far): (True when a
    signal named by a `contraindications` list of the item's classes or ingredients fired, the
    evidence of the first that did).
    """
    vocab = load_vocabulary()
    classes = ctx.signals["item_drug_classes"].value or []
    ingredients = ctx.signals["item_ingredients"].value or []
    names = [s for c in classes if c in vocab.classes for s in vocab.classes[c].contraindications]
    names += [s for i in ingredients if i in vocab.drugs for s in vocab.drugs[i].contraindications]
    for name in dict.fromkeys(names):
        evidence = _fired(ctx.signals, name)
        if evidence:
            return True, evidence
    return False, []


def read_same_class_duplicate(ctx: Any) -> tuple[bool, Evidence]:
    """Whether another ingredient of the requested drug's class is taken now, read from `ctx` (a
    `imr_ml.signals.fields.FieldContext`: the row and its signals so far): (True when a span of the
    class's `duplicate_signal` names an ingredient of the class other than the item's, that span as
    evidence).
    """
    vocab = load_vocabulary()
    klass = vocab.classes.get(ctx.signals["item_drug_class"].value or "")
    if klass is None or not klass.duplicate_signal or ctx.signals["item_route"].value in _ON_SKIN:
        return False, []
    own = set(ctx.signals["item_ingredients"].value or [])
    summary = as_text(ctx.row.get("summary"))
    for field, start, end in _fired(ctx.signals, klass.duplicate_signal):
        med = read_medication(summary[start:end]) if field == "summary" else None
        if med is None or med.route in _ON_SKIN:
            continue
        others = [i for i in med.ingredients if i not in own and i in vocab.drugs
                  and klass.name in vocab.drugs[i].classes]
        if others:
            return True, [(field, start, end)]
    return False, []
