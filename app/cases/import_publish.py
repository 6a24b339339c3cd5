"""Publishing and withdrawing a batch of imported cases (app.imports runs the batches).

A batch writes exactly what `services.open_case` writes for each row — the case with its own
wrapped data key, its sealed fields, its search tokens, its needs and consents, the reports'
figures, and one `case.created` event — but with one INSERT per table for the whole batch
instead of a dozen flushes per case.

The work is split so that SQLite's write lock is held only for the writing: `prepare_cases`
checks and seals the batch in a read snapshot, `write_cases` allocates the codes and inserts.
Ids are reserved before sealing, because each field's associated data binds its row id: from
the PostgreSQL sequences, or on SQLite after the largest id as the snapshot saw it — checked
again under the lock, and the batch sealed again in the rare case another intake took them.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import date

import sqlalchemy as sa

from app.audit import services as audit
from app.cases import consents as cons
from app.cases.models import ENCRYPTED_FIELDS, Case, CaseSearchToken, CaseStatus, Consent, Need
from app.cases.search import token_rows
from app.cases.services import (
    Intake,
    allocate_codes,
    birth_year_band,
    check_intake,
    intake_units,
)
from app.crypto.blind_index import INDEXED_FIELDS
from app.crypto.envelope import seal, wrap_key
from app.crypto.keyring import KEY_BYTES, keyring
from app.crypto.models import DataKey
from app.db import utcnow
from app.extensions import db
from app.orgs.models import OrgUnit
from app.orgs.queries import province_id_on_path
from app.permissions import Actor, Role
from app.reports.figures import refresh_cases
from app.reports.models import RecordKey


def reserve_ids(model, count: int) -> list[int]:
    """`count` ids of `model`'s table that no other writer will take."""
    table = model.__table__
    if db.session.get_bind().dialect.name == "postgresql":
        return list(
            db.session.execute(
                sa.text(
                    "SELECT nextval(pg_get_serial_sequence(:t, 'id')) FROM generate_series(1, :n)"
                ),
                {"t": table.name, "n": count},
            ).scalars()
        )
    start = (db.session.execute(sa.select(sa.func.max(table.c.id))).scalar() or 0) + 1
    return list(range(start, start + count))


@dataclass
class PreparedCases:
    """A batch sealed for the ids it reserved, waiting only for its codes and its INSERTs."""

    unit: OrgUnit
    intakes: list[Intake]
    key_ids: list[int]
    case_ids: list[int]
    rows: dict[type, list[dict]]


@dataclass
class _NewCase:
    """What an audit event reads of a case (its unit loaded: no query per event)."""

    __audit_type__ = "case"
    audit_ref: str
    org_unit_id: int
    org_unit: OrgUnit


def prepare_cases(actor: Actor, unit: OrgUnit, intakes: list[Intake]) -> PreparedCases:
    """Check each intake again (the rules hold when it is written) and seal everything, without
    writing: on SQLite this runs in a read snapshot, outside the write lock."""
    units = None if actor.is_system else intake_units(actor)
    checked = [check_intake(actor, intake, units) for intake in intakes]
    count, today, now = len(intakes), date.today(), utcnow()
    key_ids, case_ids = reserve_ids(DataKey, count), reserve_ids(Case, count)
    ring = keyring()
    province_id = province_id_on_path(db.session.connection(), unit.path)
    version = ring.current_master_version
    master = ring.master_key(version)
    assignee = actor.user_id if actor.has_role(Role.CASEWORKER) else None
    rows: dict[type, list[dict]] = {
        DataKey: [],
        Case: [],
        Need: [],
        Consent: [],
        CaseSearchToken: [],
    }
    for intake, (dob_text, age, is_minor, needs), key_id, case_id in zip(
        intakes, checked, key_ids, case_ids, strict=True
    ):
        key = DataKey(
            id=key_id,
            master_version=version,
            created_at=now,
            wrapped_key=wrap_key(secrets.token_bytes(KEY_BYTES), key_id, version, master),
        )
        rows[DataKey].append(
            {
                "id": key_id,
                "wrapped_key": key.wrapped_key,
                "master_version": version,
                "created_at": now,
            }
        )
        case = {
            "id": case_id,
            "org_unit_id": unit.id,
            "status": CaseStatus.OPEN,
            "opened_at": now,
            "opened_on": today,
            "opened_by_id": actor.user_id,
            "assigned_to_id": assignee,
            "birth_year_band": birth_year_band(age),
            "reached_via": intake.reached_via,
            "is_minor": is_minor,
            "is_restricted": False,
            "updated_at": now,
            "data_key_id": key_id,
        }
        values = {f: getattr(intake, f) for f in ENCRYPTED_FIELDS} | {"date_of_birth": dob_text}
        for field, value in values.items():
            value = (value or "").strip() or None
            column = f"{field}_enc"
            case[column] = seal(key, value, table="cases", column=column, row_id=case_id)
            if field in INDEXED_FIELDS:
                rows[CaseSearchToken] += token_rows(
                    ring.index_key, case_id, field, value, province_id=province_id
                )
        rows[Case].append(case)
        rows[Need] += [
            {
                "case_id": case_id,
                "category": category,
                "priority": priority,
                "status": "open",
                "identified_on": today,
            }
            for category, priority in needs
        ]
        rows[Consent] += [_consent_row(actor, case_id, intake, p, now) for p in _purposes(intake)]
    return PreparedCases(unit, intakes, key_ids, case_ids, rows)


