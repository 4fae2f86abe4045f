"""Text rendering of synthetic letters (see `imr_ml.synth.generate` for the data-generating process).

Three layouts, learned from the look of real letters (no sentence copied):

* "2016": header block (Case Number / Date Assigned / ... with the "Application" /
  "Received:" split over lines), credentials as "State(s) of Licensure:" lines, items as
  "<item>:  Upheld" (sometimes the decision on the next line, sometimes a partial
  authorisation heading), "Claims Administrator guideline:" / "MAXIMUS guideline:" /
  "Decision rationale:" blocks.
* "2013": no case-number header (the case number appears only in page footers), a blank
  line after every text line, credentials as a sentence, items often in upper case.
* "2014": tidy header, "DOCUMENTS REVIEWED", "IMR DECISION(S) AND RATIONALE(S)" with numbered
  items "1. <item> is (not) medically necessary and appropriate."

Lines are wrapped at ~95 characters with a trailing space, as PDF text extraction gives
them, and page footers ("Final Determination Letter for IMR Case Number CM16-0123456 4")
are spliced in at page ends, sometimes in the middle of a sentence.
"""

from __future__ import annotations

import random
import re
from datetime import timedelta

from imr_ml.synth.generate import (
    DIAGNOSTIC,
    _cap,
    _Ctx,
    _join_and,
    _taxonomy,
    fmt_date,
    phrases,
)

BOILERPLATE_SUMMARY = (
    "The expert reviewer developed the following clinical case summary based on a review of the "
    "case file, including all medical records:"
)
FINAL_DETERMINATION = (
    "The Final Determination was based on decisions for the disputed items/services set forth below:"
)
FOOTER = "Final Determination Letter for IMR Case Number {cn} {page}"
NO_CITATION = "The Claims Administrator did not cite any medical evidence for its decision."
BRANDS = {"Norco", "Percocet", "Nucynta", "Ultram", "Lidoderm", "Menthoderm", "Terocin",
          "Theramine", "Sentra", "Tabradol", "Deprizine", "Flexeril", "Motrin", "Prilosec",
          "Lyrica", "Synvisc", "Celecoxib", "MRI", "EMG/NCV", "NCV", "EMG", "CT", "TENS"}
SECTION_WORDS = {
    "imaging_mri": "Special Studies", "imaging_other": "Special Studies",
    "electrodiagnostic": "Special Studies", "surgery": "Surgical Considerations",
    "evaluation": "Independent Medical Examinations and Consultations",
}

# kinds of lines: P prose (a footer may be spliced in), H item heading, F fixed, B blank
P, H, F, B = "P", "H", "F", "B"


_WRAP_RE: dict[int, re.Pattern] = {}


def wrap(text: str, width: int) -> list[str]:
    """Greedy word wrap at `width` characters; every line keeps a trailing space (as
    extracted PDF text does)."""
    rx = _WRAP_RE.get(width)
    if rx is None:
        rx = _WRAP_RE[width] = re.compile(r"(.{1,%d})(?: |$)" % width)
    return [m + " " for m in rx.findall(text) if m]


def _lower_first(name: str) -> str:
    first = name.split(" ", 1)[0]
    if first in BRANDS or not first[1:2].islower() or first.split("/")[0] in BRANDS:
        return name
    return name[:1].lower() + name[1:]


