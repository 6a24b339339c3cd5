"""Outreach, org-unit and HSDS imports share the bounds (issue 16.1): a file past its row or
byte limit is refused while it is read, with one Vietnamese message, and nothing is written."""

from __future__ import annotations

import csv
import io
import json
import zipfile

import pytest
import sqlalchemy as sa
from openpyxl import Workbook

from app.extensions import db
from app.imports.bounds import Limits
from app.imports.models import ImportRun
from app.orgs import importing
from app.orgs.models import OrgUnit
from app.outreach import importer as outreach_importer
from app.outreach.models import OutreachActivity
from app.referrals import hsds
from tests.conftest import sign_in


def _count(model) -> int:
    return db.session.execute(sa.select(sa.func.count()).select_from(model)).scalar_one()


def _outreach_xlsx(blank_rows: int) -> bytes:
    wb = Workbook(write_only=True)
    ws = wb.create_sheet(outreach_importer.DATA_SHEET)
    ws.append([header for _key, header in outreach_importer._columns()])
    for _ in range(blank_rows):
        ws.append([None])
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


def test_outreach_counts_blank_rows_and_refuses_the_first_past_the_limit(world):
    with pytest.raises(outreach_importer.WorkbookError, match="quá 3 dòng"):
        outreach_importer.read_rows(_outreach_xlsx(4), Limits(rows=3))
    assert outreach_importer.read_rows(_outreach_xlsx(3), Limits(rows=3)) == []


def test_the_outreach_page_stops_reading_an_upload_past_the_byte_limit(app, world, monkeypatch):
    monkeypatch.setattr(outreach_importer, "LIMITS", Limits(rows=10, bytes=1024))
    client = app.test_client()
    assert sign_in(client, "caseworker").status_code == 302
    upload = {"file": (io.BytesIO(_outreach_xlsx(500)), "lon.xlsx")}
    response = client.post("/outreach/import", data=upload, content_type="multipart/form-data")
    assert response.status_code == 400
    assert "lớn quá 1 MB" in response.get_data(as_text=True)
    assert _count(OutreachActivity) == 0 and _count(ImportRun) == 0


def test_an_org_unit_file_past_the_row_limit_is_refused_whole(world, monkeypatch):
    monkeypatch.setattr(importing, "LIMITS", Limits(rows=3))
    body = "code,name,level,parent_code\n" + "".join(
        f"39-{n},Xã {n},commune,37\n" for n in range(4)
    )
    rows, errors = importing.read_org_csv(body.encode())
    assert rows == [] and len(errors) == 1 and "quá 3 dòng" in errors[0].message
    rows, errors = importing.read_org_csv(body.encode().rsplit(b"39-3", 1)[0])
    assert len(rows) == 3


def test_the_org_unit_command_refuses_a_file_past_the_byte_limit(app, world, tmp_path):
    path = tmp_path / "don-vi.csv"
    path.write_bytes(b"code,name,level,parent_code\n" + b"x" * (importing.LIMITS.bytes + 1))
    before = _count(OrgUnit)
    result = app.test_cli_runner().invoke(args=["orgs", "import", str(path)])
    assert result.exit_code != 0 and "MB" in result.output
    assert _count(OrgUnit) == before


def _hsds_zip(organizations: int) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["id", "name", "description"])
    for n in range(organizations):
        writer.writerow([f"00000000-0000-4000-8000-{n:012d}", f"Cơ sở {n}", "Mô tả"])
    archive = io.BytesIO()
    with zipfile.ZipFile(archive, "w") as z:
        z.writestr("organizations.csv", out.getvalue())
    return archive.getvalue()


def test_hsds_rows_are_counted_while_the_tables_are_read(monkeypatch):
    monkeypatch.setattr(hsds, "LIMITS", Limits(rows=3))
    with pytest.raises(hsds.ImportFailed) as refused:
        hsds.parse_upload("danh-ba.zip", _hsds_zip(4))
    assert "quá 3 dòng" in refused.value.errors[0]
    assert len(hsds.parse_upload("danh-ba.zip", _hsds_zip(3))["organizations"]) == 3


def test_hsds_json_past_the_record_limit_or_the_byte_limit_is_refused(world, monkeypatch):
    from app.permissions import Actor

    monkeypatch.setattr(hsds, "LIMITS", Limits(rows=2, bytes=2048))
    document = {
        "organizations": [
            {"id": f"00000000-0000-4000-8000-{n:012d}", "name": f"Cơ sở {n}"} for n in range(3)
        ]
    }
    with pytest.raises(hsds.ImportFailed, match="problem") as refused:
        hsds.import_document(Actor.from_user(world.users["admin"]), document)
    assert "quá 2 dòng" in refused.value.errors[0]
    big = json.dumps({"organizations": [], "padding": "x" * 4096}).encode()
    with pytest.raises(hsds.ImportFailed) as refused:
        hsds.parse_upload("danh-ba.json", io.BytesIO(big))
    assert "MB" in refused.value.errors[0]
