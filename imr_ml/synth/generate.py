"""Synthetic IMR final-determination letters with a KNOWN truth (`imr-ml synth`).

Real letters cannot ship with the project, so the test suite, the demo and the benchmarks
use letters generated here. Every sentence is written for this project (phrase bank:
`features/synth_phrases.toml`); real letters were only used to learn the *layout*.

Three layouts are emitted (default mix 80% "2016", 10% "2013", 10% "2014"); see
`imr_ml/synth/render.py`.

Data-generating process
-----------------------
Letter ``i`` of a run with seed ``s`` is drawn from its own ``random.Random`` (seeded from
``s`` and ``i``), so any range of letters can be generated independently and a letter does
not depend on how many others are generated.

Per letter (patient) the latent variables are: age (22-68), sex, body region and mechanism,
chronicity (days from injury to the UR denial; ~15% under a year, otherwise log-normal with
a median of ~3 years), ``working`` (~35%, less likely for old claims),
``permanent_and_stationary`` (more likely for old claims), ``opioid_use`` (~45%; forced to 1
when an opioid is disputed), ``prior_surgery`` (~25%), whether the claims administrator cited
no guideline (``ca_no_citation``, ~10% of letters, plus ~3% of single items).

Per disputed item (1 item in ~60% of letters, otherwise 2-8, categories drawn without
replacement from the taxonomy in `features/taxonomy.toml`): the response to earlier use of
the same modality (``item_state``: none / ``prior_trial_without_benefit`` /
``functional_improvement`` / ``no_functional_improvement``; diagnostic categories are always
"none"), ``ur_modified`` (~15%; rendered as a partial authorisation heading in about half of
the 2016 letters), ``retrospective`` (~10%), and for visit-based categories the requested
number of visits (``quantity_above_guideline`` when it exceeds the 6-visit trial).

The true log-odds that the denial is overturned is

    logit = INTERCEPT + logit(1 - uphold_prior[category]) + sum(EFFECTS[k] * x[k]) + N(0, NOISE_SD)

with the coefficients in `EFFECTS` below (also written to ``DIR/dgp.json``; every key is
also a column of ``truth.jsonl``). ``age_decades`` and ``female`` are null controls with a
coefficient of 0. ``label ~ Bernoulli(sigmoid(logit))``; INTERCEPT is tuned so that about 10%
of items are overturned. The case summary expresses every latent signal in text (several
phrasings, affirmed and negated forms, hedges, plans that are not history, and distractor
sentences about other, non-disputed modalities); the decision rationale argues the drawn label.
"""

from __future__ import annotations

import json
import math
import os
import random
import time
from bisect import bisect_right
from collections.abc import Iterator
from datetime import date, timedelta
from functools import lru_cache
from pathlib import Path

# ------------------------------------------------------------------ the planted effects
INTERCEPT = 0.05
NOISE_SD = 0.5
EFFECTS: dict[str, float] = {
    "prior_trial_without_benefit": -1.2,
    "functional_improvement": 1.4,
    "no_functional_improvement": -0.8,
    "permanent_and_stationary": -0.4,
    "opioid_use": -0.3,
    "opioid_item_without_fi": -0.8,  # opioid item and no documented functional improvement
    "prior_surgery_surgical_item": 0.4,  # prior surgery AND a surgical/perioperative item
    "ur_modified": 0.5,
    "working": 0.6,
    "retrospective": 0.3,
    "chronicity_years": -0.15,  # per year from injury to UR denial
    "quantity_above_guideline": -0.7,  # > 6 visits of acupuncture/chiro/PT/passive/psych
    "ca_no_citation": 0.4,
    "age_decades": 0.0,  # null control: (age - 45) / 10
    "female": 0.0,  # null control
}
GUIDELINE_TRIAL_VISITS = 6
DEFAULT_LAYOUT_MIX = (("2016", 0.8), ("2013", 0.1), ("2014", 0.1))

