"""The structured fields: one registry entry per field, read by every stage that needs it.

A structured field is a fact a typed request can state as well as a letter (a date, a
quantity, the cited guideline, the other disputed items): not a NegEx text rule. Each
`FieldSpec` in `FIELDS` says, in one place, how the field is read from a row (`read`), which
signal holds its value and evidence (`signal`), its feature name(s) and numeric transform
(`numeric`, or `levels` for a one-hot block) and a plain label. Extraction
(`read_fields`), the feature layout (`imr_ml.featurize`), scoring's evidence
(`evidence_signal`) and the table in `features/README.md` (`readme_table`) all follow it,
so a new structured field is one entry here.

The fields read compiled rules (`imr_ml.signals.rules.load_rules`) but never load them:
this module sits below the extraction that calls it; the value parsers are in
`imr_ml.signals.readers`.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, NamedTuple

from imr_ml.dates import as_date
from imr_ml.knowledge.taxonomy import categorize
from imr_ml.schema import ITEM_SEPARATOR, as_text, is_missing
from imr_ml.signals.decisive import read_class_contraindication, read_same_class_duplicate
from imr_ml.signals.dose import DOSE_FIELDS
from imr_ml.signals.readers import (
    POST_SURGICAL_DAYS,
    Evidence,
    category_prior,
    cited_guidelines,
    reference_date,
    surgery_days,
)
from imr_ml.signals.surgeries import named_surgery

# Numbers are centred on a typical claim (3 years from injury to the UR denial, age 45): a
# request that does not state one is that typical claim, and the feature is 0 either way.
TYPICAL_YEARS, TYPICAL_AGE = 3.0, 45.0
TYPICAL_VISITS = math.log1p(6)  # the guideline's usual initial trial


class FieldContext(NamedTuple):
    """What a field is read from: one row and what extraction already knows of it.

    Parameters
    ----------
    row : Mapping
        The row's PRE_DECISION fields.
    signals : Mapping
        The signals found so far (`{name: Signal}`: text rules, item, summary).
    rules : SignalRules
        The compiled signal rules (`imr_ml.signals.rules.load_rules`).
    taxonomy : str or None
        Path of the taxonomy TOML (None: the shipped one).
    other_categories : tuple of str
        Categories of the other items disputed in the same letter.
    surgery : tuple
        (Surgery or None, evidence) of `imr_ml.signals.surgeries.named_surgery`, found once
        for the row's surgery fields.
    """

    row: Mapping
    signals: Mapping
    rules: Any
    taxonomy: str | None
    other_categories: tuple[str, ...] = ()
    surgery: tuple = (None, ())


@dataclass(frozen=True)
class FieldSpec:
    """One structured field: how it is read, its feature(s), its evidence, its label.

    Parameters
    ----------
    name : str
        Feature name: `field__<name>`, or `field__<name>__<level>` for a one-hot block.
    signal : str
        The signal holding the field's value and evidence (what explanations quote).
    label : str
        What the field means, in plain words (the README table).
    source : str
        Where the value comes from (the README table).
    read : callable or None
        `read(context) -> (value, evidence)` when this module extracts the signal; None
        when the text analysis already provides it.
    numeric : callable or None
        `numeric(value, context) -> float`, the feature value of a scalar field.
    levels : callable or None
        `levels(rules) -> names` of a one-hot field's columns (set when the value lists
        them). Fields with neither `numeric` nor `levels` are signals without a feature.
    quote : bool
        Whether explanations quote the signal's evidence for the feature.
    """

    name: str
    signal: str
    label: str
    source: str
    read: Callable[[FieldContext], tuple[Any, Evidence]] | None = None
    numeric: Callable[[Any, FieldContext], float] | None = None
    levels: Callable[[Any], tuple[str, ...]] | None = None
    quote: bool = True


# --------------------------------------------------------------------------------------
# Reading the fields
# --------------------------------------------------------------------------------------


def _read_retrospective(ctx: FieldContext) -> tuple[bool, Evidence]:
    """The row's flag, or the item's own wording ("retrospective", "DOS")."""
    flag = ctx.row.get("retrospective")
    wording = ctx.signals["retrospective"]
    value = (not is_missing(flag) and bool(flag)) or wording.value
    return value, list(wording.evidence) if value else []


def _read_partial(ctx: FieldContext) -> tuple[bool, Evidence]:
    """An original request or an authorised portion is stated."""
    orig, auth = as_text(ctx.row.get("original_request")), as_text(ctx.row.get("authorized_portion"))
    ev = [(f, 0, len(t)) for f, t in (("original_request", orig), ("authorized_portion", auth)) if t.strip()]
    return bool(ev), ev


def _read_chronicity(ctx: FieldContext) -> tuple[int | None, Evidence]:
    """Days from the injury to the UR denial (None when unknown or negative)."""
    doi, urd = as_date(ctx.row.get("date_of_injury")), as_date(ctx.row.get("ur_denial_date"))
    days = (urd - doi).days if doi and urd else None
    if days is None or days < 0:
        return None, []
    return days, [(f, 0, len(str(ctx.row[f]))) for f in ("date_of_injury", "ur_denial_date")]


def _read_days_since_surgery(ctx: FieldContext) -> tuple[int | None, Evidence]:
    """Days from the latest operation the summary times ("5 days ago", "this week", "POD 3",
    "on 10-22-2016") to the UR denial date, or to the scoring date for a request without one."""
    spans = tuple((a, b) for name in ("prior_surgery", "recent_surgery") if name in ctx.signals
                  for f, a, b in ctx.signals[name].evidence if f == "summary")
    if not spans:
        return None, []
    days, ev = surgery_days(as_text(ctx.row.get("summary")), spans, reference_date(ctx.row.get("ur_denial_date")),
                            ctx.rules.engine.abbreviations, ctx.rules.engine.sentence_final)
    return days, list(ev)


def _read_guideline(ctx: FieldContext) -> tuple[list[str], Evidence]:
    tags, ev = cited_guidelines(as_text(ctx.row.get("claims_admin_guideline")), ctx.rules)
    return list(tags), list(ev)


def _other_categories(row: Mapping, taxonomy: str | None) -> tuple[str, ...]:
    """Categories of the other items disputed in the same letter."""
    others = as_text(row.get("other_items"))
    return tuple(categorize(o, taxonomy) for o in others.split(ITEM_SEPARATOR) if o.strip()) if others.strip() else ()


def _read_letter_items(ctx: FieldContext) -> tuple[int, Evidence]:
    others = as_text(ctx.row.get("other_items"))
    return 1 + len(ctx.other_categories), [("other_items", 0, len(others))] if others else []


def _surgery_in_dispute(ctx: FieldContext) -> bool:
    return "surgery" in ctx.other_categories or ctx.signals["category"].value == "surgery"


def _read_surgery(ctx: FieldContext) -> tuple[bool, Evidence]:
    others = as_text(ctx.row.get("other_items"))
    surgery = _surgery_in_dispute(ctx)
    return surgery, [("other_items", 0, len(others))] if surgery and others else []


def _read_concurrent_nsaid(ctx: FieldContext) -> tuple[bool, Evidence]:
    """An NSAID is taken now (the summary says so) or is disputed in the same letter: what a
    stomach protectant would protect against."""
    said = ctx.signals.get("nsaid_use")
    if said is not None and said.value:
        return True, list(said.evidence)
    others = as_text(ctx.row.get("other_items"))
    disputed = "nsaid" in ctx.other_categories
    return disputed, [("other_items", 0, len(others))] if disputed else []


def _read_periop_alone(ctx: FieldContext) -> tuple[bool, Evidence]:
    """A perioperative service whose surgery is not itself in dispute (UR approved it): it
    is judged on its own merits, and mostly allowed."""
    item = as_text(ctx.row.get("item"))
    alone = ctx.signals["category"].value == "perioperative" and not _surgery_in_dispute(ctx)
    return alone, [("item", 0, len(item))] if alone else []


def _surgery_of(row: Mapping, signals: Mapping, rules: Any) -> tuple:
    """The row's surgery (`named_surgery`), read once for its six fields."""
    found = signals.get("summary_surgery")
    in_summary = (found.value, tuple(found.evidence[0][1:])) if found and found.evidence else (None, None)
    return named_surgery(as_text(row.get("item")), as_text(row.get("other_items")), in_summary,
                         getattr(rules, "surgeries", ()))


