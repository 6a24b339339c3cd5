"""Outcomes: the connected rate against plan targets, disclosure-controlled aggregates, and the
six-monthly and annual reports (DESIGN.md, "The headline indicator")."""

# Keeps the figures tables current whenever case data is written, in any process that loads the
# reports module.
from app.reports import tracking as _tracking  # noqa: F401