CATEGORY_WEIGHTS = {
    "opioid": 10, "physical_therapy": 10, "imaging_mri": 8, "topical": 8, "injection": 7,
    "acupuncture": 6, "muscle_relaxant": 6, "dme": 6, "other_medication": 6, "evaluation": 6,
    "chiropractic": 5, "electrodiagnostic": 5, "surgery": 4, "gi_protectant": 4,
    "lab_testing": 4, "perioperative": 3, "nsaid": 3, "psych": 3, "program": 3,
    "passive_modality": 3, "imaging_other": 2, "medical_food": 2, "other": 1,
}
MEDICATION = {"opioid", "muscle_relaxant", "nsaid", "gi_protectant", "other_medication"}
THERAPY = {"acupuncture", "chiropractic", "physical_therapy", "passive_modality", "psych"}
SURGICAL = {"surgery", "perioperative"}
DIAGNOSTIC = {"imaging_mri", "imaging_other", "electrodiagnostic", "lab_testing", "evaluation",
              "surgery", "perioperative", "other"}
# (none, prior_trial_without_benefit, functional_improvement, no_functional_improvement)
STATE_PROBS = {
    "opioid": (0.10, 0.10, 0.30, 0.50),
    "medication": (0.30, 0.10, 0.25, 0.35),
    "therapy": (0.40, 0.25, 0.15, 0.20),
    "injection": (0.50, 0.20, 0.20, 0.10),
    "other": (0.40, 0.20, 0.15, 0.25),
}
STATES = ("none", "prior_trial_without_benefit", "functional_improvement", "no_functional_improvement")

MONTHS = ("January", "February", "March", "April", "May", "June", "July", "August",
          "September", "October", "November", "December")
NUMBER_WORDS = {2: "two", 3: "three", 4: "four", 5: "five", 6: "six", 8: "eight", 9: "nine",
                10: "ten", 12: "twelve", 16: "sixteen", 18: "eighteen", 24: "twenty-four"}
VISIT_QTYS = (3, 4, 6, 6, 6, 8, 8, 10, 12, 12, 12, 16, 18, 24)


