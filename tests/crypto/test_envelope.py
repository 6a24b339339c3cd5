"""Envelope encryption: AES-256-GCM fields bound to their place, under per-case data keys."""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from flask import g

from app.crypto.envelope import (
    CryptoError,
    DecryptionError,
    KeyDestroyedError,
    MasterKeyMissingError,
    create_data_key,
    destroy_data_key,
    seal,
    unseal,
)
from app.crypto.keyring import Keyring, write_key_file
from app.crypto.models import DataKey
from app.extensions import db
from tests.conftest import other_backend

PLACE = {"table": "cases", "column": "full_name", "row_id": 42}
TEXT = "Nguyễn Thị Hoa, thôn Đồng Tâm, xã Ninh Hải — ghi chú: đã gặp lần 2"


def fresh(key: DataKey) -> DataKey:
    """The data key as another request would load it (no cached object, no cached key)."""
    key_id = key.id
    db.session.expire_all()
    g.pop("_caunoi_data_keys", None)
    return db.session.get(DataKey, key_id)


def test_round_trip_vietnamese_text(key_file):
    key = create_data_key()
    sealed = seal(key, TEXT, **PLACE)
    assert sealed[0] == 1  # format byte
    assert len(sealed) == 1 + 12 + len(TEXT.encode()) + 16
    assert TEXT.encode() not in sealed
    assert unseal(fresh(key), sealed, **PLACE) == TEXT


def test_each_seal_uses_a_fresh_nonce_and_empty_text_survives(key_file):
    key = create_data_key()
    assert seal(key, TEXT, **PLACE) != seal(key, TEXT, **PLACE)
    assert unseal(key, seal(key, "", **PLACE), **PLACE) == ""


def test_none_stays_none(key_file):
    key = create_data_key()
    assert seal(key, None, **PLACE) is None
    assert unseal(key, None, **PLACE) is None


def test_data_key_is_stored_wrapped_under_the_current_master_version(key_file):
    key = create_data_key()
    row = db.session.execute(sa.select(DataKey.__table__).where(DataKey.id == key.id)).one()
    assert row.master_version == 1
    assert len(row.wrapped_key) == 1 + 12 + 32 + 16
    assert row.destroyed_at is None and row.created_at is not None


def test_wrong_data_key_refused(key_file):
    key, other = create_data_key(), create_data_key()
    sealed = seal(key, TEXT, **PLACE)
    with pytest.raises(DecryptionError):
        unseal(other, sealed, **PLACE)


def test_wrong_master_key_refused(app, key_file, monkeypatch, tmp_path):
    key = create_data_key()
    sealed = seal(key, TEXT, **PLACE)
    other = tmp_path / "other-keys.json"
    write_key_file(other, Keyring.generate())  # also a version 1, but another key
    monkeypatch.setitem(app.config, "CAUNOI_KEY_FILE", str(other))
    with pytest.raises(DecryptionError, match="does not unwrap"):
        unseal(fresh(key), sealed, **PLACE)


@pytest.mark.parametrize("position", [0, 1, 12, 13, 20, -16, -1])
def test_tampered_ciphertext_refused(key_file, position):
    key = create_data_key()
    sealed = bytearray(seal(key, TEXT, **PLACE))
    sealed[position] ^= 0x01
    with pytest.raises(DecryptionError):
        unseal(key, bytes(sealed), **PLACE)


def test_truncated_ciphertext_refused(key_file):
    key = create_data_key()
    sealed = seal(key, TEXT, **PLACE)
    for cut in (0, 5, 28, len(sealed) - 1):
        with pytest.raises(DecryptionError):
            unseal(key, sealed[:cut], **PLACE)


@pytest.mark.parametrize(
    "moved",
    [
        {"table": "cases", "column": "full_name", "row_id": 43},
        {"table": "cases", "column": "phone", "row_id": 42},
        {"table": "case_notes", "column": "full_name", "row_id": 42},
    ],
    ids=["other-row", "other-column", "other-table"],
)
def test_ciphertext_moved_elsewhere_refused(key_file, moved):
    key = create_data_key()
    sealed = seal(key, TEXT, **PLACE)
    with pytest.raises(DecryptionError, match="copied from another row or column"):
        unseal(key, sealed, **moved)


def test_error_messages_never_carry_the_value(key_file):
    key = create_data_key()
    sealed = seal(key, TEXT, **PLACE)
    with pytest.raises(DecryptionError) as caught:
        unseal(key, sealed, **{**PLACE, "row_id": 7})
    assert "Nguyễn" not in str(caught.value) and "Hoa" not in str(caught.value)


def test_wrapped_key_copied_to_another_data_key_refused(key_file):
    key, other = create_data_key(), create_data_key()
    sealed = seal(other, TEXT, **PLACE)
    other.wrapped_key = key.wrapped_key
    db.session.flush()
    with pytest.raises(DecryptionError, match="does not unwrap"):
        unseal(fresh(other), sealed, **PLACE)


