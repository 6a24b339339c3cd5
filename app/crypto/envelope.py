"""Envelope encryption: AES-256-GCM per field under a per-case data key.

A field's ciphertext is `b"\\x01" + nonce(12) + ciphertext_and_tag`. Its associated data binds it
to the table, column and row it was written for and to the data key's id, so a ciphertext copied
to another row, column or case does not open. The master key version is not part of a field's
associated data: rotation re-wraps data keys, never data. The wrapped data key carries its own
associated data ("data_key", its id, the master version), so a wrapped key copied to another
data-key row or relabelled with another version does not unwrap either.

Unwrapped data keys are cached in `flask.g`, i.e. for one request (or one CLI command) at most,
never process-wide.
"""

from __future__ import annotations

import secrets

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from flask import g, has_app_context

from app.crypto.keyring import KEY_BYTES, KeyringError, keyring
from app.crypto.models import DataKey
from app.db import utcnow
from app.extensions import db

FORMAT = 1
FORMAT_BYTE = bytes([FORMAT])
NONCE_BYTES = 12
TAG_BYTES = 16
_CACHE_ATTR = "_caunoi_data_keys"
_CACHE_LIMIT = 4096  # a long CLI command touching many cases must not hoard keys


class CryptoError(Exception):
    """Encryption or decryption was refused. Messages name ids and columns, never values."""


class DecryptionError(CryptoError):
    """Wrong key, tampered ciphertext, or a ciphertext moved to another row or column."""


class KeyDestroyedError(CryptoError):
    """The data key was destroyed (the case was erased): its contents are gone for good."""


class MasterKeyMissingError(CryptoError):
    """The master key version that wrapped a data key is not in the key set."""


def canonical(*parts: str | int | bytes) -> bytes:
    """Unambiguous bytes for a tuple: each part typed and length-prefixed."""
    out = bytearray()
    for part in parts:
        if isinstance(part, bool):
            raise TypeError("booleans are not allowed in associated data")
        if isinstance(part, int):
            tag, raw = b"i", str(part).encode("ascii")
        elif isinstance(part, str):
            tag, raw = b"s", part.encode("utf-8")
        elif isinstance(part, bytes):
            tag, raw = b"b", part
        else:
            raise TypeError(f"cannot put {type(part).__name__} in associated data")
        out += tag + len(raw).to_bytes(4, "big") + raw
    return bytes(out)


_PREFIX = canonical("caunoi", FORMAT)
_WRAPPING_PREFIX = canonical("caunoi", FORMAT, "data_key")


def _int_part(value: int) -> bytes:
    raw = str(value).encode("ascii")
    return b"i" + len(raw).to_bytes(4, "big") + raw


def wrapping_aad(key_id: int, master_version: int) -> bytes:
    """canonical("caunoi", FORMAT, "data_key", key_id, master_version), precomputed prefix."""
    return _WRAPPING_PREFIX + _int_part(key_id) + _int_part(master_version)


def field_aad(table: str, column: str, row_id: int, key_id: int) -> bytes:
    """canonical("caunoi", FORMAT, table, column, row_id, key_id)."""
    return _PREFIX + canonical(table, column) + _int_part(row_id) + _int_part(key_id)


def wrap_key(raw_key: bytes, key_id: int, master_version: int, master_key: bytes | AESGCM) -> bytes:
    """Seal a data key under a master key, bound to its row id and the master version."""
    aead = master_key if isinstance(master_key, AESGCM) else AESGCM(master_key)
    nonce = secrets.token_bytes(NONCE_BYTES)
    sealed = aead.encrypt(nonce, raw_key, wrapping_aad(key_id, master_version))
    return FORMAT_BYTE + nonce + sealed


def unwrap_key(
    wrapped: bytes, key_id: int, master_version: int, master_key: bytes | AESGCM
) -> bytes:
    """The raw data key; DecryptionError unless it was wrapped for this id and version."""
    if len(wrapped) != 1 + NONCE_BYTES + KEY_BYTES + TAG_BYTES or wrapped[:1] != FORMAT_BYTE:
        raise DecryptionError(f"data key {key_id} is not a wrapped key of a known format")
    aead = master_key if isinstance(master_key, AESGCM) else AESGCM(master_key)
    nonce, sealed = wrapped[1 : 1 + NONCE_BYTES], wrapped[1 + NONCE_BYTES :]
    try:
        return aead.decrypt(nonce, sealed, wrapping_aad(key_id, master_version))
    except InvalidTag:
        raise DecryptionError(
            f"data key {key_id} does not unwrap under master key version {master_version}"
        ) from None


def _master_key(version: int) -> bytes:
    try:
        return keyring().master_key(version)
    except KeyringError as exc:
        raise MasterKeyMissingError(str(exc)) from None


