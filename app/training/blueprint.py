"""The training blueprint, on its own so that each page module (routes, import_routes,
staffing_routes) registers on it without importing another."""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("training", __name__, url_prefix="/training", template_folder="templates")
