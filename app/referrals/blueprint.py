"""The referrals blueprint, on its own so that each page module (routes, directory_routes,
referral_pages) registers on it without importing another."""

from __future__ import annotations

from flask import Blueprint

from app.permissions import Role

bp = Blueprint("referrals", __name__, template_folder="templates")

# Who works with referrals: the caseworker who sends them and the partner who answers.
REFERRAL_ROLES = (Role.CASEWORKER, Role.PARTNER)
