"""Outreach activities logged by commune volunteer teams: counts of people reached, never names."""
