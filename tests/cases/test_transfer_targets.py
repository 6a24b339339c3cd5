"""A case can be sent to any unit of its own province or to another province's Women's Union,
never offered the whole country (3,300 communes made every case page a 3,400-option list)."""

from __future__ import annotations

from app.orgs.models import OrgLevel
from tests.cases.conftest import open_case
from tests.conftest import sign_in
from tests.factories import OrgUnitFactory


def test_the_transfer_list_holds_the_province_and_other_provinces_only(client, world):
    other = OrgUnitFactory(code="27", name="Tỉnh Bắc Ninh", level=OrgLevel.PROVINCE)
    OrgUnitFactory(code="27-X1", name="Xã Xa Lạ", level=OrgLevel.COMMUNE, parent=other)
    case = open_case(world.users["caseworker"], world.commune_a)
    sign_in(client, "caseworker")
    html = client.get(f"/cases/{case.code}/assignment").get_data(as_text=True)
    transfer = html[html.index("Chuyển đến đơn vị") :]
    transfer = transfer[: transfer.index("</select>")]
    for unit in (world.province, world.district_b, world.commune_b, other):
        assert f'value="{unit.id}"' in transfer, unit.code
    assert "Xã Xa Lạ" not in transfer
    assert f'value="{world.commune_a.id}"' not in transfer  # where it is already
