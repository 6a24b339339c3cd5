"""Org units (province → optional district → commune/ward) and the users who work in them."""

from app.orgs import tree_stamp as _tree_stamp  # noqa: F401, E402  (org_tree_stamp and its triggers)
