"""A client's name typed anywhere in the app never reaches the audit trail or its export."""

from __future__ import annotations

import logging
import unicodedata
from urllib.parse import quote

import sqlalchemy as sa
from flask import g

from app.audit.models import AuditEvent
from app.permissions import Role
from tests.conftest import sign_in
from tests.factories import UserFactory

CANARY = "Đinh Thị Canary Hoà"


def _variants() -> list[str]:
    plain = "".join(
        c
        for c in unicodedata.normalize("NFD", CANARY.replace("Đ", "D"))
        if unicodedata.category(c) != "Mn"
    )
    return [v.casefold() for v in (CANARY, plain, quote(CANARY), "canary")]


def _assert_clean(text: str, where: str) -> None:
    folded = text.casefold()
    for variant in _variants():
        assert variant not in folded, f"the canary leaked into {where}"


def test_canary_never_reaches_the_audit_trail(app, client, db, world, login_as, caplog):
    caplog.set_level(logging.INFO)

    def switch_to(user) -> None:
        # The `db` fixture's app context lives for the whole test, so `g` (and the actor and
        # Flask-Login user cached in it) is shared by every request: forget them on a switch.
        for _ in range(2):
            g.pop("actor", None)
            g.pop("_login_user", None)
            client.post("/auth/sign-out")
        login_as(user)

    # 1. As a user's display name.
    holder = UserFactory(
        username="holder_a", display_name=CANARY, role=Role.CASEWORKER, org_unit=world.district_a
    )
    db.session.commit()
    # 2. In a sign-in attempt's username field (unknown user) and as a password.
    assert sign_in(client, CANARY).status_code == 401
    assert sign_in(client, "caseworker", CANARY).status_code == 401
    # 3. In URLs: a case code that is a name (refused with 404, audited), and audit filters.
    switch_to(world.users["caseworker"])
    assert client.get(f"/cases/{quote(CANARY)}").status_code == 404
    assert client.get(f"/audit/?object_ref={quote(CANARY)}").status_code == 403
    switch_to(world.users["admin"])
    query = f"username={quote(CANARY)}&object_ref={quote(CANARY)}&org_unit={quote(CANARY[:20])}"
    assert client.get(f"/audit/?{query}").status_code == 200
    assert client.get(f"/audit/export.csv?{query}").status_code == 200
    runner = app.test_cli_runner()
    result = runner.invoke(
        args=[
            "audit",
            "accessed",
            "--since",
            "2026-01-01",
            "--until",
            "2099-01-01",
            "--user",
            CANARY,
        ]
    )
    assert result.exit_code == 0, result.output
    # The sign-in as the canary's holder: the display name is not an audit field.
    switch_to(holder)

    rows = db.session.execute(sa.select(AuditEvent)).scalars().all()
    actions = {r.action for r in rows}
    assert {
        "auth.sign_in_failed",
        "access.denied",
        "audit.viewed",
        "audit.exported",
        "auth.sign_in",
    } <= actions
    for row in rows:
        values = [getattr(row, c.key) for c in AuditEvent.__table__.columns]
        _assert_clean(" | ".join(str(v) for v in values), f"audit event {row.seq}")
    assert any("withheld" in r.details for r in rows if r.action == "audit.viewed")

    switch_to(world.users["admin"])
    export = client.get("/audit/export.csv").get_data(as_text=True)
    assert "audit.viewed" in export and "auth.sign_in_failed" in export
    _assert_clean(export, "the CSV export")
    _assert_clean("\n".join(r.getMessage() for r in caplog.records), "the logs")
