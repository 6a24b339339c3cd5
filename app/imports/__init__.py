"""Bounded, staged imports shared by every module (see services.py for the steps)."""
