"""Reading an org-unit CSV file (code, name, level, parent_code) into rows, with line numbers.

Only the shape of the file is checked here (encoding, header, column count); the rules of the
tree are checked by `services.check_import`, so the web and the command line share them.
"""

from __future__ import annotations

import csv
import io

from flask_babel import gettext as _

from app.orgs.services import ImportRow, LineError, clean_text

COLUMNS = ("code", "name", "level", "parent_code")


def read_org_csv(data: bytes) -> tuple[list[ImportRow], list[LineError]]:
    """Rows of a UTF-8 file (a BOM is accepted), and the lines whose shape is wrong."""
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        return [], [LineError(line, _("Tệp không phải UTF-8: hãy lưu tệp với mã hoá UTF-8."))]
    reader = csv.reader(io.StringIO(text, newline=""))
    header = next(reader, None)
    if header is None:
        return [], [LineError(1, _("Tệp trống."))]
    header = [clean_text(h).lower() for h in header]
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
    start = reader.line_num + 1
    for values in reader:
        line, start = start, reader.line_num + 1
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
