"""Hand-written letters in each layout, for parser tests. The clinical text is invented for
this project; only the layout (headings, labels, wrapping) follows the real letters."""

HOW_MADE = """HOW THE IMR FINAL DETERMINATION WAS MADE
MAXIMUS Federal Services sent the complete case file to an expert reviewer. The reviewer is
independent of the parties and practises in a relevant specialty.
"""

BOILER = """CLINICAL CASE SUMMARY
The expert reviewer developed the following clinical case summary based on a review of the
case file, including all medical records:

"""

SUMMARY_2016 = """The injured worker is a 51-year-old woman who hurt her right shoulder lifting boxes on
March 3, 2014. In a utilization review report dated October 2, 2016, the claims administrator
modified a request for physical therapy. She has completed eight sessions of acupuncture
without lasting benefit. Norco was refilled. She remains off work.
"""

LETTER_2016 = (
    """
Case Number: CM16-0000001
Date Assigned: 10/20/2016 Date of Injury:  03/03/2014
Decision Date: 11/28/2016 UR Denial Date:  10/02/2016
Priority:  Standard Application
Received:
10/15/2016

"""
    + HOW_MADE
    + """
The Expert Reviewer has the following credentials:
State(s) of Licensure: California
Certification(s)/Specialty: Orthopedic Surgery

"""
    + BOILER
    + SUMMARY_2016
    + """
IMR ISSUES, DECISIONS AND RATIONALES
The Final Determination was based on decisions for the disputed items/services set forth below:

Additional acupuncture for the right shoulder, two times a week for four weeks (8
sessions):  Upheld

Claims Administrator guideline: Decision based on MTUS Acupuncture Medical Treatment
Guidelines.

MAXIMUS guideline: Decision based on MTUS Acupuncture Medical Treatment Guidelines.

Decision rationale: Eight earlier sessions produced no functional gain. The request is not
medically necessary.

Physical therapy 12 sessions was the original request. Physical therapy 6 sessions was
authorized by the Claims Administrator. The remaining IMR eligible portion of the original
request, Physical therapy 6 sessions is:
Overturned
Claims Administrator guideline: Decision based on Non-MTUS Citation Official Disability
Guidelines.

MAXIMUS guideline: Decision based on MTUS Chronic Pain Medical Treatment Guidelines.

Decision rationale: The therapist documented better lifting tolerance. The request is
medically necessary.

Home exercise kit was the original request. The Claims Administrator authorized an
instruction visit only, leaving the original request IMR eligible. The original request,
Home exercise kit is: Upheld

Claims Administrator guideline: The Claims Administrator did not cite any medical evidence
for its decision.

MAXIMUS guideline: Decision based on MTUS Chronic Pain Medical Treatment Guidelines.

Decision rationale: A kit adds nothing to a home program. The request is not medically
necessary.
Retrospective x-rays of the right shoulder (DOS 09/30/16):  Overturned

Claims Administrator guideline: Decision based on MTUS Shoulder Complaints.

MAXIMUS guideline: Decision based on MTUS Shoulder Complaints.

Decision rationale: The fall warranted films. The request was medically necessary.
"""
)

LETTER_2013 = "\n\n".join(
    """ HOW THE IMR FINAL DETERMINATION WAS MADE
MAXIMUS Federal Services sent the complete case file to an expert reviewer. The expert
reviewer is Board Certified in Family Practice, and is licensed to practice in California.

CLINICAL CASE SUMMARY
The expert reviewer developed the following clinical case summary based on a review of the
case file, including all medical records:

This 44 year-old man strained his neck in 2011. A course of six chiropractic visits gave only
temporary relief. He is working modified duty. The request for more chiropractic care was
non-certified on 8/1/13 and the Final Determination Letter for IMR Case Number CM13-0000042 4 provider
appealed.

IMR ISSUES, DECISIONS AND RATIONALES
The Final Determination was based on decisions for the disputed items/services set forth below:

CHIROPRACTIC CARE TWO TIMES A WEEK FOR SIX
WEEKS FOR THE NECK:  Upheld

Claims Administrator guideline: Decision based on MTUS Chronic Pain Medical Treatment
Guidelines.

MAXIMUS guideline: Decision based on MTUS Chronic Pain Medical Treatment Guidelines.

Decision rationale: Relief was temporary and function did not change. Not medically
necessary.
""".split("\n")
)

LETTER_2014 = """Case Number: CM14-0000077
Date Assigned: 02/10/2014   Date of Injury: 05/06/2012
Decision Date: 03/14/2014   UR Denial Date: 01/28/2014
Priority: Standard   Application Received: 02/03/2014

HOW THE IMR FINAL DETERMINATION WAS MADE
The expert reviewer is Board Certified in Internal Medicine, and is licensed to practice in California.

DOCUMENTS REVIEWED
 Application of Independent Medical Review
 Utilization Review Determination

CLINICAL CASE SUMMARY
The expert reviewer developed the following clinical case summary based on a review of the case file, including all medical records:
The patient is a 60-year-old clerk with chronic wrist pain who reports that omeprazole settles
her stomach while she takes naproxen.

IMR DECISION(S) AND RATIONALE(S)
1. Omeprazole 20mg #60 is medically necessary and appropriate.
The Claims Administrator based its decision on the MTUS Chronic Pain Medical Treatment Guidelines.
The Expert Reviewer based his/her decision on the MTUS Chronic Pain Medical Treatment Guidelines.
The Expert Reviewer's decision rationale:
Dyspepsia on an NSAID supports a proton pump inhibitor.
2. Wrist MRI without contrast is not medically necessary and appropriate.
The Claims Administrator based its decision on the MTUS Forearm, Wrist, and Hand Complaints.
The Expert Reviewer based his/her decision on the MTUS Forearm, Wrist, and Hand Complaints.
The Expert Reviewer's decision rationale:
No red flags are described.
"""

