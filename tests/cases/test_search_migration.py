"""The migration to row-bound search tokens recomputes them from the decrypted fields of the cases
already in a database (as on a demo or production database), and its downgrade restores the old
whole-value indexes."""

from __future__ import annotations

import hashlib
import hmac
from datetime import UTC, date, datetime

import pytest
import sqlalchemy as sa
from flask_migrate import downgrade, upgrade

from app import create_app
from app.cases.search import find_case_ids, probe_groups
from app.crypto.envelope import create_data_key, destroy_data_key, seal
from app.crypto.keyring import keyring
from app.extensions import db
from app.orgs.models import OrgUnit
from tests.conftest import make_config
from tests.test_migrations import empty_database  # noqa: F401 (fixture)

REVISION = "5b1c0de4a9f2"


def _before(app) -> str:
    from alembic.script import ScriptDirectory

    config = app.extensions["migrate"].migrate.get_config()
    return ScriptDirectory.from_config(config).get_revision(REVISION).down_revision


def _old_case(case_id: int, unit_id: int, name: str, phone: str, erased: bool = False) -> None:
    """A case as the application wrote it before the migration (whole-value indexes)."""
    key = create_data_key()
    now = datetime.now(UTC)
    values = {
        "id": case_id,
        "code": f"NB-2026-{case_id:05d}",
        "org_unit_id": unit_id,
        "status": "open",
        "opened_at": now,
        "opened_on": date.today(),
        "updated_at": now,
        "reached_via": "other",
        "is_minor": False,
        "is_restricted": False,
        "data_key_id": key.id,
        "full_name_enc": seal(key, name, table="cases", column="full_name_enc", row_id=case_id),
        "phone_enc": seal(key, phone, table="cases", column="phone_enc", row_id=case_id),
        "name_index": "0" * 64,
        "name_folded_index": "1" * 64,
        "phone_index": "2" * 64,
    }
    cases = sa.table("cases", *(sa.column(c) for c in [*values, "erased_at"]))
    db.session.execute(cases.insert().values(values))
    # Rows that refer to the case: the migration must neither delete nor trip over them.
    db.session.execute(
        sa.text(
            "INSERT INTO needs (case_id, category, priority, status, identified_on) "
            "VALUES (:c, 'health', 'normal', 'open', :d)"
        ),
        {"c": case_id, "d": date.today()},
    )
    if erased:
        destroy_data_key(key)
        db.session.execute(
            cases.update()
            .where(cases.c.id == case_id)
            .values(full_name_enc=None, phone_enc=None, erased_at=now)
        )


@pytest.mark.real_db
def test_upgrade_recomputes_tokens_from_decrypted_fields(tmp_path, empty_database):  # noqa: F811
    migrated = create_app(make_config(tmp_path, empty_database))
    with migrated.app_context():
        before = _before(migrated)
        upgrade(revision=before)
        unit = OrgUnit(code="37", name="Tỉnh Ninh Bình", level="province", path="/1/")
        db.session.add(unit)
        db.session.flush()
        _old_case(1, unit.id, "Nguyễn Thị Hòa", "0912 345 678")
        _old_case(2, unit.id, "Trần Thị Lan", "0987654321")
        _old_case(3, unit.id, "Lê Thị Hòa", "0911000111", erased=True)
        db.session.commit()

        upgrade(revision=REVISION)
        columns = {c["name"] for c in sa.inspect(db.engine).get_columns("cases")}
        assert not columns & {"name_index", "name_folded_index", "phone_index", "id_number_index"}
        tokens = db.session.execute(
            sa.text("SELECT case_id, field FROM case_search_tokens ORDER BY case_id, id")
        ).all()
        assert [t for t in tokens if t.case_id == 1] == [
            (1, "full_name"),
            (1, "full_name"),
            (1, "full_name"),
            (1, "phone"),
        ]
        assert not [t for t in tokens if t.case_id == 3]  # erased: nothing to find her by
        assert find_case_ids(probe_groups("hoa")) == [1]
        assert find_case_ids(probe_groups("Nguyễn Hòa")) == [1]
        assert find_case_ids(probe_groups("+84 912 345 678")) == [1]
        assert find_case_ids(probe_groups("lan")) == [2]
        assert db.session.execute(sa.text("SELECT count(*) FROM needs")).scalar() == 3
        db.session.remove()  # SQLite: every transaction holds the write lock

        downgrade(revision=before)
        key = keyring().index_key
        folded = hmac.new(key, b"name_folded:tran thi lan", hashlib.sha256).hexdigest()
        assert (
            db.session.execute(sa.text("SELECT name_folded_index FROM cases WHERE id = 2")).scalar()
            == folded
        )
        db.session.remove()
        db.engine.dispose()
