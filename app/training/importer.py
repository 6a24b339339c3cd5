"""The training sheet: its template, and reading a filled-in workbook into sessions.

The sheet is the one units already keep after a course: **one row per session and attending
unit** — the date, topic, holding unit, organizer and format of the session, then one unit whose
people attended with its head counts (officers without an account, volunteers) and, if any,
the usernames of attendees with an account. Rows with the same date, topic and holding unit
are one session, wherever they are in the sheet; a session held for one unit only is one row.

An upload is bounded before it is believed: at most MAX_BYTES of file, MAX_UNPACKED of XML
once unzipped (a small .xlsx can unpack to gigabytes), and MAX_ROWS rows counted while openpyxl
streams them (read-only mode), blank rows included, so that a sheet of a million rows is
refused at row MAX_ROWS + 1 instead of being read whole.

Reading only parses: a cell of the wrong type becomes an error of its row. The rules are
checked by services.import_sessions, every session before any is saved. Kept self-contained
(openpyxl and this module's services only) so that it can move onto shared import bounds later.
"""

from __future__ import annotations

import hashlib
import io
import itertools
import zipfile
from datetime import date, datetime

from flask_babel import force_locale
from flask_babel import gettext as _
from openpyxl import Workbook, load_workbook
from openpyxl.styles import Font, PatternFill
from openpyxl.worksheet.datavalidation import DataValidation

from app.orgs.models import OrgUnit
from app.training.services import Entry, Headcount, ImportedSession
from app.training.vocab import FORMATS

MAX_ROWS = 2_000
MAX_BYTES = 2 * 1024 * 1024
MAX_UNPACKED = 20 * 1024 * 1024
DATA_SHEET = "Tập huấn"
GUIDE_SHEET = "Hướng dẫn"
LISTS_SHEET = "Danh mục"
UNITS_SHEET = "Đơn vị"
XLSX_MIME = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"

# (key, header). Those marked * are required columns.
COLUMNS = [
    ("held_on", "Ngày tập huấn (dd/mm/yyyy) *"),
    ("topic", "Nội dung tập huấn *"),
    ("unit_code", "Mã đơn vị tổ chức *"),
    ("organizer", "Cơ quan tổ chức, phối hợp"),
    ("format", "Hình thức *"),
    ("attending_code", "Mã đơn vị tham dự"),
    ("officers", "Số cán bộ không có tài khoản"),
    ("volunteers", "Số tình nguyện viên"),
    ("usernames", "Tài khoản tham dự (tên đăng nhập, cách nhau bằng ;)"),
]
REQUIRED = [key for key, header in COLUMNS if header.endswith("*")]
GUIDE = [
    "Mỗi dòng là một lớp tập huấn và một đơn vị có người tham dự.",
    "Các dòng cùng ngày, cùng nội dung và cùng đơn vị tổ chức được ghép thành một lớp.",
    "«Số cán bộ không có tài khoản»: cán bộ của đơn vị tham dự chưa có tài khoản Cầu Nối; "
    "mỗi người chỉ đếm một lần trong một lớp.",
    "Cán bộ, tình nguyện viên có tài khoản: ghi tên đăng nhập ở cột cuối, không đếm lại "
    "ở các cột số người.",
    "Mã đơn vị: xem trang «Đơn vị». Hình thức: xem trang «Danh mục» (ghi tên hoặc mã).",
    "Mọi dòng được kiểm tra trước; nếu có dòng sai thì chưa lớp nào được nhập. "
    "Nhập lại cùng một tệp không tạo thêm lớp.",
    f"Tối đa {MAX_ROWS} dòng và {MAX_BYTES // 2**20} MB mỗi tệp.",
]


class WorkbookError(Exception):
    """The file as a whole cannot be read as the template: one message, no rows."""


def _norm(text) -> str:
    return " ".join(str(text or "").split()).casefold()


def _formats() -> dict[str, str]:
    """Accept a format's code or its Vietnamese label, in any case."""
    with force_locale("vi"):
        table = {_norm(label): code for code, label in FORMATS.items()}
    table.update({_norm(code): code for code in FORMATS})
    return table


def build_template(units: list[OrgUnit]) -> bytes:
    """The workbook to fill in: the sheet, a guide, the formats and the units one may name."""
    wb = Workbook()
    ws = wb.active
    ws.title = DATA_SHEET
    ws.append([header for _key, header in COLUMNS])
    bold, fill = Font(bold=True), PatternFill("solid", fgColor="DDE7F0")
    for index, cell in enumerate(ws[1], start=1):
        cell.font, cell.fill = bold, fill
        ws.column_dimensions[cell.column_letter].width = max(
            14, min(40, len(COLUMNS[index - 1][1]))
        )
    ws.freeze_panes = "A2"
    guide = wb.create_sheet(GUIDE_SHEET)
    guide.column_dimensions["A"].width = 110
    for line in GUIDE:
        guide.append([line])
    lists = wb.create_sheet(LISTS_SHEET)
    lists.append(["Hình thức", "Mã"])
    with force_locale("vi"):
        for code, label in FORMATS.items():
            lists.append([str(label), code])
    sheet = wb.create_sheet(UNITS_SHEET)
    sheet.append(["Mã đơn vị", "Tên"])
    for unit in units:
        sheet.append([unit.code, unit.name])
        for cell in sheet[sheet.max_row]:
            cell.data_type = "s"  # text, never a formula, whatever a name begins with
    for cell in (*lists[1], *sheet[1]):
        cell.font = bold
    letters = {
        key: ws.cell(row=1, column=i).column_letter for i, (key, _h) in enumerate(COLUMNS, 1)
    }
    rules = [("format", f"'{LISTS_SHEET}'!$A$2:$A${len(FORMATS) + 1}")]
    if units:
        source = f"'{UNITS_SHEET}'!$A$2:$A${len(units) + 1}"
        rules += [("unit_code", source), ("attending_code", source)]
    for key, source in rules:
        dv = DataValidation(type="list", formula1=source, allow_blank=True)
        dv.add(f"{letters[key]}2:{letters[key]}{MAX_ROWS + 1}")
        ws.add_data_validation(dv)
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