def _read_surgery_named(ctx: FieldContext) -> tuple[str, Evidence]:
    """The `[surgery]` row's name, "" when the request names none."""
    surgery, ev = ctx.surgery
    return (surgery.name, list(ev)) if surgery else ("", [])


def _read_surgery_complexity(ctx: FieldContext) -> tuple[str, Evidence]:
    """"complex" or "simple", "" when unknown."""
    surgery, ev = ctx.surgery
    return (surgery.complexity, list(ev)) if surgery and surgery.complexity else ("", [])


def _read_postsurgical_initial(ctx: FieldContext) -> tuple[int | None, Evidence]:
    """Half the MTUS general post-surgical course of the surgery (9792.24.3: the initial course)."""
    surgery, ev = ctx.surgery
    if surgery is None or surgery.postsurgical_visits is None:
        return None, []
    return max(1, surgery.postsurgical_visits // 2), list(ev)


def _read_exceeds_postsurgical(ctx: FieldContext, general: bool = False) -> tuple[bool, Evidence]:
    """More visits requested than the initial (`general`: the whole) post-surgical course of the surgery."""
    initial, ev = _read_postsurgical_initial(ctx)
    limit = ctx.surgery[0].postsurgical_visits if general and initial is not None else initial
    qty = ctx.signals["requested_quantity"]
    visits = ctx.signals["category"].value in ctx.rules.trial_max or ctx.signals["category"].value == "perioperative"
    over = visits and limit is not None and qty.value is not None and qty.value > limit
    return over, (list(qty.evidence) + ev) if over else []


def _read_los_target(ctx: FieldContext) -> tuple[int | None, Evidence]:
    surgery, ev = ctx.surgery
    return (surgery.los_days, list(ev)) if surgery and surgery.los_days is not None else (None, [])


def _read_exceeds_los(ctx: FieldContext) -> tuple[bool, Evidence]:
    """A hospital stay longer than ODG's target for the surgery (any stay after an outpatient one)."""
    target, ev = _read_los_target(ctx)
    item = as_text(ctx.row.get("item"))
    stay = ctx.rules.item.get("hospital_stay")
    if target is None or stay is None or stay.search(item) is None:
        return False, []
    days = ctx.signals["requested_quantity"].value
    over = (days or 1) > target
    return over, ([("item", 0, len(item))] + ev) if over else []


# --------------------------------------------------------------------------------------
# Feature values
# --------------------------------------------------------------------------------------


def _flag(value, ctx: FieldContext) -> float:
    return float(bool(value))


def _visits(q, ctx: FieldContext) -> float:
    """log1p(visits) - log1p(6) for visit-based categories; a drug's "#90" is a pill count: 0."""
    visits = ctx.signals["category"].value in ctx.rules.trial_max
    return math.log1p(q) - TYPICAL_VISITS if q is not None and visits else 0.0


def _log_count(n, ctx: FieldContext) -> float:
    return math.log1p(n) if n is not None else 0.0


def _decades_since_injury(days, ctx: FieldContext) -> float:
    """(years from injury to UR denial, capped at 30, - 3) / 10; unknown: 0."""
    return (min(days / 365.25, 30.0) - TYPICAL_YEARS) / 10 if days is not None else 0.0


def _age_decades(age, ctx: FieldContext) -> float:
    return (age - TYPICAL_AGE) / 10.0 if age is not None else 0.0


def _prior_of_category(category: str, ctx: FieldContext) -> float:
    return category_prior(category, ctx.taxonomy)


def _guideline_levels(rules: Any) -> tuple[str, ...]:
    return (*rules.guideline, "other")


def _region_levels(rules: Any) -> tuple[str, ...]:
    return tuple(rules.region)


# --- The registry --------------------------------------------------------------------

# Order is meaningful: extraction runs the `read` entries in this order, and the feature
# layout lists the scalar fields in this order, then the one-hot blocks in this order.
FIELDS: tuple[FieldSpec, ...] = (
    FieldSpec("retrospective", "retrospective", "the request is retrospective",
              "the row's flag, or \"retrospective\" / \"DOS\" in the item", _read_retrospective, _flag),
    FieldSpec("partial_authorization", "partial_authorization", "UR authorised part of the request",
              "an original request / authorised portion is present", _read_partial, _flag),
    FieldSpec("requested_quantity", "requested_quantity", "visits requested, log1p(n) − log1p(6); pills: 0",
              "item: \"2 times a week for 6 weeks\" = 12, \"2x6\", \"x8\", \"#60\" (`[item] quantity`)",
              numeric=_visits),
    FieldSpec("exceeds_trial", "exceeds_trial", "quantity above the category's `[trial_max]`",
              "item quantity and `[trial_max]`", numeric=_flag),
    FieldSpec("prior_sessions", "prior_sessions", "sessions of the item's modality already had, log1p(n)",
              "summary: \"finished 4 of 8 acupuncture visits\"", numeric=_log_count),
    FieldSpec("prior_same_modality", "prior_same_modality", "the item's modality or drug was already used",
              "summary, `[modality]` and the item's drug name", numeric=_flag),
    FieldSpec("chronicity_decades", "chronicity_days", "(years injury → UR denial, capped at 30, − 3) / 10",
              "date of injury → UR denial date", _read_chronicity, _decades_since_injury),
    FieldSpec("age_decades", "age", "(age − 45) / 10", "summary: \"a 34-year-old\"", numeric=_age_decades),
    FieldSpec("item_additional", "item_additional", "the item asks for additional sessions", "item words (`[item]`)",
              numeric=_flag),
    FieldSpec("item_post_op", "item_post_op", "the item is post-operative", "item words (`[item]`)", numeric=_flag),
    FieldSpec("item_purchase", "item_purchase", "the item is a purchase", "item words (`[item]`)", numeric=_flag),
    FieldSpec("item_rental", "item_rental", "the item is a rental", "item words (`[item]`)", numeric=_flag),
    FieldSpec("category_prior", "category", "logit(1 − uphold_prior) of the item's category",
              "item, via `taxonomy.toml`", numeric=_prior_of_category),
    FieldSpec("ca_guideline", "ca_guideline", "guideline the claims administrator cited (one-hot)",
              "`[guideline]` tags (mtus, odg, acoem, non_mtus, not_cited, none …)", _read_guideline,
              levels=_guideline_levels),
    FieldSpec("letter_items", "letter_items", "items disputed in the letter (no feature)",
              "`other_items`", _read_letter_items),
    FieldSpec("surgery_in_dispute", "surgery_in_dispute", "a surgery is among the disputed items",
              "item and `other_items` categories", _read_surgery, _flag),
    FieldSpec("periop_surgery_not_in_dispute", "periop_surgery_not_in_dispute",
              "a perioperative service whose surgery is not disputed", "item and `other_items` categories",
              _read_periop_alone, _flag),
    FieldSpec("item_region", "item_regions", "body regions the item names (one-hot)",
              "item, `[region]` and the region abbreviations of `abbreviations.toml`", levels=_region_levels),
    # The item's drug, read through `drugs.toml` (`imr_ml.signals.medication`): rules read them.
    FieldSpec("item_names_drug", "item_names_drug", "the item names a drug of the vocabulary",
              "item, `drugs.toml` names"),
    FieldSpec("item_ingredients", "item_ingredients",
              "the item's canonical ingredients (\"Norco\": hydrocodone, acetaminophen)", "item, `drugs.toml` names"),
    FieldSpec("item_drug_classes", "item_drug_classes", "the classes of those ingredients", "item, `drugs.toml`"),
    FieldSpec("item_drug_class", "item_drug_class",
              "the product's class (the first of `drugs.toml`'s classes among them)", "item, `drugs.toml`"),
    FieldSpec("item_route", "item_route", "oral, topical, transdermal, injection, intranasal, transmucosal, rectal",
              "item form words (`[form.*]`), a product's route, the drug's usual route"),
    FieldSpec("item_form", "item_form", "patch, cream, gel, extended_release, tablet ...", "item form words"),
    FieldSpec("item_compounded", "item_compounded", "a compounded product",
              "\"compound\", a compounding kit, an oral drug on the skin"),
    FieldSpec("item_topical_status", "item_topical_status", "worst MTUS topical status of the ingredients on the skin",
              "`drugs.toml` `topical`, `topical_form`"),
    FieldSpec("item_topical_not_recommended", "item_topical_not_recommended",
              "ingredients the guidelines do not recommend on the skin", "`drugs.toml` `topical`"),
    FieldSpec("item_services", "item_services", "services the item names (\"ESI\": epidural)",
              "item, `abbreviations.toml` [service]"),
    FieldSpec("concurrent_nsaid", "concurrent_nsaid", "an NSAID is taken or disputed in the same letter",
              "summary (`nsaid_use`) or `other_items`", _read_concurrent_nsaid),
    FieldSpec("class_contraindication", "class_contraindication", "a condition against the drug's class is documented",
              "summary signals named by `drugs.toml` `contraindications`", read_class_contraindication, _flag),
    FieldSpec("same_class_duplicate", "same_class_duplicate", "another drug of the item's class is taken now",
              "summary, the class's `duplicate_signal`", read_same_class_duplicate, _flag),
    FieldSpec("medication_relief", "medication_relief", "pain relief (%) stated with the item's drug or medications",
              "summary: \"50% relief with Lyrica\", \"pain 8/10 -> 4/10 with meds\""),
    FieldSpec("morphine_equivalent", "morphine_equivalent", "morphine-equivalent dose, mg/day: the larger of these two",
              "summary: \"MED 120\", \"95 MME\" (not a guideline ceiling quoted); `item_morphine_equivalent`"),
    *(FieldSpec(name, name, label, source) for name, label, source in DOSE_FIELDS),  # the item's sig
    FieldSpec("service_indication_documented", "service_indication_documented", "an indication of the service's "
              "criterion is documented (no feature)", "summary, `criteria.toml` `indication` (`signals.criteria`)"),
    FieldSpec("service_indication_contradicted", "service_indication_contradicted", "it is denied, or a finding "
              "against the service is (no feature)", "summary, `criteria.toml` `against`, a negated `indication`"),
    FieldSpec("surgery_named", "surgery_named", "the surgery the request is about (no feature)",
              "item, then `other_items`, then summary, `[surgery]`", _read_surgery_named),
    FieldSpec("surgery_complexity", "surgery_complexity", "\"complex\" or \"simple\" (ODG, surgical assistant; no "
              "feature)", "`[surgery]` `complex`", _read_surgery_complexity),
    FieldSpec("postsurgical_initial_visits", "postsurgical_initial_visits",
              "half the MTUS general post-surgical course of that surgery (no feature)",
              "`[surgery]` `postsurgical_visits`", _read_postsurgical_initial),
    FieldSpec("exceeds_postsurgical_course", "exceeds_postsurgical_course",
              "more visits requested than the initial post-surgical course (no feature)",
              "item quantity and `postsurgical_initial_visits`", _read_exceeds_postsurgical),
    FieldSpec("exceeds_postsurgical_general_course", "exceeds_postsurgical_general_course",
              "more visits requested than the whole general post-surgical course (no feature)",
              "item quantity and `[surgery]` `postsurgical_visits`", lambda ctx: _read_exceeds_postsurgical(ctx, True)),
    FieldSpec("los_target_days", "los_target_days", "ODG's best-practice hospital stay for that surgery (no feature)",
              "`[surgery]` `los_days`", _read_los_target),
    FieldSpec("exceeds_los_target", "exceeds_los_target",
              "an inpatient stay longer than `los_target_days` (no feature)",
              "item (`[item] hospital_stay`), its quantity and `los_target_days`", _read_exceeds_los),
    FieldSpec("days_since_surgery", "days_since_surgery",
              "days from the latest timed operation to the UR denial date, or to the scoring date without one "
              "(no feature; rules may use it, e.g. `\">7\"`)",
              "summary: \"TKA 5 days ago\", \"done this week\", \"POD 3\", \"s/p fusion 10/2016\"",
              _read_days_since_surgery),
)
_BY_NAME = {f.name: f for f in FIELDS}


# --- What the stages read ------------------------------------------------------------


def read_fields(row: Mapping, signals: Mapping, rules: Any, taxonomy: str | None = None) -> dict:
    """The structured signals of one row, as `{signal: (value, evidence)}`.

    Also the timed reading of `recent_surgery` (an operation dated or timed within the
    post-surgical period, `days_since_surgery`) when the text rule did not fire.

    Parameters
    ----------
    row : Mapping
        The row's PRE_DECISION fields.
    signals : Mapping
        `{name: Signal}` found so far (needs `category`, `retrospective` and, when the rules
        define it, `recent_surgery`).
    rules : SignalRules
        The compiled signal rules (`imr_ml.signals.rules.load_rules`).
    taxonomy : str or None
        Path of the taxonomy TOML (None: the shipped one).

    Returns
    -------
    dict
        `{signal name: (value, evidence)}` in registry order.
    """
    ctx = FieldContext(row, signals, rules, taxonomy, _other_categories(row, taxonomy),
                       _surgery_of(row, signals, rules))
    out = {spec.signal: spec.read(ctx) for spec in FIELDS if spec.read is not None}
    days, timed = out.get("days_since_surgery", (None, []))
    if "recent_surgery" in signals and not signals["recent_surgery"].value and days is not None \
            and days <= POST_SURGICAL_DAYS:
        out["recent_surgery"] = (True, list(timed))  # the memo's list stays unshared
    return out


def feature_names(rules: Any) -> list[str]:
    """The `field__*` feature names: the scalar fields, then the one-hot blocks.

    Parameters
    ----------
    rules : SignalRules
        The compiled signal rules (they name the guideline tags and regions).

    Returns
    -------
    list of str
        Feature names in column order.
    """
    names = [f"field__{f.name}" for f in FIELDS if f.numeric is not None]
    return names + [f"field__{f.name}__{v}" for f in FIELDS if f.levels is not None for v in f.levels(rules)]


def feature_values(signals: Mapping, rules: Any, taxonomy: str | None = None) -> dict[str, float]:
    """One row's `field__*` values, from its signals.

    Parameters
    ----------
    signals : Mapping
        `{name: Signal}` of the row (`extract_signals`).
    rules, taxonomy
        As in `read_fields`.

    Returns
    -------
    dict
        `{feature name: value}`: every scalar field, and 1.0 for each one-hot level the row
        has (levels outside the layout are left out).
    """
    ctx = FieldContext({}, signals, rules, taxonomy)
    out = {f"field__{f.name}": f.numeric(signals[f.signal].value, ctx) for f in FIELDS if f.numeric is not None}
    for f in FIELDS:
        if f.levels is not None:
            known = set(f.levels(rules))
            out.update({f"field__{f.name}__{v}": 1.0 for v in signals[f.signal].value if v in known})
    return out


def evidence_signal(name: str) -> str | None:
    """The signal whose evidence explains the field `name`.

    Parameters
    ----------
    name : str
        A field's name (the part after `field__`).

    Returns
    -------
    str or None
        The signal name; None when the field is not quoted or not in the registry.
    """
    spec = _BY_NAME.get(name)
    return spec.signal if spec is not None and spec.quote else None


def readme_table() -> str:
    """The Markdown table of the structured fields in `features/README.md`.

    Returns
    -------
    str
        The table, one row per registry entry, ending in a newline.
    """
    lines = ["| signal | from | feature | value |", "|---|---|---|---|"]
    for f in FIELDS:
        feature = (f"`field__{f.name}`" if f.numeric is not None
                   else f"`field__{f.name}__…`" if f.levels is not None else "—")
        lines.append(f"| `{f.signal}` | {f.source} | {feature} | {f.label} |")
    return "\n".join(lines) + "\n"
