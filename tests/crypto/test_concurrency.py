"""Master-key rotation while requests read and write: nothing becomes unreadable, ever."""

from __future__ import annotations

import threading

import pytest
import sqlalchemy as sa

from app.crypto import rotation
from app.crypto.envelope import create_data_key, seal, unseal
from app.crypto.keyring import keyring
from app.crypto.models import DataKey
from app.extensions import db
from app.permissions import Actor
from tests.crypto.conftest import sealed_values

pytestmark = pytest.mark.real_db

READERS = 4
WAIT = 30  # seconds; only reached if a thread is stuck


def _open_all(items) -> set[int]:
    """Open every sealed value; returns the master versions its data keys were under."""
    versions = set()
    ids = [key_id for key_id, *_ in items]
    keys = {k.id: k for k in db.session.scalars(sa.select(DataKey).where(DataKey.id.in_(ids)))}
    for key_id, row_id, sealed, text in items:
        key = keys[key_id]
        versions.add(key.master_version)
        opened = unseal(key, sealed, table="cases", column="full_name", row_id=row_id)
        if opened != text:
            raise AssertionError(f"data key {key_id} opened to the wrong text")
    return versions


def test_rotation_while_requests_run_keeps_everything_readable(real_app):
    app = real_app
    with app.app_context():
        items = [(k.id, row, ct, text) for k, row, ct, text in sealed_values(40)]
        db.session.commit()

    created: list[tuple] = []
    errors: list[BaseException] = []
    seen: list[set[int]] = []
    # Rounds in lockstep: every request thread runs one request per round while the rotation
    # runs one batch in the same round. (Free-running loops would starve SQLite's lock.)
    start_round = threading.Barrier(READERS + 1, timeout=WAIT)
    end_round = threading.Barrier(READERS + 1, timeout=WAIT)
    stop = threading.Event()

    def one_request(n: int) -> None:
        with app.app_context():  # one request: its own session and key cache
            seen.append(_open_all(items + list(created)))
            key = create_data_key()  # a request opening a new case meanwhile
            text = f"hồ sơ mới {n}"
            entry = (
                key.id,
                key.id,
                seal(key, text, table="cases", column="full_name", row_id=key.id),
                text,
            )
            db.session.commit()
            created.append(entry)

    def request_loop(n: int) -> None:
        while True:
            start_round.wait()
            if stop.is_set():
                return
            try:
                one_request(n)
            except Exception as exc:  # reported by the main thread
                errors.append(exc)
            end_round.wait()

    def next_round() -> None:
        end_round.wait()
        start_round.wait()

    threads = [threading.Thread(target=request_loop, args=(n,)) for n in range(READERS)]
    for thread in threads:
        thread.start()
    try:
        start_round.wait()
        with app.app_context():
            result = rotation.rotate_master_key(
                Actor.system("cli"), app.config, batch_size=8, on_batch=lambda n: next_round()
            )
        next_round()  # a round of requests after the rotation, with the new key file
        end_round.wait()
    finally:
        stop.set()
        try:
            start_round.wait()
        except threading.BrokenBarrierError:
            pass
        for thread in threads:
            thread.join(timeout=WAIT)

    assert not errors, errors
    assert {1, 2} in seen  # requests ran mid-rotation, with keys under both versions
    assert seen[-1] == {2}
    assert result.version_added and result.key_version == 2
    assert result.rewrapped >= len(items)
    with app.app_context():
        # Keys a request wrapped with the old version just before it saw the new key file are
        # picked up by the same command run again (it continues, it adds no version).
        rotation.rewrap_all(Actor.system("cli"), keyring(), rotation.RotationResult(2))
        assert rotation.pending_count(2) == 0
        assert rotation.version_counts() == {2: (len(items) + len(created), 0)}
        _open_all(items + created)
        db.engine.dispose()
    assert len(created) > READERS * 2
