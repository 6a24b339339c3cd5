"""Master-key rotation and retirement: re-wrap data keys, never data.

Rotation is the one maintenance operation that commits as it goes: it re-wraps data keys in
batches, each committed with its own audit event, so an interrupted run loses nothing and a
rerun simply continues. Whether a run adds a new master version is decided from the database:
while any live data key is still wrapped by a version other than the key set's current one, the
previous rotation is unfinished and the run resumes it; only when none is left does it add a
version. So a rerun after a crash never adds a second version.

Where the key set lives:
- key file (CAUNOI_KEY_FILE): the new version is written atomically, then data keys are
  re-wrapped; running app processes pick the new file up at their next key-set access.
- environment (CAUNOI_KEYS, production): the running servers cannot see a new environment, so
  rotation is two steps. Step 1 prints the new key set JSON and changes nothing else; the
  operator stores it as CAUNOI_KEYS on every server and restarts them (they can now read both
  versions and wrap new keys with the new one). Step 2, the same command run again with the new
  CAUNOI_KEYS, re-wraps every older data key.
"""

from __future__ import annotations

import fcntl
import os
import secrets
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from pathlib import Path

import sqlalchemy as sa
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from app.audit import services as audit
from app.crypto import account_secrets
from app.crypto.envelope import CryptoError, unwrap_key, wrap_key
from app.crypto.keyring import KEY_BYTES, Keyring, env_keys, load_keyring, write_key_file
from app.crypto.models import DataKey
from app.extensions import db
from app.permissions import Actor

DEFAULT_BATCH_SIZE = 1000

_keys = DataKey.__table__
_live = _keys.c.wrapped_key.is_not(None)


class KeyOperationError(Exception):
    """A key operation was refused; the message says why and what to do."""


@dataclass
class RotationResult:
    key_version: int
    version_added: bool = False
    rewrapped: int = 0
    resealed: int = 0  # account secrets (TOTP seeds) sealed again under the new version
    # Production (CAUNOI_KEYS): the new key set to store; nothing was re-wrapped yet.
    new_keys_json: str | None = None
    old_versions: set[int] = field(default_factory=set)


def uses_env(config) -> bool:
    return env_keys(config) is not None


def _save(config, ring: Keyring) -> None:
    write_key_file(Path(config["CAUNOI_KEY_FILE"]), ring)


@contextmanager
def key_set_lock(config) -> Iterator[None]:
    """Serialize read-modify-write of the key file across processes.

    Without it, two operators rotating at once could each add "version 2" with a different key,
    the second file overwriting the first while data keys are being wrapped with the first.
    """
    if uses_env(config):
        yield
        return
    path = Path(config["CAUNOI_KEY_FILE"])
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path.with_name(path.name + ".lock"), os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        fcntl.flock(fd, fcntl.LOCK_UN)
        os.close(fd)


def with_new_version(ring: Keyring) -> Keyring:
    """A copy of `ring` with a fresh master key as its current version (numbers never reused)."""
    version = max(set(ring.master_keys) | ring.retired_versions | {0}) + 1
    return replace(
        ring,
        master_keys={**ring.master_keys, version: secrets.token_bytes(KEY_BYTES)},
        current_master_version=version,
        retired_versions=set(ring.retired_versions),
    )


def version_counts() -> dict[int, tuple[int, int]]:
    """{master_version: (live data keys, destroyed data keys)}."""
    destroyed = sa.case((_live, 0), else_=1)
    rows = db.session.execute(
        sa.select(_keys.c.master_version, sa.func.count(), sa.func.sum(destroyed)).group_by(
            _keys.c.master_version
        )
    )
    return {v: (int(total) - int(dead or 0), int(dead or 0)) for v, total, dead in rows}


def pending_count(current_version: int) -> int:
    """Live data keys wrapped by any version other than `current_version`."""
    stmt = sa.select(sa.func.count()).where(_live, _keys.c.master_version != current_version)
    return db.session.execute(stmt).scalar_one()


