"""Org units (province → optional district → commune/ward) and the users who work in them."""