# ------------------------------------------------------------------ case summary
def build_summary(L: dict, rng: random.Random, ph: dict, shown: list[dict]) -> list[str]:
    ctx = L["ctx"]
    ds = rng.randrange(4)
    ctx["age"] = L["age"]
    ctx["man"] = "woman" if L["female"] else "man"
    ctx["sexword"] = "female" if L["female"] else "male"
    region = L["region"]
    ctx["complaint"] = rng.choice(region["complaint"]).format_map(ctx)
    ctx["mech"] = rng.choice(ph["mechanisms"]).format_map(ctx)
    ctx["doi"] = fmt_date(L["doi"], ds)
    ctx["urdate"] = fmt_date(L["ur_date"], ds)
    ctx["job"] = rng.choice(ph["jobs"])
    ctx["vdate"] = fmt_date(L["ur_date"] - timedelta(days=rng.randint(5, 60)), ds)
    y0, y1 = L["doi"].year, L["ur_date"].year

    def d_between():
        span = max(1, (L["ur_date"] - L["doi"]).days)
        return fmt_date(L["doi"] + timedelta(days=rng.randrange(span)), ds)

    def fill(tpl: str, **extra) -> str:
        if "{" not in tpl:
            return tpl
        c = ctx  # the letter's own context; per-sentence values are simply overwritten
        if "{year}" in tpl:
            c["year"] = rng.randint(y0, y1)
        if "{date}" in tpl:
            c["date"] = d_between()
        if "{p" in tpl:
            c["p1"] = rng.randint(5, 9)
            c["p2"] = rng.randint(2, 4)
        if "{n}" in tpl:
            c["n"] = rng.choice((4, 6, 6, 8, 12))
        if "{activity}" in tpl:
            c["activity"] = rng.choice(ph["activities"]).format_map(ctx)
        if "{tolerance}" in tpl:
            c["tolerance"] = rng.choice(ph["tolerances"])
        if extra:
            c.update(extra)
        return tpl.format_map(c)

    tpl = rng.choice(ph["opening"])
    opening = [fill(tpl)]
    if "{mech}" not in tpl and rng.random() < 0.6:
        opening.append(fill(rng.choice(ph["mechanism_sentence"])))

    # utilization review restated (pre-decision)
    denied = [_lower_first(s["ur_name"]) for s, it in zip(shown, L["items"]) if not it["ur_modified"]]
    modified = [_lower_first(s["ur_name"]) for s, it in zip(shown, L["items"]) if it["ur_modified"]]
    ur = []
    if len(denied) > 2 and rng.random() < 0.4:
        k = rng.randint(1, len(denied) - 1)
        ur.append(fill(rng.choice(ph["ur_denied"]), items=_join_and(denied[:k])))
        rest = _join_and(denied[k:])
        ur.append(fill(rng.choice(ph["ur_denied_also"]), items=rest, Items=_cap(rest)))
        if modified:
            ur.append(fill(rng.choice(ph["ur_modified_also"]), items=_join_and(modified)))
    elif denied:
        ur.append(fill(rng.choice(ph["ur_denied"]), items=_join_and(denied)))
        if modified:
            ur.append(fill(rng.choice(ph["ur_modified_also"]), items=_join_and(modified)))
    else:
        ur.append(fill(rng.choice(ph["ur_modified"]), items=_join_and(modified)))
    for s, it in zip(shown, L["items"]):
        if it["retrospective"] and rng.random() < 0.7:
            ur.append(fill(rng.choice(ph["retro"]), dos=s["dos"]))
    ur.append(fill(rng.choice(ph["appeal"])))

    body = []
    body.append(fill(rng.choice(ph["visit"])))
    body.append(fill(rng.choice(ph["pain"])))
    for e in rng.sample(region["exam"], rng.randint(1, 3)):
        body.append(e)

    # medications / opioids
    opioid_names = ph["opioid_names"]
    meds = [it["mod"] for it in L["items"] if it["kind"] == "med"]
    if L["opioid_use"] and not any(it["category"] == "opioid" for it in L["items"]):
        meds.append(rng.choice(opioid_names))
    meds += rng.sample(ph["background_meds"], rng.randint(0, 3))
    seen = set()
    meds = [m for m in meds if not (m.lower() in seen or seen.add(m.lower()))]
    if meds:
        body.append(fill(rng.choice(ph["meds_list"]), meds=_join_and(meds)))
    elif rng.random() < 0.5:
        body.append(fill(rng.choice(ph["meds_none"])))
    if L["opioid_use"]:
        if rng.random() < 0.3:
            body.append(fill(rng.choice(ph["opioid_explicit"])))
    elif rng.random() < 0.4:
        body.append(fill(rng.choice(ph["opioid_none"]), drug=rng.choice(opioid_names)))

    # work, P&S, surgery
    if L["working"]:
        body.append(fill(rng.choice(ph["work_yes"] if rng.random() < 0.92 else ph["work_unclear"])))
    else:
        body.append(fill(rng.choice(ph["work_no"] if rng.random() < 0.9 else ph["work_unclear"])))
    if L["ps"]:
        if rng.random() < 0.95:
            body.append(fill(rng.choice(ph["ps_yes"])))
    elif rng.random() < 0.3:
        body.append(fill(rng.choice(ph["ps_no"])))
    surg = rng.choice(region["surg"]).format_map(ctx)
    if L["prior_surgery"]:
        if rng.random() < 0.95:
            body.append(fill(rng.choice(ph["surgery_yes"]), surg=surg))
    elif rng.random() < 0.35:
        body.append(fill(rng.choice(ph["surgery_no"])))
    if rng.random() < (0.1 if L["prior_surgery"] else 0.3):
        body.append(fill(rng.choice(ph["surgery_plan"]), surg=rng.choice(region["surg"]).format_map(ctx)))

    # response to each disputed modality
    for it in L["items"]:
        mod = it.get("mod")
        if not mod or it["category"] in DIAGNOSTIC:
            continue
        st = it["item_state"]
        if st == "prior_trial_without_benefit":
            pool = ph["trial_no_benefit_med"] if it["kind"] == "med" else ph["trial_no_benefit"]
        elif st == "functional_improvement":
            pool = ph["functional_improvement"]
        elif st == "no_functional_improvement":
            pool = ph["no_functional_improvement"]
        else:
            pool = ph["naive"]
        body.append(fill(rng.choice(pool), mod=mod, Mod=_cap(mod)))
    # distractor about a modality that is not disputed
    if rng.random() < 0.5:
        dm = rng.choice(ph["distractor_modalities"])
        pool = rng.choice((ph["functional_improvement"], ph["no_functional_improvement"], ph["trial_no_benefit"]))
        body.append(fill(rng.choice(pool), mod=dm, Mod=_cap(dm)))
    body.append(fill(rng.choice(ph["plan"])))
    rng.shuffle(body)

    if rng.random() < 0.7:
        sents = opening + ur + body
    else:
        sents = opening + body + ur
    return [s for s in sents if s]


