"""Importing cases from the template (.xlsx or .csv): every row is checked first; nothing is
imported if any row is wrong; errors are reported by row number, never by value.

The file is read within LIMITS (app.imports.bounds: bytes, unpacked size and rows counted while
reading), staged sealed, checked, and published in short batches by app.imports; a file of more
than `IMPORT.sync_rows` rows is imported in the background with a progress page. The web page and
`flask cases import` take the same path, the same limits and the same audit.
"""

from __future__ import annotations

import csv
import io

from flask_babel import gettext as _

from app.cases import consents as cons
from app.cases.import_publish import PreparedCases, prepare_cases, withdraw_cases, write_cases
from app.cases.services import CaseError, ConsentGiven, Intake, check_intake, intake_units
from app.categories import SupportCategory, category_label
from app.imports import services as imports
from app.imports.bounds import FileRefused, Limits, table_rows
from app.orgs.models import OrgUnit
from app.permissions import Actor, PermissionDenied

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
# One upload, by the web page or the command line: 20,000 rows fits a province's backlog and
# imports in well under a minute, in batches that never hold the database for long.
LIMITS = Limits(rows=20_000, bytes=5 * 1024 * 1024, unpacked=40 * 1024 * 1024)
MAX_ROWS, MAX_BYTES, MAX_XLSX_UNPACKED = LIMITS.rows, LIMITS.bytes, LIMITS.unpacked

YES = {"có", "co", "yes", "y", "x", "1", "true"}
NO = {"không", "khong", "no", "n", "0", "false", ""}


ImportError_ = FileRefused  # the file as a whole is unusable (format, size, rows, headers)
RowError = imports.RowError


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


def read_rows(filename: str, content: bytes, limits: Limits = LIMITS) -> list[tuple[int, dict]]:
    """(row number, {key: text}) of every non-blank row; raises ImportError_ for a wrong
    format, missing columns, or a file over the limits (checked while reading)."""
    stream = table_rows(filename, content, limits)
    header = next(stream, None)
    if header is None:
        raise ImportError_(_("Tệp trống."))
    keys = [HEADER_TO_KEY.get(_text(h)) for h in header]
    missing = REQUIRED - set(keys)
    if missing:
        names = ", ".join(h for k, h in COLUMNS if k in missing)
        raise ImportError_(_("Thiếu cột bắt buộc: %(cols)s", cols=names))
    rows = []
    for number, values in enumerate(stream, start=2):  # row 1 holds the headers
        texts = [_text(v) for v in values]
        if any(texts):
            rows.append((number, {k: texts[i] for i, k in enumerate(keys) if k and i < len(texts)}))
    return rows


def _text(value) -> str:
    return "" if value is None else str(value).strip()


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


def check_rows(actor: Actor, run, rows: list[tuple[int, dict]]) -> list[RowError]:
    """The errors of these rows, by row number; writes nothing."""
    errors = []
    units = None if actor.is_system else intake_units(actor)
    for number, row in rows:
        try:
            check_intake(actor, row_to_intake(row, run.org_unit_id), units)
        except CaseError as exc:
            errors.append(RowError(number, str(exc.message)))
        except PermissionDenied:
            errors.append(RowError(number, _("Bạn không được nhập hồ sơ.")))
    return errors


def _prepare(actor: Actor, run, rows: list[tuple[int, dict]]) -> PreparedCases:
    return prepare_cases(actor, run.org_unit, [row_to_intake(r, run.org_unit_id) for _n, r in rows])


IMPORT = imports.register(
    imports.ImportKind(
        name="cases",
        limits=LIMITS,
        check=check_rows,
        prepare=_prepare,
        publish=lambda actor, _run, prepared: write_cases(actor, prepared),
        withdraw=lambda _actor, _run, ids: withdraw_cases(ids),
        audit_action="case.imported",
        done_endpoint="cases.index",
        batch=100,
    )
)


def import_file(actor: Actor, filename: str, content: bytes, unit: OrgUnit, via: str):
    """Read, stage and start an import of cases into `unit`: the run (done already when small).
    Raises ImportError_ when the file itself is refused; nothing is written then."""
    rows = read_rows(filename, content)
    # The command line waits for its run in its own process; the web page does not.
    return imports.start(imports.stage(actor, IMPORT, unit, rows, via), background=via == "web")
