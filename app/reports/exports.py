"""Excel and CSV files of a report: the same cells as the page, Vietnamese headings, the note on
protected figures, and the audit checkpoint of the moment the file was made. Reports sent upward
are always protected: both writers refuse a report holding a figure that did not come out of
app.reports.disclosure."""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from datetime import datetime

from openpyxl import Workbook
from openpyxl.styles import Alignment, Border, Font, PatternFill, Side
from openpyxl.utils import get_column_letter

from app.reports import disclosure
from app.reports.layout import COLUMNS, PERCENT_COLUMNS, Report

XLSX_MIME = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


@dataclass
class ExportMeta:
    title: str
    unit_label: str
    period_label: str
    plan_label: str
    due_label: str
    made_at: datetime
    made_by: str
    checkpoint: str
    notice: str


def safe_text(value):
    """Text that a spreadsheet will not run as a formula (names come from users)."""
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + value
    return value


def _meta_rows(meta: ExportMeta) -> list[tuple[str, str]]:
    return [
        ("Báo cáo", meta.title),
        ("Đơn vị báo cáo", meta.unit_label),
        ("Kỳ báo cáo", meta.period_label),
        ("Kế hoạch", meta.plan_label),
        ("Hạn nộp", meta.due_label),
        ("Thời điểm lập", meta.made_at.strftime("%d/%m/%Y %H:%M")),
        ("Người lập", meta.made_by),
        ("Mã kiểm chứng nhật ký", meta.checkpoint),
        ("Ghi chú", meta.notice),
    ]


def headers() -> list[str]:
    return ["Đơn vị", *(str(label) for label in COLUMNS.values())]


def cell_value(key: str, cell):
    """The value written to a spreadsheet cell: the number when published, else its text."""
    if cell.value is None:
        return cell.text
    if key in PERCENT_COLUMNS:
        return round(cell.value / 100.0, 4)
    if key == "communes":
        return cell.text
    if key == "median_days":
        return cell.value
    return int(cell.value)


def csv_text(key: str, cell) -> str:
    """What a CSV cell holds: plain for the program that reads it, a count never grouped (2000,
    not the 2.000 of the Vietnamese pages, which a spreadsheet reads as two)."""
    value = cell_value(key, cell)
    return str(value) if isinstance(value, int) else cell.text


def to_xlsx(report: Report, meta: ExportMeta) -> bytes:
    disclosure.release(report)
    wb = Workbook()
    ws = wb.active
    ws.title = "Báo cáo"
    bold = Font(bold=True)
    ws.append([safe_text(meta.title)])
    ws["A1"].font = Font(bold=True, size=14)
    for key, value in _meta_rows(meta)[1:]:
        ws.append([key, safe_text(value)])
    ws.append([])
    header_row = ws.max_row + 1
    ws.append(headers())
    fill = PatternFill("solid", fgColor="EEF2F6")
    thin = Side(style="thin", color="D5DBE3")
    for col in range(1, len(COLUMNS) + 2):
        cell = ws.cell(row=header_row, column=col)
        cell.font = bold
        cell.fill = fill
        cell.alignment = Alignment(wrap_text=True, vertical="top")
        cell.border = Border(bottom=thin)
    for row in report.rows:
        values = [safe_text(row.label)] + [cell_value(key, row.cells[key]) for key in COLUMNS]
        ws.append(values)
        r = ws.max_row
        for offset, key in enumerate(COLUMNS, start=2):
            cell = ws.cell(row=r, column=offset)
            if isinstance(cell.value, int | float):
                cell.number_format = "0.0%" if key in PERCENT_COLUMNS else "#,##0"
                if key == "median_days":
                    cell.number_format = "0"
            cell.alignment = Alignment(horizontal="right")
        if row.is_total:
            for col in range(1, len(COLUMNS) + 2):
                ws.cell(row=r, column=col).font = bold
    ws.freeze_panes = ws.cell(row=header_row + 1, column=2)
    ws.column_dimensions["A"].width = 34
    for col in range(2, len(COLUMNS) + 2):
        ws.column_dimensions[get_column_letter(col)].width = 16
    ws.row_dimensions[header_row].height = 48
    ws.print_title_rows = f"{header_row}:{header_row}"
    ws.page_setup.orientation = "landscape"
    ws.page_setup.fitToWidth = 1
    buffer = io.BytesIO()
    wb.save(buffer)
    return buffer.getvalue()


def to_csv(report: Report, meta: ExportMeta) -> str:
    disclosure.release(report)
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    for key, value in _meta_rows(meta):
        writer.writerow([key, safe_text(value)])
    writer.writerow([])
    writer.writerow(headers())
    for row in report.rows:
        writer.writerow([safe_text(row.label)] + [csv_text(key, row.cells[key]) for key in COLUMNS])
    # A byte-order mark so that Excel opens the Vietnamese text as UTF-8.
    return "\ufeff" + out.getvalue()
