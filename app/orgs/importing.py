"""Reading an org-unit CSV file (code, name, level, parent_code) into rows, with line numbers.

Only the shape of the file is checked here (encoding, header, column count); the rules of the
tree are checked by `services.check_import`, so the web and the command line share them.
"""

from __future__ import annotations

from flask_babel import gettext as _

from app.imports.bounds import FileRefused, Limits, csv_lines
from app.orgs.services import ImportRow, LineError, clean_text

COLUMNS = ("code", "name", "level", "parent_code")
# The whole two-level country is 3,355 units (34 provinces, 3,321 communes and wards); a file of
# the older three-level tree goes a province at a time. The units are written in one short
# transaction (app.orgs.services.imports), which this bound keeps short.
LIMITS = Limits(rows=4000, bytes=1024 * 1024)


def read_org_csv(data: bytes) -> tuple[list[ImportRow], list[LineError]]:
    """Rows of a UTF-8 file (a BOM is accepted), and the lines whose shape is wrong. The file
    is read within LIMITS (app.imports.bounds): one row too many refuses it whole."""
    try:
        return _read(csv_lines(data, LIMITS))
    except FileRefused as exc:
        return [], [LineError(exc.line or 1, str(exc))]


def _read(lines) -> tuple[list[ImportRow], list[LineError]]:
    first = next(lines, None)
    if first is None:
        return [], [LineError(1, _("Tệp trống."))]
    header = [clean_text(h).lower() for h in first[1]]
    missing = [c for c in COLUMNS if c not in header]
    if missing:
        return [], [
            LineError(
                1,
                _(
                    "Dòng tiêu đề thiếu cột: %(cols)s (cần: %(need)s).",
                    cols=", ".join(missing),
                    need=", ".join(COLUMNS),
                ),
            )
        ]
    index = {c: header.index(c) for c in COLUMNS}
    rows: list[ImportRow] = []
    errors: list[LineError] = []
    for line, values in lines:
        if not any(v.strip() for v in values):
            continue  # blank lines are harmless
        if len(values) != len(header):
            errors.append(
                LineError(
                    line,
                    _("Dòng có %(got)d cột, cần %(need)d cột.", got=len(values), need=len(header)),
                )
            )
            continue
        rows.append(
            ImportRow(
                line=line,
                code=clean_text(values[index["code"]]),
                name=clean_text(values[index["name"]]),
                level=clean_text(values[index["level"]]).lower(),
                parent_code=clean_text(values[index["parent_code"]]),
            )
        )
    return rows, errors
