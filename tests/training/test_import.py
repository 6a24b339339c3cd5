"""The training sheet: template, all-or-nothing import with errors by row, bounds."""

from __future__ import annotations

import io
from datetime import datetime

import openpyxl
import pytest
import sqlalchemy as sa

from app.extensions import db
from app.training import importer
from app.training.models import TrainingSession
from tests.conftest import audit_actions


def sessions() -> list[TrainingSession]:
    return list(db.session.scalars(sa.select(TrainingSession).order_by(TrainingSession.id)))


def workbook(rows: list[list], header=None) -> bytes:
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = importer.DATA_SHEET
    ws.append(header or [h for _k, h in importer.COLUMNS])
    for row in rows:
        ws.append(row)
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


DAY = datetime(2026, 3, 12)
GOOD = [
    # one session of district A over two rows (two attending communes), one of the province
    [DAY, "Kỹ năng tư vấn", "37-A", "Hội LHPN huyện", "Trực tiếp", "37-A", 2, 0, "caseworker"],
    [DAY, "Kỹ năng tư vấn", "37-A", "Hội LHPN huyện", "Trực tiếp", "37-A1", 3, 4, "volunteer"],
    ["05/05/2026", "Pháp luật", "37", "", "online", "37-B1", 1, 0, ""],
]


def upload(client, data: bytes, name: str = "tap-huan.xlsx"):
    return client.post(
        "/training/import",
        data={"file": (io.BytesIO(data), name)},
        content_type="multipart/form-data",
    )


def test_the_template_explains_itself_and_lists_the_units(world, client_for):
    response = client_for(world.users["caseworker"]).get("/training/template.xlsx")
    assert response.status_code == 200
    assert (
        response.mimetype == importer.XLSX_MIME
        and "attachment" in response.headers["Content-Disposition"]
    )
    wb = openpyxl.load_workbook(io.BytesIO(response.data))
    assert wb.sheetnames == ["Tập huấn", "Hướng dẫn", "Danh mục", "Đơn vị"]
    assert [c.value for c in wb["Tập huấn"][1]] == [h for _k, h in importer.COLUMNS]
    assert "một đơn vị có người tham dự" in wb["Hướng dẫn"]["A1"].value
    units = {row[0] for row in wb["Đơn vị"].iter_rows(min_row=2, values_only=True)}
    assert units == {"37-A", "37-A1"}  # the caseworker's subtree only
    formats = [row[0] for row in wb["Danh mục"].iter_rows(min_row=2, values_only=True)]
    assert "Trực tuyến" in formats


def test_a_good_sheet_is_imported_once(world, client_for):
    client = client_for(world.users["admin"])
    data = workbook(GOOD)
    response = upload(client, data)
    assert response.status_code == 302, response.get_data(as_text=True)
    first, second = sessions()
    assert (first.org_unit.code, first.format, first.organizer) == (
        "37-A",
        "in_person",
        "Hội LHPN huyện",
    )
    assert {a.user.username for a in first.attendees} == {"caseworker", "volunteer"}
    counts = {(h.org_unit.code, h.officers, h.volunteers) for h in first.headcounts}
    assert counts == {("37-A", 2, 0), ("37-A1", 3, 4)}
    assert (second.org_unit.code, second.format, second.held_on.isoformat()) == (
        "37",
        "online",
        "2026-05-05",
    )
    assert audit_actions().count("training.created") == 2
    assert audit_actions().count("training.imported") == 1
    assert upload(client, data).status_code == 302  # the same file again adds nothing
    assert len(sessions()) == 2


@pytest.mark.parametrize(
    ("row", "message"),
    [
        (["31/02/2026", "X", "37-A", "", "Trực tiếp", "37-A", 1, 0, ""], "Ngày không hợp lệ"),
        ([DAY, "", "37-A", "", "Trực tiếp", "37-A", 1, 0, ""], "nội dung tập huấn"),
        ([DAY, "X", "37-B", "", "Trực tiếp", "37-B", 1, 0, ""], "Mã đơn vị tổ chức"),
        ([DAY, "X", "37-A", "", "Qua thư", "37-A", 1, 0, ""], "hình thức"),
        ([DAY, "X", "37-A", "", "Trực tiếp", "37-A", "hai", 0, ""], "số nguyên"),
        ([DAY, "X", "37-A", "", "Trực tiếp", "37-A", 1.5, 0, ""], "số nguyên"),
        ([DAY, "X", "37-A", "", "Trực tiếp", "", 3, 0, ""], "mã đơn vị tham dự"),
        ([DAY, "X", "37-A", "", "Trực tiếp", "37-B1", 3, 0, ""], "Mã đơn vị tham dự"),
        ([DAY, "X", "37-A", "", "Trực tiếp", "", None, None, "caseworker_b"], "caseworker_b"),
        ([datetime(2026, 7, 1), "X", "37-A", "", "Trực tiếp", "37-A", 1, 0, ""], "tương lai"),
    ],
)
def test_one_wrong_row_and_nothing_is_imported(world, client_for, row, message):
    client = client_for(world.users["caseworker"])
    response = upload(client, workbook([GOOD[0], GOOD[1], row]))
    html = response.get_data(as_text=True)
    assert response.status_code == 400
    assert "Chưa nhập lớp nào" in html and "Dòng 4" in html and message in html, html
    assert sessions() == [] and "training.imported" not in audit_actions()


def test_rows_of_one_session_must_agree(world, client_for):
    changed = [*GOOD[1][:4], "Trực tuyến", *GOOD[1][5:]]
    response = upload(client_for(world.users["caseworker"]), workbook([GOOD[0], changed]))
    assert response.status_code == 400
    assert "Dòng 3" in response.get_data(as_text=True) and sessions() == []


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"not a workbook", "không phải là tệp Excel"),
        (b"x" * (importer.MAX_BYTES + 1), "Tệp lớn quá 2 MB"),
        (workbook([], header=["Ngày", "Chủ đề"]), "thiếu cột"),
        (workbook([]), "không có dòng dữ liệu"),
    ],
)
def test_unusable_files_are_refused_whole(world, client_for, data, message):
    response = upload(client_for(world.users["caseworker"]), data)
    assert response.status_code == 400
    assert message in response.get_data(as_text=True)
    assert sessions() == []


def test_rows_are_bounded_while_streaming(world, client_for, monkeypatch):
    monkeypatch.setattr(importer, "MAX_ROWS", 3)
    rows = [GOOD[2]] * 4
    response = upload(client_for(world.users["caseworker"]), workbook(rows))
    assert response.status_code == 400
    assert "Tệp có quá 3 dòng" in response.get_data(as_text=True) and sessions() == []


def test_a_zip_that_unpacks_too_large_is_refused(world, monkeypatch):
    monkeypatch.setattr(importer, "MAX_UNPACKED", 1000)
    with pytest.raises(importer.WorkbookError, match="giải nén"):
        importer.read_sessions(workbook(GOOD))


def test_no_file_is_a_message(world, client_for):
    response = client_for(world.users["caseworker"]).post("/training/import", data={})
    assert response.status_code == 400
    assert "Hãy chọn tệp Excel" in response.get_data(as_text=True)
