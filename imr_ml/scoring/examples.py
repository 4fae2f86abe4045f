"""Two example requests, a weak one and a strong one, typed as a provider's office would:
the demo scores them, `serve` offers them in its form, tests and benchmarks use
them. Kept apart from the demo so that importing them loads nothing else."""

EXAMPLES = [
    {
        "name": "weak: acupuncture without functional gains",
        "item": "Acupuncture 2 times a week for 6 weeks for the lumbar spine",
        "summary": (
            "The injured worker is a 61-year-old warehouse clerk with chronic low back pain from an injury in "
            "2009. She was declared permanent and stationary in 2012. She has completed twelve acupuncture "
            "sessions; the acupuncture gave no lasting benefit and there was no documented functional "
            "improvement. She remains off work and takes Norco 10/325 three times a day. In a utilization "
            "review report, the claims administrator denied the request for further acupuncture."
        ),
        "claims_admin_guideline": "Decision based on MTUS Acupuncture Medical Treatment Guidelines.",
        "date_of_injury": "2009-03-14",
        "ur_denial_date": "2016-11-02",
    },
    {
        "name": "strong: post-operative therapy with functional gains",
        "item": "Post-operative physical therapy 2 times a week for 3 weeks for the right knee",
        "summary": (
            "The injured worker is a 38-year-old carpenter who underwent right knee arthroscopy with partial "
            "meniscectomy last month after a work injury in June. Physical therapy so far improved his walking "
            "tolerance from one block to six blocks and he has returned to modified duty. He takes ibuprofen "
            "only and no opioids. Utilization review modified the request for therapy."
        ),
        "claims_admin_guideline": "The Claims Administrator did not cite any medical evidence for its decision.",
        "date_of_injury": "2016-06-20",
        "ur_denial_date": "2016-09-12",
    },
]
