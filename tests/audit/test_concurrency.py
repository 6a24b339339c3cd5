"""Appends from many threads / connections at once: one gapless chain that verifies."""

from __future__ import annotations

import threading
from collections import Counter

import pytest

from app.audit import services
from app.extensions import db as _db
from app.permissions import Actor, Role

THREADS = 8
PER_THREAD = 25


def _hammer(committed, threads: int, per_thread: int, events_per_tx: int = 1) -> list:
    barrier = threading.Barrier(threads)
    errors: list[BaseException] = []

    def work(n: int) -> None:
        actor = Actor(
            user_id=n, username=f"worker{n}", role=Role.CASEWORKER, org_unit_id=None, org_path=None
        )
        try:
            with committed.app.app_context():
                barrier.wait()
                for _ in range(per_thread // events_per_tx):
                    for _ in range(events_per_tx):
                        services.record(
                            actor, "case.viewed", object_type="case", object_ref=f"NB-2026-{n:05d}"
                        )
                    _db.session.commit()
                _db.session.remove()
        except BaseException as exc:  # noqa: BLE001 (reported by the test)
            errors.append(exc)

    workers = [threading.Thread(target=work, args=(n,)) for n in range(threads)]
    for w in workers:
        w.start()
    for w in workers:
        w.join(timeout=120)
    assert not any(w.is_alive() for w in workers), "a worker hung"
    return errors


def _check(committed, threads: int, per_thread: int) -> None:
    total = threads * per_thread
    positions = [
        r[0] for r in committed.execute("SELECT shard_seq FROM audit_events ORDER BY shard_seq")
    ]
    assert positions == list(range(1, total + 1)), "the shard's chain has gaps or duplicates"
    assert committed.execute("SELECT count(DISTINCT seq) FROM audit_events")[0][0] == total
    per_user = Counter(r[0] for r in committed.execute("SELECT actor_username FROM audit_events"))
    assert set(per_user.values()) == {per_thread} and len(per_user) == threads
    result = committed.verify()
    assert result.ok, result.problem
    assert result.checked == total and result.shards[0].last_seq == total


def test_threads_append_one_chain_on_sqlite(committed_sqlite):
    errors = _hammer(committed_sqlite, THREADS, PER_THREAD)
    assert errors == []
    _check(committed_sqlite, THREADS, PER_THREAD)


def test_connections_append_one_chain_on_postgresql(committed_postgres):
    with committed_postgres.app.app_context():
        assert _db.engine.dialect.name == "postgresql"
    errors = _hammer(committed_postgres, THREADS, PER_THREAD, events_per_tx=5)
    assert errors == []
    _check(committed_postgres, THREADS, PER_THREAD)
    # Every transaction really waited on the head row lock: the head is exactly the last event.
    head = committed_postgres.execute("SELECT last_seq FROM audit_shards")[0][0]
    assert head == THREADS * PER_THREAD
    assert (
        committed_postgres.execute("SELECT count(DISTINCT prev_hash) FROM audit_events")[0][0]
        == THREADS * PER_THREAD
    )


CENTRAL = 900


def _actor_in(province: int, central: int | None = None) -> Actor:
    return Actor(
        user_id=province,
        username=f"caseworker{province}",
        role=Role.CASEWORKER,
        org_unit_id=province,
        org_path=f"/{central}/{province}/" if central else f"/{province}/",
    )


@pytest.mark.parametrize("national", [False, True], ids=["provinces", "under-central"])
def test_writers_in_different_provinces_do_not_wait_on_each_other(committed_postgres, national):
    """Two connections: one holds its province's shard open (uncommitted event); the other,
    in another province, records and commits within a 1 s lock timeout. In the same province
    it would have to wait: the second part shows the lock is real. The same under the central
    unit of a national deployment, where every path starts with the central unit's id."""
    import functools

    import sqlalchemy as sa

    app = committed_postgres.app
    central = None
    if national:
        central = CENTRAL
        committed_postgres.execute(
            "INSERT INTO org_units (id, code, name, level, path, is_retired, created_at) "
            "VALUES (:id, 'TW', 'Trung ương', 'central', :path, false, now())",
            {"id": CENTRAL, "path": f"/{CENTRAL}/"},
        )
    _province_actor = functools.partial(_actor_in, central=central)
    committed_postgres.append(1, actor=_province_actor(1))
    committed_postgres.append(1, actor=_province_actor(2))
    holder = threading.Event()
    release = threading.Event()

    def hold_province_1():
        with app.app_context():
            services.record(_province_actor(1), "case.viewed", object_type="case")
            holder.set()
            release.wait(10)
            _db.session.commit()
            _db.session.remove()

    thread = threading.Thread(target=hold_province_1)
    thread.start()
    try:
        assert holder.wait(10)
        with app.app_context():
            _db.session.execute(sa.text("SET LOCAL lock_timeout = '1s'"))
            services.record(_province_actor(2), "case.viewed", object_type="case")
            _db.session.commit()
            _db.session.execute(sa.text("SET LOCAL lock_timeout = '200ms'"))
            try:
                services.record(_province_actor(1), "case.viewed", object_type="case")
                waited = False
            except sa.exc.OperationalError as exc:
                waited = "lock timeout" in str(exc)
            _db.session.rollback()
            _db.session.remove()
        assert waited, "the same province's shard was not locked"
    finally:
        release.set()
        thread.join(10)
    result = committed_postgres.verify()
    assert result.ok, result.problems
    assert {s: r.last_seq for s, r in result.shards.items()} == {1: 2, 2: 2}
