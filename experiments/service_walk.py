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
    # services further afield (a held-back suite may ask for them)
    ("other", "TMJ splint / dental", "TMJ oral splint", "TMJ disorder or bruxism documented"),
    ("other", "audiology / hearing test", "Audiogram", "hearing loss or tinnitus after noise or head injury"),
    ("other", "pulmonary function test", "Pulmonary function testing", "respiratory symptoms after an inhalation exposure"),
    ("other", "occipital nerve block", "Greater occipital nerve block", "occipital neuralgia / cervicogenic headache"),
    ("other", "genicular nerve block / RFA", "Genicular nerve radiofrequency ablation", "not recommended (ODG Knee: radiofrequency neurotomy)"),
    ("other", "lumbar sympathetic block", "Lumbar sympathetic block", "CRPS of the leg"),
    ("other", "cognitive rehabilitation / speech therapy", "Speech therapy for cognitive rehabilitation", "cognitive deficits after TBI"),
    ("other", "occupational therapy for ADLs", "Occupational therapy 2x4", "residual deficit in ADLs / hand function"),
    ("other", "DEXA bone density", "DEXA scan", "osteoporosis risk (long-term steroids, fragility fracture)"),
    ("other", "cardiac stress test pre-op", "Pre-operative cardiac stress test", "cardiac risk factors before surgery"),
    ("other", "chest X-ray pre-op", "Pre-op chest x-ray", "age / cardiopulmonary disease"),
    ("other", "TENS supplies", "TENS electrodes and batteries", "a TENS unit in use with benefit"),
    ("other", "orthopedic shoes", "Orthopedic shoes", "foot deformity / diabetic foot"),
    ("other", "lift chair", "Lift chair", "cannot rise from sitting"),
    ("other", "vocational rehabilitation", "Vocational rehabilitation evaluation", "cannot return to usual job (P&S)"),
    ("other", "shoulder labral repair", "Right shoulder SLAP repair", "labral tear on MR arthrogram with mechanical symptoms after failed PT"),
    ("other", "hernia repair", "Inguinal hernia repair", "symptomatic hernia on exam"),
    ("other", "knee PRP", "PRP injection left knee", "not recommended for knee OA (ODG)"),
    ("other", "hip injection", "Right hip intra-articular steroid injection", "hip OA after failed care"),
    ("other", "shoulder hyaluronic", "Hyaluronic acid injection right shoulder", "not recommended outside the knee"),
    ("other", "repeat lumbar MRI", "Repeat MRI lumbar spine", "significant change in symptoms / new deficit"),
    ("other", "wound care", "Home wound care nursing visits", "open surgical wound needing skilled dressing"),
    ("other", "shoulder manipulation under anesthesia", "Right shoulder manipulation under anesthesia", "adhesive capsulitis after 3-6 mo failed therapy"),
    ("other", "knee manipulation under anesthesia", "Left knee manipulation under anesthesia", "arthrofibrosis / stiffness after TKA"),
    ("other", "spine manipulation under anesthesia", "Lumbar manipulation under anesthesia", "not recommended (ODG Low Back)"),
    ("other", "lidocaine infusion", "IV lidocaine infusion", "not recommended (MTUS)"),
    ("other", "distal clavicle excision", "Arthroscopic distal clavicle excision", "AC joint arthritis with relief from an AC injection, failed care"),
    ("other", "knee chondroplasty", "Left knee arthroscopic chondroplasty", "mechanical symptoms with a chondral defect, failed care"),
    ("other", "ultrasound guidance", "Ultrasound guidance for knee injection", "not routinely needed for a knee injection"),
    ("other", "trazodone for insomnia", "Trazodone 50 mg #30", "insomnia with depression/anxiety"),
    ("other", "pain management consultation", "Pain management consultation", "pain not controlled, complex medication issues"),
    ("other", "skilled nursing facility", "Skilled nursing facility stay 7 days", "cannot go home after surgery, skilled needs"),
    ("other", "repeat ESI", "Repeat lumbar ESI L5-S1", "50% relief for 6-8 weeks after the last"),
    ("other", "cervical ESI", "Cervical epidural steroid injection C6-7", "cervical radiculopathy corroborated, failed care"),
    ("other", "revision fusion", "Revision L5-S1 fusion", "pseudarthrosis confirmed on CT"),
]


