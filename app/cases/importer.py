"""Importing cases from the template (.xlsx or .csv): every row is checked first; nothing is
imported if any row is wrong; errors are reported by row number, never by value.

An upload is bounded before it is believed: at most MAX_BYTES of file, at most MAX_XLSX_UNPACKED
of sheet XML once unzipped (a small .xlsx can unpack to gigabytes), and at most `max_rows` rows,
counted while the rows stream in (openpyxl's read-only mode, the csv reader) so that a file with
a million rows is refused at row MAX_ROWS + 1 instead of being read whole. The web page imports
in the request, so its limit is what one request can write well inside a worker's time-out.
"""

from __future__ import annotations

import csv
import io
import itertools
import zipfile
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from flask_babel import gettext as _

from app.audit import services as audit
from app.cases import consents as cons
from app.cases.models import Case
from app.cases.services import CaseError, ConsentGiven, Intake, check_intake, open_case
from app.categories import SupportCategory, category_label
from app.orgs.models import OrgUnit
from app.permissions import Actor

# (key, Vietnamese header). Headers marked * are required columns.
COLUMNS = [
    ("full_name", "Họ và tên *"),
    ("other_names", "Tên gọi khác"),
    ("preferred_name", "Tên muốn được gọi"),
    ("date_of_birth", "Ngày sinh (dd/mm/yyyy) hoặc năm sinh"),
    ("phone", "Số điện thoại"),
    ("address", "Địa chỉ"),
    ("id_number", "Số CCCD / giấy tờ"),
    ("reached_via", "Tiếp cận qua (outreach/peer/self/health_service/police/other)"),
    ("needs", "Nhu cầu hỗ trợ (mã loại, cách nhau bởi dấu ;)"),
    ("consent_record", "Đồng ý ghi nhận hồ sơ (có/không) *"),
    ("consent_method", "Hình thức đồng ý (verbal/written/thumbprint) *"),
    ("consent_share", "Đồng ý chia sẻ theo loại hỗ trợ (mã loại, cách nhau bởi ;) *"),
    ("consent_contact_phone", "Đồng ý liên lạc qua điện thoại (có/không) *"),
    ("given_by", "Người đồng ý (self/guardian) *"),
    ("guardian_relation", "Quan hệ của người giám hộ"),
]
REQUIRED = {key for key, header in COLUMNS if header.endswith("*")}
HEADER_TO_KEY = {header: key for key, header in COLUMNS}
EXAMPLE = [
    "Nguyễn Thị Ví Dụ",
    "",
    "Ví Dụ",
    "1990",
    "0900000000",
    "Xã Ví Dụ",
    "",
    "outreach",
    "vocational_training;jobs",
    "có",
    "verbal",
    "vocational_training",
    "không",
    "self",
    "",
]
# One upload through the web page (written in the request, ~60 ms a row on SQLite).
MAX_ROWS = 500
# The command line (`flask cases import`), run by an admin at a quiet hour.
MAX_ROWS_CLI = 20_000
MAX_BYTES = 5 * 1024 * 1024
MAX_XLSX_UNPACKED = 40 * 1024 * 1024

YES = {"có", "co", "yes", "y", "x", "1", "true"}
NO = {"không", "khong", "no", "n", "0", "false", ""}


class ImportError_(Exception):
    """The file as a whole is unusable (format, headers)."""


@dataclass
class RowError:
    row: int
    message: str


def template_xlsx() -> bytes:
    from openpyxl import Workbook

    wb = Workbook()
    ws = wb.active
    ws.title = "ho_so"
    ws.append([header for _k, header in COLUMNS])
    ws.append(EXAMPLE)
    codes = wb.create_sheet("ma_loai_ho_tro")
    codes.append(["Mã", "Loại hỗ trợ"])
    for category in SupportCategory:
        codes.append([category.value, category_label(category)])
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


def template_csv() -> bytes:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow([header for _k, header in COLUMNS])
    writer.writerow(EXAMPLE)
    return out.getvalue().encode("utf-8-sig")


def _too_many(max_rows: int) -> ImportError_:
    return ImportError_(
        _("Tệp có quá %(n)d dòng dữ liệu; hãy chia thành nhiều tệp nhỏ hơn.", n=max_rows)
    )


def _xlsx_rows(content: bytes):
    from openpyxl import load_workbook

    try:
        with zipfile.ZipFile(io.BytesIO(content)) as archive:
            unpacked = sum(i.file_size for i in archive.infolist())
    except zipfile.BadZipFile:
        raise ImportError_(_("Không đọc được tệp .xlsx.")) from None
    if unpacked > MAX_XLSX_UNPACKED:
        raise ImportError_(_("Tệp .xlsx quá lớn khi giải nén; hãy chia thành nhiều tệp nhỏ hơn."))
    try:
        wb = load_workbook(io.BytesIO(content), read_only=True, data_only=True)
    except Exception:  # noqa: BLE001 (any unreadable workbook is the same answer)
        raise ImportError_(_("Không đọc được tệp .xlsx.")) from None
    try:
        for row in wb.worksheets[0].iter_rows(values_only=True):
            yield ["" if v is None else str(v) for v in row]
    finally:
        wb.close()


