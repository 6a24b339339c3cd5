"""Outreach activities logged by commune volunteer teams: counts of people reached, never names."""

from app.outreach import months as _months  # noqa: F401, E402  (keeps outreach_months)
