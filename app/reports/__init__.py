"""Outcomes: the connected rate against plan targets, disclosure-controlled aggregates, and the
six-monthly and annual reports (DESIGN.md, "The headline indicator")."""
