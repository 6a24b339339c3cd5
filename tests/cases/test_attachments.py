"""Encrypted attachments (issue #13.6): type by content, size limit, sealed to the case's key and
row, downloaded only by those who may open the case and see health details, every download
audited, erased with the case; the permission matrix by URL."""

from __future__ import annotations

import io
import struct
import zlib

import pytest
import sqlalchemy as sa

from app.audit.models import AuditEvent
from app.cases import attachments, rights
from app.cases.models import CaseAttachment
from app.crypto.envelope import DecryptionError, KeyDestroyedError, unseal_bytes
from app.extensions import db
from app.permissions import Actor
from tests.cases.conftest import open_case


def _chunk(kind: bytes, body: bytes) -> bytes:
    return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))


PNG = (
    b"\x89PNG\r\n\x1a\n"
    + _chunk(b"IHDR", struct.pack(">IIBBBBB", 1, 1, 8, 0, 0, 0, 0))
    + _chunk(b"IDAT", zlib.compress(b"\x00\x00"))
    + _chunk(b"IEND", b"")
)
JPEG = (
    b"\xff\xd8"
    + b"\xff\xe0\x00\x10JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00"
    + b"\xff\xdb\x00\x43\x00"
    + bytes(range(1, 65))
    + b"\xff\xc0\x00\x0b\x08\x00\x01\x00\x01\x01\x01\x11\x00"
    + b"\xff\xda\x00\x08\x01\x01\x00\x00\x3f\x00"
    + b"\xd2\xcf\x20"
    + b"\xff\xd9"
)
PDF = (
    b"%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n"
    b"2 0 obj<</Type/Pages/Kids[]/Count 0>>endobj\n"
    b"xref\n0 3\n0000000000 65535 f \ntrailer<</Size 3/Root 1 0 R>>\nstartxref\n60\n%%EOF\n"
)


def upload(client, code, data: bytes, name: str = "giay-dong-y.pdf", kind: str = "consent_scan"):
    return client.post(
        f"/cases/{code}/attachments/new",
        data={"kind": kind, "file": (io.BytesIO(data), name)},
        content_type="multipart/form-data",
    )


def attach(world, case, data: bytes = PDF) -> CaseAttachment:
    attachment = attachments.add_attachment(
        Actor.from_user(
            world.users["caseworker" if case.org_unit_id == world.commune_a.id else "caseworker_b"]
        ),
        case,
        "consent_scan",
        data,
    )
    db.session.commit()
    return attachment


@pytest.mark.parametrize(
    ("data", "media_type"), [(PDF, "application/pdf"), (JPEG, "image/jpeg"), (PNG, "image/png")]
)
def test_type_is_judged_by_content_not_by_name(client, world, login_as, case_a, data, media_type):
    login_as(world.users["caseworker"])
    response = upload(client, case_a.code, data, name="anh-chup.pdf")  # the name always lies
    assert response.status_code == 302, response.get_data(as_text=True)[-600:]
    stored = db.session.scalars(sa.select(CaseAttachment)).one()
    assert (stored.media_type, stored.size) == (media_type, len(data))


@pytest.mark.parametrize(
    "data",
    [
        b"MZ\x90\x00" + b"\x00" * 200,  # a Windows program named .pdf
        b"<html><script>alert(1)</script></html>",
        PDF[: len(PDF) - 20],  # truncated: no end-of-file marker
        PNG[:-5],  # truncated PNG
        PNG[:20] + bytes([PNG[20] ^ 1]) + PNG[21:],  # a PNG whose header CRC is wrong
        JPEG[:-2],  # JPEG without its end marker
        b"\xff\xd8\xff\xd9",  # a JPEG marker pair with nothing between
        b"",
    ],
)
def test_anything_else_is_refused_and_nothing_is_stored(client, world, login_as, case_a, data):
    login_as(world.users["caseworker"])
    response = upload(client, case_a.code, data)
    assert response.status_code == 400
    assert 'class="error"' in response.get_data(as_text=True)
    assert db.session.scalar(sa.select(sa.func.count(CaseAttachment.id))) == 0
    assert "attachment.added" not in _actions()


def test_size_limit(client, world, login_as, case_a, app, monkeypatch):
    monkeypatch.setitem(app.config, "CASE_ATTACHMENT_MAX_BYTES", len(PDF) - 1)
    login_as(world.users["caseworker"])
    response = upload(client, case_a.code, PDF)
    assert response.status_code == 400 and "Tệp quá lớn" in response.get_data(as_text=True)
    assert db.session.scalar(sa.select(sa.func.count(CaseAttachment.id))) == 0


def _actions():
    return list(db.session.scalars(sa.select(AuditEvent.action).order_by(AuditEvent.seq)))


def test_sealed_with_the_case_key_and_bound_to_its_row(world, case_a):
    first = attach(world, case_a)
    second = attach(world, case_a, PNG)
    db.session.refresh(first)
    sealed = first.content_enc
    assert PDF not in sealed and b"%PDF" not in sealed
    key = case_a.data_key
    where = {"table": "case_attachments", "column": "content_enc"}
    assert unseal_bytes(key, sealed, row_id=first.id, **where) == PDF
    # The same ciphertext moved to another attachment row does not open.
    with pytest.raises(DecryptionError):
        unseal_bytes(key, sealed, row_id=second.id, **where)
    assert "attachment.added" in _actions()


