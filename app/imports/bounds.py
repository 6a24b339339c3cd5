"""Reading an uploaded table without believing it: bytes, unpacked size and rows are counted
while the file is read, and the file is refused at the first byte or row past its limit.

A 1.2 MB CSV can hold 20,000 rows and a 2.7 MB .xlsx a million (blank rows compress to almost
nothing), so the byte limit alone bounds nothing: rows are counted as they stream in
(openpyxl's read-only mode, the csv reader over a lazily decoded stream), blank rows included,
and an archive whose members unpack past `unpacked` is not opened at all.
"""

from __future__ import annotations

import codecs
import csv
import io
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass

from flask_babel import gettext as _

CHUNK = 64 * 1024
MB = 1024 * 1024


class FileRefused(Exception):
    """The file as a whole is unusable: its format, its size, its row count, its header.
    `line` is the line of a CSV where reading stopped, when there is one."""

    def __init__(self, message: str, line: int | None = None):
        super().__init__(message)
        self.line = line


@dataclass(frozen=True)
class Limits:
    """The documented bounds of one kind of import (README, "Nhập dữ liệu từ tệp")."""

    rows: int
    bytes: int = 5 * MB
    unpacked: int = 40 * MB


def too_many_rows(limits: Limits) -> FileRefused:
    return FileRefused(
        _("Tệp có quá %(n)d dòng dữ liệu; hãy chia thành nhiều tệp nhỏ hơn.", n=limits.rows)
    )


def read_upload(source, limits: Limits) -> bytes:
    """The bytes of an upload (a file object or bytes), refused as soon as they pass the limit."""
    if isinstance(source, bytes | bytearray):
        if len(source) > limits.bytes:
            raise _too_big(limits)
        return bytes(source)
    out = bytearray()
    while chunk := source.read(CHUNK):
        out += chunk
        if len(out) > limits.bytes:
            raise _too_big(limits)
    return bytes(out)


def _too_big(limits: Limits) -> FileRefused:
    return FileRefused(
        _(
            "Tệp lớn quá %(mb)d MB; hãy chia thành nhiều tệp nhỏ hơn.",
            mb=max(1, limits.bytes // MB),
        )
    )


def open_archive(content: bytes, limits: Limits, unreadable: str) -> zipfile.ZipFile:
    """A ZIP (an .xlsx is one) whose members together unpack to at most `limits.unpacked`."""
    if len(content) > limits.bytes:
        raise _too_big(limits)
    try:
        archive = zipfile.ZipFile(io.BytesIO(content))
    except zipfile.BadZipFile:
        raise FileRefused(unreadable) from None
    # The sizes in the directory are what zipfile will let each member inflate to: reading a
    # member that claims less and inflates more fails with BadZipFile, never with more bytes.
    if sum(info.file_size for info in archive.infolist()) > limits.unpacked:
        archive.close()
        raise FileRefused(_("Tệp quá lớn khi giải nén; hãy chia thành nhiều tệp nhỏ hơn."))
    return archive


def counted(rows: Iterator, limits: Limits) -> Iterator:
    """The header, then at most `limits.rows` rows (blank ones count): one more is refused."""
    for number, row in enumerate(rows):
        if number > limits.rows:
            raise too_many_rows(limits)
        yield row


def xlsx_rows(
    content: bytes, limits: Limits, sheet: str | None = None, unreadable: str | None = None
) -> Iterator[tuple]:
    """Rows of one sheet (the named one, else the first) as tuples of cell values."""
    from openpyxl import load_workbook

    unreadable = unreadable or _("Không đọc được tệp .xlsx.")
    open_archive(content, limits, unreadable).close()
    try:
        wb = load_workbook(io.BytesIO(content), read_only=True, data_only=True)
    except Exception:  # noqa: BLE001 (any unreadable workbook is the same answer)
        raise FileRefused(unreadable) from None
    try:
        ws = wb[sheet] if sheet and sheet in wb.sheetnames else wb.worksheets[0]
        yield from counted(ws.iter_rows(values_only=True), limits)
    finally:
        wb.close()


def csv_rows(content: bytes, limits: Limits) -> Iterator[list[str]]:
    """Rows of a UTF-8 CSV (a BOM is accepted), decoded as they are read."""
    for _line, values in csv_lines(content, limits):
        yield values


def csv_lines(content: bytes, limits: Limits) -> Iterator[tuple[int, list[str]]]:
    """(line where the row starts, values) of each row of a UTF-8 CSV, the header first."""
    if len(content) > limits.bytes:
        raise _too_big(limits)
    reader = csv.reader(_decoded_lines(content))
    start = 1
    try:
        for values in counted(reader, limits):
            yield start, values
            start = reader.line_num + 1
    except _NotUtf8 as exc:
        raise FileRefused(_("Tệp .csv phải dùng mã UTF-8."), line=exc.line) from None
    except csv.Error:
        raise FileRefused(_("Không đọc được tệp .csv."), line=reader.line_num) from None


class _NotUtf8(Exception):
    def __init__(self, line: int):
        self.line = line


def _decoded_lines(content: bytes) -> Iterator[str]:
    # Split on the newline byte, which no UTF-8 sequence contains, so that a wrong byte is
    # reported on its own line; the csv reader joins the lines of a quoted field again.
    for number, raw in enumerate(io.BytesIO(content), start=1):
        if number == 1 and raw.startswith(codecs.BOM_UTF8):
            raw = raw[len(codecs.BOM_UTF8) :]
        try:
            yield raw.decode("utf-8")
        except UnicodeDecodeError:
            raise _NotUtf8(number) from None


def table_rows(filename: str, content: bytes, limits: Limits, sheet: str | None = None):
    """Rows of an .xlsx or a .csv, the header first; anything else is refused."""
    name = (filename or "").lower()
    if len(content) > limits.bytes:
        raise _too_big(limits)
    if name.endswith(".xlsx"):
        return xlsx_rows(content, limits, sheet)
    if name.endswith(".csv"):
        return csv_rows(content, limits)
    raise FileRefused(_("Chỉ nhận tệp .xlsx hoặc .csv."))
