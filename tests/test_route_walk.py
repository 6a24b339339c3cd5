"""Deny by default: every route declares who may reach it, and anonymous callers get nowhere."""

from __future__ import annotations

import pytest
from werkzeug.routing.converters import NumberConverter

# Reachable without signing in, on purpose.
PUBLIC_ENDPOINTS = {
    "static",
    "home.root",
    "home.set_language",
    "home.health",
    "auth.sign_in",
    "auth.mfa",
    "auth.session_state",  # the page's idle timer asks it; says only alive or not
    "auth.resume",  # signing in again on a page whose session ended (throttled)
    "auth.resume_code",
    "cases_api.openapi",
    "api.openapi",
    "outreach.service_worker",
    "fhir.metadata",
}


def _rules(app):
    return [r for r in app.url_map.iter_rules()]


def test_every_view_declares_its_permission(app):
    unchecked = []
    for rule in _rules(app):
        view = app.view_functions[rule.endpoint]
        declared = getattr(view, "permission_roles", None)
        if rule.endpoint == "static":
            continue
        if declared is None:
            unchecked.append(rule.rule)
        elif declared == "public" and rule.endpoint not in PUBLIC_ENDPOINTS:
            unchecked.append(f"{rule.rule} (public but not in the allow-list)")
    assert not unchecked, f"routes without a permission check: {unchecked}"


def _sample_url(rule) -> str:
    values = {}
    for arg in rule.arguments:
        converter = rule._converters[arg]
        values[arg] = 1 if isinstance(converter, NumberConverter) else "X-1"
    return rule.build(values)[1]


@pytest.mark.parametrize("method", ["GET", "POST"])
def test_anonymous_callers_are_turned_away(app, client, method):
    for rule in _rules(app):
        if rule.endpoint in PUBLIC_ENDPOINTS or method not in (rule.methods or ()):
            continue
        url = _sample_url(rule)
        response = client.open(url, method=method)
        if url.startswith(("/api/", "/fhir/")):
            assert response.status_code == 401, (method, url, response.status_code)
        else:
            assert response.status_code == 302, (method, url, response.status_code)
            assert "/auth/sign-in" in response.headers["Location"], (method, url)


def test_a_refusal_without_its_recorder_is_an_error_not_a_silent_denial(app, monkeypatch):
    """permissions.py sits below the audit trail: the trail registers how refusals are
    recorded. Were it missing, deny() must fail loudly, never refuse without a trace."""
    from app import permissions
    from app.audit.services import record_denial

    assert permissions._record_denial is record_denial
    monkeypatch.setattr(permissions, "_record_denial", None)
    with app.test_request_context("/cases/"), pytest.raises(RuntimeError, match="recorder"):
        permissions.deny(permissions.Actor.anonymous(), "case", "NB-2026-00001")
