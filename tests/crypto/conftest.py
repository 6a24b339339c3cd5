"""Fixtures for the crypto tests: a key set of the test's own, data keys with sealed values."""

from __future__ import annotations

import json

import pytest

from app.crypto.keyring import Keyring, write_key_file


@pytest.fixture
def key_file(app, tmp_path, monkeypatch):
    """A fresh key file for this test only (rotation and retirement rewrite it)."""
    path = tmp_path / "keys.json"
    write_key_file(path, Keyring.generate())
    monkeypatch.setitem(app.config, "CAUNOI_KEY_FILE", str(path))
    monkeypatch.delenv("CAUNOI_KEYS", raising=False)
    return path


def read_key_file(path) -> dict:
    return json.loads(path.read_text())


def sealed_values(count: int, table: str = "cases", column: str = "full_name"):
    """`count` data keys, each sealing one Vietnamese value for row i: [(key, row, ct, text)]."""
    from app.crypto.envelope import create_data_key, seal

    items = []
    for i in range(count):
        key = create_data_key()
        text = f"Nguyễn Thị Hoa số {i}"
        items.append((key, i + 1, seal(key, text, table=table, column=column, row_id=i + 1), text))
    return items


def _drop_everything(url: str) -> None:
    """Leave the database without our tables, so no app start-up check trips over old keys."""
    import sqlalchemy as sa

    from app.extensions import db

    engine = sa.create_engine(url)
    try:
        db.metadata.drop_all(engine)
    finally:
        engine.dispose()


@pytest.fixture
def real_app(tmp_path):
    """An app on its own database with real commits; its data is wiped before and after.

    On PostgreSQL the database is TEST_DATABASE_URL's, shared with the session app: data keys
    left behind under a key file that no longer exists would stop the next app from starting.
    """
    from tests.conftest import make_config
    from tests.live import own_app

    url = make_config(tmp_path).SQLALCHEMY_DATABASE_URI
    _drop_everything(url)
    app = own_app(tmp_path)
    yield app
    from tests.conftest import reset_schema

    reset_schema(app)
    with app.app_context():
        from app.extensions import db

        db.engine.dispose()