def digest(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _open(data: bytes):
    if len(data) > MAX_BYTES:
        raise WorkbookError(
            _("Tệp lớn quá %(mb)d MB; hãy chia thành nhiều tệp nhỏ hơn.", mb=MAX_BYTES // 2**20)
        )
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            unpacked = sum(i.file_size for i in archive.infolist())
    except zipfile.BadZipFile:
        raise WorkbookError(_("Tệp không phải là tệp Excel (.xlsx) hợp lệ.")) from None
    if unpacked > MAX_UNPACKED:
        raise WorkbookError(_("Tệp .xlsx quá lớn khi giải nén; hãy chia thành nhiều tệp nhỏ hơn."))
    try:
        return load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception:  # noqa: BLE001 (any unreadable workbook is the same answer)
        raise WorkbookError(_("Tệp không phải là tệp Excel (.xlsx) hợp lệ.")) from None


def read_sessions(data: bytes) -> list[ImportedSession]:
    """The sessions of the data sheet, in the order they first appear; nothing checked yet."""
    wb = _open(data)
    try:
        ws = wb[DATA_SHEET] if DATA_SHEET in wb.sheetnames else wb.worksheets[0]
        stream = ws.iter_rows(values_only=True)
        # The header and MAX_ROWS rows; one more means the file is over the limit.
        raw = list(itertools.islice(stream, MAX_ROWS + 2))
    finally:
        wb.close()
    if len(raw) > MAX_ROWS + 1:
        raise WorkbookError(_("Tệp có quá %(n)d dòng; hãy chia nhỏ tệp.", n=MAX_ROWS))
    if not raw:
        raise WorkbookError(_("Tệp trống."))
    positions = _positions(raw[0])
    sessions: dict[tuple, ImportedSession] = {}
    formats = _formats()
    for number, values in enumerate(raw[1:], start=2):
        if values is None or all(v is None or str(v).strip() == "" for v in values):
            continue
        cells = {k: values[i] if i < len(values) else None for k, i in positions.items()}
        _add_row(sessions, number, cells, formats)
    return list(sessions.values())


def _positions(header) -> dict[str, int]:
    known = {}
    for key, title in COLUMNS:
        known[_norm(title)] = key
        known[_norm(title.rstrip(" *"))] = key
        known[_norm(key)] = key
    positions: dict[str, int] = {}
    for index, title in enumerate(header or ()):
        key = known.get(_norm(title))
        if key is not None and key not in positions:
            positions[key] = index
    missing = [title for key, title in COLUMNS if key in REQUIRED and key not in positions]
    if missing:
        raise WorkbookError(
            _("Tệp không đúng mẫu: thiếu cột %(cols)s.", cols=", ".join(f"«{m}»" for m in missing))
        )
    return positions


def _text(value) -> str:
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return " ".join(str(value if value is not None else "").split())


def _date(value) -> date | None:
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    text = _text(value)
    if not text:
        return None
    for fmt in ("%d/%m/%Y", "%Y-%m-%d"):
        try:
            return datetime.strptime(text, fmt).date()  # noqa: DTZ007 (a calendar date)
        except ValueError:
            continue
    raise ValueError(text)


def _count(value) -> int | None:
    """A cell as a whole number; ValueError for text, fractions and booleans."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    if isinstance(value, bool) or (isinstance(value, float) and not value.is_integer()):
        raise ValueError(value)
    number = int(value) if isinstance(value, int | float) else int(str(value).strip())
    if number < 0:
        raise ValueError(value)
    return number


def _add_row(sessions: dict, number: int, cells: dict, formats: dict[str, str]) -> None:
    errors = []
    try:
        held_on = _date(cells.get("held_on"))
    except ValueError:
        held_on = None
        errors.append(_("Ngày không hợp lệ (dd/mm/yyyy)."))
    topic, unit_code = _text(cells.get("topic")), _text(cells.get("unit_code"))
    fmt = formats.get(_norm(cells.get("format")), _norm(cells.get("format")) or None)
    organizer = _text(cells.get("organizer"))
    key = (held_on, topic.casefold(), unit_code)
    item = sessions.get(key)
    if item is None:
        entry = Entry(None, held_on, topic, organizer, fmt)
        item = sessions[key] = ImportedSession(rows=[number], unit_code=unit_code, entry=entry)
    else:
        item.rows.append(number)
        if (fmt, organizer) != (item.entry.format, item.entry.organizer):
            errors.append(
                _("Các dòng của cùng một lớp phải ghi cùng hình thức và cùng cơ quan tổ chức.")
            )
    counts = {}
    for name in ("officers", "volunteers"):
        try:
            counts[name] = _count(cells.get(name))
        except ValueError:
            counts[name] = None
            errors.append(_("Số người phải là số nguyên không âm."))
    attending = _text(cells.get("attending_code"))
    if counts["officers"] or counts["volunteers"]:
        if not attending:
            errors.append(_("Hãy ghi mã đơn vị tham dự cho số người tham dự."))
        item.entry.headcounts.append(Headcount(None, counts["officers"], counts["volunteers"]))
        item.unit_codes.append((number, attending))
    names = [n.strip() for n in str(cells.get("usernames") or "").replace(",", ";").split(";")]
    item.attendee_names += [n for n in names if n and n not in item.attendee_names]
    item.errors += [(number, message) for message in errors]