def _still_free(prepared: PreparedCases) -> bool:
    """On SQLite the ids were read in a snapshot: still free unless someone wrote since."""
    if db.session.get_bind().dialect.name == "postgresql":
        return True  # they came from the sequences
    for model, ids in ((Case, prepared.case_ids), (DataKey, prepared.key_ids)):
        largest = db.session.execute(sa.select(sa.func.max(model.__table__.c.id))).scalar()
        if (largest or 0) >= ids[0]:
            return False
    return True


def write_cases(actor: Actor, prepared: PreparedCases) -> list[int]:
    """Write a prepared batch under the write lock: codes, one INSERT per table, the reports'
    figures of these cases, and one `case.created` event each."""
    if not _still_free(prepared):
        prepared = prepare_cases(actor, prepared.unit, prepared.intakes)
    codes = allocate_codes(prepared.unit, date.today().year, len(prepared.case_ids))
    for case, code in zip(prepared.rows[Case], codes, strict=True):
        case["code"] = code
    # Plain table INSERTs, then one refresh of the figures for the whole batch: the ORM's
    # insert hooks would refresh them once per table.
    for model, model_rows in prepared.rows.items():
        if model_rows:
            db.session.execute(model.__table__.insert(), model_rows)
    refresh_cases(db.session.connection(), prepared.case_ids)
    for intake, code in zip(prepared.intakes, codes, strict=True):
        audit.record(
            actor,
            "case.created",
            _NewCase(code, prepared.unit.id, prepared.unit),
            details={
                "purposes": _purposes(intake),
                "categories": [c for c, _p in intake.needs],
                "method": intake.consent.method,
                "via": "import",
            },
        )
    return prepared.case_ids


def _purposes(intake: Intake) -> list[str]:
    return sorted(set(intake.consent.purposes))


def _consent_row(actor: Actor, case_id: int, intake: Intake, purpose: str, now) -> dict:
    consent = intake.consent
    guardian = (consent.guardian_relation or "").strip() or None
    return {
        "case_id": case_id,
        "purpose": purpose,
        "method": consent.method,
        "text_version": consent.text_version or cons.CONSENT_TEXT_VERSION,
        "given_by": consent.given_by,
        "guardian_relation": guardian if consent.given_by == "guardian" else None,
        "recorded_by_id": actor.user_id,
        "recorded_at": now,
    }


def withdraw_cases(case_ids: list[int]) -> None:
    """Remove cases an import published before it stopped, and every row written with them.

    Their needs and consents go through the session first, so the reports' figures of these
    cases are emptied and their counts taken back (app.reports.tracking); the case rows then go
    by table, since there is nothing left for the figures to count. Their data keys go too."""
    for model in (Need, Consent):
        for obj in db.session.execute(
            sa.select(model).where(model.case_id.in_(case_ids))
        ).scalars():
            db.session.delete(obj)
    db.session.flush()
    key_ids = list(
        db.session.execute(sa.select(Case.data_key_id).where(Case.id.in_(case_ids))).scalars()
    )
    cases = Case.__table__
    for table, column in (
        (CaseSearchToken.__table__, "case_id"),
        (RecordKey.__table__, "case_id"),
        (cases, "id"),
    ):
        db.session.execute(table.delete().where(table.c[column].in_(case_ids)))
    keys = DataKey.__table__
    db.session.execute(keys.delete().where(keys.c.id.in_([k for k in key_ids if k is not None])))
