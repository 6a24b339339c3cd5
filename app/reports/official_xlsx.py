"""The official report in Excel: the same document, laid out to print on A4 portrait."""

from __future__ import annotations

import io

from flask_babel import gettext as _
from openpyxl import Workbook
from openpyxl.styles import Alignment, Border, Font, Side
from openpyxl.worksheet.page import PageMargins

from app.reports.exports import XLSX_MIME, safe_text
from app.reports.official import OfficialReport
from app.web.templating import format_figure

__all__ = ["XLSX_MIME", "to_xlsx"]
WIDTHS = {"A": 44, "B": 16, "C": 16, "D": 16}


def _d(day) -> str:
    return day.strftime("%d/%m/%Y")


def _table(ws, header: list[str], rows: list[list[str]]) -> None:
    thin = Side(style="thin")
    box = Border(left=thin, right=thin, top=thin, bottom=thin)
    ws.append(header)
    for cell in ws[ws.max_row]:
        cell.font = Font(name="Times New Roman", bold=True, size=12)
        cell.alignment = Alignment(wrap_text=True, horizontal="center", vertical="center")
        cell.border = box
    for values in rows:
        # Figures in the reader's locale, as on the page ("93,5 %" in Vietnamese).
        ws.append([safe_text(v if i == 0 else format_figure(v)) for i, v in enumerate(values)])
        for i, cell in enumerate(ws[ws.max_row]):
            cell.font = Font(name="Times New Roman", size=12)
            cell.alignment = Alignment(wrap_text=True, horizontal="left" if i == 0 else "right")
            cell.border = box


def _line(ws, text: str, *, bold=False, italic=False, center=False, merge=True, size=13):
    ws.append([safe_text(text)])
    row = ws.max_row
    if merge:
        ws.merge_cells(start_row=row, start_column=1, end_row=row, end_column=4)
    cell = ws.cell(row=row, column=1)
    cell.font = Font(name="Times New Roman", bold=bold, italic=italic, size=size)
    cell.alignment = Alignment(horizontal="center" if center else "left", wrap_text=True)


def _pair(ws, left: str, right: str, *, bold_left=False, bold_right=False, italic_right=False):
    ws.append([safe_text(left), "", safe_text(right)])
    row = ws.max_row
    ws.merge_cells(start_row=row, start_column=1, end_row=row, end_column=2)
    ws.merge_cells(start_row=row, start_column=3, end_row=row, end_column=4)
    a, c = ws.cell(row=row, column=1), ws.cell(row=row, column=3)
    a.font = Font(name="Times New Roman", bold=bold_left, size=13)
    c.font = Font(name="Times New Roman", bold=bold_right, italic=italic_right, size=13)
    for cell in (a, c):
        cell.alignment = Alignment(horizontal="center", wrap_text=True)


def to_xlsx(doc: OfficialReport) -> bytes:
    wb = Workbook()
    ws = wb.active
    ws.title = "Báo cáo"
    for col, width in WIDTHS.items():
        ws.column_dimensions[col].width = width
    _pair(ws, doc.parent_body.upper(), "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM", bold_right=True)
    _pair(
        ws, doc.issuing_body.upper(), "Độc lập - Tự do - Hạnh phúc", bold_left=True, bold_right=True
    )
    _pair(
        ws,
        f"Số: {doc.number or '…'}/BC-HPN",
        f"{doc.place}, ngày {doc.made_on.day:02d} tháng {doc.made_on.month:02d} "
        f"năm {doc.made_on.year}",
        italic_right=True,
    )
    ws.append([])
    _line(ws, doc.title.upper(), bold=True, center=True, size=14)
    _line(
        ws,
        _("Kỳ báo cáo: từ ngày %(a)s đến ngày %(b)s", a=_d(doc.period.start), b=_d(doc.period.end)),
        center=True,
        italic=True,
    )
    if doc.until:
        _line(ws, _("Số liệu đến ngày %(d)s", d=_d(doc.until)), center=True, italic=True)
    if doc.plan:
        _line(
            ws,
            _("Thực hiện %(plan)s", plan=f"{doc.plan.name} ({doc.plan.number})"),
            italic=True,
            center=True,
        )
    ws.append([])
    same = _("Cùng kỳ năm trước")
    _line(ws, _("I. KẾT QUẢ THỰC HIỆN CÁC CHỈ TIÊU CỦA KẾ HOẠCH"), bold=True)
    _table(
        ws,
        [_("Chỉ tiêu"), _("Kế hoạch"), _("Thực hiện"), same],
        [[t.label, t.target, t.actual, t.previous] for t in doc.targets],
    )
    ws.append([])
    _line(ws, _("II. SỐ LIỆU TỔNG HỢP"), bold=True)
    _table(
        ws,
        [_("Nội dung"), _("Kỳ này"), same, ""],
        [[label, now, before, ""] for label, now, before in doc.totals],
    )
    for n, part in enumerate(doc.breakdowns, start=1):
        ws.append([])
        _line(ws, f"III.{n}. {part.label}", bold=True)
        _table(ws, [part.label, _("Kỳ này"), same, ""], [[a, b, c, ""] for a, b, c in part.rows])
    ws.append([])
    _line(ws, f"{doc.note}.", italic=True, size=11)
    ws.append([])
    _pair(ws, _("Nơi nhận:"), doc.signer_title, bold_left=True, bold_right=True)
    for i, line in enumerate(doc.recipients):
        right = doc.signer_name if i == len(doc.recipients) - 1 else ""
        _pair(ws, f"- {line};", right, bold_right=bool(right))
    ws.page_setup.paperSize = ws.PAPERSIZE_A4
    ws.page_setup.orientation = "portrait"
    ws.page_setup.fitToWidth = 1
    ws.page_setup.fitToHeight = 0
    ws.sheet_properties.pageSetUpPr.fitToPage = True
    ws.page_margins = PageMargins(left=1.18, right=0.79, top=0.79, bottom=0.79)
    ws.oddFooter.center.text = "Trang &P / &N"
    buffer = io.BytesIO()
    wb.save(buffer)
    return buffer.getvalue()
