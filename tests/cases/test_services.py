"""Case services without HTTP: consent, codes, encryption, search, duplicates, rights."""

from __future__ import annotations

import threading

import pytest
import sqlalchemy as sa

from app.audit.models import AuditEvent
from app.cases import consents as cons
from app.cases import queries, rights, services
from app.cases.fields import read_field, read_note
from app.cases.models import Case, CaseNote, CaseSearchToken, Consent, Need
from app.cases.signals import sharing_stopped
from app.crypto.envelope import DecryptionError, KeyDestroyedError, unseal
from app.crypto.models import DataKey
from app.extensions import db
from app.permissions import Actor, PermissionDenied
from tests.cases.conftest import count_rows, open_case
from tests.conftest import audit_actions


def actor(world, name="caseworker"):
    return Actor.from_user(world.users[name])


def test_no_case_without_consent_to_record(world):
    before = (count_rows(Case), count_rows(DataKey), count_rows(AuditEvent))
    with pytest.raises(services.CaseError):
        open_case(
            world.users["caseworker"],
            world.commune_a,
            consent=services.ConsentGiven(purposes=["share:jobs"], method="verbal"),
        )
    db.session.rollback()
    assert (count_rows(Case), count_rows(DataKey), count_rows(AuditEvent)) == before


def test_minor_needs_guardian_consent(world):
    with pytest.raises(services.CaseError) as exc:
        open_case(world.users["caseworker"], world.commune_a, date_of_birth="2012")
    assert exc.value.field_name == "given_by"
    db.session.rollback()
    case = open_case(
        world.users["caseworker"],
        world.commune_a,
        date_of_birth="2012",
        consent=services.ConsentGiven(
            purposes=[cons.RECORD], method="written", given_by="guardian", guardian_relation="Mẹ"
        ),
    )
    assert case.is_minor and case.birth_year_band == "<18"
    assert case.consents[0].given_by == "guardian" and case.consents[0].guardian_relation == "Mẹ"


def test_codes_are_per_province_and_year(world):
    a = open_case(world.users["caseworker"], world.commune_a)
    b = open_case(world.users["caseworker_b"], world.commune_b)
    year = a.opened_on.year
    assert a.code == f"NB-{year}-00001" and b.code == f"NB-{year}-00002"


def test_prefix_defaults_to_the_province_initials(app, world):
    from tests.factories import OrgUnitFactory

    other = OrgUnitFactory(code="99", name="Tỉnh Đắk Lắk", level="province")
    assert services.province_prefix(other) == "DL"
    assert services.province_prefix(world.commune_a) == "NB"


def test_identifying_fields_are_sealed_to_their_row(world, case_a):
    raw = db.session.execute(
        sa.text("SELECT full_name_enc, phone_enc FROM cases WHERE id = :i"), {"i": case_a.id}
    ).one()
    assert "Lê Thị Mẫu".encode() not in bytes(raw[0])
    assert read_field(case_a, "full_name").startswith("Lê Thị Mẫu")
    # A ciphertext copied to another column or row does not open.
    with pytest.raises(DecryptionError):
        unseal(
            case_a.data_key,
            case_a.full_name_enc,
            table="cases",
            column="phone_enc",
            row_id=case_a.id,
        )
    with pytest.raises(DecryptionError):
        unseal(
            case_a.data_key,
            case_a.full_name_enc,
            table="cases",
            column="full_name_enc",
            row_id=case_a.id + 1,
        )


def test_search_with_and_without_diacritics(world):
    case = open_case(
        world.users["caseworker"],
        world.commune_a,
        full_name="Nguyễn Thị Hoa",
        phone="0912 345 678",
        id_number="037-1234-5678",
    )
    cw = actor(world)
    for term in (
        "Nguyễn Thị Hoa",
        "nguyen thi hoa",
        "  NGUYEN   thi HOA ",
        "+84912345678",
        "0371 2345 678",
    ):
        assert [c.code for c in queries.search_cases(cw, term)] == [case.code], term
    assert queries.search_cases(cw, "Nguyễn Thị Hòa") == []  # a different name, exact match
    # Whole words only: every word typed must be a whole word of the name.
    assert queries.search_cases(cw, "Nguyen Th") == []
    assert queries.search_cases(cw, "Hoa Lan") == []
    # Out of scope: nothing.
    assert queries.search_cases(actor(world, "caseworker_b"), "nguyen thi hoa") == []


