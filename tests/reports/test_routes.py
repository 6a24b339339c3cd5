"""Dashboards, reports and exports through the web client."""

from __future__ import annotations

import csv
import io
import re
from datetime import date

import openpyxl
import sqlalchemy as sa

from app.audit.models import AuditEvent
from app.extensions import db
from app.reports.layout import COLUMNS
from app.reports.models import Plan, PlanTarget
from tests.conftest import audit_actions
from tests.html import has_inline_script
from tests.reports.conftest import assert_protected


def _plan(world, target="80"):
    plan = Plan(
        org_unit_id=world.province.id,
        name="Kế hoạch 2026",
        number="12/KH",
        issuing_body="UBND",
        period_start=date(2026, 1, 1),
        period_end=date(2026, 12, 31),
        targets=[PlanTarget(indicator="connected_rate", value=target)],
    )
    db.session.add(plan)
    db.session.commit()
    return plan


def test_supervisor_dashboard_is_suppressed_with_svg_bars(client, world, known, login_as):
    _plan(world)
    login_as(world.users["supervisor"])
    response = client.get("/reports/?period=2026-H1&window=90")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert "<svg" in html and 'class="progress-target"' in html
    assert "style=" not in html and not has_inline_script(html)
    # The note every protected page carries, with its help text.
    assert "Số liệu nhỏ đã được bảo vệ để không thể nhận ra ai" in html
    assert "<details>" in html and "không quá 10" in html
    # No case code and no link to a case anywhere on a supervisor's page.
    for case in known.values():
        assert case.code not in html
    assert "/cases/" not in html


def test_caseworker_sees_plain_figures_and_own_cases(client, world, known, login_as):
    login_as(world.users["caseworker"])
    response = client.get("/reports/?period=2026-H1&window=90")
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "&lt;5" not in html
    assert known["c11"].code in html  # not connected, overdue: on the follow-up list
    assert known["c7"].code not in html  # district B: outside the caseworker's subtree
    if "cases.detail" in client.application.view_functions:
        assert f'href="/cases/{known["c11"].code}"' in html


def test_drill_down_outside_subtree_is_404(client, world, login_as):
    login_as(world.users["caseworker"])
    assert client.get("/reports/?unit=37-B").status_code == 404
    assert client.get("/reports/report?unit=37-B").status_code == 404
    assert client.get("/reports/report.xlsx?unit=37-B").status_code == 404
    assert client.get("/api/v1/reports/dashboard?unit=37-B").status_code == 404


def test_fixed_shapes_refuse_free_filters(client, world, login_as):
    login_as(world.users["supervisor"])
    assert client.get("/reports/?period=2026-03").status_code == 400
    assert client.get("/reports/?window=45").status_code == 400
    assert client.get("/reports/report?kind=weekly").status_code == 400


def test_other_roles_are_refused(client, world, login_as):
    login_as(world.users["volunteer"])
    assert client.get("/reports/").status_code == 403
    assert client.get("/reports/plans").status_code == 403


def _xlsx_rows(data: bytes):
    wb = openpyxl.load_workbook(io.BytesIO(data))
    ws = wb.active
    values = [list(r) for r in ws.iter_rows(values_only=True)]
    header_index = next(i for i, r in enumerate(values) if r and r[0] == "Đơn vị")
    return ws, values[:header_index], values[header_index], values[header_index + 1 :]


