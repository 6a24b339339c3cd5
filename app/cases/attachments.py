"""Encrypted attachments of a case: a scanned written consent or a document (issue #13.6).

A file is accepted only if its *content* is a PDF, JPEG or PNG — the name and the type the
browser claims are ignored — and only if it also parses far enough to be one (a PNG's chunks and
their CRCs, a JPEG's segments up to the scan and its end marker, a PDF's header, cross-reference
pointer and end marker), so a renamed executable or a truncated upload is refused. It is sealed
with the case's own data key, bound to its table, column and row (AES-GCM associated data), so
erasing the case erases it and a ciphertext moved to another row does not open.

Only those who may open the case *and* see health details (caseworkers in scope, an admin under
break-glass) see or download attachments: a scanned consent or a medical document says what the
case is about. Volunteers, partners and supervisors never do. Every upload and every download is
an audit event in the same transaction.
"""

from __future__ import annotations

import struct
import zlib

import sqlalchemy as sa
from flask import current_app
from flask_babel import lazy_gettext as _l

from app.audit import services as audit
from app.cases import permissions as perms
from app.cases.errors import CaseError
from app.cases.models import AttachmentKind, Case, CaseAttachment
from app.crypto.envelope import seal_bytes, unseal_bytes
from app.db import utcnow
from app.extensions import db
from app.permissions import Actor, PermissionDenied

PDF, JPEG, PNG = "application/pdf", "image/jpeg", "image/png"
EXTENSIONS = {PDF: "pdf", JPEG: "jpg", PNG: "png"}
DEFAULT_MAX_BYTES = 5 * 1024 * 1024
_PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def max_bytes() -> int:
    return int(current_app.config.get("CASE_ATTACHMENT_MAX_BYTES", DEFAULT_MAX_BYTES))


def _png_ok(data: bytes) -> bool:
    """Every chunk whole with a good CRC, IHDR first, IEND last."""
    pos, first, end = len(_PNG_SIGNATURE), True, False
    while pos + 12 <= len(data):
        (length,) = struct.unpack(">I", data[pos : pos + 4])
        kind = data[pos + 4 : pos + 8]
        body_end = pos + 8 + length
        if body_end + 4 > len(data):
            return False
        (crc,) = struct.unpack(">I", data[body_end : body_end + 4])
        if zlib.crc32(data[pos + 4 : body_end]) & 0xFFFFFFFF != crc:
            return False
        if first and (kind != b"IHDR" or length != 13):
            return False
        first = False
        pos = body_end + 4
        if kind == b"IEND":
            end = True
            break
    return end and not data[pos:].strip(b"\x00")


def _jpeg_ok(data: bytes) -> bool:
    """Segments well formed from SOI up to the start of scan, a frame header among them, and
    the end-of-image marker at the end."""
    if not data.rstrip(b"\x00").endswith(b"\xff\xd9"):
        return False
    pos, frame = 2, False
    while pos + 4 <= len(data):
        if data[pos] != 0xFF:
            return False
        marker = data[pos + 1]
        if marker == 0xFF:  # fill byte
            pos += 1
            continue
        if 0xD0 <= marker <= 0xD7 or marker == 0x01:
            pos += 2
            continue
        (length,) = struct.unpack(">H", data[pos + 2 : pos + 4])
        if length < 2 or pos + 2 + length > len(data):
            return False
        if marker in (0xC0, 0xC1, 0xC2, 0xC3, 0xC5, 0xC6, 0xC7, 0xC9, 0xCA, 0xCB, 0xCD, 0xCE):
            frame = True
        if marker == 0xDA:  # start of scan: the entropy-coded data follows
            return frame
        pos += 2 + length
    return False


def _pdf_ok(data: bytes) -> bool:
    """A PDF header, and at its end the cross-reference pointer and the end-of-file marker."""
    tail = data[-2048:]
    return (
        data[5:8] in (b"1.0", b"1.1", b"1.2", b"1.3", b"1.4", b"1.5", b"1.6", b"1.7", b"2.0")
        and b"startxref" in tail
        and b"%%EOF" in tail[-1024:]
    )


