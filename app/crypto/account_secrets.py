"""Secrets of user accounts (the TOTP seed), sealed at rest under the master key.

Whoever copies the database must not get second factors with it. A secret is sealed with
AES-256-GCM under a key derived (HKDF-SHA256) from one master-key version for this purpose only;
its associated data binds table, column, row and version, so a sealed secret copied to another
user does not open. Format: `b"\\x01"`, the master version (2 bytes), nonce (12), ciphertext and
tag. `keys rotate` re-seals every secret under the new version (`reseal_all`), and `keys retire`
refuses a version that still seals one (`count_by_version`).
"""

from __future__ import annotations

import secrets
from collections import Counter

import sqlalchemy as sa
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from app.crypto.envelope import FORMAT, FORMAT_BYTE, NONCE_BYTES, DecryptionError, canonical
from app.crypto.keyring import KEY_BYTES, keyring

_INFO = b"caunoi account secret v1"
_HEADER = 1 + 2  # format byte, master version


def _aead(version: int) -> AESGCM:
    master = keyring().master_key(version)
    return AESGCM(
        HKDF(algorithm=hashes.SHA256(), length=KEY_BYTES, salt=None, info=_INFO).derive(master)
    )


def _aad(table: str, column: str, row_id: int, version: int) -> bytes:
    return canonical("caunoi", FORMAT, "account_secret", table, column, row_id, version)


def seal(table: str, column: str, row_id: int | None, secret: str) -> bytes:
    """Seal `secret` for this row under the current master version."""
    if row_id is None:
        raise ValueError("a secret is sealed for a saved row: flush it first")
    version = keyring().current_master_version
    nonce = secrets.token_bytes(NONCE_BYTES)
    sealed = _aead(version).encrypt(nonce, secret.encode(), _aad(table, column, row_id, version))
    return FORMAT_BYTE + version.to_bytes(2, "big") + nonce + sealed


def version_of(blob: bytes) -> int:
    if len(blob) < _HEADER or blob[:1] != FORMAT_BYTE:
        raise DecryptionError("not a sealed account secret")
    return int.from_bytes(blob[1:_HEADER], "big")


def unseal(table: str, column: str, row_id: int, blob: bytes) -> str:
    """The secret, or DecryptionError when the blob was altered, moved or sealed with a
    master version the key set no longer holds."""
    version = version_of(blob)
    nonce, sealed = blob[_HEADER : _HEADER + NONCE_BYTES], blob[_HEADER + NONCE_BYTES :]
    try:
        plain = _aead(version).decrypt(nonce, sealed, _aad(table, column, row_id, version))
    except InvalidTag:
        raise DecryptionError("the account secret does not open with this key set") from None
    return plain.decode()


# Other modules' sealed account columns (table, column, name), registered by their models.
_REGISTERED: list[tuple[sa.Table, str, str]] = []


def register_sealed_column(table: sa.Table, column: str, name: str) -> None:
    """Let `keys rotate` re-seal (and `keys retire` count) another module's sealed column."""
    if (table, column, name) not in _REGISTERED:
        _REGISTERED.append((table, column, name))


def _sealed_columns():
    # The users' TOTP seeds register themselves (app.orgs.models), as every other module's do.
    return list(_REGISTERED)


def count_by_version() -> Counter[int]:
    """Master version -> account secrets sealed with it."""
    from app.extensions import db

    out: Counter[int] = Counter()
    for table, column, _name in _sealed_columns():
        stmt = sa.select(table.c[column]).where(table.c[column].is_not(None))
        for blob in db.session.execute(stmt).scalars():
            out[version_of(blob)] += 1
    return out


def reseal_all() -> int:
    """Re-seal every account secret not under the current master version; returns how many."""
    from app.extensions import db

    current = keyring().current_master_version
    done = 0
    for table, column, name in _sealed_columns():
        rows = db.session.execute(
            sa.select(table.c.id, table.c[column]).where(table.c[column].is_not(None))
        ).all()
        for row_id, blob in rows:
            if version_of(blob) == current:
                continue
            secret = unseal(table.name, name, row_id, blob)
            db.session.execute(
                table.update()
                .where(table.c.id == row_id)
                .values({column: seal(table.name, name, row_id, secret)})
            )
            done += 1
    return done
