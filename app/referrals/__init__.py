"""Partner directory (Open Referral HSDS 3.0) and closed-loop referrals (FHIR Task statuses)."""