# ------------------------------------------------------------------ guidelines and rationale
def _guideline(it: dict, region: dict, rng: random.Random) -> str:
    cat = it["category"]
    tax = _taxonomy()[cat]
    g = tax.guideline or "MTUS Chronic Pain Medical Treatment Guidelines"
    r = rng.random()
    if cat in SECTION_WORDS and r < 0.5:
        s = f"Decision based on MTUS {region['chapter']} 2004."
    elif r < 0.8 and g.startswith("MTUS") and ", " in g:
        s = f"Decision based on MTUS Chronic Pain Medical Treatment 2016, Section(s): {g.split(', ', 1)[1]}."
    else:
        s = f"Decision based on {g}."
    if rng.random() < 0.35:
        s += f" Decision based on Non-MTUS Citation Official Disability Guidelines (ODG), {region['odg']}."
    return s


def _guide_name(it: dict, region: dict) -> str:
    tax = _taxonomy()[it["category"]]
    return tax.guideline or f"MTUS {region['chapter']}"


def build_rationale(L: dict, it: dict, shown: dict, rng: random.Random, ph: dict) -> str:
    ctx = L["ctx"]
    name = _lower_first(shown["item_base"])
    c = _Ctx(ctx)
    c["item"] = name
    c["mod"] = it.get("mod") or "this treatment"
    c["guide"] = _guide_name(it, L["region"]).replace("Non-MTUS Citation ", "")
    x = it["x"]
    out = []
    if it["label"]:
        out.append(rng.choice(ph["rationale_open_overturned"]))
        out.append(rng.choice(ph["rationale_guideline"]))
        reasons = []
        if x["functional_improvement"]:
            reasons += ph["reason_overturned_fi"]
        if x["working"]:
            reasons += ph["reason_overturned_working"]
        reasons = reasons or ph["reason_overturned_generic"]
        out += rng.sample(reasons, min(len(reasons), rng.randint(1, 2)))
        extra = rng.choice(ph["reason_overturned_generic"])
        if rng.random() < 0.5 and extra not in out:
            out.append(extra)
        close = ph["close_overturned"]
    else:
        out.append(rng.choice(ph["rationale_open_upheld"]))
        out.append(rng.choice(ph["rationale_guideline"]))
        reasons = []
        if x["prior_trial_without_benefit"]:
            reasons += ph["reason_upheld_trial"]
        if x["no_functional_improvement"]:
            reasons += ph["reason_upheld_no_fi"]
        if x["quantity_above_guideline"]:
            reasons += ph["reason_upheld_quantity"]
        if x["opioid_item_without_fi"]:
            reasons += ph["reason_upheld_opioid"]
        reasons = reasons or ph["reason_upheld_generic"]
        out += rng.sample(reasons, min(len(reasons), rng.randint(1, 2)))
        extra = rng.choice(ph["reason_upheld_generic"])
        if rng.random() < 0.4 and extra not in out:
            out.append(extra)
        close = ph["close_upheld"]
    if L["layout"] == "2013":
        out.append(f"The {name} is {'' if it['label'] else 'not '}medically necessary and appropriate.")
    else:
        out.append(rng.choice(close))
    return " ".join(s.format_map(c) for s in out if s)


