"""Withdrawing a consent asks for confirmation and a reason; withdrawing the consent to record
leads the caseworker to restrict processing or erase the case (issue #13.5)."""

from __future__ import annotations

import sqlalchemy as sa

from app.audit.models import AuditEvent
from app.cases import consents as cons
from app.cases.models import Consent
from app.extensions import db


def _consent(case, purpose):
    return next(c for c in case.consents if c.purpose == purpose)


def _withdraw_url(case, consent):
    return f"/cases/{case.code}/consents/{consent.id}/withdraw"


def test_the_case_page_links_to_a_confirmation_not_a_one_tap_withdrawal(
    client, world, login_as, case_a
):
    login_as(world.users["caseworker"])
    consent = _consent(case_a, "share:health")
    page = client.get(f"/cases/{case_a.code}").get_data(as_text=True)
    assert f'href="{_withdraw_url(case_a, consent)}"' in page
    assert f'action="{_withdraw_url(case_a, consent)}"' not in page
    confirm = client.get(_withdraw_url(case_a, consent))
    body = confirm.get_data(as_text=True)
    assert confirm.status_code == 200
    assert 'name="reason"' in body and 'name="confirm"' in body
    db.session.expire_all()
    assert db.session.get(Consent, consent.id).withdrawn_at is None


def test_without_confirmation_or_reason_nothing_changes(client, world, login_as, case_a):
    login_as(world.users["caseworker"])
    consent = _consent(case_a, "share:health")
    before = db.session.scalar(sa.select(sa.func.count(AuditEvent.seq)))
    for data in ({}, {"reason": "her_request"}, {"confirm": "y"}, {"reason": "x", "confirm": "y"}):
        response = client.post(_withdraw_url(case_a, consent), data=data)
        assert response.status_code == 400, data
        assert 'class="error"' in response.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(Consent, consent.id).withdrawn_at is None
    assert not db.session.scalar(
        sa.select(sa.func.count(AuditEvent.seq)).where(
            AuditEvent.seq > before, AuditEvent.action == "consent.withdrawn"
        )
    )


def test_withdrawing_sharing_records_the_reason_and_returns_to_the_case(
    client, world, login_as, case_a
):
    login_as(world.users["caseworker"])
    consent = _consent(case_a, "share:health")
    response = client.post(
        _withdraw_url(case_a, consent), data={"reason": "her_request", "confirm": "y"}
    )
    assert response.status_code == 302
    assert response.headers["Location"].endswith(f"/cases/{case_a.code}")
    db.session.expire_all()
    consent = db.session.get(Consent, consent.id)
    assert consent.withdrawn_at is not None and consent.withdrawn_reason == "her_request"
    details = db.session.scalars(
        sa.select(AuditEvent.details).where(AuditEvent.action == "consent.withdrawn")
    ).one()
    assert '"reason_code":"her_request"' in details.replace(" ", "")


def test_withdrawing_the_consent_to_record_leads_to_restriction_or_erasure(
    client, world, login_as, case_a
):
    login_as(world.users["caseworker"])
    record = _consent(case_a, cons.RECORD)
    response = client.post(
        _withdraw_url(case_a, record), data={"reason": "her_request", "confirm": "y"}
    )
    assert response.status_code == 302
    assert response.headers["Location"].endswith(f"/cases/{case_a.code}/next-step")
    step = client.get(response.headers["Location"]).get_data(as_text=True)
    assert f'action="/cases/{case_a.code}/restrict"' in step
    assert f'href="/cases/{case_a.code}/erase?reason=consent_withdrawn"' in step
    # Until she does one or the other, the case page says so.
    page = client.get(f"/cases/{case_a.code}").get_data(as_text=True)
    assert f'href="/cases/{case_a.code}/next-step"' in page
    erase = client.get(f"/cases/{case_a.code}/erase?reason=consent_withdrawn").get_data(
        as_text=True
    )
    assert '<option selected value="consent_withdrawn">' in erase
    assert client.post(f"/cases/{case_a.code}/restrict").status_code == 302
    # Restricted: the next step is done, the page no longer asks for it.
    assert client.get(f"/cases/{case_a.code}/next-step").status_code == 302
    page = client.get(f"/cases/{case_a.code}").get_data(as_text=True)
    assert f'href="/cases/{case_a.code}/next-step"' not in page


def test_volunteers_cannot_withdraw(client, world, login_as):
    from tests.cases.conftest import open_case

    case = open_case(
        world.users["caseworker"], world.commune_a, assigned_to_id=world.users["volunteer"].id
    )
    login_as(world.users["volunteer"])
    consent = _consent(case, "share:vocational_training")
    assert client.get(_withdraw_url(case, consent)).status_code == 403
    response = client.post(
        _withdraw_url(case, consent), data={"reason": "her_request", "confirm": "y"}
    )
    assert response.status_code == 403
    db.session.expire_all()
    assert db.session.get(Consent, consent.id).withdrawn_at is None