def test_wrapped_key_relabelled_with_another_master_version_refused(app, key_file):
    from app.crypto.rotation import rotate_master_key
    from app.permissions import Actor

    key = create_data_key()
    sealed = seal(key, TEXT, **PLACE)
    rotate_master_key(Actor.system("cli"), app.config)  # now versions 1 and 2 both exist
    key = fresh(key)
    assert key.master_version == 2
    key.master_version = 1
    db.session.flush()
    with pytest.raises(DecryptionError):
        unseal(fresh(key), sealed, **PLACE)


def test_destroyed_key_refuses_and_its_bytes_are_gone(key_file):
    key = create_data_key()
    sealed = seal(key, TEXT, **PLACE)
    wrapped = key.wrapped_key
    destroy_data_key(key)
    db.session.commit()
    with pytest.raises(KeyDestroyedError):
        unseal(key, sealed, **PLACE)
    key = fresh(key)
    with pytest.raises(KeyDestroyedError):
        unseal(key, sealed, **PLACE)
    with pytest.raises(KeyDestroyedError):
        seal(key, "mới", **PLACE)
    table = DataKey.__table__
    row = db.session.execute(sa.select(table).where(table.c.id == key.id)).one()
    assert row.wrapped_key is None and row.destroyed_at is not None
    same_bytes = sa.select(sa.func.count()).where(table.c.wrapped_key == wrapped)
    assert db.session.execute(same_bytes).scalar_one() == 0


def test_destroy_drops_the_request_cache_entry(key_file):
    key = create_data_key()
    sealed = seal(key, TEXT, **PLACE)
    assert unseal(key, sealed, **PLACE) == TEXT
    assert any(slot[0] == key.id for slot in g._caunoi_data_keys)
    destroy_data_key(key)
    assert not any(slot[0] == key.id for slot in g._caunoi_data_keys)


def test_unwrapped_keys_are_cached_per_app_context_only(app, key_file):
    key = create_data_key()
    sealed = seal(key, TEXT, **PLACE)
    key_id = key.id
    assert g._caunoi_data_keys
    with app.app_context():
        assert "_caunoi_data_keys" not in g  # another request starts with nothing
        assert unseal(db.session.get(DataKey, key_id), sealed, **PLACE) == TEXT


def test_missing_master_version_is_a_clear_crypto_error(app, key_file, monkeypatch, tmp_path):
    key = create_data_key()
    sealed = seal(key, TEXT, **PLACE)
    ring = Keyring.generate()
    ring.master_keys = {2: ring.master_keys[1]}
    ring.current_master_version = 2
    other = tmp_path / "v2-only.json"
    write_key_file(other, ring)
    monkeypatch.setitem(app.config, "CAUNOI_KEY_FILE", str(other))
    with pytest.raises(MasterKeyMissingError, match="version 1 is not in the key set"):
        unseal(fresh(key), sealed, **PLACE)
    assert issubclass(MasterKeyMissingError, CryptoError)


def test_place_must_be_a_real_row(key_file):
    key = create_data_key()
    with pytest.raises(TypeError):
        seal(key, TEXT, table="cases", column="full_name", row_id=None)
    with pytest.raises(TypeError):
        seal(key, TEXT, table="", column="full_name", row_id=1)
    with pytest.raises(TypeError):
        seal(key, b"bytes", **PLACE)


def test_error_hierarchy():
    assert issubclass(DecryptionError, CryptoError)
    assert issubclass(KeyDestroyedError, CryptoError)


@pytest.mark.real_db
def test_destroyed_key_bytes_are_not_left_in_the_sqlite_file(real_app):
    with real_app.app_context():
        if db.engine.dialect.name != "sqlite":
            pytest.skip(
                other_backend("file scan for SQLite; PostgreSQL relies on master-key retirement")
            )
        with db.engine.connect() as conn:
            assert conn.exec_driver_sql("PRAGMA secure_delete").scalar() == 1
        keys = [create_data_key() for _ in range(40)]
        db.session.commit()
        wrapped = [key.wrapped_key for key in keys]
        for key in keys[::2]:
            destroy_data_key(key)
        db.session.commit()
        path = db.engine.url.database
        db.engine.dispose()
    from pathlib import Path

    data = b"".join(p.read_bytes() for p in Path(path).parent.glob(Path(path).name + "*"))
    assert not any(w in data for w in wrapped[::2])
    assert all(w in data for w in wrapped[1::2])  # the scan does see the live keys


def test_associated_data_format_is_pinned():
    # Changing these bytes would make every stored ciphertext unreadable: they are the format.
    from app.crypto.envelope import canonical, field_aad, wrapping_aad

    head = b"s\x00\x00\x00\x06caunoi" + b"i\x00\x00\x00\x011"
    assert wrapping_aad(12, 3) == (
        head + b"s\x00\x00\x00\x08data_key" + b"i\x00\x00\x00\x0212" + b"i\x00\x00\x00\x013"
    )
    assert field_aad("cases", "phone", 7, 12) == (
        head
        + b"s\x00\x00\x00\x05cases"
        + b"s\x00\x00\x00\x05phone"
        + b"i\x00\x00\x00\x017"
        + b"i\x00\x00\x00\x0212"
    )
    assert canonical("ab", "c") != canonical("a", "bc")
    assert canonical(1) != canonical("1")
