"""Family A of the service criteria (`features/criteria.toml`, section "family A: musculoskeletal
and procedures"): spine and limb imaging, injections, surgery, post-operative care, therapies,
orthopaedic equipment, FCE and consultations.

For every criterion of the section: the items a user types for it reach it (and its taxonomy
category, when it names one), it reaches no item of another service class of the service walk
(`experiments/service_walk.py`) nor of another family-A criterion, and three summaries read by the
generic matcher (`imr_ml.signals.criteria`) give the fields they should: a finding stated
affirmatively gives `service_indication_documented`, the finding denied or a finding against the
service gives `service_indication_contradicted`, an unrelated summary gives neither. The
sentences alternate between letter prose ("The injured worker ...") and one-line typed notes
("48M LBP radiating to R leg, +SLR"). Every sentence is written for this test (no letter text).
"""

import importlib.util
import tomllib
from pathlib import Path

import pytest

from imr_ml.signals import extract_signals

ROOT = Path(__file__).resolve().parents[1]
HEADER = "# --- family A: musculoskeletal and procedures (h11e)"

# (service, items typed for it, its service-walk class (or classes, or None), a summary
# documenting an indication, a summary denying it or stating a finding against the service)
CASES = [
    ('cervical_mri', ('MRI cervical spine', 'MRI C-spine w/o contrast', 'Cervical MRI'), 'cervical MRI',
     'The injured worker reports neck pain radiating into the right arm with numbness in the thumb and index finger.',
     'The injured worker denies numbness or tingling in the arms.'),
    ('lumbar_mri', ('MRI lumbar spine', 'L-spine MRI', 'MRI of the lumbosacral spine without contrast'), 'lumbar MRI',
     '48M LBP radiating to R leg, +SLR at 40 deg, EHL 4/5',
     '48M LBP, no radiating leg pain, neg SLR'),
    ('thoracic_mri', ('MRI thoracic spine', 'T-spine MRI'), None,
     'The patient describes band-like pain around the chest from the mid back.',
     'There is no thoracic radiculopathy.'),
    ('repeat_spine_mri', ('Repeat MRI lumbar spine', 'Updated MRI of the cervical spine'), 'repeat lumbar MRI',
     's/p L5-S1 discectomy 2022, now new L5 weakness and worsening leg pain',
     'exam unchanged, symptoms stable since last study'),
    ('spine_xray', ('X-ray lumbar spine', 'C-spine x-rays 3 views', 'Radiographs of the thoracic spine'), 'spine X-ray',
     'The injured worker fell from a ladder and has point tenderness over the L1 spinous process.',
     'The back pain is atraumatic.'),
    ('flexion_extension_xray', ('Flexion-extension x-rays lumbar spine', 'Lumbar flex/ext views'), None,
     'grade 1 spondylolisthesis L4-5 on MRI',
     'no spondylolisthesis on prior films'),
    ('spine_ct', ('CT lumbar spine', 'CT scan of the cervical spine'), 'spine CT',
     'The treating physician notes pseudarthrosis at L4-5 on the latest films.',
     'The CT shows a solid fusion with intact hardware.'),
    ('ct_myelogram', ('CT myelogram lumbar spine', 'Lumbar myelogram with post-myelogram CT'), None,
     'pt has a pacemaker, surgical planning L4-5',
     'denies pacemaker or metal implants'),
    ('elbow_mri', ('MRI right elbow', 'MRI of the left elbow'), None,
     'R elbow locking x2 mo, loose body on xray',
     'no locking or catching of R elbow'),
    ('wrist_hand_mri', ('MRI left wrist', 'MRI right hand'), None,
     'There is snuffbox tenderness after the fall with normal initial radiographs.',
     'There is no snuffbox tenderness.'),
    ('hip_mri', ('MRI right hip', 'MR arthrogram left hip'), None,
     'L hip groin pain, +FADIR, clicking',
     'L hip: no groin pain, no clicking'),
    ('ankle_foot_mri', ('MRI left ankle', 'MRI right foot'), None,
     'The patient has recurrent ankle sprains with chronic instability despite bracing.',
     'The patient reports no recurrent sprains.'),
    ('shoulder_xray', ('X-ray right shoulder', 'Shoulder x-rays 3 views'), None,
     'fell on outstretched arm at work, R shoulder deformity',
     'atraumatic R shoulder pain, x-rays normal'),
    ('knee_xray', ('X-ray left knee', 'Bilateral knee x-rays standing views'), None,
     'After the fall the worker was unable to bear weight and had tenderness over the patella.',
     'The worker is full weight bearing.'),
    ('wrist_hand_xray', ('X-ray right wrist', 'Hand x-rays', 'Elbow x-ray'), None,
     'The injured worker fell on an outstretched hand and has swelling and deformity at the wrist.',
     'X-rays of the wrist were normal.'),
    ('hip_xray', ('X-ray left hip', 'Pelvis and hip x-rays'), None,
     '62F fell at work, groin pain R hip, limited internal rotation',
     'R hip: no groin pain, x-rays normal'),
    ('msk_ultrasound', ('Diagnostic ultrasound right shoulder', 'Ultrasound of the Achilles tendon'), None,
     'The treating physician documents a positive drop-arm sign and weakness of external rotation.',
     'There is no weakness of abduction or external rotation.'),
    ('lumbar_esi', ('Lumbar ESI L4-5', 'TFESI L5-S1 bilateral', 'Fluoroscopically guided L4-5 TFESI', 'Lumbar epidural steroid injection'), 'epidural steroid injection',
     'LBP w/ sciatica R leg, +SLR, MRI L4-5 HNP compressing the L5 nerve root',
     'axial low back pain, no sciatica, neg SLR'),
    ('cervical_esi', ('Cervical epidural steroid injection C6-7', 'CESI C5-6'), 'cervical ESI',
     'The injured worker has neck pain radiating into the left arm and a positive Spurling test.',
     'The injured worker has axial neck pain without radiating arm pain.'),
    ('repeat_esi', ('Repeat lumbar ESI L5-S1', 'Second epidural steroid injection L4-5'), 'repeat ESI',
     'prior ESI gave 60% relief x 8 weeks',
     'prior ESI gave 20% relief'),
    ('medial_branch_block', ('Bilateral L4-5 medial branch block', 'Facet joint injection L4-5, L5-S1', 'Cervical MBB C4-6'), 'medial branch block',
     'The injured worker has axial low back pain worse with extension and rotation.',
     'The injured worker has sciatica with radicular pain in the left leg.'),
    ('facet_rfa', ('Radiofrequency ablation L3-5', 'Bilateral L4-S1 rhizotomy'), 'facet radiofrequency',
     'dual MBBs L4-5 positive, 80% relief',
     'MBB at L4-5 gave 30% relief from the block'),
    ('si_joint_injection', ('Right SI joint injection', 'Sacroiliac joint block bilateral'), 'SI joint injection',
     'The examination shows a positive FABER and positive Gaenslen test with tenderness over the PSIS.',
     'The FABER and Gaenslen tests were negative.'),
    ('si_joint_fusion', ('Right SI joint fusion', 'Sacroiliac joint arthrodesis (iFuse)'), None,
     'two SI joint blocks each w/ 80% relief, +thigh thrust',
     'neg FABER, neg Gaenslen'),
    ('trigger_point_injection', ('Trigger point injections x4', 'TPI to the trapezius x3'), 'trigger point injection',
     'The examination documents taut bands in the trapezius with a local twitch response.',
     'The injured worker has fibromyalgia with diffuse tenderness.'),
    ('knee_steroid_injection', ('Cortisone injection right knee', 'Left knee intra-articular steroid injection'), None,
     'R knee OA, crepitus, joint space narrowing on xray',
     'R knee xrays normal'),
    ('knee_hyaluronic_injection', ('Synvisc injection left knee', 'Euflexxa series x3 right knee', 'Hyaluronic acid injections'), 'hyaluronic injection',
     'The knee radiographs show joint space narrowing and osteophytes, and the prior cortisone injection failed.',
     'The knee radiographs were normal.'),
    ('shoulder_steroid_injection', ('Subacromial corticosteroid injection', 'Right shoulder cortisone injection'), 'shoulder steroid injection',
     'R shoulder +Neer, +Hawkins, painful arc',
     'R shoulder: neg Neer, neg Hawkins'),
    ('hip_steroid_injection', ('Right hip intra-articular steroid injection', 'Greater trochanteric bursa injection'), 'hip injection',
     'The injured worker has lateral hip pain with tenderness over the greater trochanter.',
     'The hip x-rays were normal.'),
    ('hand_wrist_steroid_injection', ('Carpal tunnel steroid injection', 'Trigger finger injection right ring finger', 'Left thumb CMC joint cortisone injection'), 'carpal tunnel injection',
     'night numbness R hand, +Tinel, +Phalen at wrist',
     'no nocturnal numbness; Tinel and Phalen negative'),
    ('elbow_steroid_injection', ('Right elbow lateral epicondyle cortisone injection',), None,
     'The injured worker has lateral epicondylitis with tenderness over the lateral epicondyle.',
     'The Cozen test is negative.'),
    ('plantar_fascia_injection', ('Plantar fascia steroid injection', 'Right heel cortisone injection'), None,
     'L heel first-step pain, plantar fasciitis, TTP medial calcaneal tubercle',
     'no plantar fasciitis'),
    ('prp_injection', ('PRP injection right elbow', 'Right elbow PRP injection', 'Platelet-rich plasma injection lateral epicondyle'), 'PRP elbow',
     'The injured worker has chronic lateral epicondylitis that failed therapy and bracing.',
     'The elbow pain is from osteoarthritis.'),
    ('botulinum_injection', ('Botox injections cervical', 'Botulinum toxin 200 units'), 'Botox',
     'cervical dystonia w/ torticollis',
     'dx myofascial pain syndrome'),
    ('stellate_ganglion_block', ('Stellate ganglion block', 'Right stellate ganglion block x1'), 'stellate ganglion block',
     'The right hand shows allodynia with skin temperature asymmetry and color changes.',
     'There is no allodynia, hyperalgesia or skin temperature asymmetry.'),
    ('lumbar_sympathetic_block', ('Lumbar sympathetic block', 'Left lumbar sympathetic nerve block'), 'lumbar sympathetic block',
     'L foot allodynia, skin color changes, dx CRPS',
     'no allodynia, no hyperalgesia'),
    ('occipital_nerve_block', ('Greater occipital nerve block', 'Bilateral occipital nerve blocks'), 'occipital nerve block',
     'The injured worker has occipital neuralgia with tenderness over the greater occipital nerve.',
     'The injured worker does not have occipital neuralgia.'),
    ('suprascapular_nerve_block', ('Right suprascapular nerve block',), None,
     'R frozen shoulder, chronic shoulder pain limiting PT',
     'dx acute simple shoulder strain'),
    ('injection_image_guidance', ('Ultrasound guidance for knee injection', 'Fluoroscopic guidance for hip injection'), 'ultrasound guidance',
     'The prior blind injection failed to reach the joint because of body habitus and obesity.',
     'The joint has easily palpated landmarks.'),
    ('injection_sedation', ('IV sedation for lumbar ESI', 'Monitored anesthesia care for facet injections'), None,
     'severe needle phobia, prior injection aborted for vasovagal syncope',
     'local anesthetic only'),
    ('joint_aspiration', ('Right knee aspiration', 'Arthrocentesis left knee'), None,
     'The left knee has a large effusion with a ballottable patella.',
     'There is no knee effusion.'),
    ('lumbar_discectomy', ('L5-S1 microdiscectomy', 'Right L4-5 hemilaminotomy and discectomy'), 'lumbar discectomy',
     'R leg pain greater than back pain, +SLR, L5-S1 extruded disc herniation',
     'back pain greater than leg pain, neg SLR'),
    ('lumbar_decompression', ('L4-5 laminectomy', 'Bilateral L4-5 foraminotomy', 'Lumbar decompression L3-5'), 'lumbar decompression',
     'The injured worker has neurogenic claudication, walking only one block, with severe central stenosis at L4-5.',
     'The MRI shows only mild stenosis.'),
    ('lumbar_fusion', ('L4-5 posterior lumbar fusion', 'L5-S1 TLIF', 'Lumbar spinal fusion'), 'lumbar fusion',
     'grade 2 spondylolisthesis L4-5 w/ 5 mm translation on flex-ext',
     'DDD L4-5, no spondylolisthesis'),
    ('revision_spine_fusion', ('Revision L5-S1 fusion', 'Redo fusion with hardware revision L4-5'), 'revision fusion',
     'The CT shows pseudarthrosis at L5-S1 with loosening of the pedicle screws.',
     'The fusion is solid.'),
    ('cervical_decompression_fusion', ('C5-6 ACDF', 'Anterior cervical discectomy and fusion C5-7', 'Cervical laminoplasty C3-6'), 'cervical fusion (ACDF)',
     'L arm radiating pain, +Spurling, C6 numbness',
     'axial neck pain, no radiating arm pain, neg Spurling'),
    ('cervical_disc_arthroplasty', ('Cervical disc arthroplasty C5-6', 'Cervical artificial disc replacement'), None,
     'The injured worker has single-level C5-6 disc herniation with radiating arm pain.',
     'The MRI shows multilevel spondylosis with facet arthropathy.'),
    ('kyphoplasty', ('Kyphoplasty T12', 'Vertebroplasty L1'), 'kyphoplasty',
     'acute osteoporotic compression fracture T12, edema on STIR MRI',
     'chronic healed T12 compression fracture'),
    ('scs_trial', ('Spinal cord stimulator trial', 'SCS trial 7 days'), 'spinal cord stimulator trial',
     'The injured worker has failed back surgery syndrome with persistent radicular leg pain.',
     'The pain is axial low back pain.'),
    ('scs_permanent', ('Permanent spinal cord stimulator implant', 'SCS implantation'), 'spinal cord stimulator permanent',
     'SCS trial 7 days: 60% pain relief, cut Norco in half',
     'failed SCS trial'),
    ('intrathecal_pump', ('Intrathecal pump implantation', 'Morphine pump'), 'intrathecal pump',
     'The intrathecal trial gave 70% pain relief.',
     'The intrathecal trial was unsuccessful: failed trial.'),
    ('hardware_removal', ('Hardware removal right ankle', 'Removal of hardware L4-5'), None,
     'painful prominent hardware lateral ankle, fracture healed',
     'fracture not yet healed, non-union'),
    ('shoulder_subacromial_decompression', ('Right shoulder arthroscopic subacromial decompression', 'Left shoulder acromioplasty'), 'subacromial decompression',
     'The examination shows a positive Neer and positive Hawkins test, and the subacromial injection gave temporary relief.',
     'The Neer and Hawkins tests are negative.'),
    ('rotator_cuff_repair', ('Right rotator cuff repair', 'Arthroscopic RCR left shoulder'), 'rotator cuff repair',
     'MRI full-thickness supraspinatus tear, weak abduction 4-/5, +drop arm',
     'MRI cuff tendinosis, no tear; strength 5/5'),
    ('shoulder_labral_repair', ('Right shoulder SLAP repair', 'Arthroscopic Bankart repair left shoulder', 'Labral repair right shoulder', 'Right shoulder stabilization'), 'shoulder labral repair',
     'The injured worker has recurrent shoulder dislocations and an MR arthrogram showing a labral tear.',
     'The injured worker has had no dislocations and no instability.'),
    ('distal_clavicle_excision', ('Arthroscopic distal clavicle excision', 'Mumford procedure right shoulder'), 'distal clavicle excision',
     'AC joint arthritis, TTP over AC joint, +cross-body adduction',
     'AC joint non-tender, neg cross-body adduction'),
    ('biceps_tenodesis', ('Right biceps tenodesis', 'Distal biceps tendon repair'), None,
     'The examination shows bicipital groove tenderness and a positive Speed test.',
     'The Speed and Yergason tests were negative.'),
    ('shoulder_arthroplasty', ('Total shoulder arthroplasty', 'Reverse total shoulder replacement left'), 'shoulder arthroplasty',
     'severe glenohumeral OA, bone-on-bone on xray',
     'x-rays unremarkable; full ROM'),
    ('shoulder_capsular_release', ('Right shoulder manipulation under anesthesia', 'Left shoulder arthroscopic capsular release'), 'shoulder manipulation under anesthesia',
     'The injured worker has adhesive capsulitis with external rotation limited to 20 degrees.',
     'The injured worker has full passive range of motion.'),
    ('lateral_epicondyle_release', ('Lateral epicondyle release', 'Right elbow lateral epicondyle debridement'), 'epicondylitis surgery',
     'lateral epicondylitis x 12 months failed PT, brace and 3 cortisone injections',
     'neg Cozen, neg Mill'),
    ('cubital_tunnel_release', ('Left cubital tunnel release', 'Ulnar nerve transposition right elbow'), 'cubital tunnel release',
     'The nerve conduction study shows ulnar neuropathy at the elbow with numbness in the ring and little fingers.',
     'The nerve conduction study was normal.'),
    ('carpal_tunnel_release', ('Right carpal tunnel release', 'Endoscopic CTR left'), 'carpal tunnel release',
     'NCS moderate R CTS, night numbness, +Tinel, +Phalen, failed night splint',
     'NCS normal, neg Tinel'),
    ('trigger_finger_release', ('Trigger finger release, right ring finger', 'Left thumb A1 pulley release'), 'trigger finger release',
     'The right ring finger continues triggering with a palpable nodule at the A1 pulley after two injections.',
     'The triggering resolved after the injection.'),
    ('de_quervain_release', ('De Quervain release', 'Right first dorsal compartment release'), 'de Quervain release',
     'R wrist +Finkelstein, radial styloid tenderness, failed thumb spica splint',
     'neg Finkelstein'),
    ('wrist_arthroscopy_tfcc', ('Left wrist arthroscopy with TFCC debridement', 'TFCC repair right wrist'), None,
     'The injured worker has ulnar-sided wrist pain with clicking and a TFCC tear on MRI.',
     'There is no ulnar-sided wrist pain and no clicking.'),
    ('ganglion_excision', ('Excision of dorsal wrist ganglion', 'Ganglion cyst excision right wrist'), None,
     'painful enlarging dorsal wrist ganglion, recurred after aspiration',
     'asymptomatic cyst'),
    ('hand_tendon_nerve_repair', ('Flexor tendon repair right index finger', 'Digital nerve repair left ring finger'), None,
     'The injured worker sustained a laceration of the flexor tendon and cannot flex the DIP joint.',
     'The injured worker has full active flexion of the finger.'),
    ('knee_arthroscopy_meniscectomy', ('Left knee arthroscopic partial meniscectomy', 'Right knee arthroscopy', 'Medial meniscus repair left knee'), 'knee arthroscopy / meniscectomy',
     'R knee locking and catching, +McMurray, MRI medial meniscal tear',
     'no locking or catching, neg McMurray'),
    ('knee_chondroplasty', ('Left knee arthroscopic chondroplasty', 'Microfracture right knee'), 'knee chondroplasty',
     'The MRI shows a focal chondral defect of the medial femoral condyle with catching.',
     'The MRI shows tricompartmental diffuse cartilage loss from severe osteoarthritis.'),
    ('acl_reconstruction', ('ACL reconstruction', 'Right knee anterior cruciate ligament reconstruction'), 'ACL reconstruction',
     'L knee giving way, +Lachman, +pivot shift, MRI ACL tear',
     'stable knee, neg Lachman, neg anterior drawer'),
    ('knee_arthroplasty', ('Right total knee arthroplasty', 'Left TKA', 'Unicompartmental knee arthroplasty'), 'total knee arthroplasty',
     'The standing x-rays show bone-on-bone medial compartment osteoarthritis with night pain.',
     'The x-rays show only mild osteoarthritis.'),
    ('knee_manipulation', ('Left knee manipulation under anesthesia',), 'knee manipulation under anesthesia',
     's/p TKA 6 wks, flexion limited to 75 degrees, arthrofibrosis',
     'flexion improving, 110 degrees'),
    ('patellar_stabilisation', ('MPFL reconstruction right knee', 'Tibial tubercle transfer', 'Patellar stabilization left knee'), None,
     'The injured worker has had recurrent patellar dislocations with a positive apprehension test.',
     'The patellar apprehension test is negative.'),
    ('hip_arthroscopy', ('Right hip arthroscopy with labral repair', 'Left hip arthroscopy'), None,
     'R hip labral tear on MRA, +FADIR, clicking',
     'R hip: severe OA, bone-on-bone'),
    ('hip_arthroplasty', ('Right total hip arthroplasty', 'Left THA'), None,
     'The injured worker has advanced hip osteoarthritis with painful internal rotation and night pain.',
     'The radiographs show only mild hip degenerative change.'),
    ('ankle_ligament_reconstruction', ('Brostrom ankle ligament reconstruction', 'Lateral ankle ligament reconstruction right'), 'ankle ligament reconstruction',
     'chronic ankle instability, recurrent sprains, +anterior drawer, +talar tilt',
     'neg anterior drawer, neg talar tilt'),
    ('achilles_repair', ('Left Achilles tendon repair', 'Achilles tendon debridement'), None,
     'The examination shows a positive Thompson test and a palpable gap in the Achilles tendon.',
     'The Thompson test is negative.'),
    ('ankle_arthroscopy', ('Right ankle arthroscopy with debridement',), None,
     'R ankle osteochondral lesion of the talus on MRI, catching',
     'R ankle MRI normal'),
    ('plantar_fascia_release', ('Plantar fascia release left foot', 'Endoscopic plantar fasciotomy'), None,
     'The injured worker has plantar fasciitis for 12 months that failed orthotics, night splints and injections.',
     'The symptoms have been present for 3 months of duration.'),
    ('tarsal_tunnel_release', ('Right tarsal tunnel release', "Morton's neuroma excision"), None,
     'EMG/NCS confirms tarsal tunnel syndrome, numbness of the sole',
     'EMG/NCS normal'),
    ('fracture_fixation', ('ORIF right ankle fracture', 'Open reduction internal fixation distal radius'), None,
     'The x-rays show a displaced bimalleolar fracture.',
     'The x-rays show a non-displaced fracture.'),
    ('amputation', ('Left index finger amputation revision', 'Below knee amputation'), None,
     'L index finger nonviable after crush, gangrene',
     'finger viable, healing well'),
    ('dvt_compression_device', ('Pneumatic compression device post-op', 'DVT prophylaxis unit rental 14 days', 'Sequential compression device'), 'DVT compression device',
     'The injured worker has a history of DVT and underwent a knee replacement.',
     'The surgery is an outpatient arthroscopy.'),
    ('preop_ekg', ('Pre-op EKG', 'Preoperative electrocardiogram'), None,
     'HTN, DM2, CAD s/p stent, for lumbar fusion',
     'local anesthesia, minor procedure'),
    ('preop_labs', ('Pre-op labs: CBC, BMP, PT/INR', 'Preoperative laboratory testing'), None,
     'The injured worker takes warfarin and has diabetes.',
     'The procedure is a minor procedure under local anesthesia.'),
    ('preop_chest_xray', ('Pre-op chest x-ray', 'CXR'), 'chest X-ray pre-op',
     'COPD, 40 pack-year smoker',
     'lungs clear to auscultation'),
    ('knee_scooter', ('Knee scooter rental', 'iWalk hands-free crutch'), None,
     'The surgeon ordered strict non-weight-bearing on the left leg after the ankle fracture.',
     'The injured worker is full weight bearing with a normal gait.'),
    ('manual_wheelchair', ('Manual wheelchair', 'Wheelchair rental'), None,
     'non-ambulatory after bilateral calcaneus fractures',
     'normal gait'),
    ('power_mobility_device', ('Power scooter', 'Power wheelchair', 'Motorized scooter'), 'wheelchair / scooter',
     'The injured worker is unable to propel a manual wheelchair because of bilateral upper extremity weakness.',
     'The injured worker is able to self-propel a manual wheelchair.'),
    ('interferential_unit', ('Interferential stimulator', 'IF unit 30-day trial'), 'interferential unit',
     'side effects from the medications (GI upset from NSAIDs); meds ineffective',
     'pain well controlled on meds'),
    ('physical_therapy', ('Physical therapy 2x6 lumbar', 'PT 3x4 right shoulder', 'Physiotherapy 8 sessions'), 'physical therapy',
     'The injured worker has limited range of motion of the lumbar spine and difficulty lifting and bending.',
     'The injured worker has full range of motion and full strength.'),
    ('hand_occupational_therapy', ('Hand therapy 2x4', 'Occupational therapy 2x4', 'OT 6 visits right hand'), ('hand therapy', 'occupational therapy for ADLs'),
     'R hand grip 20 lbs, difficulty buttoning and opening jars',
     'independent with all ADLs, full grip'),
    ('aquatic_therapy', ('Aquatic therapy x8', 'Pool therapy 2x6'), 'aquatic therapy',
     'The injured worker has a BMI of 44 and could not tolerate land-based therapy.',
     'The injured worker has a BMI of 24.'),
    ('chiropractic', ('Chiropractic 1x6', 'Chiropractic manipulation 6 visits lumbar', 'CMT x8'), 'chiropractic',
     'acute mechanical low back pain, L4-5 segmental restriction, paraspinal spasm',
     'dx carpal tunnel syndrome'),
    ('acupuncture', ('Acupuncture x6', 'Electroacupuncture 2x3'), 'acupuncture',
     'The injured worker had side effects from the NSAIDs, and the pain medications were reduced.',
     'The injured worker has a needle phobia.'),
    ('massage_therapy', ('Massage therapy x6', 'Myofascial release 6 sessions'), 'massage',
     'paraspinal muscle spasm, massage along with HEP',
     'passive care only, stand-alone'),
    ('work_hardening', ('Work hardening 10 sessions', 'Work conditioning 12 visits'), 'work conditioning / hardening',
     'The employer has agreed to modified work and the job demands are heavy, lifting 75 pounds; therapy has plateaued.',
     'The injured worker was laid off.'),
    ('functional_capacity_evaluation', ('Functional capacity evaluation', 'FCE'), 'FCE',
     'prior unsuccessful RTW attempts, near MMI',
     'returned to full duty'),
    ('surgical_consultation', ('Orthopedic consultation', 'Spine surgeon consultation', 'Referral to hand surgeon'), 'consultation',
     'The injured worker has a progressive neurological deficit with new foot drop.',
     'The injured worker declines surgery.'),
    ('scs_revision', ('Spinal cord stimulator battery replacement', 'SCS lead revision'), None,
     'SCS lead migration w/ loss of coverage',
     'stimulator never helped'),
    ('elbow_arthroscopy', ('Right elbow arthroscopy with loose body removal',), None,
     'The injured worker has a loose body in the elbow with locking.',
     'The elbow has full range of motion.'),
    ('revision_joint_arthroplasty', ('Revision right total knee arthroplasty', 'Revision left THA'), None,
     'R TKA aseptic loosening on xray, instability',
     'components well-fixed, ESR/CRP normal'),
    ('intraop_neuromonitoring', ('Intraoperative neuromonitoring', 'SSEP monitoring during ACDF'), None,
     'The injured worker has cervical myelopathy with cord compression on MRI.',
     'The procedure is a single-level lumbar microdiscectomy.'),
]
UNRELATED = ['The injured worker reports trouble sleeping and is followed for blood pressure.', 'pt here for med refill, mood ok, BP 128/80']


