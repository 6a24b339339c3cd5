"""Minimization, consent withdrawal and expiry: what reaches the partner, and when it stops."""

from __future__ import annotations

import json
from datetime import date, timedelta

import pytest
import sqlalchemy as sa
from fhir.resources.R4B.bundle import Bundle

from app.cases import services as case_services
from app.cases.rights import erase_case, restrict_processing
from app.cases.tokens import create_api_token
from app.extensions import db
from app.referrals import queries, services
from app.referrals.models import Referral
from tests.conftest import audit_actions
from tests.referrals.conftest import actor, forget_signed_in_user
from tests.referrals.factories import make_case

PHONE = "0912 345 678"
HEALTH = "Đang điều trị ARV"
VIOLENCE = "Bị chồng đánh năm 2025"
HIV = "HIV dương tính, đang điều trị"
SECRETS = (PHONE, HEALTH, VIOLENCE, HIV)


def _everything_the_partner_gets(app, client, referral, partner, caseworker_token) -> list[str]:
    """The partner page, the slip, the partner's API and the caseworker's FHIR export."""
    token = create_api_token(actor(partner), "test")[1]
    db.session.commit()
    out = [
        client.get(f"/referrals/{referral.id}").get_data(as_text=True),
        client.get(f"/referrals/{referral.id}/slip").get_data(as_text=True),
    ]
    api = app.test_client()
    auth = {"Authorization": f"Bearer {token}"}
    if True:  # the API authenticates every request by its token alone
        for url in (f"/api/v1/referrals/{referral.id}", "/api/v1/referrals"):
            response = api.get(url, headers=auth)
            assert response.status_code == 200
            out.append(json.dumps(response.get_json(), ensure_ascii=False))
    if True:
        fhir = api.get(
            f"/api/v1/referrals/{referral.id}/fhir",
            headers={"Authorization": f"Bearer {caseworker_token}"},
        )
        assert fhir.status_code == 200
        Bundle.model_validate(fhir.get_json())
        out.append(json.dumps(fhir.get_json(), ensure_ascii=False))
    # The partner's own system through the FHIR API (FHIR never carries the case code): the
    # search with its ServiceRequests, and the Patient, read as one answer.
    reads = []
    for url in (
        "/fhir/Task?_include=Task:focus",
        f"/fhir/ServiceRequest/{referral.id}",
        f"/fhir/Patient/{referral.id}",
    ):
        response = api.get(url, headers=auth)
        assert response.status_code == 200, url
        reads.append(json.dumps(response.get_json(), ensure_ascii=False))
    out.append("\n".join(reads))
    forget_signed_in_user()
    return out


FHIR_BODIES = 2  # the last bodies above: the Bundle export and the partner's FHIR reads


@pytest.fixture
def cw_token(world):
    token = create_api_token(actor(world.users["caseworker"]), "test")[1]
    db.session.commit()
    return token


def test_field_without_its_consent_never_reaches_the_partner(
    app, client, loop, world, login_as, cw_token
):
    # Sharing for health only: no phone, HIV, health-details or violence consent.
    case = make_case(world.commune_a, consents=("record", "share:health"))
    cw = actor(world.users["caseworker"])
    for field in ("phone", "health_details", "violence_details", "hiv_status"):
        with pytest.raises(services.ReferralError):
            services.create_referral(
                cw, case, case.needs[0], loop.hiv_testing, fields=["need", field], hiv_status=HIV
            )
    referral = services.create_referral(
        cw, case, case.needs[0], loop.hiv_testing, fields=["preferred_name", "need"]
    )
    services.send_referral(cw, referral)
    db.session.commit()
    # Even a tampered shared_fields list is filtered again at display time.
    referral.shared_fields = [
        "client_ref",
        "preferred_name",
        "need",
        "phone",
        "health_details",
        "violence_details",
    ]
    db.session.commit()
    login_as(loop.partner)
    for body in _everything_the_partner_gets(app, client, referral, loop.partner, cw_token):
        assert case.code not in body and referral.partner_reference in body
        assert "Chị Lan" in body
        for secret in SECRETS:
            assert secret not in body


def test_fields_with_consent_are_shared_and_stop_when_withdrawn(
    app, client, loop, world, login_as, cw_token
):
    case = make_case(
        world.commune_a,
        consents=("record", "share:health", "contact_phone", "share_hiv", "share_health_details"),
    )
    cw = actor(world.users["caseworker"])
    referral = services.create_referral(
        cw,
        case,
        case.needs[0],
        loop.hiv_testing,
        fields=["phone", "need", "health_details", "hiv_status"],
        hiv_status=HIV,
    )
    services.send_referral(cw, referral)
    db.session.commit()
    login_as(loop.partner)
    bodies = _everything_the_partner_gets(app, client, referral, loop.partner, cw_token)
    for body in bodies:
        assert PHONE in body and HEALTH in body and HIV in body
        assert VIOLENCE not in body
    # Withdrawing phone consent hides the phone at once, everywhere.
    phone = next(c for c in case.consents if c.purpose == "contact_phone")
    case_services.withdraw_consent(cw, case, phone, reason="her_request")
    db.session.commit()
    for body in _everything_the_partner_gets(app, client, referral, loop.partner, cw_token):
        assert PHONE not in body and HEALTH in body


