"""The key set kept outside the database: versioned master keys, the blind-index key, the audit key.

Stored as JSON in a 0600 file (`CAUNOI_KEY_FILE`, default instance/keys.json) or, in production,
in the environment variable `CAUNOI_KEYS` (the same JSON). The blind-index and audit keys are
stored apart from the master keys because they must not change when master keys rotate.
"""

from __future__ import annotations

import base64
import json
import os
import secrets
from dataclasses import dataclass, field
from pathlib import Path

from flask import current_app, has_request_context, request

KEY_BYTES = 32
FORMAT = 1


class KeyringError(RuntimeError):
    """The key set is missing or unusable; the message says what to do."""


def _b64(raw: bytes) -> str:
    return base64.b64encode(raw).decode("ascii")


def _unb64(text: str) -> bytes:
    raw = base64.b64decode(text.encode("ascii"), validate=True)
    if len(raw) != KEY_BYTES:
        raise KeyringError("a key in the key set is not 32 bytes")
    return raw


@dataclass
class Keyring:
    master_keys: dict[int, bytes]
    current_master_version: int
    index_key: bytes
    audit_key: bytes
    retired_versions: set[int] = field(default_factory=set)

    @classmethod
    def generate(cls) -> Keyring:
        return cls(
            master_keys={1: secrets.token_bytes(KEY_BYTES)},
            current_master_version=1,
            index_key=secrets.token_bytes(KEY_BYTES),
            audit_key=secrets.token_bytes(KEY_BYTES),
        )

    @classmethod
    def from_json(cls, text: str) -> Keyring:
        try:
            data = json.loads(text)
            return cls(
                master_keys={int(v): _unb64(k) for v, k in data["master_keys"].items()},
                current_master_version=int(data["current_master_version"]),
                index_key=_unb64(data["index_key"]),
                audit_key=_unb64(data["audit_key"]),
                retired_versions={int(v) for v in data.get("retired_versions", [])},
            )
        except (KeyError, ValueError, TypeError) as exc:
            raise KeyringError(f"the key set is malformed ({type(exc).__name__})") from None

    def to_json(self) -> str:
        return json.dumps(
            {
                "format": FORMAT,
                "current_master_version": self.current_master_version,
                "master_keys": {str(v): _b64(k) for v, k in sorted(self.master_keys.items())},
                "retired_versions": sorted(self.retired_versions),
                "index_key": _b64(self.index_key),
                "audit_key": _b64(self.audit_key),
            },
            indent=2,
        )

    def master_key(self, version: int) -> bytes:
        try:
            return self.master_keys[version]
        except KeyError:
            raise KeyringError(
                f"master key version {version} is not in the key set; restore the key file "
                "that holds it (it is kept apart from the database backups)"
            ) from None

    @property
    def current_master_key(self) -> bytes:
        return self.master_key(self.current_master_version)


def write_key_file(path: Path, keyring: Keyring) -> None:
    """Write atomically with 0600 permissions."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as f:
        f.write(keyring.to_json())
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)
    # Make the rename itself durable: rotation re-wraps data keys only after this returns.
    dir_fd = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(dir_fd)
    finally:
        os.close(dir_fd)


def load_keyring(config) -> Keyring:
    env_value = env_keys(config)
    if env_value:
        return Keyring.from_json(env_value)
    path = Path(config["CAUNOI_KEY_FILE"])
    if not path.exists():
        raise KeyringError(
            f"no key set: {path} does not exist and CAUNOI_KEYS is not set. "
            "Run `flask --app app keys init` once, then back the key file up apart from the "
            "database."
        )
    return Keyring.from_json(path.read_text())


def env_keys(config) -> str | None:
    """The key set JSON from the environment (production), or None when the key file is used."""
    return os.environ.get(config.get("CAUNOI_KEYS_ENV", "CAUNOI_KEYS")) or None


def _source_signature(config) -> object:
    env_value = env_keys(config)
    if env_value:
        return ("env", env_value)
    try:
        st = Path(config["CAUNOI_KEY_FILE"]).stat()
    except FileNotFoundError:
        return ("file", None)
    return ("file", st.st_ino, st.st_mtime_ns, st.st_size)


def keyring() -> Keyring:
    """The application's key set, loaded once per process and reloaded when its file changes.

    `flask keys rotate` / `retire` replace the key file atomically; running app processes see
    the new version at their next call (one stat per call) instead of needing a restart.
    """
    # Within one request the key set cannot change under us: check the file once per request,
    # not once per decrypted field.
    memo = getattr(request, "_caunoi_keyring", None) if has_request_context() else None
    if memo is not None:
        return memo
    ext = current_app.extensions
    signature = _source_signature(current_app.config)
    cached = ext.get("caunoi_keyring")
    if cached is None or cached[0] != signature:
        cached = (signature, load_keyring(current_app.config))
        ext["caunoi_keyring"] = cached
    if has_request_context():
        request._caunoi_keyring = cached[1]
    return cached[1]


def reset_cache() -> None:
    current_app.extensions.pop("caunoi_keyring", None)