def _section_services() -> list[str]:
    """The services of the family-A section (up to the next section header, if any)."""
    text = (ROOT / "features" / "criteria.toml").read_text(encoding="utf-8")
    assert HEADER in text
    section = text.split(HEADER, 1)[1].split("\n# --- ", 1)[0]
    return [c["service"] for c in tomllib.loads(section)["criterion"]]


def _walk() -> list[tuple[str, str, str, str]]:
    spec = importlib.util.spec_from_file_location("service_walk", ROOT / "experiments" / "service_walk.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.WALK


def _signals(summary: str, item: str) -> dict:
    sig = extract_signals({"summary": summary, "item": item})
    return {k: sig[k].value for k in ("service_criteria", "service_indication_documented",
                                      "service_indication_contradicted")}


def _criteria_of(item: str) -> list[str]:
    return list(_signals("The injured worker is seen for follow-up.", item)["service_criteria"])


def test_every_family_a_criterion_has_a_case_and_there_are_at_least_100():
    services = _section_services()
    assert len(services) == len(set(services)) >= 100
    assert set(services) == {c[0] for c in CASES}


@pytest.mark.parametrize("service, items", [(c[0], c[1]) for c in CASES], ids=[c[0] for c in CASES])
def test_the_items_typed_for_a_service_reach_its_criterion(service, items):
    for item in items:
        assert service in _criteria_of(item), item


def test_no_family_a_criterion_reaches_another_service_walk_class():
    owner: dict[str, set[str]] = {}
    for service, _, walk, _, _ in CASES:
        for cls in (walk if isinstance(walk, tuple) else (walk,)):
            owner.setdefault(cls, set()).add(service)
    family = {c[0] for c in CASES}
    wrong = [(cls, item, sorted((set(_criteria_of(item)) & family) - owner.get(cls, set())))
             for _, cls, item, _ in _walk()]
    assert [w for w in wrong if w[2]] == []


def test_no_family_a_criterion_reaches_the_items_of_another():
    family = {c[0] for c in CASES}
    wrong = [(service, item, sorted((set(_criteria_of(item)) & family) - {service}))
             for service, items, *_ in CASES for item in items]
    assert [w for w in wrong if w[2]] == []


@pytest.mark.parametrize("service, item, text, documented, contradicted", [
    row for i, (service, items, _, affirmative, negated) in enumerate(CASES) for row in (
        (service, items[0], affirmative, True, False),
        (service, items[0], negated, False, True),
        (service, items[0], UNRELATED[i % 2], False, False))],
    ids=[f"{c[0]}-{kind}" for c in CASES for kind in ("documented", "contradicted", "unrelated")])
def test_a_summary_gives_the_fields_it_states(service, item, text, documented, contradicted):
    got = _signals(text, item)
    assert service in got["service_criteria"]
    assert (got["service_indication_documented"], got["service_indication_contradicted"]) == (documented, contradicted)