@pytest.mark.parametrize("how", ["withdraw_sharing", "withdraw_record", "restrict", "erase"])
def test_stopping_sharing_cancels_every_open_referral(
    app, client, loop, world, login_as, how, cw_token
):
    cw = actor(world.users["caseworker"])
    case = make_case(
        world.commune_a,
        consents=("record", "share:health", "share:legal_aid"),
        needs=("health", "health", "legal_aid"),
    )
    other = loop.hiv_testing
    r_draft = services.create_referral(cw, case, case.needs[0], other, fields=["need"])
    r_sent = services.create_referral(
        cw, case, case.needs[1], loop.legal_aid, fields=["preferred_name"]
    )
    services.send_referral(cw, r_sent)
    r_working = services.create_referral(cw, case, case.needs[0], other, fields=["need"])
    services.send_referral(cw, r_working)
    services.transition(actor(loop.partner), r_working, "accepted")
    done = services.create_referral(cw, case, case.needs[0], other, fields=["need"])
    services.send_referral(cw, done)
    services.transition(
        actor(loop.partner), done, "rejected", services.TransitionInput(reason_code="no_capacity")
    )
    db.session.commit()
    if how == "withdraw_sharing":
        consent = next(c for c in case.consents if c.purpose == "share:health")
        case_services.withdraw_consent(cw, case, consent, reason="her_request")
    elif how == "withdraw_record":
        consent = next(c for c in case.consents if c.purpose == "record")
        case_services.withdraw_consent(cw, case, consent, reason="her_request")
    elif how == "restrict":
        restrict_processing(cw, case)
    else:
        erase_case(cw, case, case.code, "her_request")
    db.session.commit()
    db.session.expire_all()
    statuses = {r.id: r.status for r in db.session.scalars(sa.select(Referral))}
    assert statuses[r_draft.id] == statuses[r_sent.id] == statuses[r_working.id] == "cancelled"
    assert statuses[done.id] == "rejected"  # terminal states never change
    assert audit_actions().count("referral.cancelled") == 3
    for r in (r_draft, r_sent, r_working):
        referral = db.session.get(Referral, r.id)
        assert referral.withdrawn_at is not None and referral.reason_code == "client_declined"
        assert referral.events[-1].to_status == "cancelled"
    # The partner sees only "withdrawn": no code, no name.
    login_as(loop.partner_b)
    page = client.get(f"/referrals/{r_sent.id}").get_data(as_text=True)
    assert "Đã rút lại" in page
    assert case.code not in page and "Chị Lan" not in page
    assert client.get(f"/referrals/{r_sent.id}/slip").get_data(as_text=True).count(case.code) == 0


def test_withdrawing_one_category_leaves_the_other(loop, world):
    cw = actor(world.users["caseworker"])
    case = make_case(
        world.commune_a,
        consents=("record", "share:health", "share:legal_aid"),
        needs=("health", "legal_aid"),
    )
    legal = services.create_referral(
        cw, case, case.needs[1], _legal_service(loop, world), fields=["need"]
    )
    health = services.create_referral(cw, case, case.needs[0], loop.hiv_testing, fields=["need"])
    consent = next(c for c in case.consents if c.purpose == "share:health")
    case_services.withdraw_consent(cw, case, consent, reason="her_request")
    assert health.status == "cancelled" and legal.status == "draft"


def _legal_service(loop, world):
    from tests.referrals.factories import make_service

    return make_service(loop.legal, "legal_aid", [world.province], 5, name="Trợ giúp pháp lý")


def test_expiry_with_frozen_clock_is_idempotent(loop, world):
    cw = actor(world.users["caseworker"])
    sent_on = date(2026, 3, 2)
    referral = services.create_referral(cw, loop.case, loop.need, loop.hiv_testing, fields=["need"])
    services.send_referral(cw, referral, today=sent_on)  # respond_by 5 March
    answered = services.create_referral(cw, loop.case, loop.need, loop.hiv_testing, fields=["need"])
    services.send_referral(cw, answered, today=sent_on)
    services.transition(actor(loop.partner), answered, "accepted")
    db.session.commit()
    system = __import__("app.permissions", fromlist=["Actor"]).Actor.system("cron")
    assert services.expire_unanswered(system, date(2026, 3, 5)) == []  # due today: not yet
    assert referral.is_overdue(date(2026, 3, 6))
    expired = services.expire_unanswered(system, date(2026, 3, 6))
    assert [r.id for r in expired] == [referral.id]
    assert referral.status == "cancelled" and referral.reason_code == "expired_no_response"
    assert referral.events[-1].actor_username == "cron"
    assert services.expire_unanswered(system, date(2026, 3, 7)) == []  # idempotent
    assert answered.status == "accepted"
    assert audit_actions().count("referral.cancelled") == 1
    # The suggestion: the other health service covering the case's area.
    assert queries.suggestions_for(referral) == [loop.legal_aid]


def test_expire_command(app, loop, world):
    cw = actor(world.users["caseworker"])
    referral = services.create_referral(cw, loop.case, loop.need, loop.hiv_testing, fields=["need"])
    services.send_referral(cw, referral, today=date.today() - timedelta(days=10))
    db.session.commit()
    runner = app.test_cli_runner()
    result = runner.invoke(args=["referrals", "expire"])
    assert result.exit_code == 0, result.output
    assert "1 referral(s) expired" in result.output
    assert "Tư vấn sức khỏe pháp lý" in result.output
    assert "Chị Lan" not in result.output
    again = runner.invoke(args=["referrals", "expire"])
    assert "0 referral(s) expired" in again.output
    db.session.expire_all()
    assert db.session.get(Referral, referral.id).status == "cancelled"