def test_excel_opens_and_equals_the_report_page(client, world, known, login_as):
    from app.web.templating import format_figure

    _plan(world)
    login_as(world.users["supervisor"])
    page = client.get("/reports/report?kind=six_monthly&year=2026").get_data(as_text=True)
    response = client.get("/reports/report.xlsx?kind=six_monthly&year=2026")
    assert response.status_code == 200
    assert response.headers["Content-Disposition"].startswith("attachment;")
    ws, meta, header, rows = _xlsx_rows(response.data)
    assert ws.freeze_panes is not None
    assert header[1:] == [str(label) for label in COLUMNS.values()]
    assert [r[0] for r in rows] == ["Huyện A", "Huyện B", "Tổng cộng"]
    # Every figure of the file is the figure printed on the page, in the same order.
    page_rows = re.findall(r"<tr(?: class=\"total\")?>\s*<th scope=\"row\">(.*?)</tr>", page, re.S)
    assert len(page_rows) >= 3
    for row, html_row in zip(rows, page_rows[:3], strict=True):
        page_cells = [
            re.sub(r"<[^>]+>", "", c).replace("&lt;", "<").strip()
            for c in re.findall(r'<td class="num">(.*?)</td>', html_row, re.S)
        ]
        file_cells = []
        for key, value in zip(COLUMNS, row[1:], strict=True):
            if isinstance(value, int | float) and key in (
                "rate",
                "target",
                "achievement",
                "answered",
            ):
                file_cells.append(f"{value * 100:.1f}%")
            elif key == "median_days" and isinstance(value, int | float):
                file_cells.append(f"{value:.0f}")
            else:
                file_cells.append(str(value))
        # The page writes figures the Vietnamese way (Flask-Babel): compare the same figures.
        assert [format_figure(c) for c in file_cells] == page_cells
    checkpoint = dict((r[0], r[1]) for r in meta if r and len(r) > 1)["Mã kiểm chứng nhật ký"]
    event = db.session.execute(
        sa.select(AuditEvent).where(AuditEvent.action == "report.exported")
    ).scalar_one()
    from app.audit.verify import Checkpoint
    from app.crypto.keyring import keyring

    decoded = Checkpoint.decode(checkpoint, keyring().audit_key)
    assert decoded.position(event.shard) == (event.shard_seq, event.hash)
    # Every export also leaves its checkpoint in the file outside the database.
    from app.audit.checkpoints import checkpoint_path

    assert checkpoint_path().read_text().splitlines()[-1] == checkpoint


def test_csv_export_is_audited(client, world, known, login_as):
    login_as(world.users["supervisor"])
    response = client.get("/reports/report.csv?kind=annual&year=2026")
    assert response.status_code == 200
    text = response.get_data(as_text=True).lstrip("\ufeff")
    lines = list(csv.reader(io.StringIO(text)))
    assert ["Báo cáo", "Báo cáo năm 2026"] in lines
    assert any(line and line[0] == "Tổng cộng" for line in lines)
    assert "report.exported" in audit_actions()


def test_api_same_protection(client, world, known, login_as):
    login_as(world.users["supervisor"])
    body = client.get("/api/v1/reports/dashboard?period=2026-H1&window=90").get_json()
    page = client.get("/reports/?period=2026-H1&window=90").get_data(as_text=True)
    rows = {r["key"]: r for r in body["rows"]}
    # District B: c4 declined, c5 c6 c7 c10 counted (4 cases), c5 and c10 connected.
    cases = rows["37-B"]["cells"]["cases"]
    assert_protected(cases["text"], 4)
    assert cases["kind"] == "count" and cases["protected"] is True
    assert (cases["value"] is None) == (cases["text"] == "<5")
    assert_protected(rows["37-B"]["cells"]["connected"]["text"], 2)
    assert rows["total"]["cells"]["cases"]["text"] in page
    assert body["disclosure"]["method"] == "cell-key" and body["disclosure"]["k"] == 5
    for case in known.values():
        assert case.code not in str(body)


def test_print_and_small_screen_friendly(client, world, login_as):
    login_as(world.users["supervisor"])
    html = client.get("/reports/").get_data(as_text=True)
    assert 'class="table-wrap"' in html  # tables scroll sideways on a 360 px screen
    assert 'viewBox="0 0 300 28"' in html or "Chưa có kế hoạch" in html


def test_english_catalog(client, world, login_as):
    login_as(world.users["supervisor"])
    client.post("/language", data={"lang": "en", "next": "/reports/"})
    html = client.get("/reports/").get_data(as_text=True)
    assert "Connected rate" in html and "By unit" in html


def test_api_paths_are_in_the_openapi_document(client):
    paths = client.get("/api/v1/openapi.json").get_json()["paths"]
    assert "/api/v1/reports/dashboard" in paths
    assert "/api/v1/reports/{kind}/{year}" in paths


def test_api_refuses_volunteers_and_anonymous(client, world, login_as):
    assert client.get("/api/v1/reports/dashboard").status_code == 401
    login_as(world.users["volunteer"])
    assert client.get("/api/v1/reports/dashboard").status_code == 403
