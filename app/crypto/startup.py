"""Start-up check: refuse to serve when data keys exist that the key set cannot unwrap."""

from __future__ import annotations

import sqlalchemy as sa
from flask import Flask

from app.crypto.keyring import KeyringError, keyring
from app.crypto.models import DataKey
from app.extensions import db

_keys = DataKey.__table__


def check_key_versions(app: Flask) -> None:
    """Raise app.ConfigurationError when live data keys use a master version not in the key set.

    Skipped when the data_keys table does not exist yet (fresh database before migrations) and,
    under TESTING, when it is empty. Destroyed keys need no master key and are ignored.
    """
    from app import ConfigurationError

    with app.app_context():
        if not sa.inspect(db.engine).has_table(_keys.name):
            return
        with db.engine.connect() as conn:
            rows = conn.execute(
                sa.select(_keys.c.master_version, sa.func.count())
                .where(_keys.c.wrapped_key.is_not(None))
                .group_by(_keys.c.master_version)
            ).all()
        if not rows:
            # No live data key: nothing to unwrap. A missing key set is reported on first use
            # (and `flask keys init` must be able to run), so there is nothing to refuse here.
            return
        used = {version: count for version, count in rows}
        try:
            available = set(keyring().master_keys)
        except KeyringError:
            available = set()
        missing = sorted(set(used) - available)
        if not missing:
            return
        source = app.config["CAUNOI_KEY_FILE"]
        versions = ", ".join(str(v) for v in missing)
        count = sum(used[v] for v in missing)
        raise ConfigurationError(
            f"Cầu Nối refuses to start: {count} data key(s) are wrapped by master key version(s) "
            f"{versions}, missing from the key set; restore the key file {source} that holds "
            "them (kept apart from database backups) or set CAUNOI_KEYS to the key set JSON "
            "that has them."
        )