def sniff(data: bytes) -> str:
    """The media type of a PDF, JPEG or PNG judged from its content; CaseError otherwise."""
    if data.startswith(b"%PDF-") and _pdf_ok(data):
        return PDF
    if data.startswith(b"\xff\xd8\xff") and _jpeg_ok(data):
        return JPEG
    if data.startswith(_PNG_SIGNATURE) and _png_ok(data):
        return PNG
    raise CaseError(
        _l("Chỉ nhận tệp PDF, JPEG hoặc PNG còn nguyên vẹn (kiểm tra theo nội dung tệp)."),
        "file",
    )


def can_see_attachments(actor: Actor, case: Case) -> bool:
    """Those who may open the case and see health details; never after erasure."""
    return perms.sees_sensitive(actor) and not case.is_erased


def can_upload(actor: Actor, case: Case) -> bool:
    return perms.can_manage(actor, case) and can_see_attachments(actor, case)


def attachments_of(actor: Actor, case: Case) -> list[CaseAttachment]:
    """The case's attachments the actor may see (none for volunteers), newest first."""
    if not can_see_attachments(actor, case):
        return []
    return list(
        db.session.execute(
            sa.select(CaseAttachment)
            .where(CaseAttachment.case_id == case.id)
            .order_by(CaseAttachment.id.desc())
        ).scalars()
    )


def add_attachment(actor: Actor, case: Case, kind: str, data: bytes) -> CaseAttachment:
    """A caseworker attaches a file: checked by content and size, sealed to its row, audited."""
    if not can_upload(actor, case):
        raise PermissionDenied
    if kind not in set(AttachmentKind):
        raise CaseError(_l("Hãy chọn loại tệp đính kèm."), "kind")
    if not data:
        raise CaseError(_l("Hãy chọn tệp."), "file")
    if len(data) > max_bytes():
        raise CaseError(
            _l("Tệp quá lớn: tối đa %(mb)s MB.", mb=f"{max_bytes() / 1024 / 1024:g}"), "file"
        )
    media_type = sniff(data)
    attachment = CaseAttachment(
        case_id=case.id,
        kind=kind,
        media_type=media_type,
        size=len(data),
        uploaded_by_id=actor.user_id,
        uploaded_at=utcnow(),
    )
    db.session.add(attachment)
    db.session.flush()
    attachment.content_enc = seal_bytes(
        case.data_key, data, table="case_attachments", column="content_enc", row_id=attachment.id
    )
    case.updated_at = utcnow()
    db.session.flush()
    audit.record(actor, "attachment.added", case, details=_details(attachment))
    return attachment


def read_attachment(actor: Actor, case: Case, attachment: CaseAttachment) -> bytes:
    """The file, for someone who may see it; the download is audited before it is sent."""
    if attachment.case_id != case.id or not can_see_attachments(actor, case):
        raise PermissionDenied
    data = unseal_bytes(
        case.data_key,
        attachment.content_enc,
        table="case_attachments",
        column="content_enc",
        row_id=attachment.id,
    )
    if data is None:
        raise PermissionDenied
    audit.record(actor, "attachment.downloaded", case, details=_details(attachment))
    return data


def erase_attachments(case: Case) -> None:
    """Erasure: the data key is destroyed with the case; the ciphertexts go too."""
    db.session.execute(
        sa.update(CaseAttachment).where(CaseAttachment.case_id == case.id).values(content_enc=None)
    )


def _details(attachment: CaseAttachment) -> dict:
    return {
        "attachment": attachment.id,
        "kind": attachment.kind,
        "media_type": attachment.media_type,
        "size": attachment.size,
    }


def download_name(case: Case, attachment: CaseAttachment) -> str:
    """A name that says nothing about her: the case code and the attachment's number."""
    return f"{case.code}-{attachment.id}.{EXTENSIONS[attachment.media_type]}"
