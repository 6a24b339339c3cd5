"""The Excel template (Vietnamese headers) and reading a filled-in workbook into ImportRows.

Reading only parses, within LIMITS (app.imports.bounds): a cell of the wrong type becomes a row
error. The rules are checked by app.outreach.import_runs, all rows before any is saved.
"""

from __future__ import annotations

import hashlib
import io
from datetime import date, datetime

from flask_babel import force_locale
from flask_babel import gettext as _
from openpyxl import Workbook
from openpyxl.styles import Font, PatternFill
from openpyxl.worksheet.datavalidation import DataValidation

from app.imports.bounds import FileRefused, Limits, xlsx_rows
from app.orgs.models import OrgUnit
from app.outreach.forms import parse_date
from app.outreach.services import Entry, ImportRow
from app.outreach.vocab import AUDIENCES, FORMS, PLACES, TOPICS

# A year of a province's activities fits in one file; each row is a count, never a person.
LIMITS = Limits(rows=5000, bytes=5 * 1024 * 1024, unpacked=40 * 1024 * 1024)
MAX_ROWS = LIMITS.rows
DATA_SHEET = "Hoạt động"
LISTS_SHEET = "Danh mục"
UNITS_SHEET = "Xã phường"


def _columns() -> list[tuple[str, str]]:
    """(key, Vietnamese header) in template order."""
    with force_locale("vi"):
        cols = [
            ("commune_code", "Mã xã/phường"),
            ("held_on", "Ngày tổ chức (dd/mm/yyyy)"),
            ("form", "Hình thức"),
            ("topics", "Chủ đề (cách nhau bằng dấu ;)"),
            ("place", "Địa điểm"),
        ]
        cols += [(f"reached_{code}", f"Số người: {label}") for code, label in AUDIENCES.items()]
        cols += [
            ("partners_involved", "Đơn vị phối hợp"),
            ("notes", "Ghi chú (chỉ số liệu, không ghi tên người)"),
        ]
        return [(key, str(header)) for key, header in cols]


def _norm(text) -> str:
    return " ".join(str(text or "").split()).casefold()


def _lookup(mapping: dict) -> dict[str, str]:
    """Accept a code or its Vietnamese label (any case)."""
    with force_locale("vi"):
        table = {_norm(label): code for code, label in mapping.items()}
    table.update({_norm(code): code for code in mapping})
    return table


def build_template(communes: list[OrgUnit]) -> bytes:
    """The workbook users fill in: data sheet, value lists, and the communes they may name."""
    wb = Workbook()
    ws = wb.active
    ws.title = DATA_SHEET
    columns = _columns()
    ws.append([header for _key, header in columns])
    bold = Font(bold=True)
    fill = PatternFill("solid", fgColor="DDE7F0")
    for cell in ws[1]:
        cell.font = bold
        cell.fill = fill
    for index, (_key, header) in enumerate(columns, start=1):
        ws.column_dimensions[ws.cell(row=1, column=index).column_letter].width = max(
            14, min(40, len(header) + 2)
        )
    ws.freeze_panes = "A2"

    lists = wb.create_sheet(LISTS_SHEET)
    lists.append(["Hình thức", "Mã", "Địa điểm", "Mã", "Chủ đề", "Mã"])
    with force_locale("vi"):
        forms = [(str(v), k) for k, v in FORMS.items()]
        places = [(str(v), k) for k, v in PLACES.items()]
        topics = [(str(v), k) for k, v in TOPICS.items()]
    for i in range(max(len(forms), len(places), len(topics))):
        row = []
        for items in (forms, places, topics):
            row += list(items[i]) if i < len(items) else ["", ""]
        lists.append(row)
    for cell in lists[1]:
        cell.font = bold

    units = wb.create_sheet(UNITS_SHEET)
    units.append(["Mã xã/phường", "Tên"])
    for unit in communes:
        units.append([unit.code, unit.name])
        for cell in units[units.max_row]:
            cell.data_type = "s"  # text, never a formula, whatever a name begins with
    for cell in units[1]:
        cell.font = bold

    letters = {
        key: ws.cell(row=1, column=i).column_letter for i, (key, _h) in enumerate(columns, 1)
    }
    for key, source in (
        ("form", f"$A$2:$A${len(forms) + 1}"),
        ("place", f"$C$2:$C${len(places) + 1}"),
    ):
        dv = DataValidation(type="list", formula1=f"'{LISTS_SHEET}'!{source}", allow_blank=True)
        dv.add(f"{letters[key]}2:{letters[key]}{MAX_ROWS + 1}")
        ws.add_data_validation(dv)
    if communes:
        dv = DataValidation(
            type="list", formula1=f"'{UNITS_SHEET}'!$A$2:$A${len(communes) + 1}", allow_blank=True
        )
        dv.add(f"{letters['commune_code']}2:{letters['commune_code']}{MAX_ROWS + 1}")
        ws.add_data_validation(dv)
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


