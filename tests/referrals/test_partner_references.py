"""Partners get a random reference per referral, never the case code; two referrals of the same
woman to the same organization are linked only with her consent to be recognised."""

from __future__ import annotations

import json
import re

import pytest

from app.cases import services as case_services
from app.extensions import db
from app.referrals import references, services
from tests.referrals.conftest import actor
from tests.referrals.factories import make_case, make_service
from tests.referrals.test_sharing import _everything_the_partner_gets

REFERENCE = re.compile(r"^CG-[0-9A-HJKMNP-TV-Z]{4}-[0-9A-HJKMNP-TV-Z]{4}$")
CLIENT = re.compile(r"KH-[0-9A-HJKMNP-TV-Z]{4}-[0-9A-HJKMNP-TV-Z]{4}")


@pytest.fixture
def cw_token(world):
    from app.cases.tokens import create_api_token

    token = create_api_token(actor(world.users["caseworker"]), "test")[1]
    db.session.commit()
    return token


def _send(world, case, service, fields, need=None):
    cw = actor(world.users["caseworker"])
    referral = services.create_referral(cw, case, need or case.needs[0], service, fields=fields)
    services.send_referral(cw, referral)
    db.session.commit()
    return referral


def test_every_referral_gets_its_own_random_reference(loop, world):
    case = make_case(world.commune_a, needs=("health", "health"))
    first = _send(world, case, loop.hiv_testing, ["need"])
    second = _send(world, case, loop.hiv_testing, ["need"], need=case.needs[1])
    assert REFERENCE.match(first.partner_reference) and REFERENCE.match(second.partner_reference)
    assert first.partner_reference != second.partner_reference
    # Nothing of the case (its number, year or unit) is in it.
    digits = case.code.split("-")[-1]
    assert digits not in first.partner_reference and "2026" not in first.partner_reference


def test_references_are_drawn_again_when_taken(monkeypatch, loop, world):
    first = _send(world, make_case(world.commune_a), loop.hiv_testing, ["need"])
    draws = iter([first.partner_reference, first.partner_reference, "CG-0000-0001"])
    monkeypatch.setattr(references, "random_reference", lambda prefix: next(draws))
    second = _send(world, make_case(world.commune_a), loop.hiv_testing, ["need"])
    assert second.partner_reference == "CG-0000-0001"


def test_without_her_consent_two_referrals_to_one_partner_share_no_identifier(
    app, client, loop, world, login_as, cw_token
):
    case = make_case(world.commune_a, needs=("health", "health"))
    with pytest.raises(services.ReferralError):  # not even offered without her consent
        _send(world, case, loop.hiv_testing, ["client_ref", "need"])
    db.session.rollback()
    first = _send(world, case, loop.hiv_testing, ["need"])
    second = _send(world, case, loop.hiv_testing, ["need"], need=case.needs[1])
    login_as(loop.partner)
    seen_first = " ".join(_everything_the_partner_gets(app, client, first, loop.partner, cw_token))
    seen_second = " ".join(
        _everything_the_partner_gets(app, client, second, loop.partner, cw_token)
    )
    assert case.code not in seen_first and case.code not in seen_second
    assert not CLIENT.search(seen_first) and not CLIENT.search(seen_second)
    assert first.partner_reference in seen_first and second.partner_reference in seen_second
    detail_first = client.get(f"/referrals/{first.id}").get_data(as_text=True)
    assert second.partner_reference not in detail_first


def test_with_her_consent_one_partner_recognises_her_and_another_cannot_link(
    app, client, loop, world, login_as, cw_token
):
    case = make_case(
        world.commune_a,
        consents=("record", "share:health", "share_identity"),
        needs=("health", "health", "health"),
    )
    first = _send(world, case, loop.hiv_testing, ["client_ref", "need"])
    again = _send(world, case, loop.hiv_testing, ["client_ref", "need"], need=case.needs[1])
    elsewhere = _send(world, case, loop.legal_aid, ["client_ref", "need"], need=case.needs[2])
    login_as(loop.partner)
    bodies = [
        " ".join(_everything_the_partner_gets(app, client, r, loop.partner, cw_token))
        for r in (first, again)
    ]
    refs = [set(CLIENT.findall(body)) for body in bodies]
    assert len(refs[0]) == 1 and refs[0] == refs[1]  # the same woman, to the same clinic
    assert all(case.code not in body for body in bodies)
    other = services.sharing.shared_view(elsewhere).values["client_ref"]
    assert CLIENT.fullmatch(other) and other not in refs[0]  # another organization, another ref
    # Withdrawing that consent stops the link at once, everywhere.
    consent = next(c for c in case.consents if c.purpose == "share_identity")
    case_services.withdraw_consent(
        actor(world.users["caseworker"]), case, consent, reason="her_request"
    )
    db.session.commit()
    after = " ".join(_everything_the_partner_gets(app, client, first, loop.partner, cw_token))
    assert not CLIENT.search(after) and first.partner_reference in after


def test_fhir_patient_carries_the_references_only(client, loop, world, cw_token):
    case = make_case(
        world.commune_a, consents=("record", "share:health", "share_identity"), needs=("health",)
    )
    referral = _send(world, case, loop.hiv_testing, ["client_ref", "need"])
    body = client.get(
        f"/api/v1/referrals/{referral.id}/fhir", headers={"Authorization": f"Bearer {cw_token}"}
    ).get_json()
    patient = next(
        e["resource"] for e in body["entry"] if e["resource"]["resourceType"] == "Patient"
    )
    values = [i["value"] for i in patient["identifier"]]
    assert values[0] == referral.partner_reference and CLIENT.fullmatch(values[1])
    assert case.code not in json.dumps(body)


def test_the_client_reference_is_offered_on_the_form_only_with_her_consent(
    client, loop, world, login_as
):
    without = make_case(world.commune_a, needs=("health",))
    with_consent = make_case(
        world.commune_a, consents=("record", "share:health", "share_identity"), needs=("health",)
    )
    make_service(loop.clinic, "health", [world.district_a], 3, name="Khám phụ khoa")
    db.session.commit()
    login_as(world.users["caseworker"])
    page = client.get(f"/cases/{without.code}/needs/{without.needs[0].id}/refer")
    assert 'value="client_ref"' not in page.get_data(as_text=True)
    page = client.get(f"/cases/{with_consent.code}/needs/{with_consent.needs[0].id}/refer")
    assert 'value="client_ref"' in page.get_data(as_text=True)


def test_the_case_code_cannot_travel_in_the_partners_note(loop, world):
    from app.referrals.partner_note import identifying_kinds

    case = make_case(world.commune_a)
    assert identifying_kinds(case, f"Hồ sơ {case.code}, gọi trước", ["need"]) == ["code"]
    assert identifying_kinds(case, f"ho so {case.code.lower()}", ["need"]) == ["code"]
    with pytest.raises(services.ReferralError):
        services.create_referral(
            actor(world.users["caseworker"]),
            case,
            case.needs[0],
            loop.hiv_testing,
            fields=["need"],
            partner_note=f"Mã {case.code}",
        )
