"""Cases in a national tree: provinces under the central unit keep their case codes, their scopes
and their transfer targets; the central unit itself holds no cases."""

from __future__ import annotations

import pytest

from app.cases import queries
from app.cases.codes import province_prefix
from app.extensions import db
from app.orgs import services as orgs
from app.orgs.models import OrgLevel
from app.permissions import Actor, Role
from tests.cases.conftest import open_case
from tests.conftest import audit_actions, sign_in
from tests.factories import OrgUnitFactory, UserFactory
from tests.orgs.conftest import user


@pytest.fixture
def nation(world):
    """Ninh Bình (the world) and Bắc Ninh, both moved under the central unit; a caseworker at
    each province."""
    system = Actor.system("test")
    bac_ninh = OrgUnitFactory(code="27", name="Tỉnh Bắc Ninh", level=OrgLevel.PROVINCE)
    commune = OrgUnitFactory(code="27-X1", name="Xã Xa Lạ", level=OrgLevel.COMMUNE, parent=bac_ninh)
    UserFactory(username="cw_nb", role=Role.CASEWORKER, org_unit=world.province)
    UserFactory(username="cw_bn", role=Role.CASEWORKER, org_unit=bac_ninh)
    db.session.flush()
    central, _moved = orgs.add_central_unit(system, code="TW", name="Trung ương Hội LHPN Việt Nam")
    db.session.commit()
    return central, bac_ninh, commune


def test_codes_keep_the_province_prefix_under_the_central_unit(app, world):
    before = open_case(world.users["caseworker"], world.commune_a)
    central, _moved = orgs.add_central_unit(Actor.system("test"), code="TW", name="Trung ương")
    db.session.commit()
    assert world.commune_a.path.startswith(central.path)
    after = open_case(world.users["caseworker"], world.commune_a)
    year = before.opened_on.year
    assert (before.code, after.code) == (f"NB-{year}-00001", f"NB-{year}-00002")
    assert province_prefix(world.province) == "NB"
    bac_ninh = OrgUnitFactory(code="27", name="Tỉnh Bắc Ninh", level="province", parent=central)
    assert province_prefix(bac_ninh) == "BN"


def test_a_province_caseworker_gets_404_for_another_provinces_case(client, world, nation):
    _central, _bac_ninh, commune = nation
    theirs = open_case(user("cw_bn"), commune)
    ours = open_case(user("cw_nb"), world.commune_a)
    assert theirs.code.startswith("BN-") and ours.code.startswith("NB-")
    sign_in(client, "cw_nb")
    assert client.get(f"/cases/{ours.code}").status_code == 200
    assert client.get(f"/cases/{theirs.code}").status_code == 404


def test_transfer_targets_are_the_own_province_and_other_provinces_never_central(world, nation):
    central, bac_ninh, commune = nation
    case = open_case(world.users["caseworker"], world.commune_a)
    targets = queries.transfer_targets(Actor.from_user(world.users["caseworker"]), case)
    ids = {u.id for u in targets}
    assert central.id not in ids
    assert {world.province.id, world.district_b.id, world.commune_b.id, bac_ninh.id} <= ids
    assert commune.id not in ids and world.commune_a.id not in ids


def test_the_assignment_page_offers_no_transfer_to_the_central_unit(client, world, nation):
    central, bac_ninh, _commune = nation
    case = open_case(world.users["caseworker"], world.commune_a)
    sign_in(client, "caseworker")
    html = client.get(f"/cases/{case.code}/assignment").get_data(as_text=True)
    transfer = html[html.index("Chuyển đến đơn vị") :]
    transfer = transfer[: transfer.index("</select>")]
    assert f'value="{bac_ninh.id}"' in transfer
    assert f'value="{central.id}"' not in transfer


def test_a_transfer_only_to_a_unit_offered_whatever_is_posted(client, world, nation):
    central, bac_ninh, commune = nation
    case = open_case(world.users["caseworker"], world.commune_a)
    sign_in(client, "caseworker")
    before = len(audit_actions())
    # The central unit, a commune of another province, where it is already: refused, unchanged.
    for unit in (central, commune, world.commune_a):
        response = client.post(f"/cases/{case.code}/transfer", data={"org_unit_id": unit.id})
        assert response.status_code == 400, unit.code
        assert "Hãy chọn đơn vị nhận hồ sơ." in response.get_data(as_text=True)
    db.session.expire_all()
    assert case.transfer_to_org_unit_id is None and len(audit_actions()) == before
    # Another province's Women's Union passes it on: accepted.
    sent = client.post(f"/cases/{case.code}/transfer", data={"org_unit_id": bac_ninh.id})
    assert sent.status_code == 302
    db.session.expire_all()
    assert case.transfer_to_org_unit_id == bac_ninh.id
