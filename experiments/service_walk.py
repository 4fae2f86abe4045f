"""Walk the service universe a user may request and say, for each service class, which category
the taxonomy puts it in and which cited rules can speak for and against it (writes service_walk.md).

    .venv/bin/python experiments/service_walk.py [--out FILE]

The walk follows the MTUS chapters (ACOEM neck and upper back, shoulder, elbow, forearm/wrist/hand,
low back, knee, ankle and foot, eye; Chronic Pain; Opioids), the post-surgical treatment guidelines
(8 CCR 9792.24.3), ODG's treatment index and the MTUS Drug List (8 CCR 9792.27.15). Each row is
one service class with a typical item wording (written for this walk, no letter text). A rule
"can speak" for an item when its category condition admits the item's category and its `item`
pattern (if any) matches: whether it fires then depends on the documented findings it reads.
A class with no rule in one direction is a class where a pair differing in its decisive
finding can tie (the knowledge has nothing that tells the two sides apart); a class that lands
in `other` is one the taxonomy does not know. No real letter is read.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

# (chapter, service class, item as a user would type it, decisive finding(s) per the guideline)
WALK: list[tuple[str, str, str, str]] = [
    # ACOEM neck and upper back / low back
    ("spine", "cervical MRI", "MRI cervical spine", "red flags, progressive deficit, radiculopathy after 4-6 wk of failed care"),
    ("spine", "lumbar MRI", "MRI lumbar spine", "red flags, radiculopathy/deficit after failed care, surgical planning"),
    ("spine", "spine X-ray", "X-ray lumbar spine", "red flags, trauma; not for non-specific pain < 6 wk"),
    ("spine", "spine CT", "CT lumbar spine", "fusion assessment (pseudarthrosis), fracture, MRI contraindicated"),
    ("spine", "EMG/NCS upper", "EMG/NCS bilateral upper extremities", "focal deficit, radiculopathy not obvious; not when clinically obvious"),
    ("spine", "EMG/NCS lower", "EMG/NCS bilateral lower extremities", "focal deficit; NCS only for suspected entrapment/neuropathy"),
    ("spine", "epidural steroid injection", "Lumbar ESI L4-5", "radiculopathy corroborated by exam and imaging, failed care; repeat only with 50% relief 6-8 wk"),
    ("spine", "medial branch block", "Bilateral L4-5 medial branch block", "axial non-radicular pain, failed care, not at a fused level"),
    ("spine", "facet radiofrequency", "Radiofrequency ablation L3-5", "positive diagnostic MBB (>=70-80% relief)"),
    ("spine", "SI joint injection", "Right SI joint injection", "3 positive provocative tests, failed care"),
    ("spine", "SI joint RFA", "SI joint radiofrequency ablation", "not recommended (ODG)"),
    ("spine", "discography", "Provocative discography L3-S1", "not recommended (ACOEM)"),
    ("spine", "IDET / nucleoplasty", "IDET L4-5", "not recommended"),
    ("spine", "lumbar fusion", "L4-5 posterior lumbar fusion", "instability/spondylolisthesis, psych screen, failed care"),
    ("spine", "lumbar decompression", "L4-5 laminectomy", "neurogenic claudication/radiculopathy with concordant imaging"),
    ("spine", "lumbar discectomy", "L5-S1 microdiscectomy", "radiculopathy with concordant imaging, failed care"),
    ("spine", "cervical fusion (ACDF)", "C5-6 ACDF", "radiculopathy/myelopathy with concordant imaging, failed care"),
    ("spine", "spinal cord stimulator trial", "Spinal cord stimulator trial", "psych clearance, failed back surgery/CRPS"),
    ("spine", "spinal cord stimulator permanent", "Permanent spinal cord stimulator implant", "successful trial (50% relief)"),
    ("spine", "intrathecal pump", "Intrathecal pump implantation", "successful trial, psych clearance"),
    ("spine", "kyphoplasty", "Kyphoplasty T12", "acute painful osteoporotic compression fracture failing care"),
    ("spine", "lumbar support / brace", "Lumbar support brace", "instability/fracture/post-op; not for chronic pain"),
    ("spine", "spinal orthosis (TLSO)", "TLSO brace", "fracture, post-fusion"),
    ("spine", "cervical collar", "Soft cervical collar", "post-op/fracture; not for strain"),
    ("spine", "home cervical traction", "Home cervical traction unit", "cervical radicular symptoms with home exercise"),
    ("spine", "lumbar traction / decompression table", "Lumbar traction", "not recommended for LBP"),
    ("spine", "bone growth stimulator", "External bone growth stimulator", "nonunion risk (smoker, diabetes, multilevel, revision)"),
    # shoulder
    ("shoulder", "shoulder MRI", "MRI right shoulder", "tissue injury signs after failed care, surgical planning"),
    ("shoulder", "MR arthrogram", "MR arthrogram left shoulder", "labral tear suspected"),
    ("shoulder", "subacromial decompression", "Right shoulder arthroscopic subacromial decompression", "3-6 mo failed care incl. injection"),
    ("shoulder", "rotator cuff repair", "Right rotator cuff repair", "full-thickness tear on imaging with weakness"),
    ("shoulder", "shoulder arthroplasty", "Total shoulder arthroplasty", "glenohumeral arthritis failing care"),
    ("shoulder", "shoulder steroid injection", "Subacromial corticosteroid injection", "impingement after failed therapy; repeat with relief"),
    ("shoulder", "post-op sling", "Post-op abduction sling", "large/massive cuff repair"),
    ("shoulder", "CPM shoulder", "CPM shoulder rental", "adhesive capsulitis only"),
    # elbow
    ("elbow", "epicondylitis surgery", "Lateral epicondyle release", "6-12 mo failed care incl. injections"),
    ("elbow", "cubital tunnel release", "Left cubital tunnel release", "EDX-confirmed ulnar neuropathy, failed care"),
    ("elbow", "elbow brace", "Counterforce elbow brace", "epicondylitis"),
    ("elbow", "PRP elbow", "PRP injection right elbow", "chronic epicondylitis after failed therapy"),
    # forearm/wrist/hand
    ("hand", "carpal tunnel release", "Right carpal tunnel release", "EDX-confirmed CTS, failed splint/injection"),
    ("hand", "trigger finger release", "Trigger finger release, right ring finger", "failed 1-2 injections"),
    ("hand", "de Quervain release", "De Quervain release", "failed splint and injection"),
    ("hand", "wrist splint", "Wrist splint", "CTS, tendinitis"),
    ("hand", "carpal tunnel injection", "Carpal tunnel steroid injection", "CTS diagnosis, failed splinting"),
    ("hand", "hand therapy", "Hand therapy 2x4", "post-op within window; functional gains"),
    ("hand", "paraffin bath", "Paraffin bath unit", "arthritic hands, adjunct to exercise"),
    # knee
    ("knee", "knee MRI", "MRI left knee", "mechanical symptoms, instability, after failed care"),
    ("knee", "knee arthroscopy / meniscectomy", "Left knee arthroscopic partial meniscectomy", "mechanical symptoms + MRI tear, failed care"),
    ("knee", "ACL reconstruction", "ACL reconstruction", "instability with ACL tear"),
    ("knee", "total knee arthroplasty", "Right total knee arthroplasty", "OA, age >50, BMI <40, failed care"),
    ("knee", "hyaluronic injection", "Synvisc injection left knee", "knee OA after failed steroid/NSAID"),
    ("knee", "knee brace", "Hinged knee brace", "instability, ligament injury, OA unloading"),
    ("knee", "CPM knee", "CPM knee rental 21 days", "after TKA, up to 21 days"),
    ("knee", "cold therapy unit", "Cold therapy unit rental", "first 7 days after surgery"),
    ("knee", "DVT compression device", "Pneumatic compression device post-op", "VTE risk after surgery"),
    ("knee", "stem cell injection", "Stem cell injection knee", "not recommended (experimental)"),
    # ankle and foot
    ("ankle", "ankle ligament reconstruction", "Brostrom ankle ligament reconstruction", "chronic instability after failed rehab, stress views"),
    ("ankle", "foot orthotics", "Custom foot orthotics", "plantar fasciitis, foot deformity"),
    ("ankle", "ankle brace", "Ankle brace", "sprain, instability"),
    ("ankle", "shockwave therapy", "ESWT plantar fascia", "plantar fasciitis/calcific tendinitis after failed care"),
    ("ankle", "ankle X-ray", "X-ray right ankle", "Ottawa ankle rules"),
    # eye / head
    ("head", "head CT", "CT head without contrast", "Canadian CT head rule findings"),
    ("head", "brain MRI", "MRI brain", "persistent neuro deficits after TBI"),
    ("head", "neuropsychological testing", "Neuropsychological testing", "persisting cognitive deficits after TBI"),
    ("head", "vestibular testing", "VNG vestibular testing", "vertigo/imbalance after head injury"),
    ("head", "eye exam", "Ophthalmology consultation", "visual symptoms after injury"),
    # chronic pain: therapies
    ("therapy", "physical therapy", "Physical therapy 2x6 lumbar", "initial trial 6 visits; continuation with functional improvement"),
    ("therapy", "chiropractic", "Chiropractic 1x6", "low back: trial 6; not for extremities/CTS"),
    ("therapy", "acupuncture", "Acupuncture x6", "trial 3-6; extension with functional improvement"),
    ("therapy", "massage", "Massage therapy x6", "adjunct to exercise, 4-6 visits"),
    ("therapy", "aquatic therapy", "Aquatic therapy x8", "reduced weight bearing (obesity, OA)"),
    ("therapy", "work conditioning / hardening", "Work hardening 10 sessions", "job to return to, plateaued PT, within 2 yr"),
    ("therapy", "functional restoration program", "Functional restoration program 80 hours", "evaluation done, motivation, no surgery pending; continued with gains"),
    ("therapy", "biofeedback", "Biofeedback 6 sessions", "within CBT, not stand-alone"),
    ("therapy", "psychotherapy / CBT", "Cognitive behavioral therapy 6 sessions", "psychological symptoms; 3-4 session trial; gains"),
    ("therapy", "psych evaluation", "Psychological evaluation", "symptoms or before procedure"),
    ("therapy", "TENS unit", "TENS unit purchase", "one-month trial with benefit, neuropathic/CRPS"),
    ("therapy", "H-wave", "H-wave unit", "failed TENS trial"),
    ("therapy", "interferential unit", "Interferential stimulator", "adjunct when meds/therapy fail"),
    ("therapy", "NMES", "NMES unit", "stroke rehabilitation, post-op quad"),
    ("therapy", "hot/cold packs", "Hot/cold packs", "acute pain"),
    ("therapy", "ultrasound / laser / infrared", "Therapeutic ultrasound", "not recommended / adjunct only"),
    ("therapy", "home exercise equipment", "Home exercise kit", "inexpensive supplies for a prescribed program"),
    ("therapy", "gym membership", "Gym membership 6 months", "failed supervised home program, medical need"),
    ("therapy", "weight loss program", "Weight loss program", "obesity impeding recovery"),
    ("therapy", "ketamine", "Ketamine infusion", "not recommended (CRPS refractory only)"),
    ("therapy", "Botox", "Botox injections cervical", "dystonia/migraine; not for myofascial pain"),
    ("therapy", "trigger point injection", "Trigger point injections x4", "twitch response, no radiculopathy, failed care"),
    ("therapy", "stellate ganglion block", "Stellate ganglion block", "CRPS"),
    ("therapy", "prolotherapy", "Prolotherapy", "not recommended"),
    # evaluation, visits, programs, equipment
    ("eval", "FCE", "Functional capacity evaluation", "return to work planned, near MMI"),
    ("eval", "consultation", "Orthopedic consultation", "diagnosis uncertain, care unsettled"),
    ("eval", "follow-up visit", "Follow-up office visit", "active treatment"),
    ("eval", "sleep study", "Polysomnography", "sleep apnea signs"),
    ("eval", "urine drug screen", "Urine drug screen", "on opioids; frequency by risk"),
    ("eval", "confirmatory drug test", "Confirmatory LC/MS urine drug testing", "unexpected screening result"),
    ("eval", "lab panel on NSAIDs", "CBC and comprehensive metabolic panel", "long-term NSAID monitoring"),
    ("eval", "genetic testing", "Genetic testing for opioid risk", "not recommended"),
    ("eval", "pre-op clearance", "Pre-operative medical clearance", "comorbidity/age"),
    ("eval", "home health", "Home health aide 4 hrs/day", "homebound, skilled need; not homemaker"),
    ("eval", "transportation", "Transportation to medical appointments", "cannot self-transport"),
    ("eval", "hospital bed", "Hospital bed", "bed confinement"),
    ("eval", "mattress", "Orthopedic mattress", "not medical equipment"),
    ("eval", "hot tub", "Home hot tub", "not medical equipment"),
    ("eval", "walker / crutches", "Front-wheeled walker", "impaired walking"),
    ("eval", "wheelchair / scooter", "Power scooter", "manual aids insufficient"),
    ("eval", "home modification", "Home modifications (ramp, grab bars)", "mobility impairment"),
    ("eval", "raised toilet seat", "Raised toilet seat", "after hip/knee replacement"),
    ("eval", "assistant surgeon", "Assistant surgeon", "complex surgery"),
    ("eval", "inpatient stay", "Inpatient stay 3 days", "ODG length-of-stay target"),
    ("eval", "post-op therapy", "Post-op physical therapy 12 visits", "within post-surgical course"),
    # drugs (MTUS Drug List)
    ("drug", "opioid", "Norco 10/325 #90", "functional improvement, monitoring, MED"),
    ("drug", "tramadol", "Tramadol 50 mg #60", "functional improvement, monitoring"),
    ("drug", "buprenorphine", "Buprenorphine patch", "opioid dependence/detox"),
    ("drug", "naloxone", "Naloxone nasal spray", "overdose risk while on opioids"),
    ("drug", "NSAID", "Naproxen 550 mg #60", "OA/acute pain, benefit, GI/CV risk"),
    ("drug", "ketorolac injection", "Toradol 60 mg IM", "acute pain only"),
    ("drug", "muscle relaxant", "Cyclobenzaprine 7.5 mg #60", "acute flare, short course"),
    ("drug", "anticonvulsant", "Gabapentin 600 mg #90", "neuropathic pain, response"),
    ("drug", "antidepressant", "Duloxetine 60 mg #30", "neuropathic pain/depression, response"),
    ("drug", "hypnotic", "Zolpidem 10 mg #30", "short term insomnia, sleep hygiene"),
    ("drug", "benzodiazepine", "Alprazolam 0.5 mg #60", "short course; not with opioids"),
    ("drug", "PPI", "Omeprazole 20 mg #30", "GI risk with NSAID"),
    ("drug", "topical NSAID", "Voltaren gel", "peripheral joint OA"),
    ("drug", "lidocaine patch", "Lidoderm patch #30", "neuropathic pain after first-line"),
    ("drug", "compounded topical", "Compounded cream flurbiprofen/cyclobenzaprine", "non-recommended ingredient"),
    ("drug", "medical food", "Theramine #90", "deficiency"),
    ("drug", "vitamins", "Vitamin D 50000 IU", "documented deficiency"),
    ("drug", "testosterone", "Testosterone cypionate injection", "opioid-induced hypogonadism"),
    ("drug", "laxative", "Senna-docusate #60", "opioid constipation"),
    ("drug", "triptan", "Sumatriptan 50 mg #9", "migraine"),
    ("drug", "oral steroid", "Medrol dose pack", "acute radicular pain"),
    ("drug", "B12 injection", "Vitamin B12 injection", "documented deficiency"),
]


def walk(rows=WALK):
    """One dict per service class: its category and the rules that can speak for and against it."""
    from imr_ml.knowledge.guidelines import load_guidelines
    from imr_ml.signals import extract_signals

    g = load_guidelines()
    out = []
    for chapter, name, item, decisive in rows:
        cat = extract_signals({"item": item, "summary": "x"})["category"].value
        can = [r for r in g.rules
               if all(test(cat) for n, test in r.when if n == "category")
               and (any(n == "category" for n, _ in r.when) or r.item is not None)
               and (r.item is None or r.item.search(item) is not None)]
        out.append({"chapter": chapter, "service": name, "item": item, "category": cat, "decisive": decisive,
                    "for": sorted(r.name for r in can if r.strength > 0),
                    "against": sorted(r.name for r in can if r.strength < 0)})
    return out


def report(entries) -> str:
    gaps = [e for e in entries if not e["for"] or not e["against"] or e["category"] == "other"]
    lines = ["# Service walk: every service class a user may request, its category and its rules", "",
             "Generated by `experiments/service_walk.py` (no letter read). A rule *can speak* for an item when its "
             "category condition admits the item's category and its `item` pattern (if any) matches; it fires "
             "only when the documented findings it reads are there. `for` / `against`: how many such rules raise / "
             "lower the odds of an overturn. A class with 0 on one side can tie on a pair that differs in "
             "its decisive finding.", "",
             f"{len(entries)} service classes; {len(entries) - len(gaps)} have rules on both sides and a category; "
             f"{len(gaps)} do not (marked **gap**).", "",
             "| chapter | service class | item (typed) | category | decisive finding (guideline) | for | against | |",
             "|---|---|---|---|---|---|---|---|"]
    for e in entries:
        gap = "**gap**" if e in gaps else ""
        lines.append(f"| {e['chapter']} | {e['service']} | {e['item']} | {e['category']} | {e['decisive']} | "
                     f"{len(e['for'])} | {len(e['against'])} | {gap} |")
    return "\n".join(lines) + "\n"


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", type=Path, default=HERE / "service_walk.md")
    ap.add_argument("--gaps", action="store_true", help="print the gaps' rule names too")
    args = ap.parse_args(argv)
    entries = walk()
    args.out.write_text(report(entries), encoding="utf-8")
    for e in entries:
        if not e["for"] or not e["against"] or e["category"] == "other":
            print(f"GAP {e['service']:40s} {e['category']:18s} for={e['for'] if args.gaps else len(e['for'])} "
                  f"against={e['against'] if args.gaps else len(e['against'])}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