class _FastRandom(random.Random):
    """random.Random with a cheaper integer draw (choice/randint/shuffle/sample all use it).

    int(random() * n) has a bias below 2**-40 for the small n used here; it is about twice
    as fast as the bit-rejection method, which matters at thousands of letters a second."""

    def _randbelow(self, n: int) -> int:  # type: ignore[override]
        return int(self.random() * n)

    def choice(self, seq):
        return seq[int(self.random() * len(seq))]

    def randint(self, a: int, b: int) -> int:
        return a + int(self.random() * (b - a + 1))

    def randrange(self, start: int, stop: int | None = None, step: int = 1) -> int:
        if stop is None:
            return int(self.random() * start)
        return start + step * int(self.random() * ((stop - start + step - 1) // step))


def _sigmoid(x: float) -> float:
    return 1.0 / (1.0 + math.exp(-x))


def _logit(p: float) -> float:
    return math.log(p / (1.0 - p))


def _cap(s: str) -> str:
    return s[:1].upper() + s[1:]


def _join_and(parts: list[str]) -> str:
    if len(parts) == 1:
        return parts[0]
    if len(parts) == 2:
        return f"{parts[0]} and {parts[1]}"
    return ", ".join(parts[:-1]) + ", and " + parts[-1]


@lru_cache(maxsize=1)
def phrases() -> dict:
    """The generator's own phrase bank (never shared with the signal extractor)."""
    from imr_ml.knowledge.taxonomy import load_toml

    return load_toml("synth_phrases.toml")


@lru_cache(maxsize=1)
def _taxonomy() -> dict:
    from imr_ml.knowledge.taxonomy import load_taxonomy

    return {c.name: c for c in load_taxonomy()}


@lru_cache(maxsize=1)
def _tables():
    """Pre-computed lookups: category list/weights, category logits, region table."""
    tax = _taxonomy()
    ph = phrases()
    cats = [c for c in CATEGORY_WEIGHTS if c in tax and c in ph["items"]]
    cum, acc = [], 0.0
    for c in cats:
        acc += CATEGORY_WEIGHTS[c]
        cum.append(acc)
    cat_logit = {c: _logit(1.0 - tax[c].uphold_prior) for c in cats}
    return cats, cum, cat_logit


def category_logits() -> dict[str, float]:
    return dict(_tables()[2])


def dgp() -> dict:
    """The data-generating process as data (written to DIR/dgp.json)."""
    return {
        "effects": dict(EFFECTS),
        "intercept": INTERCEPT,
        "noise_sd": NOISE_SD,
        "category_logit": category_logits(),
        "guideline_trial_visits": GUIDELINE_TRIAL_VISITS,
        "layout_mix": dict(DEFAULT_LAYOUT_MIX),
        "formula": "logit = intercept + category_logit[category] + sum(effects[k] * truth[k]) + noise",
    }


# ------------------------------------------------------------------ small renderers
def fmt_date(d: date, style: int) -> str:
    if style == 0:
        return f"{MONTHS[d.month - 1]} {d.day}, {d.year}"
    if style == 1:
        return f"{d.month:02d}/{d.day:02d}/{d.year}"
    if style == 2:
        return f"{d.month}/{d.day}/{d.year % 100:02d}"
    return f"{d.month:02d}-{d.day:02d}-{d.year}"


def _visits(qty: int, style: int) -> str:
    """A quantity of visits, phrased one of several ways (style fixed per item)."""
    if style == 0:
        for per_week in (2, 3, 1):
            if qty % per_week == 0 and qty // per_week <= 8:
                wk = qty // per_week
                return f"{per_week} times a week for {wk} week{'s' if wk > 1 else ''}"
        style = 1
    if style == 1:
        return f"x{qty}"
    if style == 2:
        return f"{qty} sessions"
    if style == 3:
        return f"({qty} sessions)"
    if style == 4 and qty in NUMBER_WORDS:
        return f"{NUMBER_WORDS[qty]} visits"
    return f"{qty} visits"


class _Ctx(dict):
    """format_map context that leaves unknown placeholders visible instead of raising."""

    def __missing__(self, key):  # pragma: no cover - a bug in the phrase bank
        return "{" + key + "}"


# ------------------------------------------------------------------ the patient and items
def _draw_case_number(i: int, seed: int, yy: int) -> str:
    digits = (i * 7_919_111 + seed * 1_000_003 + 12_345) % 10_000_000
    return f"CM{yy:02d}-{digits:07d}"


def _pick_layout(rng: random.Random, mix) -> str:
    r = rng.random()
    acc = 0.0
    for name, w in mix:
        acc += w
        if r < acc:
            return name
    return mix[-1][0]


def _state_group(cat: str) -> str:
    if cat == "opioid":
        return "opioid"
    if cat in MEDICATION:
        return "medication"
    if cat in THERAPY:
        return "therapy"
    if cat == "injection":
        return "injection"
    return "other"


def _draw_item(rng: random.Random, cat: str, ctx: dict, region: dict, ph: dict) -> dict:
    """One disputed item: its name, quantity, the modality word and how to re-render it."""
    spec = ph["items"][cat]
    it: dict = {"category": cat, "quantity": None, "quantity_above_guideline": 0}
    if "drugs" in spec:
        drug = rng.choice(spec["drugs"])
        qty = rng.choice((30, 60, 60, 90, 90, 120))
        it["base"] = drug
        it["quantity"] = qty
        it["render"] = lambda q, d=drug: f"{d} #{q}"
        it["name"] = it["render"](qty)
        it["mod"] = drug.split()[0]
        it["kind"] = "med"
        return it
    tpl = rng.choice(spec["templates"])
    sub = _Ctx(ctx)
    sub["site"] = rng.choice(region["site"]).format_map(ctx)
    if "{injection}" in tpl:
        sub["injection"] = rng.choice(region["injection_item"]).format_map(ctx)
    if "{surgery}" in tpl:
        sub["surgery"] = rng.choice(region["surgery_item"]).format_map(ctx)
    if "{emg}" in tpl:
        sub["emg"] = rng.choice(region["emg"]).format_map(ctx)
    it["mod"] = rng.choice(spec["mod"]) if "mod" in spec else None
    if "{visits}" in tpl and cat != "perioperative":
        # the modality is what the item names ("Paraffin wax bath {visits}" -> "paraffin wax bath")
        head = tpl.split("{", 1)[0].strip()
        for cut in (" for", " to"):
            if head.endswith(cut):
                head = head[: -len(cut)]
        head = head.removeprefix("Additional ")
        if head and (it["mod"] is None or cat not in ("acupuncture", "chiropractic") or rng.random() < 0.6):
            it["mod"] = head[:1].lower() + head[1:]
    if "{visits}" in tpl:
        style = rng.randrange(6)
        qty = rng.choice(VISIT_QTYS)
        it["quantity"] = qty
        if spec.get("visit_based"):
            it["quantity_above_guideline"] = int(qty > GUIDELINE_TRIAL_VISITS)

        def render(q, tpl=tpl, sub=sub, style=style):
            s2 = _Ctx(sub)
            s2["visits"] = _visits(q, style)
            return tpl.format_map(s2)

        it["render"] = render
        it["name"] = render(qty)
        it["kind"] = "visits"
    else:
        it["name"] = tpl.format_map(sub)
        it["render"] = None
        it["kind"] = "plain"
    return it


def _draw_letter(i: int, seed: int, layout_mix=DEFAULT_LAYOUT_MIX) -> dict:
    """All latent facts of letter i (no text yet)."""
    rng = _FastRandom(seed * 4_294_967_296 + i)
    ph = phrases()
    cats, cum, cat_logit = _tables()
    layout = _pick_layout(rng, layout_mix)

    # dates: decision date by layout era, then backwards
    if layout == "2013":
        start, span = date(2013, 7, 15), 160
    elif layout == "2014":
        start, span = date(2014, 1, 15), 700
    else:
        start, span = date(2016, 6, 1), 380
    decision = start + timedelta(days=rng.randrange(span))
    assigned = decision - timedelta(days=rng.randint(18, 45))
    received = assigned - timedelta(days=rng.randint(2, 12))
    ur_date = received - timedelta(days=rng.randint(4, 30))
    if rng.random() < 0.15:
        chron_days = rng.randint(30, 364)
    else:
        chron_days = int(min(20.0, max(1.0, rng.lognormvariate(math.log(3.0), 0.7))) * 365.25)
    doi = ur_date - timedelta(days=chron_days)
    chron_years = chron_days / 365.25
    age = rng.randint(max(22, int(chron_years) + 19), 68)
    female = int(rng.random() < 0.45)
    yy = assigned.year % 100 if layout != "2013" else 13
    case_number = _draw_case_number(i, seed, yy)

    region = rng.choice(ph["region"])
    side = rng.choice(("right", "left"))
    working = int(rng.random() < (0.38 if chron_years < 5 else 0.22))
    ps = int(rng.random() < min(0.55, 0.1 + 0.06 * chron_years))
    prior_surgery = int(rng.random() < 0.25)
    ca_letter = rng.random() < 0.10

    # items
    if rng.random() < 0.6:
        n_items = 1
    else:
        n_items = min(8, 2 + int(rng.expovariate(0.7)))
    chosen: list[str] = []
    while len(chosen) < n_items:
        c = cats[bisect_right(cum, rng.random() * cum[-1])]
        if c not in chosen:
            chosen.append(c)
    opioid_use = int(rng.random() < 0.45 or "opioid" in chosen)

    ctx = _Ctx(
        side=side, Side=_cap(side),
        he="she" if female else "he", He="She" if female else "He",
        his="her" if female else "his", His="Her" if female else "His",
        him="her" if female else "him",
    )
    pt = rng.choice(ph["people"])
    ctx["pt"], ctx["Pt"] = pt, _cap(pt)

    items = []
    for cat in chosen:
        it = _draw_item(rng, cat, ctx, region, ph)
        if cat in DIAGNOSTIC:
            state = "none"
        else:
            probs = STATE_PROBS[_state_group(cat)]
            state = rng.choices(STATES, probs)[0]
        it["item_state"] = state
        it["ur_modified"] = int(rng.random() < 0.15)
        it["retrospective"] = int(rng.random() < 0.10)
        it["ca_no_citation"] = int(ca_letter or rng.random() < 0.03)
        x = {
            "prior_trial_without_benefit": int(state == "prior_trial_without_benefit"),
            "functional_improvement": int(state == "functional_improvement"),
            "no_functional_improvement": int(state == "no_functional_improvement"),
            "permanent_and_stationary": ps,
            "opioid_use": opioid_use,
            "opioid_item_without_fi": int(cat == "opioid" and state != "functional_improvement"),
            "prior_surgery_surgical_item": int(prior_surgery and cat in SURGICAL),
            "ur_modified": it["ur_modified"],
            "working": working,
            "retrospective": it["retrospective"],
            "chronicity_years": round(chron_years, 3),
            "quantity_above_guideline": it["quantity_above_guideline"],
            "ca_no_citation": it["ca_no_citation"],
            "age_decades": round((age - 45) / 10.0, 2),
            "female": female,
        }
        noise = rng.gauss(0.0, NOISE_SD)
        lo = INTERCEPT + cat_logit[cat] + noise
        for k, coef in EFFECTS.items():
            lo += coef * x[k]
        p = _sigmoid(lo)
        it["x"] = x
        it["noise"] = noise
        it["logit"] = lo
        it["p"] = p
        it["label"] = int(rng.random() < p)
        items.append(it)

    return {
        "rng": rng, "i": i, "layout": layout, "case_number": case_number, "ctx": ctx,
        "region": region, "age": age, "female": female, "working": working, "ps": ps,
        "prior_surgery": prior_surgery, "opioid_use": opioid_use,
        "chronicity_days": chron_days, "doi": doi, "ur_date": ur_date, "received": received,
        "assigned": assigned, "decision": decision, "items": items,
    }


# ------------------------------------------------------------------ public API
def generate_letter(i: int, seed: int = 0, layout_mix=DEFAULT_LAYOUT_MIX) -> tuple[str, str, list[dict]]:
    """Letter number ``i`` of the run ``seed``: (letter_id, text, truth rows)."""
    from imr_ml.synth.render import render_letter

    L = _draw_letter(i, seed, layout_mix)
    text, item_texts = render_letter(L)
    rows = []
    for k, (it, shown) in enumerate(zip(L["items"], item_texts)):
        row = {
            "letter_id": L["case_number"],
            "item_index": k,
            "item": shown["item"],
            "category": it["category"],
            "p_overturned": round(it["p"], 6),
            "label": it["label"],
            "decision": "overturned" if it["label"] else "upheld",
            "layout": L["layout"],
            "original_request": shown.get("original_request"),
            "authorized_portion": shown.get("authorized_portion"),
            "partial_authorisation": int(shown.get("original_request") is not None),
            "item_state": it["item_state"],
            "quantity": it["quantity"],
            "prior_surgery": L["prior_surgery"],
            "chronicity_days": L["chronicity_days"],
            "age": L["age"],
            "sex": "female" if L["female"] else "male",
            "body_region": L["region"]["name"],
            "date_of_injury": L["doi"].isoformat(),
            "ur_denial_date": L["ur_date"].isoformat(),
            "decision_date": L["decision"].isoformat(),
            "n_items": len(L["items"]),
            "logit": round(it["logit"], 6),
            "noise": round(it["noise"], 6),
        }
        row.update(it["x"])
        rows.append(row)
    return L["case_number"], text, rows


def iter_letters(n: int, seed: int = 0, start: int = 0,
                 layout_mix=DEFAULT_LAYOUT_MIX) -> Iterator[tuple[str, str, list[dict]]]:
    """Letters ``start`` .. ``start + n - 1`` of run ``seed``, in memory."""
    for i in range(start, start + n):
        yield generate_letter(i, seed, layout_mix)


def write_pdf(text: str, path: str | Path) -> None:
    """Write the letter text as a PDF: US letter pages, core Courier 8pt, one text line per
    line (pypdf reads the same lines back). ~3 ms a letter."""
    from fpdf import FPDF

    pdf = FPDF(format="letter", unit="mm")
    pdf.set_auto_page_break(False)
    pdf.set_font("Courier", size=8)
    line_h, margin = 3.6, 12.0
    bottom = pdf.h - margin
    y = None
    for line in text.split("\n"):
        if y is None or y > bottom:
            pdf.add_page()
            y = margin + line_h
        if line.strip():
            pdf.text(margin, y, line.encode("latin-1", "replace").decode("latin-1"))
        y += line_h
    pdf.output(str(path))


def _write_bytes(path: str, data: bytes) -> None:
    """Create/overwrite a small file (cheaper than Path.write_text per file)."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
    try:
        view = memoryview(data)
        while view:
            view = view[os.write(fd, view):]
    finally:
        os.close(fd)


def parse_layout_mix(spec: str) -> tuple[tuple[str, float], ...]:
    """'2016=0.8,2013=0.1,2014=0.1' (or a single layout name) -> normalised mix."""
    spec = spec.strip()
    if "=" not in spec:
        parts = [(spec, 1.0)]
    else:
        parts = []
        for chunk in spec.split(","):
            name, _, w = chunk.partition("=")
            parts.append((name.strip(), float(w)))
    known = {n for n, _ in DEFAULT_LAYOUT_MIX}
    for name, w in parts:
        if name not in known:
            raise ValueError(f"unknown layout {name!r} (known: {', '.join(sorted(known))})")
        if w < 0:
            raise ValueError("layout weights must be >= 0")
    total = sum(w for _, w in parts)
    if total <= 0:
        raise ValueError("layout weights must sum to > 0")
    return tuple((n, w / total) for n, w in parts)


def generate_corpus(n_letters: int, out_dir: str | Path, seed: int = 0, pdf: bool = False,
                    start: int = 0, layout_mix=DEFAULT_LAYOUT_MIX, progress=None) -> dict:
    """Write ``n_letters`` letters as DIR/<case number>.txt (+ .pdf), DIR/truth.jsonl and
    DIR/dgp.json; return a summary. ``progress(n)`` hears how many letters are written."""
    if n_letters < 1:
        raise ValueError("--letters must be at least 1")
    if start < 0:
        raise ValueError("--start must be >= 0")
    out = Path(out_dir)
    if out.exists() and not out.is_dir():
        raise ValueError(f"{out} exists and is not a directory")
    out.mkdir(parents=True, exist_ok=True)
    t0 = time.perf_counter()
    out_s = str(out)
    n_items = n_over = 0
    layouts: dict[str, int] = {}
    with open(out / "truth.jsonl", "w", encoding="utf-8") as truth:
        for letter_id, text, rows in iter_letters(n_letters, seed, start, layout_mix):
            _write_bytes(os.path.join(out_s, letter_id + ".txt"), text.encode("utf-8"))
            if pdf:
                write_pdf(text, out / f"{letter_id}.pdf")
            for r in rows:
                truth.write(json.dumps(r) + "\n")
            n_items += len(rows)
            n_over += sum(r["label"] for r in rows)
            lay = rows[0]["layout"]
            layouts[lay] = layouts.get(lay, 0) + 1
            written = sum(layouts.values())
            if progress and (written % 100 == 0 or written == n_letters):
                progress(written)
    meta = dgp()
    meta.update(seed=seed, start=start, n_letters=n_letters, layout_mix=dict(layout_mix))
    (out / "dgp.json").write_text(json.dumps(meta, indent=2) + "\n", encoding="utf-8")
    secs = time.perf_counter() - t0
    return {
        "out_dir": str(out),
        "seed": seed,
        "start": start,
        "n_letters": n_letters,
        "n_items": n_items,
        "n_overturned": n_over,
        "overturn_rate": round(n_over / n_items, 4) if n_items else 0.0,
        "layouts": dict(sorted(layouts.items())),
        "pdf": pdf,
        "seconds": round(secs, 3),
        "letters_per_second": round(n_letters / secs, 1) if secs > 0 else None,
        "truth": str(out / "truth.jsonl"),
        "dgp": str(out / "dgp.json"),
    }