# service class -> (summary where the guideline supports it, summary where it does not)
PROBES = {
    "cervical MRI": ("Neck pain with left arm radiculopathy, C6 numbness and a weak biceps reflex after 8 weeks of failed PT and NSAIDs.",
                     "Neck pain for 2 weeks without arm symptoms; neuro exam normal; no treatment yet."),
    "lumbar MRI": ("Low back pain with right L5 radiculopathy, EHL weakness 4/5, after 6 weeks of failed therapy.",
                   "Non-specific low back pain for 10 days; neuro intact; no red flags; no therapy yet."),
    "spine X-ray": ("Fell from a ladder yesterday; midline tenderness at L1; suspected compression fracture.",
                    "Chronic low back ache for years; no trauma, no red flags; normal neuro exam."),
    "spine CT": ("s/p L4-5 fusion a year ago; new pain; x-rays show lucency around the screws, pseudarthrosis suspected.",
                 "s/p L4-5 fusion a year ago; films show a solid fusion with intact hardware; pain stable."),
    "EMG/NCS upper": ("Hand numbness with positive Tinel's and Phalen's at the wrist and thenar weakness; failed splinting.",
                      "Diffuse arm ache; no numbness, no weakness, normal reflexes and sensation."),
    "EMG/NCS lower": ("Leg numbness with decreased sensation in the L5 dermatome; radiculopathy versus peroneal neuropathy is unclear.",
                      "Back pain only; no leg symptoms; normal strength, reflexes and sensation."),
    "epidural steroid injection": ("L5 radiculopathy on exam with MRI showing L4-5 herniation compressing the L5 root; failed PT and meds.",
                                   "Axial low back pain without radicular symptoms; neuro exam normal."),
    "medial branch block": ("Axial low back pain worse with extension, no radicular symptoms, after 3 months of failed PT and NSAIDs.",
                            "Low back pain with right leg radiculopathy and positive straight-leg raise."),
    "facet radiofrequency": ("Two diagnostic medial branch blocks each gave 80% relief for the duration of the anesthetic.",
                             "A diagnostic medial branch block gave no relief."),
    "SI joint injection": ("Buttock pain with FABER, Gaenslen and thigh thrust all positive; failed PT for 3 months.",
                           "Buttock pain; SI provocation tests are negative."),
    "lumbar fusion": ("Grade 2 spondylolisthesis with instability on flexion-extension films; psychological screen cleared; failed care.",
                      "Disc degeneration without instability; no psychological screen."),
    "lumbar decompression": ("Neurogenic claudication: leg heaviness after walking one block, relieved by sitting; MRI severe L4-5 stenosis.",
                             "Axial back pain only; walks without leg symptoms; MRI mild degenerative change."),
    "lumbar discectomy": ("Right S1 radiculopathy with absent ankle reflex; MRI L5-S1 herniation concordant with the exam; failed PT and ESI.",
                          "Back pain without leg symptoms; MRI shows mild bulging only; no therapy tried."),
    "cervical fusion (ACDF)": ("Left C6 radiculopathy with biceps weakness; MRI C5-6 herniation compressing the root; failed PT and ESI.",
                               "Neck pain without arm symptoms; MRI mild spondylosis without compression."),
    "spinal cord stimulator trial": ("Failed back surgery syndrome with radicular leg pain; psychological evaluation cleared him for the trial.",
                                     "Axial low back pain; no psychological evaluation done."),
    "spinal cord stimulator permanent": ("A 7-day SCS trial gave 60% relief; pain 8/10 to 3/10 and he walked farther.",
                                         "No SCS trial has been done."),
    "intrathecal pump": ("An intrathecal trial gave more than 50% relief; psychological clearance obtained.",
                         "No intrathecal trial has been performed."),
    "kyphoplasty": ("Acute painful osteoporotic T12 compression fracture confirmed on MRI, failing 4 weeks of bracing and analgesics.",
                    "Chronic healed T12 compression fracture from 5 years ago; pain stable."),
    "lumbar support / brace": ("Acute L1 compression fracture; a brace is for spinal instability during healing.",
                               "Chronic low back pain for 3 years; no fracture or instability."),
    "spinal orthosis (TLSO)": ("Stable T12 burst fracture treated without surgery.",
                               "Chronic thoracic pain for 4 years; no fracture or instability."),
    "cervical collar": ("Two days after a C5-6 fusion.", "Chronic neck strain for 2 years."),
    "home cervical traction": ("Cervical radiculopathy with arm numbness, doing a home exercise program.",
                               "Neck pain without arm symptoms."),
    "lumbar traction / decompression table": ("Low back pain with leg radiculopathy; traction is an adjunct to his active exercise program.",
                                              "Low back pain; traction would be the only treatment."),
    "bone growth stimulator": ("Multilevel L4-S1 fusion in a smoker with diabetes.", "Single-level fusion in a healthy non-smoker."),
    "shoulder MRI": ("Shoulder weakness with positive drop-arm test after 6 weeks of failed PT; rotator cuff tear suspected.",
                     "Shoulder ache for 1 week; full strength and motion; no treatment yet."),
    "MR arthrogram": ("Clicking and catching with a positive O'Brien test; labral tear suspected after failed therapy.",
                      "Shoulder ache without mechanical symptoms; full motion."),
    "subacromial decompression": ("Impingement for 6 months despite PT and two subacromial injections with temporary relief.",
                                  "Impingement for 6 weeks; no injection has been tried."),
    "rotator cuff repair": ("MRI: full-thickness supraspinatus tear with weakness 3/5.", "MRI: supraspinatus tendinosis without a tear."),
    "shoulder arthroplasty": ("Severe glenohumeral arthritis with bone-on-bone changes after failed injections and PT.",
                              "Mild shoulder pain; x-rays normal."),
    "shoulder steroid injection": ("Impingement persisting after 6 weeks of PT and NSAIDs.", "Shoulder pain for 3 days; no treatment yet."),
    "post-op sling": ("Repair of a massive retracted two-tendon rotator cuff tear is scheduled.", "Shoulder strain; no surgery planned."),
    "CPM shoulder": ("Adhesive capsulitis with severe loss of motion.", "Shoulder strain with full motion."),
    "epicondylitis surgery": ("Lateral epicondylitis for 12 months despite PT, bracing and two steroid injections.",
                              "Lateral epicondylitis for 6 weeks; no treatment yet."),
    "cubital tunnel release": ("NCS showed slowing of the ulnar nerve across the elbow; failed splinting.",
                               "NCS of the ulnar nerve across the elbow were normal."),
    "elbow brace": ("Right lateral epicondylitis.", "Elbow contusion that has healed."),
    "PRP elbow": ("Chronic lateral epicondylitis after failed PT and a steroid injection.", "Acute elbow strain a week ago."),
    "carpal tunnel release": ("NCS showed prolonged median sensory latency at the wrist; failed splinting and an injection.",
                              "NCS and EMG of the arm were normal."),
    "trigger finger release": ("Locking ring finger despite two steroid injections.", "Trigger finger; no injection tried yet."),
    "de Quervain release": ("De Quervain tenosynovitis persisting after splinting and two injections.", "Wrist pain; no splint or injection tried."),
    "wrist splint": ("Carpal tunnel syndrome with night numbness.", "Shoulder strain; wrist exam normal."),
    "carpal tunnel injection": ("Carpal tunnel syndrome confirmed on NCS; night splinting failed.", "Diffuse hand ache; NCS normal."),
    "hand therapy": ("Three weeks after carpal tunnel release with grip weakness.", "Hand therapy for 40 visits already without functional improvement."),
    "paraffin bath": ("Osteoarthritis of both hands with stiffness, doing a home exercise program.", "Low back pain."),
    "knee MRI": ("Locking and catching with a positive McMurray test after 6 weeks of failed PT.", "Knee ache for a week; no mechanical symptoms."),
    "knee arthroscopy / meniscectomy": ("Locking and catching with a positive McMurray test; MRI shows a meniscal tear; failed PT.",
                                        "Knee osteoarthritis pain without mechanical symptoms."),
    "ACL reconstruction": ("Giving way with a positive Lachman test; MRI shows a complete ACL tear.", "Knee sprain with a stable Lachman."),
    "total knee arthroplasty": ("Age 62, BMI 31, severe knee osteoarthritis bone-on-bone despite injections and PT.",
                                "Age 38, mild knee osteoarthritis; no injections or PT tried."),
    "hyaluronic injection": ("Knee osteoarthritis after failed steroid injection and NSAIDs.", "Patellar tendinitis; no osteoarthritis."),
    "knee brace": ("Knee instability with an ACL tear.", "Knee ache without instability or arthritis."),
    "CPM knee": ("Total knee replacement done this week.", "Knee sprain; no surgery."),
    "cold therapy unit": ("Knee arthroscopy tomorrow; unit for the first 7 days after surgery.", "Chronic knee pain; no surgery."),
    "DVT compression device": ("Hip replacement scheduled; history of DVT and obesity.", "Knee arthroscopy in a healthy 30-year-old, walking same day."),
    "stem cell injection": ("Knee osteoarthritis.", "Knee osteoarthritis."),
    "ankle ligament reconstruction": ("Chronic ankle instability with recurrent sprains despite 3 months of PT; positive anterior drawer.",
                                      "Acute ankle sprain 1 week ago; no PT yet."),
    "foot orthotics": ("Plantar fasciitis with heel pain on the first steps.", "Knee strain; no foot condition."),
    "ankle brace": ("Recurrent ankle sprains with instability.", "Ankle pain resolved."),
    "shockwave therapy": ("Plantar fasciitis for 8 months despite stretching, orthotics and injections.", "Low back pain."),
    "ankle X-ray": ("Fell this morning; tender over the lateral malleolus and cannot bear weight for four steps.",
                    "Ankle ache for a month; no injury; no bony tenderness; walks normally."),
    "head CT": ("Struck his head, lost consciousness and vomited twice.", "Bumped his head; no loss of consciousness, no vomiting; GCS 15."),
    "brain MRI": ("Persistent memory lapses and word-finding trouble after a head injury with loss of consciousness.",
                  "Neck strain; no head injury; no neurological symptoms."),
    "neuropsychological testing": ("Memory lapses and slowed thinking since a concussion 4 months ago.", "Back strain; no head injury or cognitive complaints."),
    "vestibular testing": ("Positional vertigo and imbalance since a fall with head strike.", "Denies vertigo, dizziness or imbalance."),
    "eye exam": ("Blurred vision since a chemical splash to the right eye.", "Low back strain; no visual complaints."),
    "physical therapy": ("Back strain 3 weeks ago; limps and cannot lift; no prior therapy.", "Had 24 PT visits without functional improvement."),
    "chiropractic": ("Acute low back pain 2 weeks, no prior manipulation.", "24 chiropractic visits without functional improvement."),
    "acupuncture": ("After 6 acupuncture visits she can sit for an hour and returned to modified duty.",
                    "12 acupuncture visits gave no functional improvement."),
    "massage": ("Massage as an adjunct to her active exercise program.", "Massage would be the only treatment; no exercise."),
    "aquatic therapy": ("Morbid obesity and knee osteoarthritis; cannot tolerate land-based exercise; reduced weight bearing is needed.",
                        "Fit worker who tolerates land-based exercise well."),
    "work conditioning / hardening": ("Plateaued in PT; a job is waiting with a defined return-to-work goal; injury a year ago.",
                                      "Injured 4 years ago; no job to return to."),
    "functional restoration program": ("Multidisciplinary evaluation done; failed all care; motivated to return to work; not a surgical candidate.",
                                       "No evaluation done; surgery is being considered."),
    "biofeedback": ("She is in a cognitive behavioral therapy program; biofeedback within the CBT.", "Biofeedback as her only treatment."),
    "psychotherapy / CBT": ("Depression with PHQ-9 of 18 after the injury.", "No psychological symptoms; mood normal."),
    "psych evaluation": ("Spinal cord stimulator trial planned; pre-procedure psychological evaluation.", "No psychological symptoms and no procedure planned."),
    "TENS unit": ("A one-month TENS trial reduced pain and medication use and improved walking.", "No TENS trial has been done."),
    "H-wave": ("A TENS trial failed after PT and medication.", "No TENS trial has been done."),
    "interferential unit": ("Pain poorly controlled with medication, used with an exercise program.", "Interferential as the only treatment."),
    "NMES": ("Stroke rehabilitation with hemiparesis.", "Chronic low back pain."),
    "hot/cold packs": ("Acute low back strain 3 days ago.", "Chronic low back pain for 6 years."),
    "ultrasound / laser / infrared": ("An adjunct to active exercise in the first weeks.", "Only passive modalities planned."),
    "home exercise equipment": ("The therapist taught her a home exercise program to continue at home.", "No home exercise program has been given."),
    "gym membership": ("A supervised home exercise program has failed after three months.", "Does well with his home exercise program."),
    "weight loss program": ("BMI 42 and knee replacement needs weight loss.", "BMI 24."),
    "ketamine": ("Complex regional pain syndrome with allodynia refractory to other treatment.", "Chronic low back pain."),
    "Botox": ("Cervical dystonia.", "Myofascial neck pain."),
    "trigger point injection": ("Trigger points with a twitch response and referred pain, no radiculopathy, failed PT.",
                                "Neck pain with C6 radiculopathy."),
    "stellate ganglion block": ("CRPS of the hand with allodynia and mottled skin.", "Neck strain without CRPS signs."),
    "prolotherapy": ("Low back pain.", "Low back pain."),
    "FCE": ("A return to work is planned and he is near MMI with conflicting restrictions.", "In active treatment; no return to work planned."),
    "consultation": ("Diagnosis uncertain: neuropathy versus myelopathy.", "Stable known diagnosis; no reason for a consultation given."),
    "follow-up visit": ("Active treatment with medication adjustment.", "Stable P&S worker; no treatment changes."),
    "sleep study": ("Loud snoring with witnessed apneas; Epworth 16.", "Insomnia from pain; no snoring or apneas."),
    "urine drug screen": ("On hydrocodone for chronic pain.", "Takes no opioids; only ibuprofen."),
    "confirmatory drug test": ("Office screen was unexpected: negative for the prescribed hydrocodone.", "Office screen consistent with the prescribed hydrocodone."),
    "lab panel on NSAIDs": ("She has taken naproxen daily for three years.", "She takes no medication."),
    "genetic testing": ("On opioids.", "On opioids."),
    "pre-op clearance": ("Age 68 with diabetes and hypertension; knee replacement scheduled.", "Healthy 30-year-old; carpal tunnel release under local."),
    "home health": ("Homebound after hip replacement and needs wound care by a nurse.", "Needs help with housekeeping and cooking only."),
    "transportation": ("Cannot drive because of a seizure disorder and has no one to drive him.", "Drives himself to work daily."),
    "hospital bed": ("Confined to bed after a spinal cord injury.", "Walks independently."),
    "mattress": ("Back pain.", "Back pain."),
    "hot tub": ("Back pain.", "Back pain."),
    "walker / crutches": ("Antalgic gait with falls; unsteady.", "Walks normally without falls."),
    "wheelchair / scooter": ("Cannot propel a manual wheelchair because of bilateral shoulder weakness.", "Walks three blocks with a cane."),
    "home modification": ("Paraplegic after a spinal cord injury; uses a wheelchair.", "Walks normally."),
    "raised toilet seat": ("Total hip replacement last week.", "Low back strain."),
    "assistant surgeon": ("Multilevel lumbar fusion.", "Carpal tunnel release."),
    "inpatient stay": ("Total knee arthroplasty.", "Knee arthroscopy."),
    "post-op physical therapy": ("Two weeks after rotator cuff repair.", "No surgery; 30 PT visits already without improvement."),
    "opioid": ("On Norco he walks a mile and returned to modified duty; UDS consistent, CURES checked, agreement signed.",
               "Norco for 3 years without functional improvement; no drug screens or agreement."),
    "tramadol": ("With tramadol he works full duty; UDS consistent and CURES checked.", "Tramadol for 2 years; no functional improvement; no monitoring."),
    "buprenorphine": ("Opioid dependence on high-dose oxycodone; detoxification planned.", "Opioid naive; mild back strain."),
    "naloxone": ("On 150 MED of morphine plus alprazolam.", "Opioids were discontinued a year ago."),
    "NSAID": ("Knee osteoarthritis; naproxen reduces pain and lets him walk farther.", "History of a bleeding ulcer and on warfarin."),
    "ketorolac injection": ("Acute renal colic-like flare of back pain today in the office.", "Monthly ketorolac injections for chronic back pain."),
    "muscle relaxant": ("Acute flare with paraspinal muscle spasm.", "Cyclobenzaprine for 2 years without spasm or flare."),
    "anticonvulsant": ("Neuropathic burning pain from radiculopathy; gabapentin gave 50% relief.", "Gabapentin for a year without relief; no neuropathic pain."),
    "antidepressant": ("Neuropathic pain; duloxetine reduced pain from 8/10 to 4/10.", "Duloxetine for a year; pain unchanged; no depression."),
    "hypnotic": ("Insomnia despite sleep hygiene; short course.", "Zolpidem nightly for 3 years."),
    "benzodiazepine": ("Acute muscle spasm; 2-week course.", "Alprazolam for 4 years with oxycodone."),
    "PPI": ("On naproxen with a history of GI bleeding, age 70.", "No NSAID and no GI symptoms."),
    "topical NSAID": ("Knee osteoarthritis.", "Low back pain."),
    "lidocaine patch": ("Neuropathic pain after failed gabapentin and amitriptyline.", "Low back strain; no neuropathic pain."),
    "compounded topical": ("Back pain.", "Back pain."),
    "medical food": ("Documented nutritional deficiency.", "No deficiency documented."),
    "vitamins": ("Documented vitamin D deficiency, level 12.", "Normal vitamin D level."),
    "testosterone": ("Low testosterone from long-term opioids, with symptoms.", "Normal testosterone; not on opioids."),
    "laxative": ("Opioid-induced constipation on oxycodone.", "Not on opioids and no constipation."),
    "triptan": ("Migraine headaches after the head injury.", "Neck strain without headaches."),
    "oral steroid": ("Acute radicular pain in the leg.", "Chronic axial back pain."),
    "B12 injection": ("Documented B12 deficiency.", "Normal B12 level."),
    "TMJ splint / dental": ("Jaw pain with clicking and bruxism since the assault; TMJ disorder diagnosed.", "Low back strain; no jaw or dental complaints."),
    "audiology / hearing test": ("Hearing loss and ringing in both ears after years of loud machinery.", "Knee strain; no hearing complaints."),
    "pulmonary function test": ("Wheezing and shortness of breath since the chemical fumes exposure.", "Ankle sprain; no breathing complaints."),
    "occipital nerve block": ("Occipital neuralgia with shooting pain from the base of the skull, tender over the occipital nerve.", "Low back pain; no headaches."),
    "genicular nerve block / RFA": ("Knee osteoarthritis.", "Knee osteoarthritis."),
    "lumbar sympathetic block": ("CRPS of the right foot with allodynia, mottled skin and temperature asymmetry.", "Low back strain without CRPS signs."),
    "cognitive rehabilitation / speech therapy": ("Word-finding trouble and memory lapses since the head injury.", "Shoulder strain; no cognitive or speech complaints."),
    "occupational therapy for ADLs": ("Two weeks after a wrist fracture fixation she cannot button or grip; no prior therapy.", "Had 30 OT visits without functional improvement."),
    "DEXA bone density": ("Long-term prednisone and a fragility fracture of the wrist.", "Healthy 35-year-old with a knee strain."),
    "cardiac stress test pre-op": ("Age 67 with diabetes, angina and hypertension before a hip replacement.", "Healthy 32-year-old before a carpal tunnel release under local."),
    "chest X-ray pre-op": ("Age 70 with COPD before a lumbar fusion.", "Healthy 30-year-old before a knee arthroscopy."),
    "TENS supplies": ("The TENS unit he has used for a year reduces pain and lets him walk farther.", "He no longer uses the TENS unit; it gave no benefit."),
    "orthopedic shoes": ("Diabetic neuropathy with foot deformity and a healed ulcer.", "Low back strain; normal feet."),
    "lift chair": ("Cannot rise from a chair without help because of severe knee osteoarthritis and hip weakness.", "Rises from sitting without help."),
    "vocational rehabilitation": ("Permanent and stationary; cannot return to his usual job as a roofer.", "Working full duty at his usual job."),
    "shoulder labral repair": ("MR arthrogram shows a SLAP tear; catching and a positive O'Brien test despite 3 months of PT.", "Shoulder ache; MR arthrogram normal; no PT tried."),
    "hernia repair": ("Painful inguinal bulge on exam after lifting; hernia confirmed.", "Groin strain; no hernia on exam or ultrasound."),
    "knee PRP": ("Knee osteoarthritis.", "Knee osteoarthritis."),
    "hip injection": ("Hip osteoarthritis with pain despite NSAIDs and PT.", "Low back pain radiating to the buttock; hip exam normal."),
    "shoulder hyaluronic": ("Shoulder osteoarthritis.", "Shoulder osteoarthritis."),
    "repeat lumbar MRI": ("New foot drop and worsening leg weakness since the last MRI.", "Symptoms unchanged since the MRI a year ago; exam unchanged."),
    "shoulder manipulation under anesthesia": ("Adhesive capsulitis with 60 degrees of abduction despite 4 months of PT and an injection.", "Shoulder strain with full motion."),
    "knee manipulation under anesthesia": ("Arthrofibrosis 8 weeks after total knee arthroplasty, flexion 70 degrees despite PT.", "Knee strain with full motion; no surgery."),
    "spine manipulation under anesthesia": ("Chronic low back pain.", "Chronic low back pain."),
    "lidocaine infusion": ("Chronic neuropathic pain.", "Chronic neuropathic pain."),
    "distal clavicle excision": ("AC joint arthritis on MRI; an AC joint injection gave temporary complete relief; failed 6 months of PT.", "Shoulder ache; MRI normal; no therapy or injection tried."),
    "knee chondroplasty": ("Catching and locking with an unstable chondral flap on MRI after failed PT.", "Diffuse knee osteoarthritis pain without mechanical symptoms."),
    "ultrasound guidance": ("Knee injection.", "Knee injection."),
    "trazodone for insomnia": ("Insomnia with depression, sleeping 3 hours a night despite sleep hygiene.", "Sleeps well; no depression or anxiety."),
    "pain management consultation": ("Pain uncontrolled on escalating opioids with complex medication issues; diagnosis uncertain.", "Pain well controlled on ibuprofen; stable."),
    "skilled nursing facility": ("After hip replacement she cannot walk or transfer safely, lives alone, and needs skilled nursing and therapy.", "Walks independently after the surgery and was discharged home."),
    "repeat ESI": ("The last ESI gave 70% relief for 3 months with improved walking.", "The last ESI gave no relief."),
    "cervical ESI": ("C6 radiculopathy with biceps weakness and an MRI showing C5-6 foraminal stenosis compressing the root; failed PT.", "Axial neck pain without arm symptoms; neuro exam normal."),
    "revision fusion": ("CT confirms pseudarthrosis at L5-S1 with loose screws and persistent pain.", "CT shows a solid fusion with intact hardware."),
    "wound care": ("Open surgical wound after the fusion needing skilled dressing changes; homebound.", "Healed incision; walks to the store; wants help with cleaning."),
}


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