LETTER_PROFESSIONAL = """MEDICAL PROFESSIONAL REVIEW
Case Number: CM19-0000123
Date of Injury: 07/01/2017   UR Denial Date: 04/02/2019   Decision Date: 05/01/2019
Reviewer Specialty: Anesthesiology

CLINICAL CASE SUMMARY
The worker is a 39-year-old driver with low back pain; a prior epidural gave six weeks of relief
and she returned to full duty.

ISSUE AT DISPUTE: Repeat lumbar epidural steroid injection L5-S1
DETERMINATION: Overturned
CLAIMS ADMINISTRATOR GUIDELINE: MTUS Chronic Pain Medical Treatment Guidelines.
REVIEWER GUIDELINE: MTUS Chronic Pain Medical Treatment Guidelines, Epidural steroid injections.
RATIONALE: Documented relief and return to work meet the repeat-block criteria.
"""

NOT_A_LETTER = "Minutes of the quarterly safety committee.\nNo incidents were reported.\n"
CUT_OFF = LETTER_2016[: LETTER_2016.index("Claims Administrator guideline")]

LETTER_NOTICE_2013 = """MAXIMUS FEDERAL SERVICES, INC.
Notice of Independent Medical Review Determination Dated: 10/02/2013
IMR Case Number: CM13-0000311
1) MAXIMUS Federal Services, Inc. has determined the request for 12 sessions of aquatic
therapy is notmedically necessary and appropriate.
2) MAXIMUS Federal Services, Inc. has determined the request for a lumbar support is
medically necessary and appropriate.
INDEPENDENT MEDICAL REVIEW DECISION AND RATIONALE
An application for Independent Medical Review was filed on 9/10/2013 disputing the
Utilization Review Denial dated 9/01/2013. A decision has been made for each item:
1) MAXIMUS Federal Services, Inc. has determined the request for 12 sessions of aquatic
therapy is notmedically necessary and appropriate.
2) MAXIMUS Federal Services, Inc. has determined the request for a lumbar support is
medically necessary and appropriate.
Medical Qualifications of the Expert Reviewer:
The physician reviewer is Board Certified in Physical Medicine and Rehabilitation and is licensed to practice in California.
Case Summary:
Disclaimer: The following case summary was taken directly from the utilization review
denial/modification dated September 1, 2013.
The patient is a 47 year-old roofer with a date of injury of 4/14/2012 and mechanical low
back pain. Land-based therapy helped him return to light duty.
IMR ISSUES, DECISIONS AND RATIONALES:
1) Regarding the request for 12 sessions of aquatic therapy:
Medical Treatment Guideline(s) Used by the Claims Administrator (CA):
MTUS Chronic Pain Medical Treatment Guidelines, Aquatic therapy.
Medical Treatment Guideline(s) Used by the Expert Reviewer (ER):
MTUS Chronic Pain Medical Treatment Guidelines, Aquatic therapy.
Rationale for the Decision:
He tolerates land-based exercise, so water-based therapy is not needed.
2) Regarding the request for a lumbar support:
Medical Treatment Guideline(s) Used by the Claims Administrator (CA):
MTUS ACOEM Low Back Complaints.
Medical Treatment Guideline(s) Used by the Expert Reviewer (ER):
MTUS ACOEM Low Back Complaints.
Rationale for the Decision:
A support for heavy roofing work is reasonable during the return to duty.
"""

LETTER_PROFESSIONAL_LABELLED = """
MEDICAL PROFESSIONAL REVIEW
Case Number: CM13-0000555
ISSUE AT DISPUTE: Cervical epidural steroid injection C5-6
CASE SUMMARY: The employee is a 52-year-old nurse with neck pain and arm numbness after a
patient transfer on 2/2/2012. A first injection gave two days of relief.
DOCUMENTS REVIEWED FOR DETERMINATION: Utilization review determination; progress notes.
MEDICAL TREATMENT GUIDELINE(S) RELIED UPON BY PROFESSIONAL
REVIEWER AND WHY: MTUS Chronic Pain Medical Treatment Guidelines, Epidural steroid injections.
RATIONALE FOR WHY THE REQUESTED TREATMENT/SERVICE IS/WAS NOT
MEDICALLY NECESSARY: Repeat blocks need lasting relief. The request is not medically necessary.
MEDICAL REVIEWER QUALIFICATIONS: The reviewer is Board Certified in Anesthesiology and is licensed to practice in California.
"""
