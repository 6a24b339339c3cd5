"""Import from the template: all rows or none, errors by row, the CLI with a progress bar."""

from __future__ import annotations

import csv
import io

from openpyxl import Workbook, load_workbook

from app.cases import importer
from app.cases.models import Case
from tests.cases.conftest import count_rows
from tests.conftest import audit_actions


def _row(**values) -> list[str]:
    base = dict(zip([k for k, _h in importer.COLUMNS], importer.EXAMPLE, strict=True))
    base.update(values)
    return [base[k] for k, _h in importer.COLUMNS]


def _xlsx(rows) -> bytes:
    wb = Workbook()
    ws = wb.active
    ws.append([h for _k, h in importer.COLUMNS])
    for row in rows:
        ws.append(row)
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


def _csv(rows, headers=None) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(headers or [h for _k, h in importer.COLUMNS])
    writer.writerows(rows)
    return out.getvalue().encode()


def test_template_has_vietnamese_headers(client, world, login_as):
    login_as(world.users["caseworker"])
    response = client.get("/cases/import/template.xlsx")
    ws = load_workbook(io.BytesIO(response.data)).active
    headers = [c.value for c in ws[1]]
    assert "Họ và tên *" in headers and "Đồng ý ghi nhận hồ sơ (có/không) *" in headers
    assert client.get("/cases/import/template.csv").data.decode("utf-8-sig").startswith("Họ và tên")


def test_upload_imports_every_row(client, world, login_as):
    login_as(world.users["caseworker"])
    data = _xlsx(
        [
            _row(full_name="Hà Thị Một", phone="0900000001"),
            _row(full_name="Hà Thị Hai", phone="0900000002", needs=""),
        ]
    )
    response = client.post(
        "/cases/import",
        data={"org_unit_id": world.commune_a.id, "file": (io.BytesIO(data), "ho-so.xlsx")},
        content_type="multipart/form-data",
    )
    assert response.status_code == 302
    assert count_rows(Case) == 2 and "case.imported" in audit_actions()


def test_one_wrong_row_imports_nothing(client, world, login_as):
    login_as(world.users["caseworker"])
    data = _csv(
        [
            _row(full_name="Hà Thị Một"),
            _row(consent_record="không"),
            _row(needs="not_a_category"),
            _row(full_name=""),
        ]
    )
    before = (count_rows(Case), len(audit_actions()))
    response = client.post(
        "/cases/import",
        data={"org_unit_id": world.commune_a.id, "file": (io.BytesIO(data), "ho-so.csv")},
        content_type="multipart/form-data",
    )
    body = response.get_data(as_text=True)
    assert response.status_code == 400
    for row in (3, 4, 5):
        assert f"Dòng {row}:" in body
    assert "Dòng 2:" not in body
    assert (count_rows(Case), len(audit_actions())) == before


def test_missing_consent_columns_are_refused(client, world, login_as):
    login_as(world.users["caseworker"])
    headers = [h for k, h in importer.COLUMNS if not k.startswith("consent")]
    data = _csv([["Hà Thị Một"] + [""] * (len(headers) - 1)], headers=headers)
    response = client.post(
        "/cases/import",
        data={"org_unit_id": world.commune_a.id, "file": (io.BytesIO(data), "x.csv")},
        content_type="multipart/form-data",
    )
    assert response.status_code == 400 and "Thiếu cột bắt buộc" in response.get_data(as_text=True)
    assert count_rows(Case) == 0


def test_cli_import_all_or_nothing(app, world, tmp_path):
    runner = app.test_cli_runner()
    good = tmp_path / "good.xlsx"
    good.write_bytes(_xlsx([_row(full_name=f"Hà Thị {i}") for i in range(3)]))
    bad = tmp_path / "bad.csv"
    bad.write_bytes(_csv([_row(), _row(consent_method="")]))
    result = runner.invoke(args=["cases", "import", str(bad), "--org-unit", "37-A1"])
    assert result.exit_code != 0 and "row 3" in result.output and count_rows(Case) == 0
    result = runner.invoke(
        args=["cases", "import", str(good), "--org-unit", "37-A1", "--as", "caseworker"]
    )
    assert result.exit_code == 0, result.output
    assert "imported 3 case(s)" in result.output and count_rows(Case) == 3
