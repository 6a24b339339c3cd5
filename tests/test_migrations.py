"""The schema comes only from migrations: one head, and upgrading gives exactly the models."""

from __future__ import annotations

import os
import uuid

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from flask_migrate import upgrade

from app import create_app
from app.extensions import db
from tests.conftest import make_config


def _script(app) -> ScriptDirectory:
    return ScriptDirectory.from_config(app.extensions["migrate"].migrate.get_config())


@pytest.fixture
def empty_database(tmp_path):
    """A fresh, empty database on the backend under test."""
    url = os.environ.get("TEST_DATABASE_URL", "")
    if not url.startswith("postgresql"):
        yield f"sqlite:///{tmp_path}/migrations.sqlite3"
        return
    name = f"caunoi_mig_{uuid.uuid4().hex[:8]}"
    admin = sa.create_engine(url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.exec_driver_sql(f"CREATE DATABASE {name}")
    try:
        yield sa.engine.make_url(url).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.exec_driver_sql(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
        admin.dispose()


def test_single_head(app):
    with app.app_context():
        heads = _script(app).get_heads()
    assert len(heads) == 1, heads


def test_migration_file_names_are_dated(app):
    with app.app_context():
        for revision in _script(app).walk_revisions():
            name = os.path.basename(revision.path)
            assert name[:4].isdigit() and name[4] == "_", name


def test_upgrade_gives_exactly_the_models(tmp_path, empty_database):
    migrated = create_app(make_config(tmp_path, empty_database))
    with migrated.app_context():
        upgrade()
        with db.engine.connect() as conn:
            context = MigrationContext.configure(
                conn, opts={"compare_type": True, "render_as_batch": True}
            )
            diff = compare_metadata(context, db.metadata)
        db.engine.dispose()
    assert diff == [], diff


def _row(table: sa.Table, **given) -> dict:
    """`given`, and a plain value for every other NOT NULL column of the reflected table."""
    import datetime as dt

    values = dict(given)
    for column in table.columns:
        if column.name in values or column.nullable or column.primary_key:
            continue
        kind = column.type.__class__.__name__.lower()
        if "int" in kind:
            values[column.name] = 0
        elif "bool" in kind:
            values[column.name] = False
        elif "datetime" in kind or "timestamp" in kind:
            values[column.name] = dt.datetime.now(dt.UTC)
        elif "date" in kind:
            values[column.name] = dt.date(2026, 1, 5)
        elif "json" in kind:
            values[column.name] = []
        elif "binary" in kind or "blob" in kind or "bytea" in kind:
            values[column.name] = b""
        else:
            values[column.name] = "x"
    return values


def test_partner_references_migration_fills_existing_referrals(tmp_path, empty_database):
    """Existing referrals get distinct random references; a shared case code becomes the
    organization's own client reference (shown only with her consent)."""
    import re

    migrated = create_app(make_config(tmp_path, empty_database))
    with migrated.app_context():
        upgrade(revision="e97a2778673e")
        with db.engine.begin() as conn:
            meta = sa.MetaData()
            tables = {
                name: sa.Table(name, meta, autoload_with=conn)
                for name in (
                    "org_units",
                    "cases",
                    "needs",
                    "partner_organizations",
                    "partner_services",
                    "referrals",
                )
            }
            unit = conn.execute(
                tables["org_units"]
                .insert()
                .values(
                    _row(
                        tables["org_units"],
                        code="37",
                        name="Ninh Bình",
                        level="province",
                        path="/37/",
                    )
                )
            ).inserted_primary_key[0]
            case = conn.execute(
                tables["cases"]
                .insert()
                .values(_row(tables["cases"], code="NB-2026-00001", org_unit_id=unit))
            ).inserted_primary_key[0]
            need = conn.execute(
                tables["needs"]
                .insert()
                .values(_row(tables["needs"], case_id=case, category="health"))
            ).inserted_primary_key[0]

            # Reflected, a UUID column is CHAR(32) on SQLite: hex there, UUID on PostgreSQL.
            def as_uuid(value):
                return value.hex if conn.dialect.name == "sqlite" else value

            org = as_uuid(uuid.uuid4())
            conn.execute(
                tables["partner_organizations"]
                .insert()
                .values(_row(tables["partner_organizations"], id=org, name="Trung tâm Y tế"))
            )
            service = as_uuid(uuid.uuid4())
            conn.execute(
                tables["partner_services"]
                .insert()
                .values(
                    _row(
                        tables["partner_services"],
                        id=service,
                        organization_id=org,
                        name="Khám",
                        category="health",
                    )
                )
            )
            for fields in (["code", "need"], ["need"], ["code"]):
                conn.execute(
                    tables["referrals"]
                    .insert()
                    .values(
                        _row(
                            tables["referrals"],
                            case_id=case,
                            need_id=need,
                            service_id=service,
                            organization_id=org,
                            category="health",
                            shared_fields=fields,
                        )
                    )
                )
        upgrade()
        with db.engine.connect() as conn:
            rows = conn.execute(
                sa.text("SELECT partner_reference, shared_fields FROM referrals ORDER BY id")
            ).all()
            clients = conn.execute(
                sa.text("SELECT case_id, reference FROM partner_client_references")
            ).all()
        db.engine.dispose()
    refs = [r[0] for r in rows]
    assert len(set(refs)) == 3 and all(re.fullmatch(r"CG-[0-9A-Z]{4}-[0-9A-Z]{4}", r) for r in refs)
    fields = [r[1] if isinstance(r[1], list) else __import__("json").loads(r[1]) for r in rows]
    assert fields == [["client_ref", "need"], ["need"], ["client_ref"]]
    assert len(clients) == 1 and clients[0][1].startswith("KH-")


def test_search_tokens_take_their_cases_province(tmp_path, empty_database):
    """Existing tokens are stamped with the province of their case's unit (under the central
    unit too); the central unit's own tokens, if any, stay without one."""
    migrated = create_app(make_config(tmp_path, empty_database))
    with migrated.app_context():
        upgrade(revision="d4e8f2a3b5c6")
        with db.engine.begin() as conn:
            meta = sa.MetaData()
            tables = {
                name: sa.Table(name, meta, autoload_with=conn)
                for name in ("org_units", "cases", "case_search_tokens")
            }

            def unit(code, level, parent_path):
                table = tables["org_units"]
                uid = conn.execute(
                    table.insert().values(
                        _row(table, code=code, name=code, level=level, path="/tmp/")
                    )
                ).inserted_primary_key[0]
                path = f"{parent_path}{uid}/"
                conn.execute(table.update().where(table.c.id == uid).values(path=path))
                return uid, path

            central, central_path = unit("TW", "central", "/")
            province, province_path = unit("37", "province", central_path)
            district, district_path = unit("37-A", "district", province_path)
            commune, _ = unit("37-A1", "commune", district_path)
            token_ids = {}
            for code, unit_id in (("NB-2026-00001", commune), ("TW-2026-00001", central)):
                case = conn.execute(
                    tables["cases"]
                    .insert()
                    .values(_row(tables["cases"], code=code, org_unit_id=unit_id))
                ).inserted_primary_key[0]
                token_ids[unit_id] = conn.execute(
                    tables["case_search_tokens"]
                    .insert()
                    .values(
                        _row(tables["case_search_tokens"], case_id=case, field="full_name")
                    )
                ).inserted_primary_key[0]
        upgrade()
        with db.engine.connect() as conn:
            rows = conn.execute(sa.text("SELECT id, province_id FROM case_search_tokens")).all()
        stamped = {row[0]: row[1] for row in rows}
        db.engine.dispose()
        assert stamped == {token_ids[commune]: province, token_ids[central]: None}