def test_search_never_decrypts(world, monkeypatch):
    open_case(world.users["caseworker"], world.commune_a, full_name="Phạm Thị Lan")
    import app.cases.fields as fields

    def refuse(*a, **k):
        raise AssertionError("search decrypted a row")

    monkeypatch.setattr(fields, "unseal", refuse)
    assert len(queries.search_cases(actor(world), "pham thi lan")) == 1


def test_duplicates_in_scope_and_elsewhere(world):
    a = open_case(
        world.users["caseworker"],
        world.commune_a,
        full_name="Đỗ Thị Yến",
        date_of_birth="12/05/1992",
        phone="0987000111",
        id_number="037199200011",
    )
    cw, cw_b = actor(world), actor(world, "caseworker_b")
    found = services.find_duplicates(cw, "Do Thi Yen", "1992", None, None)
    assert found.in_scope == [a.code] and not found.elsewhere
    assert services.find_duplicates(cw, "Do Thi Yen", "1993", None, None).found is False
    other = services.find_duplicates(cw_b, None, None, "0987 000 111", None)
    assert other.in_scope == [] and other.elsewhere
    assert services.find_duplicates(cw_b, None, None, None, "037199200011").elsewhere


def test_volunteer_opens_only_in_her_commune(world):
    vol = world.users["volunteer"]
    case = open_case(vol, world.commune_a)
    assert case.opened_by_id == vol.id
    with pytest.raises(services.CaseError):
        open_case(vol, world.commune_b)


def test_volunteer_cannot_manage(world, case_a):
    with pytest.raises(PermissionDenied):
        services.set_status(actor(world, "volunteer"), case_a, "active")


def test_notes_are_encrypted_and_append_only(world, case_a):
    note = services.add_note(actor(world), case_a, "Đã gọi điện, hẹn gặp thứ Hai")
    db.session.commit()
    assert "hẹn gặp".encode() not in bytes(note.body_enc)
    assert read_note(case_a, note) == "Đã gọi điện, hẹn gặp thứ Hai"
    assert not hasattr(services, "edit_note") and not hasattr(services, "delete_note")
    assert "note.added" in audit_actions()


def test_withdrawing_sharing_sends_the_signal(world, case_a):
    received = []

    def receiver(sender, **kw):
        received.append((sender.code, kw["categories"], kw["reason"]))

    consent = next(c for c in case_a.consents if c.purpose == "share:health")
    assert cons.can_share(case_a, "health")
    with sharing_stopped.connected_to(receiver):
        services.withdraw_consent(actor(world), case_a, consent, reason="her_request")
    assert received == [(case_a.code, ["health"], "consent_withdrawn")]
    assert not cons.can_share(case_a, "health")
    assert cons.can_share(case_a, "vocational_training")
    event = db.session.execute(
        sa.select(AuditEvent).where(AuditEvent.action == "consent.withdrawn")
    ).scalar_one()
    assert event.object_ref == case_a.code and "share:health" in event.details


def test_restriction_blocks_all_sharing(world, case_a):
    received = []
    with sharing_stopped.connected_to(lambda s, **kw: received.append(kw)):
        rights.restrict_processing(actor(world), case_a)
    assert received[0]["categories"] is None and received[0]["reason"] == "restricted"
    assert not cons.can_share(case_a, "vocational_training")
    rights.lift_restriction(actor(world), case_a)
    assert cons.can_share(case_a, "vocational_training")


def test_erasure_destroys_the_key_and_keeps_the_figures(world, case_a):
    sealed = bytes(case_a.full_name_enc)
    services.add_note(actor(world), case_a, "Ghi chú sẽ bị xoá")
    with pytest.raises(services.CaseError):
        rights.erase_case(actor(world), case_a, "NB-WRONG", "her_request")
    received = []
    with sharing_stopped.connected_to(lambda s, **kw: received.append(kw["reason"])):
        rights.erase_case(actor(world), case_a, case_a.code.lower(), "her_request")
    db.session.commit()
    assert received == ["erased"]
    key = db.session.get(DataKey, case_a.data_key_id)
    assert key.wrapped_key is None and key.destroyed_at is not None
    # No key can read the fields any more: the captured ciphertext stays sealed.
    with pytest.raises(KeyDestroyedError):
        unseal(key, sealed, table="cases", column="full_name_enc", row_id=case_a.id)
    note = db.session.execute(sa.select(CaseNote).where(CaseNote.case_id == case_a.id)).scalar()
    with pytest.raises(KeyDestroyedError):
        unseal(key, note.body_enc, table="case_notes", column="body_enc", row_id=note.id)
    assert not db.session.scalar(
        sa.select(sa.func.count(CaseSearchToken.id)).where(CaseSearchToken.case_id == case_a.id)
    )
    assert all(getattr(case_a, f"{f}_enc") is None for f in ("full_name", "phone", "address"))
    # Non-identifying figures stay.
    assert count_rows(Need) >= 2 and case_a.status == "open" and case_a.opened_on is not None
    assert case_a.birth_year_band is not None
    assert queries.search_cases(actor(world), "le thi mau") == []
    assert "case.erased" in audit_actions()


