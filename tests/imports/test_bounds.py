"""The shared bounds: bytes, unpacked size and rows are counted while reading (issue 16.1)."""

from __future__ import annotations

import io
import zipfile

import pytest
from openpyxl import Workbook

from app.imports.bounds import FileRefused, Limits, csv_rows, read_upload, table_rows, xlsx_rows

SMALL = Limits(rows=10, bytes=4096, unpacked=64 * 1024)


class CountingStream(io.BytesIO):
    """A file object that remembers how much was read from it."""

    def __init__(self, data: bytes):
        super().__init__(data)
        self.taken = 0

    def read(self, size=-1):
        chunk = super().read(size)
        self.taken += len(chunk)
        return chunk


def _xlsx(rows: int) -> bytes:
    wb = Workbook(write_only=True)
    ws = wb.create_sheet()
    ws.append(["a", "b"])
    for n in range(rows):
        ws.append([n, "x"])
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


def test_an_upload_stops_being_read_just_past_the_byte_limit():
    stream = CountingStream(b"x" * (10 * 1024 * 1024))
    with pytest.raises(FileRefused, match="MB"):
        read_upload(stream, Limits(rows=1, bytes=1024 * 1024))
    assert stream.taken <= 1024 * 1024 + 64 * 1024
    assert read_upload(io.BytesIO(b"abc"), SMALL) == b"abc"


def test_csv_rows_are_refused_at_the_first_row_past_the_limit_not_after_reading_all():
    body = "a,b\n" + "1,2\n" * 100_000
    rows = csv_rows(body.encode(), Limits(rows=10, bytes=10 * 1024 * 1024))
    taken = []
    with pytest.raises(FileRefused, match="quá 10 dòng"):
        for row in rows:
            taken.append(row)
    assert len(taken) == 11  # the header and ten rows, then the refusal


def test_blank_rows_count_and_the_limit_itself_is_accepted():
    assert len(list(csv_rows(b"a\n" + b"1\n" * 10, SMALL))) == 11
    with pytest.raises(FileRefused):
        list(csv_rows(b"a\n" + b"\n" * 11, SMALL))


def test_xlsx_rows_stream_and_stop_at_the_limit():
    assert len(list(xlsx_rows(_xlsx(10), Limits(10)))) == 11
    with pytest.raises(FileRefused, match="quá 10 dòng"):
        list(xlsx_rows(_xlsx(11), Limits(10)))


def test_an_archive_that_unpacks_past_the_limit_is_not_opened():
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("xl/worksheets/sheet1.xml", b"<row/>" * 20_000)
    assert len(out.getvalue()) < SMALL.bytes
    with pytest.raises(FileRefused, match="giải nén"):
        list(xlsx_rows(out.getvalue(), SMALL))


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("x.csv", "Họ\n".encode("utf-16"), "UTF-8"),
        ("x.xlsx", b"not a zip", "Không đọc được"),
        ("x.txt", b"a,b\n", "Chỉ nhận"),
    ],
)
def test_unreadable_files_get_one_vietnamese_message(name, content, message):
    with pytest.raises(FileRefused, match=message):
        list(table_rows(name, content, SMALL))
