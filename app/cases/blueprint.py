"""The cases blueprint, on its own so that each page module (routes, consent_routes,
attachment_routes, import_routes) registers on it without importing another."""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("cases", __name__, template_folder="templates")