def rewrap_batch(
    actor: Actor, ring: Keyring, batch_size: int, after_id: int = 0
) -> tuple[int, set[int], int]:
    """Re-wrap up to `batch_size` live data keys (ids above `after_id`) under the current version.

    Flushes and audits; returns (count, old versions seen, last id examined). The update is a
    compare-and-set on (id, old version, still live), so a key destroyed or re-wrapped by
    someone else meanwhile is never resurrected or wrapped twice.
    """
    new_version = ring.current_master_version
    new_master = AESGCM(ring.current_master_key)
    old_masters: dict[int, AESGCM] = {}
    rows = db.session.execute(
        sa.select(_keys.c.id, _keys.c.wrapped_key, _keys.c.master_version)
        .where(_live, _keys.c.master_version != new_version, _keys.c.id > after_id)
        .order_by(_keys.c.id)
        .limit(batch_size)
        .with_for_update()
    ).all()
    if not rows:
        return 0, set(), after_id
    params = []
    for key_id, wrapped, old_version in rows:
        if old_version not in ring.master_keys:
            raise KeyOperationError(
                f"data key {key_id} is wrapped by master key version {old_version}, which is not "
                "in the key set: restore the key file (or CAUNOI_KEYS) that holds it, then rerun"
            )
        if old_version not in old_masters:
            old_masters[old_version] = AESGCM(ring.master_keys[old_version])
        try:
            raw = unwrap_key(bytes(wrapped), key_id, old_version, old_masters[old_version])
        except CryptoError as exc:
            raise KeyOperationError(
                f"{exc}; rotation stopped, nothing in this batch changed"
            ) from None
        params.append(
            {
                "k_id": key_id,
                "k_old": old_version,
                "k_wrapped": wrap_key(raw, key_id, new_version, new_master),
            }
        )
    old_versions = set(old_masters)
    _write_rewrapped(params, new_version)
    db.session.flush()
    audit.record(
        actor,
        "key.rotated",
        object_type="master_key",
        object_ref=f"v{new_version}",
        details={
            "key_version": new_version,
            "old_key_version": sorted(old_versions),
            "count": len(params),
            "status": "rewrapped",
        },
    )
    return len(params), old_versions, rows[-1][0]


# PostgreSQL: one UPDATE per batch from three arrays (a fixed statement, compiled once), instead
# of a round trip per key. The id range lets the planner read only this batch's rows.
_PG_REWRAP = sa.text(
    "UPDATE data_keys SET wrapped_key = r.wrapped, master_version = :new_version "
    "FROM unnest(CAST(:ids AS integer[]), CAST(:olds AS integer[]), CAST(:wrapped AS bytea[])) "
    "AS r(id, old, wrapped) "
    "WHERE data_keys.id = r.id AND data_keys.master_version = r.old "
    "AND data_keys.wrapped_key IS NOT NULL AND data_keys.id BETWEEN :first AND :last"
)


def _write_rewrapped(params: list[dict], new_version: int) -> None:
    """Compare-and-set every re-wrapped key: only if still live and still under its old version."""
    if db.session.get_bind().dialect.name == "postgresql":
        db.session.execute(
            _PG_REWRAP,
            {
                "new_version": new_version,
                "ids": [p["k_id"] for p in params],
                "olds": [p["k_old"] for p in params],
                "wrapped": [p["k_wrapped"] for p in params],
                "first": params[0]["k_id"],
                "last": params[-1]["k_id"],
            },
        )
        return
    db.session.execute(
        sa.update(_keys)
        .where(
            _keys.c.id == sa.bindparam("k_id"),
            _keys.c.master_version == sa.bindparam("k_old"),
            _live,
        )
        .values(wrapped_key=sa.bindparam("k_wrapped"), master_version=new_version),
        params,
    )


def prepare_rotation(actor: Actor, config) -> tuple[Keyring, RotationResult, int]:
    """Add a master version unless a rotation is unfinished; commits the new version's event.

    Returns the key set to re-wrap under, the result so far and how many keys await it. Under
    CAUNOI_KEYS the new key set is only returned (result.new_keys_json), nothing is re-wrapped.
    """
    with key_set_lock(config):
        return _prepare_rotation_locked(actor, config)


def _prepare_rotation_locked(actor: Actor, config) -> tuple[Keyring, RotationResult, int]:
    ring = load_keyring(config)
    result = RotationResult(key_version=ring.current_master_version)
    pending = pending_count(ring.current_master_version)
    if pending:
        return ring, result, pending
    ring = with_new_version(ring)
    result.key_version = ring.current_master_version
    result.version_added = True
    if uses_env(config):
        result.new_keys_json = ring.to_json()
    else:
        _save(config, ring)
    _record_rotation(
        actor,
        ring.current_master_version,
        0,
        "printed" if result.new_keys_json else "version_added",
    )
    db.session.commit()
    if result.new_keys_json:
        return ring, result, 0
    return ring, result, pending_count(ring.current_master_version)


