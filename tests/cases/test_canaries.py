"""Canaries: a case with a unique name, phone and ID number is created through the web form on
a database with real commits; none of them may appear in the database files, a PostgreSQL dump,
the application log, or any page or export a supervisor can reach."""

from __future__ import annotations

import logging
import os
import secrets
import shutil
import subprocess
from pathlib import Path

import pytest
import sqlalchemy as sa

from app import create_app
from app.extensions import db
from tests.conftest import make_config, other_backend, reset_schema, sign_in


def _canaries() -> dict[str, str]:
    tag = secrets.token_hex(3).upper()
    digits = str(int(tag, 16)).rjust(8, "7")[:8]
    return {
        "name": f"Quách Thị Canary{tag}",
        "folded": f"Quach Thi Canary{tag}",
        "phone": f"09{digits}",
        "id_number": f"0379{digits}",
        "note": f"Ghi chú bí mật {tag}",
        "address": f"Ngõ {tag} canary",
    }


def _needles(canaries: dict[str, str]) -> dict[str, list[bytes]]:
    found = {}
    for key, value in canaries.items():
        raw = value.encode()
        found[key] = [raw, raw.hex().encode(), value.lower().encode()]
    return found


def _assert_absent(blob: bytes, canaries: dict[str, str], where: str) -> None:
    for key, needles in _needles(canaries).items():
        for needle in needles:
            assert needle not in blob, f"canary {key} found in {where}"


@pytest.fixture
def isolated(monkeypatch):
    """Use Flask-SQLAlchemy's own sessions (real commits) instead of the test connection."""
    monkeypatch.setattr(db, "session", db._make_scoped_session({}))


def _build(tmp_path: Path, url: str):
    app = create_app(make_config(tmp_path, url))
    reset_schema(app)
    with app.app_context():
        from app.orgs.models import OrgLevel
        from app.permissions import Role
        from tests.factories import OrgUnitFactory, UserFactory

        province = OrgUnitFactory(code="37", name="Tỉnh Ninh Bình", level=OrgLevel.PROVINCE)
        district = OrgUnitFactory(
            code="37-A", name="Huyện A", level=OrgLevel.DISTRICT, parent=province
        )
        commune = OrgUnitFactory(code="37-A1", name="Xã A", level=OrgLevel.COMMUNE, parent=district)
        UserFactory(username="caseworker", role=Role.CASEWORKER, org_unit=district)
        UserFactory(username="supervisor", role=Role.SUPERVISOR, org_unit=province)
        UserFactory(username="admin", role=Role.ADMIN, org_unit=province)
        db.session.commit()
        commune_id = commune.id
    return app, commune_id


def _create_through_the_form(app, commune_id: int, canaries: dict[str, str]) -> str:
    from tests.cases.conftest import intake_form

    with app.app_context():
        client = app.test_client()
        assert sign_in(client, "caseworker").status_code == 302
        response = client.post(
            "/cases/new",
            data=intake_form(
                commune_id,
                full_name=canaries["name"],
                phone=canaries["phone"],
                id_number=canaries["id_number"],
                address=canaries["address"],
            ),
        )
        assert response.status_code == 302, response.status_code
        code = response.headers["Location"].rsplit("/", 1)[-1]
        assert (
            client.post(f"/cases/{code}/notes", data={"body": canaries["note"]}).status_code == 302
        )
        # The caseworker can read it back, and find it without diacritics.
        page = client.get(f"/cases/{code}").get_data(as_text=True)
        assert canaries["name"] in page and canaries["note"] in page
        found = client.post("/cases/search", data={"q": canaries["folded"]})
        assert code in found.get_data(as_text=True)
        for term in (canaries["name"], canaries["phone"], canaries["id_number"]):
            assert code in client.post("/cases/search", data={"q": term}).get_data(as_text=True)
    return code


def _supervisor_sweep(app, code: str, canaries: dict[str, str]) -> int:
    """Every GET page without parameters, and every one that takes a case code, as supervisor."""
    seen = 0
    with app.app_context():
        client = app.test_client()
        assert sign_in(client, "supervisor").status_code == 302
        for rule in app.url_map.iter_rules():
            if "GET" not in rule.methods or rule.endpoint == "static":
                continue
            args = set(rule.arguments)
            if args - {"code"}:
                continue
            url = rule.build({"code": code} if args else {})[1]
            response = client.get(url)
            _assert_absent(response.get_data(), canaries, f"supervisor GET {url}")
            seen += 1
    return seen


def test_canaries_on_sqlite(tmp_path, isolated, caplog):
    caplog.set_level(logging.DEBUG)
    app, commune_id = _build(tmp_path, f"sqlite:///{tmp_path}/canary.sqlite3")
    canaries = _canaries()
    code = _create_through_the_form(app, commune_id, canaries)
    assert code.startswith("NB-")
    files = [tmp_path / "canary.sqlite3", tmp_path / "canary.sqlite3-wal"]
    assert files[1].exists(), "WAL mode: the -wal file must be checked while the app is open"
    for path in files:
        _assert_absent(path.read_bytes(), canaries, path.name)
    assert _supervisor_sweep(app, code, canaries) > 3
    log_text = _log_text(caplog)
    assert b"case.created" in log_text  # the log did record the intake...
    _assert_absent(log_text, canaries, "the application log")  # ...never by anything else
    with app.app_context():
        db.session.remove()
        db.engine.dispose()
    # After the checkpoint on close, the main file alone: still nothing.
    _assert_absent((tmp_path / "canary.sqlite3").read_bytes(), canaries, "checkpointed file")


def _log_text(caplog) -> bytes:
    # Everything the application and its libraries logged (the test factories' own debug
    # lines are not the application's log).
    records = [r for r in caplog.records if not r.name.startswith("factory")]
    return "\n".join(r.getMessage() for r in records).encode()


def _pg_url() -> str | None:
    url = os.environ.get("TEST_DATABASE_URL", "")
    return url if url.startswith("postgresql") else None


@pytest.mark.skipif(_pg_url() is None, reason=other_backend("TEST_DATABASE_URL is not PostgreSQL"))
def test_canaries_in_a_postgresql_dump(tmp_path, isolated, caplog):
    if shutil.which("pg_dump") is None:
        pytest.skip("pg_dump is not installed")  # a failure under CI=true
    caplog.set_level(logging.DEBUG)
    base = sa.engine.make_url(_pg_url())
    name = f"{base.database}_canary"
    admin = sa.create_engine(base, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}"')
        conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
    url = base.set(database=name)
    try:
        app, commune_id = _build(tmp_path, url.render_as_string(hide_password=False))
        canaries = _canaries()
        code = _create_through_the_form(app, commune_id, canaries)
        with app.app_context():
            db.session.remove()
            db.engine.dispose()
        plain = url.set(drivername="postgresql").render_as_string(hide_password=False)
        dump = subprocess.run(
            ["pg_dump", "--dbname", plain], capture_output=True, check=True, timeout=120
        ).stdout
        assert code.encode() in dump
        _assert_absent(dump, canaries, "pg_dump")
        log_text = _log_text(caplog)
        _assert_absent(log_text, canaries, "the application log")
    finally:
        with admin.connect() as conn:
            conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.dispose()