# The same words around every probe finding (a summary needs 12 words to be scored).
FRAME = ("The injured worker is a warehouse employee under the care of the treating physician for a work injury.",
         "The treating physician requested the service and utilization review denied it.")


def probe(entries) -> None:
    """Score each class's probe pair with the built-in model: a summary stating the decisive
    finding for the service and one stating its absence or the finding against it."""
    from imr_ml.modeling.modelfiles.modelio import load_model_dir
    from imr_ml.scoring.score import score_rows

    model = load_model_dir("builtin")
    for e in entries:
        pro, con = PROBES.get(e["service"], (None, None))
        if pro is None or pro == con:  # no probe, or a service not recommended whatever the finding
            e["probe"] = "—"
            continue
        rows = [{"item": e["item"], "summary": f"{FRAME[0]} {s} {FRAME[1]}"} for s in (pro, con)]
        p_pro, p_con = (None if r.get("abstained") else r["p_overturned"] for r in score_rows(model, rows))
        e["p"] = (p_pro, p_con)
        e["probe"] = ("abstained" if p_pro is None or p_con is None else
                      "ordered" if p_pro > p_con else "tie" if p_pro == p_con else "reversed")


def _probe_counts(entries) -> str:
    kinds = [e.get("probe", "—") for e in entries if e.get("probe", "—") != "—"]
    return (f"{kinds.count('ordered')}/{len(kinds)} probe pairs ordered right; ties {kinds.count('tie')}, "
            f"reversed {kinds.count('reversed')}, abstained {kinds.count('abstained')}.")


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
             "Probe: a summary stating the decisive finding for the service against one without it (written for "
             "this walk, by the author of the rules: a check that some rule tells them apart, not a held-out "
             f"figure), scored by the built-in model. {_probe_counts(entries)}", "",
             "| chapter | service class | item (typed) | category | decisive finding (guideline) | for | against | probe | |",
             "|---|---|---|---|---|---|---|---|---|"]
    for e in entries:
        gap = "**gap**" if e in gaps else ""
        lines.append(f"| {e['chapter']} | {e['service']} | {e['item']} | {e['category']} | {e['decisive']} | "
                     f"{len(e['for'])} | {len(e['against'])} | {e.get('probe', '—')} | {gap} |")
    return "\n".join(lines) + "\n"


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", type=Path, default=HERE / "service_walk.md")
    ap.add_argument("--gaps", action="store_true", help="print the gaps' rule names too")
    args = ap.parse_args(argv)
    entries = walk()
    probe(entries)
    args.out.write_text(report(entries), encoding="utf-8")
    for e in entries:
        if not e["for"] or not e["against"] or e["category"] == "other":
            print(f"GAP {e['service']:40s} {e['category']:18s} for={e['for'] if args.gaps else len(e['for'])} "
                  f"against={e['against'] if args.gaps else len(e['against'])}")
    for e in entries:
        if e.get("probe") not in ("ordered", "—", None):
            print(f"PROBE {e['probe']:9s} {e['service']:36s} {e['category']:18s} {e.get('p')}")
    print(_probe_counts(entries))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