def _record_rotation(actor: Actor, version: int, count: int, status: str) -> None:
    audit.record(
        actor,
        "key.rotated",
        object_type="master_key",
        object_ref=f"v{version}",
        details={"key_version": version, "count": count, "status": status},
    )


def _check_key_unchanged(config, ring: Keyring) -> None:
    stored = load_keyring(config).master_keys.get(ring.current_master_version)
    if stored != ring.current_master_key:
        raise KeyOperationError(
            f"master key version {ring.current_master_version} changed in the key set during "
            "the rotation (another rotation?); nothing more was re-wrapped: check the key file, "
            "then rerun `flask --app app keys rotate`"
        )


def rewrap_all(
    actor: Actor,
    ring: Keyring,
    result: RotationResult,
    *,
    batch_size: int = DEFAULT_BATCH_SIZE,
    on_batch: Callable[[int], None] | None = None,
    config=None,
) -> RotationResult:
    """Re-wrap every live data key not under the current version, committing batch by batch.

    With `config`, checks before each batch that the key set still holds this very key for the
    new version, so keys are never wrapped with a key the key set has lost.
    """
    if batch_size < 1:
        raise KeyOperationError("the batch size must be at least 1")
    last_id = 0
    while True:
        if config is not None:
            _check_key_unchanged(config, ring)
        # Keyset pagination: each batch starts after the last id seen, so a batch never rescans
        # the keys already re-wrapped. A rerun starts again from the first id.
        count, old_versions, last_id = rewrap_batch(actor, ring, batch_size, last_id)
        if not count:
            break
        db.session.commit()
        result.rewrapped += count
        result.old_versions |= old_versions
        if on_batch:
            on_batch(count)
    db.session.rollback()  # ends the last (empty) batch's transaction and its locks
    # A handful of rows (one per user with a second factor): one transaction.
    result.resealed = account_secrets.reseal_all()
    if result.resealed:
        _record_rotation(
            actor, ring.current_master_version, result.resealed, "account_secrets_resealed"
        )
    db.session.commit()
    return result


def rotate_master_key(
    actor: Actor,
    config,
    *,
    batch_size: int = DEFAULT_BATCH_SIZE,
    on_batch: Callable[[int], None] | None = None,
) -> RotationResult:
    """Rotate (or continue rotating) the master key: `prepare_rotation`, then `rewrap_all`."""
    ring, result, _pending = prepare_rotation(actor, config)
    if result.new_keys_json is not None:
        return result
    return rewrap_all(actor, ring, result, batch_size=batch_size, on_batch=on_batch, config=config)


def retire_master_version(actor: Actor, config, version: int) -> str | None:
    """Remove a master version no live data key uses; returns the new JSON under CAUNOI_KEYS."""
    with key_set_lock(config):
        return _retire_locked(actor, config, version)


def _retire_locked(actor: Actor, config, version: int) -> str | None:
    ring = load_keyring(config)
    if version in ring.retired_versions and version not in ring.master_keys:
        raise KeyOperationError(f"master key version {version} is already retired")
    if version not in ring.master_keys:
        raise KeyOperationError(f"master key version {version} is not in the key set")
    if version == ring.current_master_version:
        raise KeyOperationError(
            f"master key version {version} is the current version; rotate to a new one first"
        )
    in_use = db.session.execute(
        sa.select(sa.func.count()).where(_live, _keys.c.master_version == version)
    ).scalar_one()
    in_use_secrets = account_secrets.count_by_version()[version]
    if in_use or in_use_secrets:
        raise KeyOperationError(
            f"{in_use} data key(s) and {in_use_secrets} account secret(s) still use master key "
            f"version {version}; run `flask --app app keys rotate` to finish re-wrapping them, "
            "then retire it"
        )
    new_ring = replace(
        ring,
        master_keys={v: k for v, k in ring.master_keys.items() if v != version},
        retired_versions=ring.retired_versions | {version},
    )
    new_json = new_ring.to_json() if uses_env(config) else None
    if new_json is None:
        _save(config, new_ring)
    audit.record(
        actor,
        "key.retired",
        object_type="master_key",
        object_ref=f"v{version}",
        details={"key_version": version, "status": "printed" if new_json else "retired"},
    )
    db.session.commit()
    return new_json