def test_download_is_audited_and_gives_the_file(client, world, login_as, case_a):
    attachment = attach(world, case_a)
    login_as(world.users["caseworker"])
    page = client.get(f"/cases/{case_a.code}").get_data(as_text=True)
    url = f"/cases/{case_a.code}/attachments/{attachment.id}"
    assert f'href="{url}"' in page
    response = client.get(url)
    assert response.status_code == 200 and response.data == PDF
    assert response.mimetype == "application/pdf"
    disposition = response.headers["Content-Disposition"]
    assert disposition == f'attachment; filename="{case_a.code}-{attachment.id}.pdf"'
    assert response.headers["Cache-Control"].startswith("no-store")
    event = db.session.scalars(
        sa.select(AuditEvent).where(AuditEvent.action == "attachment.downloaded")
    ).one()
    assert event.object_ref == case_a.code and event.actor_username == "caseworker"


USERS = (
    "caseworker",
    "caseworker_b",
    "volunteer",
    "volunteer_b",
    "partner",
    "supervisor",
    "admin",
    "auditor",
)
# (username, case) -> status for the download, the upload page and the upload itself.
ALLOWED = {("caseworker", "A"), ("caseworker_b", "B")}
IN_SCOPE_NOT_ALLOWED = {("volunteer", "A"), ("volunteer_b", "B")}


@pytest.fixture
def two_attached(world):
    a = open_case(
        world.users["caseworker"], world.commune_a, assigned_to_id=world.users["volunteer"].id
    )
    b = open_case(
        world.users["caseworker_b"], world.commune_b, assigned_to_id=world.users["volunteer_b"].id
    )
    return {"A": (a, attach(world, a)), "B": (b, attach(world, b))}


@pytest.mark.parametrize("username", USERS)
def test_permission_matrix(client, world, login_as, two_attached, username):
    user = world.users.get(username)
    if user is None:
        pytest.skip(f"no {username} user in this world")
    login_as(user)
    for which, (case, attachment) in two_attached.items():
        key = (username, which)
        expected = 200 if key in ALLOWED else 403 if key in IN_SCOPE_NOT_ALLOWED else 404
        url = f"/cases/{case.code}/attachments/{attachment.id}"
        before = db.session.scalar(sa.select(sa.func.max(AuditEvent.seq)))
        response = client.get(url)
        assert response.status_code == expected, (username, which, response.status_code)
        if expected != 200:
            assert PDF not in response.data
            event = db.session.scalars(
                sa.select(AuditEvent).where(AuditEvent.seq > before).order_by(AuditEvent.seq)
            ).first()
            assert event.action == "access.denied" and event.object_ref == case.code
        new_page = client.get(f"/cases/{case.code}/attachments/new").status_code
        assert new_page == expected, (username, which, new_page)
        posted = upload(client, case.code, PNG).status_code
        assert posted == (302 if expected == 200 else expected), (username, which, posted)
        if key in IN_SCOPE_NOT_ALLOWED:
            # She may open the case but never sees that attachments exist.
            page = client.get(f"/cases/{case.code}").get_data(as_text=True)
            assert "/attachments/" not in page


def test_another_cases_attachment_by_url_is_404(client, world, login_as, two_attached):
    (case_a, _att_a), (_case_b, att_b) = two_attached["A"], two_attached["B"]
    login_as(world.users["caseworker"])
    response = client.get(f"/cases/{case_a.code}/attachments/{att_b.id}")
    assert response.status_code == 404 and PDF not in response.data
    assert client.get(f"/cases/{case_a.code}/attachments/999999").status_code == 404


def test_admin_downloads_only_under_break_glass(client, world, login_as, two_attached):
    from app.cases import services

    case, attachment = two_attached["B"]
    login_as(world.users["admin"])
    url = f"/cases/{case.code}/attachments/{attachment.id}"
    assert client.get(url).status_code == 404
    services.open_break_glass(
        Actor.from_user(world.users["admin"]), case, "Yêu cầu của cơ quan có thẩm quyền số 12"
    )
    db.session.commit()
    assert client.get(url).status_code == 200
    assert "attachment.downloaded" in _actions()


def test_erased_with_the_case(client, world, login_as, case_a):
    attachment = attach(world, case_a)
    db.session.refresh(attachment)
    sealed = attachment.content_enc
    key = case_a.data_key
    rights.erase_case(
        Actor.from_user(world.users["caseworker"]), case_a, case_a.code, "her_request"
    )
    db.session.commit()
    db.session.expire_all()
    assert db.session.get(CaseAttachment, attachment.id).content_enc is None
    with pytest.raises(KeyDestroyedError):
        unseal_bytes(
            key, sealed, table="case_attachments", column="content_enc", row_id=attachment.id
        )
    login_as(world.users["caseworker"])
    response = client.get(f"/cases/{case_a.code}/attachments/{attachment.id}")
    assert response.status_code in (403, 404) and PDF not in response.data
