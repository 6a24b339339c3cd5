"""Disabling a user ends her sessions and revokes her API tokens for good (issue 16, point 5)."""

from __future__ import annotations

from app.auth.models import ApiToken
from app.cases import tokens
from app.extensions import db
from app.permissions import Actor
from tests.conftest import sign_in
from tests.orgs.conftest import details, events


def _bearer(user) -> dict:
    _token, plain = tokens.create_api_token(Actor.from_user(user), "phone")
    db.session.commit()
    return {"Authorization": f"Bearer {plain}"}


def test_re_enabled_user_gets_no_old_token_or_session_back(app, world, admin_client):
    target = world.users["caseworker"]
    headers = _bearer(target)
    own = app.test_client()
    assert sign_in(own, "caseworker").status_code == 302
    assert admin_client.get("/api/v1/cases", headers=headers).status_code == 200
    assert own.get("/cases/").status_code == 200

    page = f"/admin/users/{target.id}"
    assert admin_client.post(f"{page}/disable").status_code == 302
    assert admin_client.get("/api/v1/cases", headers=headers).status_code == 401
    assert admin_client.post(f"{page}/enable").status_code == 302
    db.session.refresh(target)
    assert target.is_enabled

    # Enabled again, yet neither her old token nor her old browser session works.
    assert admin_client.get("/api/v1/cases", headers=headers).status_code == 401
    assert own.get("/cases/").status_code == 302
    token = db.session.query(ApiToken).filter_by(user_id=target.id).one()
    assert token.revoked_at is not None
    (event,) = events("user.disabled")
    assert details(event) == {"count": 1, "tokens": 1}
    # A token she makes after re-enabling works: nothing else is held against her.
    assert admin_client.get("/api/v1/cases", headers=_bearer(target)).status_code == 200
