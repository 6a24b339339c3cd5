"""Excel import: the template, all-or-nothing checks with errors by row, page and command line."""

from __future__ import annotations

import io
from datetime import datetime, timedelta

import openpyxl
import pytest
import sqlalchemy as sa

from app.extensions import db
from app.outreach import importer
from app.outreach.models import OutreachActivity
from tests.conftest import audit_actions
from tests.factories import OrgUnitFactory
from tests.outreach.conftest import TODAY


def count() -> int:
    return db.session.execute(
        sa.select(sa.func.count(OutreachActivity.id)).where(OutreachActivity.deleted_at.is_(None))
    ).scalar_one()


def workbook(template: bytes, rows: list[list]) -> bytes:
    wb = openpyxl.load_workbook(io.BytesIO(template))
    ws = wb[importer.DATA_SHEET]
    for row in rows:
        ws.append(row)
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


def row(
    code="37-A1",
    held_on=None,
    form="Nói chuyện nhóm",
    topics="hiv_sti; Dịch vụ hỗ trợ",
    place="Khu công nghiệp",
    counts=(0, 25, 0, 0, 3, 0),
    partners="",
    notes="",
):
    held_on = held_on if held_on is not None else datetime(TODAY.year, TODAY.month, TODAY.day)
    return [code, held_on, form, topics, place, *counts, partners, notes]


@pytest.fixture
def second_commune(world):
    unit = OrgUnitFactory(code="37-A2", name="Phường Hai", level="ward", parent=world.district_a)
    db.session.commit()
    return unit


def test_template_has_vietnamese_headers_and_lists(world, client_for, second_commune):
    response = client_for(world.users["caseworker"]).get("/outreach/template.xlsx")
    assert response.status_code == 200
    assert "attachment" in response.headers["Content-Disposition"]
    wb = openpyxl.load_workbook(io.BytesIO(response.data))
    header = [c.value for c in wb[importer.DATA_SHEET][1]]
    assert header[:5] == [
        "Mã xã/phường",
        "Ngày tổ chức (dd/mm/yyyy)",
        "Hình thức",
        "Chủ đề (cách nhau bằng dấu ;)",
        "Địa điểm",
    ]
    assert "Số người: Học sinh, sinh viên" in header
    units = [r[0] for r in wb[importer.UNITS_SHEET].iter_rows(min_row=2, values_only=True)]
    assert sorted(units) == ["37-A1", "37-A2"]
    lists = [r[1] for r in wb[importer.LISTS_SHEET].iter_rows(min_row=2, values_only=True)]
    assert "group_talk" in lists


def test_page_import_all_rows_then_same_file_adds_nothing(world, client_for, clock, second_commune):
    client = client_for(world.users["caseworker"])
    template = client.get("/outreach/template.xlsx").data
    data = workbook(template, [row(), row(code="37-A2", held_on="02/06/2026", form="leaflets")])
    upload = {"file": (io.BytesIO(data), "tuyen-truyen.xlsx")}
    response = client.post("/outreach/import", data=upload, content_type="multipart/form-data")
    assert response.status_code == 302
    assert count() == 2
    activities = db.session.execute(sa.select(OutreachActivity)).scalars().all()
    assert {a.form for a in activities} == {"group_talk", "leaflets"}
    assert all(a.topics == ["hiv_sti", "support_services"] for a in activities)
    assert "outreach.imported" in audit_actions()
    again = {"file": (io.BytesIO(data), "tuyen-truyen.xlsx")}
    client.post("/outreach/import", data=again, content_type="multipart/form-data")
    assert count() == 2


def test_one_bad_row_imports_nothing_and_names_each_row(world, client_for, clock):
    client = client_for(world.users["caseworker"])
    template = client.get("/outreach/template.xlsx").data
    future = datetime(TODAY.year, TODAY.month, TODAY.day) + timedelta(days=3)
    data = workbook(
        template,
        [
            row(),
            row(held_on=future),
            row(code="37-B1"),
            row(form="karaoke", counts=(0, 0, -2, 0, 0, 0)),
            row(counts=(0, 0, "mười", 0, 0, 0)),
        ],
    )
    upload = {"file": (io.BytesIO(data), "x.xlsx")}
    response = client.post("/outreach/import", data=upload, content_type="multipart/form-data")
    html = response.get_data(as_text=True)
    assert response.status_code == 400
    assert "Chưa nhập dòng nào" in html
    assert "Dòng 3: Ngày tổ chức không được ở tương lai." in html
    assert "Dòng 4: Mã xã/phường không thuộc đơn vị đã chọn." in html
    assert "Dòng 5: Hãy chọn một hình thức có trong danh sách." in html
    assert "Dòng 5: Số người phải là số nguyên không âm." in html
    assert "Dòng 6: Số người phải là số nguyên không âm." in html
    assert "Dòng 2" not in html
    assert count() == 0
    assert "outreach.imported" not in audit_actions()


def test_not_an_excel_file(world, client_for):
    client = client_for(world.users["volunteer"])
    upload = {"file": (io.BytesIO(b"name,phone\n"), "x.xlsx")}
    response = client.post("/outreach/import", data=upload, content_type="multipart/form-data")
    assert response.status_code == 400
    assert "không phải là tệp Excel" in response.get_data(as_text=True)
    response = client.post("/outreach/import", data={}, content_type="multipart/form-data")
    assert response.status_code == 400


def test_volunteer_imports_only_for_own_commune(world, client_for, clock):
    client = client_for(world.users["volunteer"])
    template = client.get("/outreach/template.xlsx").data
    data = workbook(template, [row(code="37-A1"), row(code="37-B1")])
    upload = {"file": (io.BytesIO(data), "x.xlsx")}
    response = client.post("/outreach/import", data=upload, content_type="multipart/form-data")
    assert response.status_code == 400
    assert "Dòng 3: Mã xã/phường không thuộc đơn vị đã chọn." in response.get_data(as_text=True)
    assert count() == 0


def test_cli_import_with_progress_and_all_or_nothing(app, world, tmp_path, clock, second_commune):
    runner = app.test_cli_runner()
    template = importer.build_template([world.commune_a, second_commune])
    bad = tmp_path / "bad.xlsx"
    bad.write_bytes(workbook(template, [row(), row(code="37-Z9")]))
    result = runner.invoke(args=["outreach", "import", str(bad), "--org-unit", "37-A"])
    assert result.exit_code != 0
    assert "row 3" in result.output and "nothing was imported" in result.output
    assert count() == 0
    good = tmp_path / "good.xlsx"
    good.write_bytes(workbook(template, [row(), row(code="37-A2", held_on="2025-01-15")]))
    result = runner.invoke(args=["outreach", "import", str(good), "--org-unit", "37-A"])
    assert result.exit_code == 0, result.output
    assert "2 activities imported" in result.output
    assert count() == 2
    result = runner.invoke(args=["outreach", "import", str(good), "--org-unit", "37-NOPE"])
    assert result.exit_code != 0


def test_template_writes_names_as_text_never_formulas(world):
    odd = OrgUnitFactory(
        code="37-A9", name="=HYPERLINK(1)", level="commune", parent=world.district_a
    )
    wb = openpyxl.load_workbook(io.BytesIO(importer.build_template([world.commune_a, odd])))
    cell = wb[importer.UNITS_SHEET]["B3"]
    assert cell.value == "=HYPERLINK(1)" and cell.data_type == "s"
