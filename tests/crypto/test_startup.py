"""The app refuses to start when data keys need a master key version the key set lacks."""

from __future__ import annotations

import pytest

from app import ConfigurationError, create_app
from app.crypto.envelope import create_data_key, destroy_data_key
from app.crypto.keyring import Keyring, load_keyring, write_key_file
from app.extensions import db
from tests.conftest import make_config

pytestmark = pytest.mark.real_db


def _make_keys(app, count=2, destroyed=0) -> None:
    with app.app_context():
        for _ in range(count):
            create_data_key()
        for _ in range(destroyed):
            destroy_data_key(create_data_key())
        db.session.commit()
        db.engine.dispose()


def _key_file(tmp_path):
    return tmp_path / "keys.json"


def _replace_keys_without_version_1(tmp_path) -> None:
    """The key file of a site that lost master version 1 (same index and audit keys)."""
    ring = load_keyring({"CAUNOI_KEY_FILE": str(_key_file(tmp_path))})
    fresh = Keyring.generate()
    write_key_file(
        _key_file(tmp_path),
        Keyring(
            master_keys={2: fresh.master_keys[1]},
            current_master_version=2,
            index_key=ring.index_key,
            audit_key=ring.audit_key,
        ),
    )


def _config_without_key_file(tmp_path):
    config = make_config(tmp_path)  # make_config writes a key file when there is none
    _key_file(tmp_path).unlink()
    return config


def test_refuses_to_start_when_a_master_version_is_missing(real_app, tmp_path):
    _make_keys(real_app, count=3)
    _replace_keys_without_version_1(tmp_path)

    with pytest.raises(ConfigurationError) as refused:
        create_app(make_config(tmp_path))

    message = str(refused.value)
    assert "\n" not in message
    assert "3 data key(s) are wrapped by master key version(s) 1" in message
    assert "restore the key file" in message and "CAUNOI_KEYS" in message
    assert isinstance(refused.value, SystemExit)


def test_refuses_to_start_when_the_key_file_is_gone(real_app, tmp_path):
    _make_keys(real_app, count=1)
    _key_file(tmp_path).unlink()
    with pytest.raises(ConfigurationError, match=r"version\(s\) 1, missing from the key set"):
        create_app(_config_without_key_file(tmp_path))


def test_starts_with_the_keys_it_needs(real_app, tmp_path):
    _make_keys(real_app, count=2)
    started = create_app(make_config(tmp_path))  # same key file
    assert started.name == "app"


def test_destroyed_keys_need_no_master_key(real_app, tmp_path):
    _make_keys(real_app, count=0, destroyed=2)
    _replace_keys_without_version_1(tmp_path)
    assert create_app(make_config(tmp_path)).name == "app"


def test_empty_table_under_testing_starts_without_a_key_set(real_app, tmp_path):
    with real_app.app_context():
        db.engine.dispose()
    _key_file(tmp_path).unlink()
    assert create_app(_config_without_key_file(tmp_path)).name == "app"


def test_fresh_database_without_tables_starts(tmp_path):
    # Before migrations there is no data_keys table, and no key set yet: `keys init` must run.
    config = _config_without_key_file(tmp_path)
    config.SQLALCHEMY_DATABASE_URI = f"sqlite:///{tmp_path}/empty.sqlite3"
    assert create_app(config).name == "app"