def _csv_rows(content: bytes):
    try:
        text = content.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise ImportError_(_("Tệp .csv phải dùng mã UTF-8.")) from None
    yield from csv.reader(io.StringIO(text))


def read_rows(filename: str, content: bytes, max_rows: int = MAX_ROWS) -> list[dict[str, str]]:
    """Rows as {key: text}; raises ImportError_ for a wrong format, missing columns, or a file
    over the limits (checked while reading: the module docstring says why)."""
    name = filename.lower()
    if len(content) > MAX_BYTES:
        raise ImportError_(
            _("Tệp lớn quá %(mb)d MB; hãy chia thành nhiều tệp nhỏ hơn.", mb=MAX_BYTES // 2**20)
        )
    if name.endswith(".xlsx"):
        stream = _xlsx_rows(content)
    elif name.endswith(".csv"):
        stream = _csv_rows(content)
    else:
        raise ImportError_(_("Chỉ nhận tệp .xlsx hoặc .csv."))
    # The header and max_rows rows; one more row means the file is over the limit. Blank rows
    # count too: a sheet of a million empty rows is refused as early as a full one.
    raw = list(itertools.islice(stream, max_rows + 2))
    if len(raw) > max_rows + 1:
        stream.close()
        raise _too_many(max_rows)
    if not raw:
        raise ImportError_(_("Tệp trống."))
    headers = [h.strip() for h in raw[0]]
    keys = [HEADER_TO_KEY.get(h) for h in headers]
    missing = REQUIRED - set(keys)
    if missing:
        names = ", ".join(h for k, h in COLUMNS if k in missing)
        raise ImportError_(_("Thiếu cột bắt buộc: %(cols)s", cols=names))
    rows = []
    for values in raw[1:]:
        if not any((v or "").strip() for v in values):
            continue
        rows.append(
            {k: (values[i] if i < len(values) else "").strip() for i, k in enumerate(keys) if k}
        )
    return rows


def _yes(value: str) -> bool:
    value = value.strip().lower()
    if value in YES:
        return True
    if value in NO:
        return False
    raise CaseError(_("Giá trị có/không không hợp lệ."))


def _codes(value: str) -> list[str]:
    codes = [c.strip() for c in value.replace(",", ";").split(";") if c.strip()]
    for code in codes:
        if code not in set(SupportCategory):
            raise CaseError(_("Mã loại hỗ trợ không hợp lệ."))
    return codes


def row_to_intake(row: dict[str, str], org_unit_id: int) -> Intake:
    purposes = []
    if _yes(row.get("consent_record", "")):
        purposes.append(cons.RECORD)
    purposes += [cons.share_purpose(c) for c in _codes(row.get("consent_share", ""))]
    if _yes(row.get("consent_contact_phone", "")):
        purposes.append(cons.CONTACT_PHONE)
    return Intake(
        org_unit_id=org_unit_id,
        consent=ConsentGiven(
            purposes=purposes,
            method=row.get("consent_method", ""),
            given_by=row.get("given_by", "") or "self",
            guardian_relation=row.get("guardian_relation") or None,
        ),
        full_name=row.get("full_name", ""),
        other_names=row.get("other_names") or None,
        preferred_name=row.get("preferred_name") or None,
        date_of_birth=row.get("date_of_birth") or None,
        phone=row.get("phone") or None,
        address=row.get("address") or None,
        id_number=row.get("id_number") or None,
        reached_via=row.get("reached_via") or "other",
        needs=[(c, "normal") for c in _codes(row.get("needs", ""))],
    )


def check_rows(
    actor: Actor, rows: list[dict[str, str]], org_unit: OrgUnit
) -> tuple[list[Intake], list[RowError]]:
    intakes, errors = [], []
    for number, row in enumerate(rows, start=2):  # row 1 holds the headers
        try:
            intake = row_to_intake(row, org_unit.id)
            check_intake(actor, intake)
            intakes.append(intake)
        except CaseError as exc:
            errors.append(RowError(number, str(exc.message)))
    return intakes, errors


def import_cases(
    actor: Actor,
    rows: list[dict[str, str]],
    org_unit: OrgUnit,
    progress: Callable[[Iterable], Iterable] | None = None,
) -> tuple[list[Case], list[RowError]]:
    """All or nothing: returns ([], errors) without writing anything if any row is wrong."""
    if not rows:
        return [], [RowError(0, _("Tệp không có dòng dữ liệu nào."))]
    intakes, errors = check_rows(actor, rows, org_unit)
    if errors:
        return [], errors
    iterable = progress(intakes) if progress else intakes
    cases = [open_case(actor, intake) for intake in iterable]
    audit.record(
        actor,
        "case.imported",
        object_type="org_unit",
        object_ref=org_unit.code,
        org_unit_id=org_unit.id,
        details={"count": len(cases)},
    )
    return cases, []