class WorkbookError(Exception):
    """The file cannot be read as the template: one message, no rows."""


def digest(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def read_rows(data: bytes, limits: Limits = LIMITS) -> list[ImportRow]:
    """Parse the data sheet within `limits` (rows counted while reading, blank ones too); type
    errors are attached to their rows (nothing is checked yet)."""
    try:
        rows = xlsx_rows(data, limits, DATA_SHEET, _("Tệp không phải là tệp Excel (.xlsx) hợp lệ."))
        header = next(rows, None)
        positions = _positions(header)
        lookups = (_lookup(FORMS), _lookup(PLACES), _lookup(TOPICS))
        result = []
        for number, values in enumerate(rows, start=2):
            if values is None or all(v is None or str(v).strip() == "" for v in values):
                continue
            cells = {key: values[i] if i < len(values) else None for key, i in positions.items()}
            result.append(_parse_row(number, cells, lookups))
        return result
    except FileRefused as exc:
        raise WorkbookError(str(exc)) from None


def _positions(header) -> dict[str, int]:
    if not header:
        raise WorkbookError(_("Tệp không đúng mẫu: thiếu dòng tiêu đề."))
    known = {}
    for key, title in _columns():
        known[_norm(title)] = key
        known[_norm(key)] = key
    positions = {}
    for index, title in enumerate(header):
        key = known.get(_norm(title))
        if key is not None:
            positions[key] = index
    missing = [title for key, title in _columns()[:5] if key not in positions]
    if missing:
        raise WorkbookError(
            _("Tệp không đúng mẫu: thiếu cột %(cols)s.", cols=", ".join(f"«{m}»" for m in missing))
        )
    return positions


def _parse_row(number: int, cells: dict, lookups: tuple[dict, dict, dict]) -> ImportRow:
    forms, places, topics = lookups
    errors = []
    code = cells.get("commune_code")
    code = str(int(code)) if isinstance(code, float) and code.is_integer() else str(code or "")

    held_on = None
    raw = cells.get("held_on")
    if isinstance(raw, datetime):
        held_on = raw.date()
    elif isinstance(raw, date):
        held_on = raw
    elif raw is not None and str(raw).strip():
        try:
            held_on = parse_date(str(raw))
        except ValueError:
            errors.append(_("Ngày không hợp lệ (dd/mm/yyyy)."))

    form = forms.get(_norm(cells.get("form")), _norm(cells.get("form")) or None)
    place = places.get(_norm(cells.get("place")), _norm(cells.get("place")) or None)
    topic_cells = str(cells.get("topics") or "").replace(",", ";").split(";")
    topic_codes = [topics.get(_norm(t), _norm(t)) for t in topic_cells if _norm(t)]

    reached = {}
    for audience in AUDIENCES:
        value = cells.get(f"reached_{audience}")
        try:
            reached[audience] = _count(value)
        except ValueError:
            errors.append(_("Số người phải là số nguyên không âm."))
            reached[audience] = None

    entry = Entry(
        org_unit_id=None,
        held_on=held_on,
        form=form,
        place=place,
        topics=sorted(set(topic_codes)),
        reached=reached,
        partners_involved=str(cells.get("partners_involved") or ""),
        notes=str(cells.get("notes") or ""),
    )
    return ImportRow(row=number, commune_code=code.strip(), entry=entry, errors=errors)


def _count(value) -> int | None:
    """A cell as a whole number; ValueError for anything else (text, fractions, booleans)."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    if isinstance(value, bool):
        raise ValueError(value)
    if isinstance(value, int):
        return value
    if isinstance(value, float):
        if not value.is_integer():
            raise ValueError(value)
        return int(value)
    return int(str(value).strip())