def test_correction_audits_field_names_not_values(world, case_a):
    changed = services.correct_case(
        actor(world), case_a, {"full_name": "Lê Thị Mới", "phone": "0900111222"}, case_a.reached_via
    )
    assert sorted(changed) == ["full_name", "phone"]
    event = db.session.execute(
        sa.select(AuditEvent).where(AuditEvent.action == "case.updated")
    ).scalar_one()
    assert "full_name" in event.details and "Mới" not in event.details
    assert queries.search_cases(actor(world), "le thi moi")[0].id == case_a.id


def test_status_close_needs_a_reason_and_reopens(world, case_a):
    cw = actor(world)
    with pytest.raises(services.CaseError):
        services.set_status(cw, case_a, "closed")
    services.set_status(cw, case_a, "closed", "goals_met")
    assert case_a.closed_reason == "goals_met"
    services.set_status(cw, case_a, "open")
    assert case_a.closed_reason is None and case_a.status == "open"


def test_transfer_is_accepted_by_the_target_unit(world, case_a):
    cw, cw_b = actor(world), actor(world, "caseworker_b")
    services.request_transfer(cw, case_a, world.commune_b.id)
    db.session.commit()
    assert [c.code for c in queries.incoming_transfers(cw_b)] == [case_a.code]
    with pytest.raises(PermissionDenied):
        services.accept_transfer(cw, case_a)  # not a caseworker of the target
    services.accept_transfer(cw_b, case_a)
    assert case_a.org_unit_id == world.commune_b.id
    assert case_a.assigned_to_id == world.users["caseworker_b"].id
    assert db.session.execute(queries.visible_cases(cw).where(Case.id == case_a.id)).first() is None


def test_needs_lifecycle(world, case_a):
    cw = actor(world)
    with pytest.raises(services.CaseError):
        services.add_need(cw, case_a, "health", "high")  # already open
    need = services.add_need(cw, case_a, "legal_aid", "low")
    services.set_need_status(cw, case_a, need, "met")
    assert need.closed_on is not None
    services.set_need_status(cw, case_a, need, "open")
    assert need.closed_on is None


def test_consent_recorded_later_and_listed(world, case_a):
    services.record_consent(
        actor(world), case_a, services.ConsentGiven(purposes=["share_hiv"], method="written")
    )
    assert cons.consent_in_force(case_a, "share_hiv")
    assert (
        db.session.execute(
            sa.select(sa.func.count()).select_from(Consent).where(Consent.case_id == case_a.id)
        ).scalar_one()
        == 4
    )


def test_code_allocation_is_safe_under_concurrency(tmp_path, monkeypatch):
    """Real commits from several threads on a file database: every code distinct."""
    from app import create_app

    # Flask-SQLAlchemy's own session (one per thread, bound to the current app's engine), not
    # the shared test connection the autouse fixture installs.
    monkeypatch.setattr(db, "session", db._make_scoped_session({}))
    from tests.conftest import make_config, reset_schema
    from tests.factories import OrgUnitFactory, UserFactory

    app = create_app(make_config(tmp_path, f"sqlite:///{tmp_path}/codes.sqlite3"))
    reset_schema(app)
    with app.app_context():
        province = OrgUnitFactory(code="37", name="Tỉnh Ninh Bình", level="province")
        commune = OrgUnitFactory(code="37-X", name="Xã", level="commune", parent=province)
        user = UserFactory(username="cw", role="caseworker", org_unit=province)
        db.session.commit()
        unit_id, user_id = commune.id, user.id
    codes, errors = [], []

    def worker():
        try:
            for _ in range(5):
                with app.app_context():
                    from app.orgs.models import User

                    who = Actor.from_user(db.session.get(User, user_id))
                    case = services.open_case(
                        who,
                        services.Intake(
                            org_unit_id=unit_id,
                            full_name="Người Thử",
                            consent=services.ConsentGiven(purposes=[cons.RECORD], method="verbal"),
                        ),
                    )
                    db.session.commit()
                    codes.append(case.code)
        except Exception as exc:  # noqa: BLE001
            errors.append(repr(exc))

    threads = [threading.Thread(target=worker) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    assert len(codes) == 20 and len(set(codes)) == 20
    with app.app_context():
        db.engine.dispose()