def create_data_key() -> DataKey:
    """A new random 256-bit data key wrapped with the current master key; added and flushed."""
    ring = keyring()
    version = ring.current_master_version
    master = _master_key(version)
    raw = secrets.token_bytes(KEY_BYTES)
    # The wrapping binds the row id, so the row gets its id first (inside the same transaction).
    data_key = DataKey(wrapped_key=b"", master_version=version, created_at=utcnow())
    db.session.add(data_key)
    db.session.flush()
    data_key.wrapped_key = wrap_key(raw, data_key.id, version, master)
    db.session.flush()
    _cache()[(data_key.id, version, data_key.wrapped_key)] = AESGCM(raw)
    return data_key


def _cache() -> dict:
    if not has_app_context():
        return {}
    cache = g.get(_CACHE_ATTR)
    if cache is None:
        cache = {}
        setattr(g, _CACHE_ATTR, cache)
    return cache


def _aead(data_key: DataKey) -> AESGCM:
    if data_key.id is None:
        raise CryptoError("the data key has no id yet: flush it before use")
    wrapped = data_key.wrapped_key
    if wrapped is None or data_key.destroyed_at is not None:
        raise KeyDestroyedError(f"data key {data_key.id} was destroyed")
    cache = _cache()
    slot = (data_key.id, data_key.master_version, wrapped)
    aead = cache.get(slot)
    if aead is None:
        raw = unwrap_key(
            wrapped, data_key.id, data_key.master_version, _master_key(data_key.master_version)
        )
        aead = AESGCM(raw)
        if len(cache) >= _CACHE_LIMIT:
            cache.clear()
        cache[slot] = aead
    return aead


def _check_place(table: str, column: str, row_id: int) -> None:
    if not (isinstance(table, str) and table and isinstance(column, str) and column):
        raise TypeError("table and column must be non-empty strings")
    if not isinstance(row_id, int) or isinstance(row_id, bool):
        raise TypeError("row_id must be the row's integer id (flush the row first)")


def seal(
    data_key: DataKey, plaintext: str | None, *, table: str, column: str, row_id: int
) -> bytes | None:
    """Encrypt one field for exactly this table, column and row. None stays None."""
    _check_place(table, column, row_id)
    if plaintext is None:
        return None
    if not isinstance(plaintext, str):
        raise TypeError("only text is sealed; convert the value to str first")
    return seal_bytes(
        data_key, plaintext.encode("utf-8"), table=table, column=column, row_id=row_id
    )


def seal_bytes(data_key: DataKey, raw: bytes, *, table: str, column: str, row_id: int) -> bytes:
    """Encrypt bytes (a file) for exactly this table, column and row, like `seal`."""
    _check_place(table, column, row_id)
    if not isinstance(raw, bytes):
        raise TypeError("seal_bytes takes bytes")
    aead = _aead(data_key)
    nonce = secrets.token_bytes(NONCE_BYTES)
    sealed = aead.encrypt(nonce, raw, field_aad(table, column, row_id, data_key.id))
    return FORMAT_BYTE + nonce + sealed


def unseal(
    data_key: DataKey, ciphertext: bytes | None, *, table: str, column: str, row_id: int
) -> str | None:
    """Decrypt one field; refuses (DecryptionError) anything not sealed for this exact place."""
    raw = unseal_bytes(data_key, ciphertext, table=table, column=column, row_id=row_id)
    if raw is None:
        return None
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        raise DecryptionError(
            f"{table}.{column} of row {row_id}: decrypted bytes are not text"
        ) from None


def unseal_bytes(
    data_key: DataKey, ciphertext: bytes | None, *, table: str, column: str, row_id: int
) -> bytes | None:
    """Decrypt bytes sealed by `seal_bytes` (or `seal`) for this exact place."""
    _check_place(table, column, row_id)
    if ciphertext is None:
        return None
    aead = _aead(data_key)
    ciphertext = bytes(ciphertext)  # PostgreSQL drivers may hand back a memoryview
    where = f"{table}.{column} of row {row_id}"
    if len(ciphertext) < 1 + NONCE_BYTES + TAG_BYTES:
        raise DecryptionError(f"{where}: ciphertext is truncated")
    if ciphertext[:1] != FORMAT_BYTE:
        raise DecryptionError(f"{where}: unknown ciphertext format {ciphertext[0]}")
    nonce, sealed = ciphertext[1 : 1 + NONCE_BYTES], ciphertext[1 + NONCE_BYTES :]
    try:
        return aead.decrypt(nonce, sealed, field_aad(table, column, row_id, data_key.id))
    except InvalidTag:
        raise DecryptionError(
            f"{where} does not open under data key {data_key.id}: wrong key, tampered, "
            "or copied from another row or column"
        ) from None


def destroy_data_key(data_key: DataKey) -> None:
    """Erase the wrapped key: everything it sealed becomes unreadable. Flushes."""
    cache = _cache()
    for slot in [s for s in cache if s[0] == data_key.id]:
        del cache[slot]
    data_key.wrapped_key = None
    if data_key.destroyed_at is None:
        data_key.destroyed_at = utcnow()
    db.session.flush()
