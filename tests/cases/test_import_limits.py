"""Imports are bounded while they are read (issue 16, point 1, first part).

A 20,000-row CSV (1.2 MB) ran 17 minutes in one transaction; an .xlsx of a million rows used
257 s of CPU before its 400. Now a file is refused at the first row past the limit, before any
row is checked or written, and an .xlsx that unpacks to more than the limit is not opened.
"""

from __future__ import annotations

import io
import zipfile

import pytest
from openpyxl import Workbook

from app.cases import importer
from app.cases.models import Case
from app.imports.models import ImportRun, StagedRow
from tests.cases.conftest import count_rows
from tests.cases.test_import import _csv, _row


def _post(client, world, data: bytes, name: str):
    return client.post(
        "/cases/import",
        data={"org_unit_id": world.commune_a.id, "file": (io.BytesIO(data), name)},
        content_type="multipart/form-data",
    )


def _big_xlsx(rows: int) -> bytes:
    wb = Workbook(write_only=True)
    ws = wb.create_sheet()
    ws.append([h for _k, h in importer.COLUMNS])
    row = _row()
    for _ in range(rows):
        ws.append(row)
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


def test_a_csv_one_row_over_the_limit_is_refused_and_writes_nothing(client, world, login_as):
    login_as(world.users["caseworker"])
    data = _csv([_row(full_name=f"Hà Thị {n}") for n in range(importer.MAX_ROWS + 1)])
    assert len(data) < importer.MAX_BYTES
    response = _post(client, world, data, "nhieu.csv")
    assert response.status_code == 400
    assert f"quá {importer.MAX_ROWS} dòng" in response.get_data(as_text=True)
    assert count_rows(Case) == 0 and count_rows(StagedRow) == 0 and count_rows(ImportRun) == 0


def test_an_xlsx_over_the_limit_is_refused(client, world, login_as):
    login_as(world.users["caseworker"])
    response = _post(client, world, _big_xlsx(importer.MAX_ROWS + 1), "nhieu.xlsx")
    assert response.status_code == 400
    assert f"quá {importer.MAX_ROWS} dòng" in response.get_data(as_text=True)
    assert count_rows(Case) == 0


def test_the_limit_itself_is_accepted_and_blank_rows_count():
    rows = importer.read_rows("ok.xlsx", _big_xlsx(importer.MAX_ROWS))
    assert len(rows) == importer.MAX_ROWS
    blank = _csv([_row()] + [[""] * len(importer.COLUMNS)] * importer.MAX_ROWS)
    with pytest.raises(importer.ImportError_):
        importer.read_rows("blank.csv", blank)


def test_an_xlsx_that_unpacks_too_big_is_not_opened():
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr(
            "xl/worksheets/sheet1.xml", b"<row/>" * (importer.MAX_XLSX_UNPACKED // 6 + 1)
        )
    assert len(out.getvalue()) < importer.MAX_BYTES
    with pytest.raises(importer.ImportError_, match="giải nén"):
        importer.read_rows("bomb.xlsx", out.getvalue())


def test_a_file_over_the_byte_limit_is_refused_before_reading():
    with pytest.raises(importer.ImportError_, match="MB"):
        importer.read_rows("big.csv", b"x" * (importer.MAX_BYTES + 1))