# ------------------------------------------------------------------ item names as shown
def _shown_items(L: dict, rng: random.Random) -> list[dict]:
    """The item text each layout shows, and the truth's view of it."""
    shown = []
    ds = rng.choice((1, 2))
    for it in L["items"]:
        name = it["name"]
        s: dict = {"original_request": None, "authorized_portion": None}
        if it["retrospective"]:
            dos_d = L["ur_date"] - timedelta(days=rng.randint(3, 40))
            dos = fmt_date(dos_d, ds)
            s["dos"] = dos
            form = rng.randrange(3)
            if form == 0:
                name = f"Retrospective {name} (DOS {dos})"
            elif form == 1:
                name = f"Retrospective request for {_lower_first(name)} (DOS: {dos})"
            else:
                name = f"{name}, retrospective (DOS {dos})"
        s["item_base"] = name
        s["ur_name"] = name
        s["heading"] = None
        if (L["layout"] == "2016" and it["ur_modified"] and not it["retrospective"]
                and rng.random() < 0.6):
            q = it["quantity"]
            render = it.get("render")
            if render and q and q >= 4 and rng.random() < 0.6:
                auth = rng.choice([a for a in (q // 2, q // 3, (2 * q) // 3, 6) if 0 < a < q])
                X, Y, Z = render(q), render(auth), render(q - auth)
                s["heading"] = (
                    f"{X} was the original request. {Y} was authorized by the Claims "
                    f"Administrator. The remaining IMR eligible portion of the original request, {Z} is:"
                )
                s.update(original_request=X, authorized_portion=Y, item=Z)
            else:
                X = name
                if render and q and q >= 2:
                    Y = render(max(1, q // 2))
                else:
                    Y = rng.choice(("an initial evaluation only", "a shorter trial",
                                    "a reduced quantity", "a one-month supply"))
                s["heading"] = (
                    f"{X} was the original request. The Claims Administrator authorized {Y}, "
                    f"leaving the original request IMR eligible. The original request, {X} is:"
                )
                s.update(original_request=X, authorized_portion=Y, item=X)
        else:
            s["item"] = name
        shown.append(s)
    return shown


# ------------------------------------------------------------------ pagination / footers
def paginate(lines: list[tuple[str, str]], rng: random.Random, cn: str, layout: str) -> list[str]:
    page_len = rng.randint(20, 26) if layout == "2013" else rng.randint(44, 52)
    page = rng.choice((1, 1, 2))
    out: list[str] = []
    count = 0
    n_footers = 0
    prev_kind = None
    for kind, line in lines:
        count += 1
        if count >= page_len and (kind in (P, B) or (kind == H and prev_kind == H and layout == "2016")):
            foot = FOOTER.format(cn=cn, page=page)
            r = rng.random()
            if kind == H:
                out.append("")  # a page break inside a wrapped item heading
            elif layout == "2016" and r < 0.3:
                out.append("")  # a page break without a footer
            elif kind == P and r < 0.75 and " " in line[30:-1]:
                k = line.index(" ", 30)
                line = f"{line[:k]} {foot} {line[k + 1:]}"
                n_footers += 1
            else:
                out.append(foot + " ")
                n_footers += 1
            page += 1
            count = 0
        out.append(line)
        prev_kind = kind
    if layout == "2013" and n_footers == 0:
        # make the case number recoverable: splice a footer into the last long prose line
        for j in range(len(out) - 1, -1, -1):
            ln = out[j]
            if len(ln) > 40 and " " in ln[30:-1] and not ln.startswith(("Claims", "MAXIMUS")) and not ln.rstrip().endswith(("Upheld", "Overturned", ":")):
                k = ln.index(" ", 30)
                out[j] = f"{ln[:k]} {FOOTER.format(cn=cn, page=page)} {ln[k + 1:]}"
                n_footers += 1
                break
        else:
            out.append(FOOTER.format(cn=cn, page=page) + " ")
    elif layout != "2016" and rng.random() < 0.5:
        out.append(FOOTER.format(cn=cn, page=page) + " ")
    return out


# ------------------------------------------------------------------ layouts
def _how_made(L, rng, ph, with_credentials: bool, spec: str, state: str) -> str:
    parts = []
    for s in ph["how_made"]:
        if s == "{cred}":
            if with_credentials:
                parts.append(rng.choice(ph["credentials_sentence"]).format(spec=spec.replace(" & ", " and "), state=state))
        else:
            parts.append(s)
    return " ".join(parts)


def _decision_word(label: int) -> str:
    return "Overturned" if label else "Upheld"


def render_letter(L: dict) -> tuple[str, list[dict]]:
    rng: random.Random = L["rng"]
    ph = phrases()
    layout = L["layout"]
    width = rng.randint(91, 97)
    shown = _shown_items(L, rng)
    summary = build_summary(L, rng, ph, shown)
    sep = "  " if rng.random() < 0.3 else " "
    spec = rng.choice(ph["specialties"])
    state = rng.choice(ph["licensure"])
    cn = L["case_number"]
    d = lambda x: fmt_date(x, 1)  # noqa: E731
    lines: list[tuple[str, str]] = []
    add = lines.append

    def prose(text: str, kind: str = P) -> None:
        for ln in wrap(text, width):
            add((kind, ln))

    if layout == "2016":
        prio = "Expedited" if rng.random() < 0.03 else "Standard"
        for ln in (" ", f"Case Number: {cn}  ",
                   f"Date Assigned: {d(L['assigned'])} Date of Injury:  {d(L['doi'])} ",
                   f"Decision Date: {d(L['decision'])} UR Denial Date:  {d(L['ur_date'])} ",
                   f"Priority:  {prio} Application ", "Received:  ", f"{d(L['received'])} ", " ",
                   "HOW THE IMR FINAL DETERMINATION WAS MADE "):
            add((F, ln))
        prose(_how_made(L, rng, ph, False, spec, state))
        for ln in (" ", "The Expert Reviewer has the following credentials: ",
                   f"State(s) of Licensure: {state} ", f"Certification(s)/Specialty: {spec} ", " ",
                   "CLINICAL CASE SUMMARY "):
            add((F, ln))
        for ln in wrap(BOILERPLATE_SUMMARY, width):
            add((F, ln))
        add((B, " "))
        _paragraphs(summary, sep, rng, prose, add)
        add((B, " "))
        if rng.random() < 0.5:
            add((F, ""))
        add((F, "IMR ISSUES, DECISIONS AND RATIONALES "))
        add((F, FINAL_DETERMINATION + " "))
        add((B, " "))
        for it, s in zip(L["items"], shown):
            word = _decision_word(it["label"])
            head = s["heading"] or f"{s['item']}:"
            r = rng.random()
            if r < 0.15:
                for ln in wrap(head, width):
                    add((H, ln))
                add((H, f"{word} "))
            else:
                for ln in wrap(f"{head}{'  ' if r < 0.6 else ' '}{word}", width):
                    add((H, ln))
            if rng.random() < 0.85:
                add((B, " "))
            ca = NO_CITATION if it["ca_no_citation"] else _guideline(it, L["region"], rng)
            for ln in wrap("Claims Administrator guideline: " + ca, width):
                add((F, ln))
            add((B, " "))
            for ln in wrap("MAXIMUS guideline: " + _guideline(it, L["region"], rng), width):
                add((F, ln))
            add((B, " "))
            prose("Decision rationale: " + build_rationale(L, it, s, rng, ph))
            add((B, " "))
        text = "\n".join(paginate(lines, rng, cn, layout))
    elif layout == "2013":
        if rng.random() < 0.4:
            for ln in (f"Date Assigned: {d(L['assigned'])} Date of Injury: {d(L['doi'])} ",
                       f"Decision Date: {d(L['decision'])} UR Denial Date: {d(L['ur_date'])} ",
                       f"Priority: Standard Application Received: {d(L['received'])} "):
                add((F, ln))
            add((B, " "))
        add((F, " HOW THE IMR FINAL DETERMINATION WAS MADE "))
        prose(_how_made(L, rng, ph, True, spec, state))
        add((B, " "))
        add((F, "CLINICAL CASE SUMMARY "))
        for ln in wrap(BOILERPLATE_SUMMARY, width):
            add((F, ln))
        add((B, " "))
        _paragraphs(summary, sep, rng, prose, add)
        add((B, " "))
        add((F, "IMR ISSUES, DECISIONS AND RATIONALES "))
        add((F, FINAL_DETERMINATION + " "))
        add((B, " "))
        upper = rng.random() < 0.6
        for it, s in zip(L["items"], shown):
            if upper:
                s["item"] = s["item"].upper()
            for ln in wrap(f"{s['item']}:  {_decision_word(it['label'])}", width):
                add((H, ln))
            add((B, " "))
            ca = NO_CITATION if it["ca_no_citation"] else _guideline(it, L["region"], rng)
            for ln in wrap("Claims Administrator guideline: " + ca, width):
                add((F, ln))
            add((B, " "))
            for ln in wrap("MAXIMUS guideline: " + _guideline(it, L["region"], rng), width):
                add((F, ln))
            add((B, " "))
            rat = build_rationale(L, it, s, rng, ph)
            if rng.random() < 0.4:
                rat = sep.join(summary[:6]) + " " + rat
            prose("Decision rationale: " + rat)
            add((B, " "))
        text = "\n\n".join(paginate(lines, rng, cn, layout)) + "\n"
    else:  # 2014
        for ln in (f"Case Number: {cn}",
                   f"Date Assigned: {d(L['assigned'])}   Date of Injury: {d(L['doi'])}",
                   f"Decision Date: {d(L['decision'])}   UR Denial Date: {d(L['ur_date'])}",
                   f"Priority: Standard   Application Received: {d(L['received'])}", "",
                   "HOW THE IMR FINAL DETERMINATION WAS MADE"):
            add((F, ln))
        prose(_how_made(L, rng, ph, True, spec, state))
        add((B, ""))
        add((F, "DOCUMENTS REVIEWED"))
        docs = [" Application of Independent Medical Review", " Utilization Review Determination",
                " Medical Records from the treating provider"]
        if rng.random() < 0.5:
            docs.append(" Medical Records from the claims administrator")
        for ln in docs:
            add((F, ln))
        add((B, ""))
        add((F, "CLINICAL CASE SUMMARY"))
        prose(BOILERPLATE_SUMMARY + " " + sep.join(summary))
        add((B, ""))
        add((F, "IMR DECISION(S) AND RATIONALE(S)"))
        pron = rng.choice(("his", "her", "his/her"))
        for k, (it, s) in enumerate(zip(L["items"], shown), 1):
            neg = "" if it["label"] else "not "
            for ln in wrap(f"{k}. {s['item']} is {neg}medically necessary and appropriate.", width):
                add((H, ln))
            if it["ca_no_citation"]:
                ca = NO_CITATION
            else:
                ca = f"The Claims Administrator based its decision on the {_guide_name(it, L['region'])}."
            for ln in wrap(ca, width):
                add((F, ln))
            for ln in wrap(f"The Expert Reviewer based {pron} decision on the {_guide_name(it, L['region'])}.", width):
                add((F, ln))
            add((F, "The Expert Reviewer's decision rationale:"))
            prose(build_rationale(L, it, s, rng, ph))
            add((B, ""))
        text = "\n".join(paginate(lines, rng, cn, layout)) + "\n"

    out = []
    for s in shown:
        out.append({"item": " ".join(s["item"].split()),
                    "original_request": s["original_request"],
                    "authorized_portion": s["authorized_portion"]})
    return text, out


def _paragraphs(summary: list[str], sep: str, rng: random.Random, prose, add) -> None:
    """The summary as one paragraph, or two separated by a blank line."""
    if len(summary) > 8 and rng.random() < 0.3:
        k = rng.randint(3, len(summary) - 3)
        prose(sep.join(summary[:k]))
        add((B, " "))
        prose(sep.join(summary[k:]))
    else:
        prose(sep.join(summary))
